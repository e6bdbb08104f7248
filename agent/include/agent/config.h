// The agent's configuration: one `key = value` file (agent/pharos-agent.conf.sample documents
// every key at its default) plus command-line flags of the same names (--broker-url, ...),
// which win over the file. A bad configuration is one clear message (the caller exits 2).
// Pure functions over values (reading the files named by the config aside): thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::agent {

struct AgentConfig {
  std::string node_id;  // default: /etc/machine-id
  std::string broker_url = "tcp://127.0.0.1:1883";
  std::string username;  // default: the node id
  std::string password;  // or password_file (first line)
  std::string password_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool tls_insecure = false;
  std::map<std::string, std::string> labels;
  std::chrono::seconds keep_alive{10};
  std::string state_file = "/var/lib/pharos-agent/state.json";
  // The device's private key for sealed secrets (created mode 0600 at first start; never
  // leaves the device). Empty: node.key beside the state file.
  std::string key_file;
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

// Applies one `key = value` setting (keys as in the sample file, '-' and '_' equivalent).
Status applyConfigKey(AgentConfig& config, std::string_view key, std::string_view value);
// Parses the text of a config file over `config`. Errors name the line.
Status applyConfigText(AgentConfig& config, std::string_view text, const std::string& origin);
// Fills defaults that need the machine (node id from machine_id_path, username, password
// file) and validates everything.
Status finalizeConfig(AgentConfig& config, const std::string& machine_id_path = "/etc/machine-id");

// Command line: --config FILE (default /etc/pharos/agent.conf when it exists) then every key
// as a flag. `--help` returns ok with `help_text` set (the caller prints it, exits 0).
struct CommandLine {
  AgentConfig config;
  std::string help_text;
  bool print_public_key = false;  // --print-public-key: print it (creating the key) and exit
  bool rekey = false;  // --rekey: replace key_file with a new key pair, print it and exit
};
Result<CommandLine> parseCommandLine(int argc, const char* const* argv,
                                     const std::string& machine_id_path = "/etc/machine-id");

// MQTT options for the agent's link (will, keep-alive, TLS, credentials).
MqttOptions mqttOptions(const AgentConfig& config);

}  // namespace pharos::agent
