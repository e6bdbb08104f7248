// Command line and config file of pharos-anchor (options.h). CLI11's exceptions stop here.
#include "anchor/options.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <map>
#include <sstream>

namespace pharos::anchor {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<bool> parseBool(const std::string& key, const std::string& value) {
  if (value == "true" || value == "yes" || value == "1" || value == "on") return true;
  if (value == "false" || value == "no" || value == "0" || value == "off") return false;
  return Status::invalidArgument(key + ": expected true or false, got '" + value + "'");
}

Result<std::string> readPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("password_file: cannot read " + path);
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) return Status::invalidArgument("password_file: " + path + " is empty");
  return line;
}

}  // namespace

Status applyAnchorConfigKey(AnchorOptions& o, const std::string& raw_key,
                            const std::string& value) {
  std::string key = raw_key;
  for (char& c : key) {
    if (c == '-') c = '_';
  }
  if (key == "broker_url" || key == "broker") {
    o.broker_url = value;
  } else if (key == "client_id") {
    o.client_id = value;
  } else if (key == "username") {
    o.username = value;
  } else if (key == "password") {
    o.password = value;
  } else if (key == "password_file") {
    o.password_file = value;
  } else if (key == "data_dir") {
    o.data_dir = value;
  } else if (key == "log_level") {
    o.log_level = value;
  } else if (key == "ca_file") {
    o.ca_file = value;
  } else if (key == "cert_file") {
    o.cert_file = value;
  } else if (key == "key_file") {
    o.key_file = value;
  } else if (key == "tls_insecure") {
    auto b = parseBool(key, value);
    if (!b) return b.status();
    o.tls_insecure = *b;
  } else if (key == "require_approval") {
    auto b = parseBool(key, value);
    if (!b) return b.status();
    o.core.require_approval = *b;
  } else if (key == "keep_alive") {
    char* end = nullptr;
    long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 1 || v > 3600) {
      return Status::invalidArgument("keep_alive: seconds between 1 and 3600, got '" + value + "'");
    }
    o.keep_alive = std::chrono::seconds(v);
  } else if (key == "agent_broker_url") {
    o.agent_broker_url = value;
  } else if (key == "agent_ca_file") {
    o.agent_ca_file = value;
  } else if (key == "dynsec_file") {
    o.dynsec_file = value;
  } else if (key == "secrets_key_file") {
    o.secrets_key_file = value;
  } else if (key == "bridge" || key == "bridges") {
    // NAME=URL[,URL...]: the agents whose info.broker is URL sit behind bridge NAME.
    auto eq = value.find('=');
    std::string name = trim(value.substr(0, eq == std::string::npos ? 0 : eq));
    if (eq == std::string::npos || name.empty()) {
      return Status::invalidArgument("bridge: expected NAME=URL[,URL...], got '" + value + "'");
    }
    std::stringstream ss(value.substr(eq + 1));
    std::string item;
    auto& urls = o.core.bridges[name];
    while (std::getline(ss, item, ',')) {
      item = trim(item);
      if (!item.empty()) urls.push_back(item);
    }
    if (urls.empty()) return Status::invalidArgument("bridge " + name + ": no broker URL");
  } else if (key == "line_heartbeat_timeout") {
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v == 0 || (v >= 1 && v <= 3600))) {
      return Status::invalidArgument(
          "line_heartbeat_timeout: seconds, 0 (off) or between 1 and 3600, got '" + value + "'");
    }
    o.core.line_heartbeat_timeout = std::chrono::milliseconds(static_cast<int64_t>(v * 1000));
  } else if (key == "viewers" || key == "viewer") {
    std::stringstream ss(value);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item = trim(item);
      if (!item.empty()) o.core.viewers.insert(item);
    }
  } else {
    return Status::invalidArgument("unknown setting '" + raw_key + "'");
  }
  return Status::ok();
}

