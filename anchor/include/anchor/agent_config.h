// The agent configuration node.add hands out: the credentials the anchor made for a device
// and their rendering as a pharos-agent config file, spelled by the agent's own key table
// (pharos::renderAgentConfig, agent_settings.h). Rendering only: no I/O, no broker
// protocol. Pure, thread-safe.
#pragma once

#include <string>

namespace pharos::anchor {

struct AgentCredentials {
  std::string node;
  std::string username;
  std::string password;
  std::string broker_url;
  std::string ca_file;  // tls_ca on the device ("" = none: plain or system trust store)
  // The agent's config file text (agentConfigText).
  std::string config_text;
};

// The agent config text for `creds` (key = value lines).
std::string agentConfigText(const AgentCredentials& creds);

}  // namespace pharos::anchor
