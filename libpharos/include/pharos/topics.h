// Topic builders and the topic parser for the pharos/v1 tree (DESIGN.md section 2).
// Call sites never concatenate topic strings: they call these. Builders assume their
// arguments are valid identifiers (validate first with ids.h); the parser validates.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "pharos/status.h"

namespace pharos::topics {

inline constexpr std::string_view kRoot = "pharos/v1";

// kHeartbeat: the agent's application heartbeat (QoS 0, not retained), which the anchor
// times for a frozen or cut-off agent (docs/protocol.md "Health").
enum class NodeTopic {
  kStatus,
  kInfo,
  kState,
  kEvents,
  kMetrics,
  kHeartbeat,
  kHealth,
  kDesired,
  kSecrets
};
const char* nodeTopicName(NodeTopic kind);

std::string node(std::string_view node, NodeTopic kind);
// nodes/{node}/cmd/{command}: the prefix of a command's requests (with command "#": every
// command of the node, the agent's subscription).
std::string nodeCmd(std::string_view node, std::string_view command);
// A command request: nodes/{node}/cmd/{command}/{user}, {user} being the requester's broker
// username (the ACL lets a user publish only under its own name, so the agent knows who
// asks and answers only on that user's cmd-replies).
std::string nodeCmd(std::string_view node, std::string_view command, std::string_view user);
std::string groupDesired(std::string_view group);
std::string appRollout(std::string_view app);
std::string anchorStatus();
std::string apiRequest(std::string_view user, std::string_view operation);
// replies/{user}/{suffix}; suffix may contain '/'.
std::string replies(std::string_view user, std::string_view suffix);
// Answers of node {node}'s agent to user {user}'s cmd requests (the agent publishes only
// inside its own nodes/{node}/ subtree): nodes/{node}/cmd-replies/{user}/{suffix}; suffix
// may contain '/'.
std::string nodeCmdReplies(std::string_view node, std::string_view user, std::string_view suffix);

// Subscription filters.
std::string allNodes(NodeTopic kind);           // pharos/v1/nodes/+/<kind>
std::string allGroupsDesired();                 // pharos/v1/groups/+/desired
std::string allApiRequests();                   // pharos/v1/api/+/+
std::string allReplies(std::string_view user);  // pharos/v1/replies/<user>/#
// pharos/v1/nodes/<node>/cmd-replies/<user>/# (node may be "+")
std::string allNodeCmdReplies(std::string_view node, std::string_view user);
std::string allRollouts();  // pharos/v1/apps/+/rollout

// Line brokers (docs/levels.md "Group rights on line brokers"): the site topic that line
// <line>'s bridge imports as the line broker's own $CONTROL/dynamic-security/v1 (only the
// anchor may publish it), and the topic the bridge exports the line's answers to.
//   pharos/v1/lines/<line>/control/dynamic-security/v1
//   pharos/v1/lines/<line>/control/dynamic-security/v1/response
std::string lineControl(std::string_view line);
std::string lineControlResponse(std::string_view line);
std::string allLineControlResponses();  // pharos/v1/lines/+/control/dynamic-security/v1/response
// The line of a lineControlResponse topic; "" when `topic` is not one (or the line is not a
// valid identifier).
std::string lineOfControlResponse(std::string_view topic);
// A line broker's heartbeat: its own $SYS/broker/uptime, which the line's bridge exports to
// the site (every 2 s with sys_interval 1): pharos/v1/lines/<line>/sys/broker/uptime.
std::string lineHeartbeat(std::string_view line);
std::string allLineHeartbeats();  // pharos/v1/lines/+/sys/broker/uptime
// The line of a lineHeartbeat topic; "" when `topic` is not one.
std::string lineOfHeartbeat(std::string_view topic);

enum class Kind {
  kNode,          // node + node_kind
  kNodeCmd,       // node + name (command) + user ("" for a request without the user level)
  kGroupDesired,  // group
  kAppRollout,    // app
  kAnchorStatus,
  kApi,             // user + name (operation)
  kReplies,         // user + name (rest of the topic after replies/{user}/)
  kNodeCmdReplies,  // node + user + name (rest of the topic after cmd-replies/{user}/)
};

struct Parsed {
  Kind kind = Kind::kAnchorStatus;
  NodeTopic node_kind = NodeTopic::kStatus;
  std::string node;
  std::string group;
  std::string app;
  std::string user;
  std::string name;
};

// Parses a concrete topic (no wildcards). Unknown shapes, invalid identifiers and
// operations that are not [a-z]+.[a-z]+ are invalid_argument.
Result<Parsed> parse(std::string_view topic);

// The {user} of pharos/v1/api/{user}/{rest} when {user} is valid, {rest} is not empty and is
// not a valid operation name (NODE.LIST, a 200-character name, unicode, a/b): such a request
// is answered invalid_argument. "" for any other topic.
std::string apiUserOfMalformed(std::string_view topic);

// MQTT topic filter match ('+' and '#'), used by fakes and by the agent's router.
bool matches(std::string_view filter, std::string_view topic);

}  // namespace pharos::topics
