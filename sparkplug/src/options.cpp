// pharos-sparkplug options (options.h): the libpharos key table with the shared connection
// keys plus the edge node's own. CLI11's exceptions stop here.
#include "sparkplug/options.h"

#include <CLI/CLI.hpp>

#include "sparkplug/topics.h"

namespace pharos::sparkplug {
namespace {

Status finish(SparkplugSettings& o) {
  PHAROS_RETURN_IF_ERROR(checkId(o.edge.group_id, "group_id"));
  PHAROS_RETURN_IF_ERROR(checkId(o.edge.edge_node_id, "edge_node_id"));
  if (o.edge.group_id == "STATE") {
    return Status::invalidArgument("group_id: STATE is reserved by Sparkplug");
  }
  if (!o.edge.primary_host_id.empty()) {
    PHAROS_RETURN_IF_ERROR(checkId(o.edge.primary_host_id, "primary_host_id"));
  }
  PHAROS_RETURN_IF_ERROR(finishConnection(o.connection));
  if (o.client_id.empty()) o.client_id = "pharos-sparkplug-" + o.edge.edge_node_id;
  if (!o.edge.commands) return Status::ok();
  if (o.command_username.empty()) {
    return Status::invalidArgument("commands = true needs command_username (docs/scada.md)");
  }
  if (o.command_username == o.connection.username) {
    return Status::invalidArgument(
        "command_username: must be a separate broker identity from username");
  }
  if (o.command_password.empty() && !o.command_password_file.empty()) {
    auto pw = readFirstLine(o.command_password_file, "command_password_file");
    if (!pw) return pw.status();
    o.command_password = *pw;
  }
  return Status::ok();
}

}  // namespace

void addSparkplugKeys(ConfigTable& table, SparkplugSettings* o) {
  addConnectionKeys(table, &o->connection);
  table.text("client_id", &o->client_id,
             "MQTT client id (default: pharos-sparkplug-<edge_node_id>)");
  table.text("data_dir", &o->data_dir, "where the bdSeq counter is kept (\"\" = memory only)");
  table.choice("log_level", &o->log_level, {"trace", "debug", "info", "warn", "error"},
               "log level");
  table.text("group_id", &o->edge.group_id, "Sparkplug group id");
  table.text("edge_node_id", &o->edge.edge_node_id, "Sparkplug edge node id");
  table.text("primary_host_id", &o->edge.primary_host_id,
             "births wait until this host's STATE is online");
  table.boolean("commands", &o->edge.commands, "accept DCMD app control");
  table.text("command_username", &o->command_username,
             "the broker identity commands go to the management API as");
  table.text("command_password", &o->command_password, "its password");
  table.text("command_password_file", &o->command_password_file,
             "file whose first line is its password");
  table.milliseconds("settle_ms", &o->edge.settle, 60'000,
                     "quiet time of Pharos input before the births (ms)");
}

Status applySparkplugKey(SparkplugSettings& o, const std::string& key, const std::string& value) {
  ConfigTable table;
  addSparkplugKeys(table, &o);
  return table.apply(key, value);
}

Result<SparkplugCommandLine> parseSparkplugCommandLine(int argc, const char* const* argv) {
  SparkplugCommandLine out;
  CLI::App app{"pharos-sparkplug: the Pharos site as an Eclipse Sparkplug B 3.0 edge node",
               "pharos-sparkplug"};
  app.footer(
      "Every setting is also a config file key (key = value); a flag wins over the file.\n"
      "Docs: docs/scada.md");
  std::string config_file;
  app.add_option("--config", config_file, "config file of `key = value` lines");
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  ConfigTable table;
  addSparkplugKeys(table, &out.options);
  table.declareFlags(app, "Settings (also config file keys)");
  auto from_flags = table.parseCommandLine(app, argc, argv, &out.help_text);
  if (!from_flags) return from_flags.status();
  if (!out.help_text.empty()) return out;
  if (version) {
    out.version = true;
    return out;
  }
  if (!config_file.empty()) PHAROS_RETURN_IF_ERROR(table.applyFile(config_file, *from_flags));
  PHAROS_RETURN_IF_ERROR(finish(out.options));
  return out;
}

MqttOptions edgeMqttOptions(const SparkplugSettings& o) {
  MqttOptions m = connectionMqttOptions(o.connection);
  m.client_id = o.client_id;
  // Every connection is a new Sparkplug session with its own bdSeq and will: the service
  // reconnects itself rather than letting the link reuse the will.
  m.auto_reconnect = false;
  m.connect_timeout = std::chrono::seconds(5);
  return m;
}

MqttOptions commandMqttOptions(const SparkplugSettings& o) {
  MqttOptions m = connectionMqttOptions(o.connection);
  m.client_id = o.client_id + "-commands";
  m.username = o.command_username;
  m.password = o.command_password;
  m.auto_reconnect = true;
  m.connect_timeout = std::chrono::seconds(5);
  return m;
}

}  // namespace pharos::sparkplug