Result<AnchorCommandLine> parseAnchorCommandLine(int argc, const char* const* argv) {
  AnchorCommandLine out;
  AnchorOptions& o = out.options;
  CLI::App app{"pharos-anchor: the Pharos fleet manager (registry, API, health, rollouts)"};
  app.set_help_flag("-h,--help", "Print this help");
  std::string config_file;
  std::vector<std::string> viewers;
  std::vector<std::string> bridges;
  int keep_alive = 10;
  std::map<std::string, CLI::Option*> flags;
  app.add_option("--config", config_file, "Config file of `key = value` lines (flag names)");
  flags["broker_url"] = app.add_option("--broker-url,--broker", o.broker_url,
                                       "Broker URL (tcp://, ssl://, ws://, wss://)");
  flags["client_id"] = app.add_option("--client-id", o.client_id, "MQTT client id");
  flags["username"] = app.add_option("--username", o.username, "Broker username");
  flags["password"] = app.add_option("--password", o.password, "Broker password");
  flags["password_file"] =
      app.add_option("--password-file", o.password_file, "File whose first line is the password");
  flags["data_dir"] = app.add_option("--data-dir", o.data_dir, "RocksDB store directory");
  flags["require_approval"] = app.add_flag("--require-approval", o.core.require_approval,
                                           "New nodes stay Pending until node.approve");
  flags["log_level"] = app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error");
  flags["ca_file"] = app.add_option("--ca-file", o.ca_file, "CA certificate to verify the broker");
  flags["cert_file"] = app.add_option("--cert-file", o.cert_file, "Client certificate (TLS)");
  flags["key_file"] = app.add_option("--key-file", o.key_file, "Client key (TLS)");
  flags["tls_insecure"] =
      app.add_flag("--tls-insecure", o.tls_insecure, "Skip broker hostname verification (tests)");
  flags["keep_alive"] = app.add_option("--keep-alive", keep_alive, "MQTT keep-alive (seconds)")
                            ->check(CLI::Range(1, 3600));
  flags["agent_broker_url"] = app.add_option("--agent-broker-url", o.agent_broker_url,
                                             "Broker URL written into node.add agent configs");
  flags["agent_ca_file"] =
      app.add_option("--agent-ca-file", o.agent_ca_file,
                     "Site CA path on devices, written as tls_ca into node.add agent configs");
  flags["dynsec_file"] = app.add_option("--dynsec-file", o.dynsec_file,
                                        "Broker dynamic-security.json (included in backups)");
  flags["secrets_key_file"] = app.add_option(
      "--secrets-key-file", o.secrets_key_file,
      "Key that encrypts secrets in the store, created mode 0600 at first start (default "
      "<data-dir>/secrets.key; keep it apart from backups: docs/security.md)");
  flags["viewers"] =
      app.add_option("--viewer", viewers, "User limited to read operations (repeatable)");
  flags["bridge"] = app.add_option(
      "--bridge", bridges,
      "Line broker NAME=URL[,URL]: nodes with that info.broker go Unreachable while bridge "
      "NAME is down (repeatable; docs/levels.md)");
  std::string heartbeat_timeout;
  flags["line_heartbeat_timeout"] = app.add_option(
      "--line-heartbeat-timeout", heartbeat_timeout,
      "Seconds without a line broker's heartbeat before its nodes are Unreachable (default 5, "
      "0 = off; docs/levels.md)");
  auto* backup = app.add_subcommand("backup", "Write a consistent copy of the store to DIR");
  backup->add_option("dir", o.command_dir, "Backup directory (must not exist)")->required();
  backup->add_flag("--include-secrets-key", o.include_secrets_key,
                   "Also copy the secrets key file into the backup (without it, the backup's "
                   "secrets can only be read with the key kept elsewhere)");
  auto* restore = app.add_subcommand("restore", "Restore a backup into --data-dir (new epoch)");
  restore->add_option("dir", o.command_dir, "Backup directory")->required();
  backup->fallthrough();  // --data-dir etc. after the subcommand
  restore->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.help_text = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::invalidArgument(e.what());
  }
  o.keep_alive = std::chrono::seconds(keep_alive);
  for (const auto& v : viewers) o.core.viewers.insert(v);
  for (const auto& b : bridges) PHAROS_RETURN_IF_ERROR(applyAnchorConfigKey(o, "bridge", b));
  if (!heartbeat_timeout.empty()) {
    PHAROS_RETURN_IF_ERROR(applyAnchorConfigKey(o, "line_heartbeat_timeout", heartbeat_timeout));
  }
  if (backup->parsed()) o.command = AnchorOptions::Command::kBackup;
  if (restore->parsed()) o.command = AnchorOptions::Command::kRestore;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) return Status::invalidArgument("--config: cannot read " + config_file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) {
        return Status::invalidArgument(config_file + ":" + std::to_string(number) +
                                       ": expected key = value");
      }
      std::string key = trim(line.substr(0, eq));
      std::string value = trim(line.substr(eq + 1));
      std::string normal = key;
      for (char& c : normal) {
        if (c == '-') c = '_';
      }
      if (normal == "broker") normal = "broker_url";
      if (normal == "viewer") normal = "viewers";
      if (normal == "bridges") normal = "bridge";
      auto flag = flags.find(normal);
      if (flag != flags.end() && flag->second->count() > 0) continue;  // the flag wins
      Status s = applyAnchorConfigKey(o, key, value);
      if (!s.isOk()) {
        return Status::invalidArgument(config_file + ":" + std::to_string(number) + ": " +
                                       s.message());
      }
    }
  }
  if (o.password.empty() && !o.password_file.empty()) {
    auto pw = readPasswordFile(o.password_file);
    if (!pw) return pw.status();
    o.password = *pw;
  }
  if (o.agent_broker_url.empty()) o.agent_broker_url = o.broker_url;
  if (o.data_dir.empty()) return Status::invalidArgument("--data-dir: must not be empty");
  return out;
}

MqttOptions anchorMqttOptions(const AnchorOptions& o, const Clock& clock) {
  MqttOptions m;
  m.url = o.broker_url;
  m.client_id = o.client_id;
  m.username = o.username;
  m.password = o.password;
  m.keep_alive = o.keep_alive;
  m.clean_start = true;
  m.will = Anchor::willMessage(clock);
  m.auto_reconnect = true;
  // A request left retained is refused and cleared the moment it arrives (guards.cpp).
  m.retain_as_published = true;
  if (!o.ca_file.empty() || !o.cert_file.empty() || o.tls_insecure ||
      o.broker_url.rfind("ssl://", 0) == 0 || o.broker_url.rfind("mqtts://", 0) == 0 ||
      o.broker_url.rfind("wss://", 0) == 0) {
    TlsOptions tls;
    tls.ca_file = o.ca_file;
    tls.cert_file = o.cert_file;
    tls.key_file = o.key_file;
    tls.insecure = o.tls_insecure;
    m.tls = tls;
  }
  return m;
}

std::string secretsKeyPath(const AnchorOptions& options) {
  if (!options.secrets_key_file.empty()) return options.secrets_key_file;
  return options.data_dir + "/secrets.key";
}

}  // namespace pharos::anchor
