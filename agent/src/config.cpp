// Agent configuration: the libpharos key table (agent_settings.h) over a file and CLI11
// flags (see config.h). CLI11's exceptions stop here and become a Status.
#include "agent/config.h"

#include <CLI/CLI.hpp>
#include <fstream>

#include "pharos/ids.h"

namespace pharos::agent {

Status applyConfigKey(AgentSettings& settings, std::string_view key, std::string_view value) {
  ConfigTable table;
  addAgentKeys(table, &settings);
  return table.apply(key, value);
}

Status applyConfigText(AgentSettings& settings, std::string_view text, const std::string& origin) {
  ConfigTable table;
  addAgentKeys(table, &settings);
  return table.applyText(text, origin);
}

Status finalizeConfig(AgentSettings& c, const std::string& machine_id_path) {
  if (c.node_id.empty()) {
    auto id = readFirstLine(machine_id_path, "node_id");
    if (!id) {
      return Status::invalidArgument("node_id: not set and " + machine_id_path +
                                     " is missing or empty; set node_id in the config");
    }
    c.node_id = *id;
  }
  PHAROS_RETURN_IF_ERROR(validateId(IdKind::kNode, c.node_id, "node_id"));
  if (c.connection.username.empty()) c.connection.username = c.node_id;
  PHAROS_RETURN_IF_ERROR(finishConnection(c.connection));
  if (c.state_file.empty()) return Status::invalidArgument("state_file: must not be empty");
  if (c.node_key_file.empty()) {
    auto slash = c.state_file.rfind('/');
    c.node_key_file =
        (slash == std::string::npos ? std::string() : c.state_file.substr(0, slash + 1)) +
        "node.key";
  }
  if (c.data_dir.empty() || c.data_dir[0] != '/') {
    return Status::invalidArgument("data_dir: must be an absolute path");
  }
  return Status::ok();
}

Result<CommandLine> parseCommandLine(int argc, const char* const* argv,
                                     const std::string& machine_id_path) {
  CLI::App app{"pharos-agent: deploys and supervises compose apps on this device"};
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (key = value); default /etc/pharos/agent.conf if present");
  AgentSettings settings;
  ConfigTable table;
  addAgentKeys(table, &settings);
  table.declareFlags(app, "Settings (also config file keys)");
  bool print_public_key = false;
  bool rekey = false;
  app.add_flag("--rekey", rekey,
               "discard this device's key pair and make a new one (stop the agent first), "
               "print the new public key and exit; then `pharosctl node rekey`");
  app.add_flag("--print-public-key", print_public_key,
               "print this device's public key for sealed secrets (creating node_key_file if "
               "needed), for `pharosctl node add --public-key`, and exit");

  CommandLine out;
  auto from_flags = table.parseCommandLine(app, argc, argv, &out.help_text);
  if (!from_flags) return from_flags.status();
  if (!out.help_text.empty()) return out;
  bool explicit_config = !config_path.empty();
  if (!explicit_config) config_path = "/etc/pharos/agent.conf";
  if (explicit_config || std::ifstream(config_path).good()) {
    PHAROS_RETURN_IF_ERROR(table.applyFile(config_path, *from_flags));
  }
  PHAROS_RETURN_IF_ERROR(finalizeConfig(settings, machine_id_path));
  out.config = std::move(settings);
  out.print_public_key = print_public_key;
  out.rekey = rekey;
  return out;
}

MqttOptions mqttOptions(const AgentSettings& c) {
  MqttOptions o = connectionMqttOptions(c.connection);
  o.client_id = c.node_id;  // the broker ties an agent identity to its node id
  o.clean_start = true;
  o.auto_reconnect = true;
  // A cmd request left retained is refused the moment it arrives (node_commands.cpp).
  o.retain_as_published = true;
  return o;
}

}  // namespace pharos::agent
