// The agent's configuration: one `key = value` file (packaging/etc/agent.conf documents every
// key; agent/pharos-agent.conf.sample too) plus command-line flags of the same names (--broker-url,
// ...), which win over the file. The keys are libpharos's agent table (pharos/agent_settings.h),
// which the anchor also writes for `node add`. A bad configuration is one clear message (the caller
// exits 2). Pure functions over values (reading the files named by the config aside): thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "pharos/agent_settings.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::agent {

// Applies one `key = value` setting (keys as in the sample file, '-' and '_' equivalent).
Status applyConfigKey(AgentSettings& config, std::string_view key, std::string_view value);
// Parses the text of a config file over `config`. Errors name the line.
Status applyConfigText(AgentSettings& config, std::string_view text, const std::string& origin);
// Fills defaults that need the machine (node id from machine_id_path, username, password
// file) and validates everything.
Status finalizeConfig(AgentSettings& config,
                      const std::string& machine_id_path = "/etc/machine-id");

// Command line: --config FILE (default /etc/pharos/agent.conf when it exists) then every key
// as a flag. `--help` returns ok with `help_text` set (the caller prints it, exits 0).
struct CommandLine {
  AgentSettings config;
  std::string help_text;
  bool print_public_key = false;  // --print-public-key: print it (creating the key) and exit
  bool rekey = false;  // --rekey: replace key_file with a new key pair, print it and exit
};
Result<CommandLine> parseCommandLine(int argc, const char* const* argv,
                                     const std::string& machine_id_path = "/etc/machine-id");

// MQTT options for the agent's link (will, keep-alive, TLS, credentials).
MqttOptions mqttOptions(const AgentSettings& config);

}  // namespace pharos::agent
