// The agent config text node.add returns (agent_config.h). Pure, thread-safe.
#include "anchor/agent_config.h"

#include "pharos/agent_settings.h"

namespace pharos::anchor {

std::string agentConfigText(const AgentCredentials& creds) {
  // Spelled by the agent's own key table, so a renamed agent key cannot break node.add.
  AgentSettings agent;
  agent.node_id = creds.node;
  agent.connection.broker_url = creds.broker_url;
  agent.connection.username = creds.username;
  agent.connection.password = creds.password;
  // TLS sites: the device verifies the broker with the site CA (copy ca.crt to this path).
  agent.connection.tls_ca = creds.ca_file;
  return renderAgentConfig(agent);
}

}  // namespace pharos::anchor
