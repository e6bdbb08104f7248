// Command line and config file of pharos-anchor (options.h): the libpharos key table with the
// shared connection keys plus the anchor's own. CLI11's exceptions stop here.
#include "anchor/options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <sstream>

namespace pharos::anchor {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// NAME=URL[,URL...]: the agents whose info.broker is URL sit behind bridge NAME.
Status addBridge(AnchorOptions& core, const std::string& value) {
  auto eq = value.find('=');
  std::string name = trim(value.substr(0, eq == std::string::npos ? 0 : eq));
  if (eq == std::string::npos || name.empty()) {
    return Status::invalidArgument("expected NAME=URL[,URL...], got '" + value + "'");
  }
  std::stringstream ss(value.substr(eq + 1));
  std::string item;
  auto& urls = core.bridges[name];
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) urls.push_back(item);
  }
  if (urls.empty()) return Status::invalidArgument("bridge " + name + " has no broker URL");
  return Status::ok();
}

Status setHeartbeatTimeout(AnchorOptions& core, const std::string& value) {
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(v == 0 || (v >= 1 && v <= 3600))) {
    return Status::invalidArgument("seconds, 0 (off) or between 1 and 3600, got '" + value + "'");
  }
  core.line_heartbeat_timeout = std::chrono::milliseconds(static_cast<int64_t>(v * 1000));
  return Status::ok();
}

}  // namespace

void addAnchorKeys(ConfigTable& table, AnchorSettings* o) {
  addConnectionKeys(table, &o->connection);
  table.text("client_id", &o->client_id, "MQTT client id");
  table.text("data_dir", &o->data_dir, "RocksDB store directory");
  table.boolean("require_approval", &o->core.require_approval,
                "new nodes stay Pending until node.approve");
  table.choice("log_level", &o->log_level, {"trace", "debug", "info", "warn", "error"},
               "log level");
  table.text("agent_broker_url", &o->agent_broker_url,
             "broker URL written into node.add agent configs (default: broker_url)");
  table
      .text("agent_tls_ca", &o->agent_tls_ca,
            "site CA path on devices, written as tls_ca into node.add agent configs")
      .aliases = {"agent_ca_file"};
  table.text("dynsec_file", &o->dynsec_file, "broker dynamic-security.json (included in backups)");
  table.text("secrets_key_file", &o->secrets_key_file,
             "key that encrypts secrets in the store, created mode 0600 at first start (default "
             "<data_dir>/secrets.key; keep it apart from backups: docs/security.md)");
  auto& viewer = table.add(
      "viewer", "user limited to read operations (repeatable, or a comma list)",
      [o](const std::string& value) {
        std::stringstream ss(value);
        std::string item;
        while (std::getline(ss, item, ',')) {
          item = trim(item);
          if (!item.empty()) o->core.viewers.insert(item);
        }
        return Status::ok();
      },
      ConfigTable::Kind::kRepeatable);
  viewer.aliases = {"viewers"};
  table
      .add(
          "bridge",
          "line broker NAME=URL[,URL]: nodes with that info.broker go Unreachable while bridge "
          "NAME is down (repeatable; docs/levels.md)",
          [o](const std::string& v) { return addBridge(o->core, v); },
          ConfigTable::Kind::kRepeatable)
      .aliases = {"bridges"};
  table
      .add("line_heartbeat_timeout",
           "seconds without a line broker's heartbeat before its nodes are Unreachable (0 = off; "
           "docs/levels.md)",
           [o](const std::string& v) { return setHeartbeatTimeout(o->core, v); })
      .default_text = "5";
  table.add("site_time_zone",
            "IANA time zone staged rollouts' update windows are read in, e.g. Europe/Berlin "
            "(default: the process's own, TZ else /etc/localtime; docs/rollouts.md)",
            [o](const std::string& v) {
              auto zone = TimeZone::load(v);
              if (!zone) return zone.status();
              o->core.site_time_zone = std::move(*zone);
              return Status::ok();
            });
  // Metrics history (docs/metrics.md).
  table.seconds("metrics_fine_step", &o->core.metrics_fine_step, 1, 3600,
                "seconds between points of the fine metrics history");
  table.seconds("metrics_fine_keep", &o->core.metrics_fine_keep, 1, 86400,
                "seconds of fine metrics history kept (a whole number of steps)");
  table.seconds("metrics_coarse_step", &o->core.metrics_coarse_step, 1, 86400,
                "seconds averaged into one point of the coarse metrics history");
  table.seconds("metrics_coarse_keep", &o->core.metrics_coarse_keep, 1, 366 * 86400,
                "seconds of coarse metrics history kept (a whole number of steps)");
  table.seconds("metrics_container_keep", &o->core.metrics_container_keep, 1, 366 * 86400,
                "seconds of coarse per-container metrics history kept (a whole number of "
                "coarse steps)");
}

Status applyAnchorConfigKey(AnchorSettings& o, const std::string& key, const std::string& value) {
  ConfigTable table;
  addAnchorKeys(table, &o);
  return table.apply(key, value);
}

Result<AnchorCommandLine> parseAnchorCommandLine(int argc, const char* const* argv) {
  AnchorCommandLine out;
  AnchorSettings& o = out.options;
  CLI::App app{"pharos-anchor: the Pharos fleet manager (registry, API, health, rollouts)"};
  app.set_help_flag("-h,--help", "Print this help");
  std::string config_file;
  app.add_option("--config", config_file, "Config file of `key = value` lines (flag names)");
  ConfigTable table;
  addAnchorKeys(table, &o);
  table.declareFlags(app, "Settings (also config file keys)");
  auto* backup = app.add_subcommand("backup", "Write a consistent copy of the store to DIR");
  backup->add_option("dir", o.command_dir, "Backup directory (must not exist)")->required();
  backup->add_flag("--include-secrets-key", o.include_secrets_key,
                   "Also copy the secrets key file into the backup (without it, the backup's "
                   "secrets can only be read with the key kept elsewhere)");
  auto* restore = app.add_subcommand("restore", "Restore a backup into --data-dir (new epoch)");
  restore->add_option("dir", o.command_dir, "Backup directory")->required();
  backup->fallthrough();  // --data-dir etc. after the subcommand
  restore->fallthrough();
  auto from_flags = table.parseCommandLine(app, argc, argv, &out.help_text);
  if (!from_flags) return from_flags.status();
  if (!out.help_text.empty()) return out;
  if (backup->parsed()) o.command = AnchorSettings::Command::kBackup;
  if (restore->parsed()) o.command = AnchorSettings::Command::kRestore;
  if (!config_file.empty()) {
    Status s = table.applyFile(config_file, *from_flags);
    if (!s.isOk()) return s;
  }
  PHAROS_RETURN_IF_ERROR(finishConnection(o.connection));
  if (o.agent_broker_url.empty()) o.agent_broker_url = o.connection.broker_url;
  if (o.data_dir.empty()) return Status::invalidArgument("data_dir: must not be empty");
  return out;
}

MqttOptions anchorMqttOptions(const AnchorSettings& o, const Clock& clock) {
  MqttOptions m = connectionMqttOptions(o.connection);
  m.client_id = o.client_id;
  m.clean_start = true;
  m.will = Anchor::willMessage(clock);
  m.auto_reconnect = true;
  // A request left retained is refused and cleared the moment it arrives (guards.cpp).
  m.retain_as_published = true;
  return m;
}

std::string secretsKeyPath(const AnchorSettings& options) {
  if (!options.secrets_key_file.empty()) return options.secrets_key_file;
  return options.data_dir + "/secrets.key";
}

}  // namespace pharos::anchor
