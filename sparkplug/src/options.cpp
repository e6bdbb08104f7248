// pharos-sparkplug options (options.h).
#include "sparkplug/options.h"

#include <fmt/format.h>

#include <fstream>
#include <set>

namespace pharos::sparkplug {
namespace {

constexpr const char* kHelp =
    R"(pharos-sparkplug: the Pharos site as an Eclipse Sparkplug B 3.0 edge node

Usage: pharos-sparkplug [--config FILE] [--KEY VALUE]...

Every KEY of the config file (key = value lines) is also a flag; a flag wins over the file.
  broker_url             broker URL (tcp://, ssl://, ws://, wss://)   [tcp://127.0.0.1:1883]
  client_id              MQTT client id                      [pharos-sparkplug-<edge_node_id>]
  username, password, password_file   the broker identity (read-only on pharos/v1) [sparkplug]
  ca_file, cert_file, key_file, tls_insecure   TLS
  keep_alive             MQTT keep-alive in seconds                                   [10]
  data_dir               where the bdSeq counter is kept                    [memory only]
  group_id               Sparkplug group id                                      [pharos]
  edge_node_id           Sparkplug edge node id                                    [site]
  primary_host_id        births wait until this host's STATE is online             [none]
  commands               accept DCMD app control (true|false)                     [false]
  command_username, command_password, command_password_file
                         the broker identity commands go to the management API as
  settle_ms              quiet time of Pharos input before the births (ms)          [300]
  log_level              trace|debug|info|warn|error                               [info]
Docs: docs/scada.md
)";

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string normal(std::string key) {
  for (char& c : key) {
    if (c == '-') c = '_';
  }
  return key;
}

Result<bool> boolValue(const std::string& key, const std::string& value) {
  if (value == "true" || value == "yes" || value == "1" || value == "on") return true;
  if (value == "false" || value == "no" || value == "0" || value == "off") return false;
  return Status::invalidArgument(key + ": expected true or false, got '" + value + "'");
}

Result<int> intValue(const std::string& key, const std::string& value, int lo, int hi) {
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo || v > hi) {
    return Status::invalidArgument(
        fmt::format("{}: expected a number from {} to {}, got '{}'", key, lo, hi, value));
  }
  return static_cast<int>(v);
}

Result<std::string> firstLine(const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument(key + ": cannot read " + path);
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) return Status::invalidArgument(key + ": " + path + " is empty");
  return line;
}

Status readConfigFile(SparkplugOptions& o, const std::string& path,
                      const std::set<std::string>& from_flags) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("--config: cannot read " + path);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::invalidArgument(fmt::format("{}:{}: expected key = value", path, number));
    }
    std::string key = normal(trim(line.substr(0, eq)));
    if (from_flags.count(key) > 0) continue;  // the flag wins
    Status s = applySparkplugKey(o, key, trim(line.substr(eq + 1)));
    if (!s.isOk())
      return Status::invalidArgument(fmt::format("{}:{}: {}", path, number, s.message()));
  }
  return Status::ok();
}

Status finish(SparkplugOptions& o) {
  PHAROS_RETURN_IF_ERROR(checkId(o.edge.group_id, "group_id"));
  PHAROS_RETURN_IF_ERROR(checkId(o.edge.edge_node_id, "edge_node_id"));
  if (o.edge.group_id == "STATE") {
    return Status::invalidArgument("group_id: STATE is reserved by Sparkplug");
  }
  if (!o.edge.primary_host_id.empty()) {
    PHAROS_RETURN_IF_ERROR(checkId(o.edge.primary_host_id, "primary_host_id"));
  }
  if (o.password.empty() && !o.password_file.empty()) {
    auto pw = firstLine("password_file", o.password_file);
    if (!pw) return pw.status();
    o.password = *pw;
  }
  if (o.client_id.empty()) o.client_id = "pharos-sparkplug-" + o.edge.edge_node_id;
  if (!o.edge.commands) return Status::ok();
  if (o.command_username.empty()) {
    return Status::invalidArgument("commands = true needs command_username (docs/scada.md)");
  }
  if (o.command_username == o.username) {
    return Status::invalidArgument(
        "command_username: must be a separate broker identity from username");
  }
  if (o.command_password.empty() && !o.command_password_file.empty()) {
    auto pw = firstLine("command_password_file", o.command_password_file);
    if (!pw) return pw.status();
    o.command_password = *pw;
  }
  return Status::ok();
}

