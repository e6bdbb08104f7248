// The agent's settings and their key table, in libpharos because two programs speak them:
// pharos-agent reads them (agent/config.h) and the anchor writes them for `node add`
// (renderAgentConfig). A key renamed here is renamed for both, and the anchor's unit tests
// parse what it writes with this same table. packaging/etc/agent.conf documents every key.
// Pure functions over values: thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "pharos/config_table.h"
#include "pharos/connection.h"

namespace pharos {

struct AgentSettings {
  std::string node_id;            // default: /etc/machine-id
  ConnectionSettings connection;  // username defaults to the node id
  std::map<std::string, std::string> labels;
  std::string state_file = "/var/lib/pharos-agent/state.json";
  // The device's private key for sealed secrets (created mode 0600 at first start; never
  // leaves the device). Empty: node.key beside the state file.
  std::string node_key_file;
  // Folder for app working directories (relative bind mounts resolve under <data_dir>/apps/<app>).
  std::string data_dir = "/var/lib/pharos-agent";
  std::string docker_host;  // unix:///var/run/docker.sock when empty (or $DOCKER_HOST)
  std::chrono::seconds metrics_interval{15};
  std::chrono::seconds reconcile_interval{30};
  std::chrono::milliseconds pull_jitter{2000};  // max random delay before a pull
  std::chrono::seconds health_timeout{300};     // waiting for a service_healthy dependency
  std::string log_level = "info";
  // At most this many worker threads in the agent's executor (it keeps one when idle).
  int threads = 4;
  // At most this many threads for container stops (none when nothing stops), each busy for
  // up to the container's stop timeout; more stops than this at once wait for one (other
  // apps' failover and reports never do).
  int stop_threads = 4;
};

// Declares every agent key over `settings` (the connection keys included).
void addAgentKeys(ConfigTable& table, AgentSettings* settings);

// The agent config file `node add` prints: a comment line, then node_id, broker_url,
// username, password and, when set, tls_ca, spelled by addAgentKeys.
std::string renderAgentConfig(const AgentSettings& settings);

}  // namespace pharos
