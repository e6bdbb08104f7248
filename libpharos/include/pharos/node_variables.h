// The variables a compose file sees on a node, in one place for the agent (which runs the
// file with them) and the anchor (which validates the file with them before publishing):
// PHAROS_NODE_ID, PHAROS_LABEL_<KEY> for every node label, the app's deploy variables and
// its secrets. The node's own identity wins: a deploy variable or secret named
// PHAROS_NODE_ID or PHAROS_LABEL_<KEY> of a label the node has is overridden by the node's
// value (docs/protocol.md "Variables"). Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "pharos/compose.h"

namespace pharos {

inline constexpr const char* kNodeIdVariable = "PHAROS_NODE_ID";

// PHAROS_LABEL_<KEY>: the key upper-cased, every character other than [A-Z0-9] as '_'.
std::string labelVariable(std::string_view key);

// True for PHAROS_NODE_ID and any PHAROS_LABEL_ name: names the node itself supplies.
bool isNodeVariable(std::string_view name);

// The variables of one app on one node, lowest first: deploy variables, then secrets over
// them, then the node's identity over both: config labels (the agent's own `label` keys,
// reported in info), operator labels (the node document's) over them, and PHAROS_NODE_ID.
Variables appVariables(const std::string& node_id,
                       const std::map<std::string, std::string>& config_labels,
                       const std::map<std::string, std::string>& operator_labels,
                       const std::map<std::string, std::string>& deploy_variables,
                       const std::map<std::string, std::string>& secrets);

}  // namespace pharos