MqttOptions baseOptions(const SparkplugOptions& o) {
  MqttOptions m;
  m.url = o.broker_url;
  m.keep_alive = std::chrono::seconds(o.keep_alive);
  m.clean_start = true;
  const auto& url = o.broker_url;
  if (!o.ca_file.empty() || !o.cert_file.empty() || o.tls_insecure || url.rfind("ssl://", 0) == 0 ||
      url.rfind("mqtts://", 0) == 0 || url.rfind("wss://", 0) == 0) {
    m.tls = TlsOptions{o.ca_file, o.cert_file, o.key_file, o.tls_insecure};
  }
  return m;
}

}  // namespace

Status applySparkplugKey(SparkplugOptions& o, const std::string& raw_key,
                         const std::string& value) {
  const std::string key = normal(raw_key);
  std::string* text = nullptr;
  if (key == "broker_url" || key == "broker") text = &o.broker_url;
  if (key == "client_id") text = &o.client_id;
  if (key == "username") text = &o.username;
  if (key == "password") text = &o.password;
  if (key == "password_file") text = &o.password_file;
  if (key == "ca_file") text = &o.ca_file;
  if (key == "cert_file") text = &o.cert_file;
  if (key == "key_file") text = &o.key_file;
  if (key == "data_dir") text = &o.data_dir;
  if (key == "log_level") text = &o.log_level;
  if (key == "group_id") text = &o.edge.group_id;
  if (key == "edge_node_id") text = &o.edge.edge_node_id;
  if (key == "primary_host_id") text = &o.edge.primary_host_id;
  if (key == "command_username") text = &o.command_username;
  if (key == "command_password") text = &o.command_password;
  if (key == "command_password_file") text = &o.command_password_file;
  if (text != nullptr) {
    *text = value;
    return Status::ok();
  }
  if (key == "tls_insecure" || key == "commands") {
    auto b = boolValue(key, value);
    if (!b) return b.status();
    (key == "commands" ? o.edge.commands : o.tls_insecure) = *b;
    return Status::ok();
  }
  if (key == "keep_alive") {
    auto v = intValue(key, value, 1, 3600);
    if (!v) return v.status();
    o.keep_alive = *v;
    return Status::ok();
  }
  if (key == "settle_ms") {
    auto v = intValue(key, value, 0, 60000);
    if (!v) return v.status();
    o.edge.settle = std::chrono::milliseconds(*v);
    return Status::ok();
  }
  return Status::invalidArgument("unknown setting '" + raw_key + "'");
}

Result<SparkplugCommandLine> parseSparkplugCommandLine(int argc, const char* const* argv) {
  SparkplugCommandLine out;
  std::string config_file;
  std::set<std::string> from_flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out.help_text = kHelp;
      return out;
    }
    if (arg == "--version") {
      out.version = true;
      return out;
    }
    if (arg.rfind("--", 0) != 0)
      return Status::invalidArgument("unexpected argument '" + arg + "'");
    std::string key = arg.substr(2);
    std::string value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (key == "tls-insecure" || key == "commands") {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Status::invalidArgument("--" + key + ": needs a value");
    }
    if (key == "config") {
      config_file = value;
      continue;
    }
    Status s = applySparkplugKey(out.options, key, value);
    if (!s.isOk()) return Status::invalidArgument("--" + key + ": " + s.message());
    from_flags.insert(normal(key) == "broker" ? "broker_url" : normal(key));
  }
  if (!config_file.empty()) {
    PHAROS_RETURN_IF_ERROR(readConfigFile(out.options, config_file, from_flags));
  }
  PHAROS_RETURN_IF_ERROR(finish(out.options));
  return out;
}

MqttOptions edgeMqttOptions(const SparkplugOptions& o) {
  MqttOptions m = baseOptions(o);
  m.client_id = o.client_id;
  m.username = o.username;
  m.password = o.password;
  // Every connection is a new Sparkplug session with its own bdSeq and will: the service
  // reconnects itself rather than letting the link reuse the will.
  m.auto_reconnect = false;
  m.connect_timeout = std::chrono::seconds(5);
  return m;
}

MqttOptions commandMqttOptions(const SparkplugOptions& o) {
  MqttOptions m = baseOptions(o);
  m.client_id = o.client_id + "-commands";
  m.username = o.command_username;
  m.password = o.command_password;
  m.auto_reconnect = true;
  m.connect_timeout = std::chrono::seconds(5);
  return m;
}

}  // namespace pharos::sparkplug
