// Agent configuration: key = value file + CLI11 flags (see config.h). CLI11's exceptions stop
// here and become a Status.
#include "agent/config.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "pharos/compose.h"
#include "pharos/ids.h"

namespace pharos::agent {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  if (out.size() >= 2 &&
      ((out.front() == '"' && out.back() == '"') || (out.front() == '\'' && out.back() == '\''))) {
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

std::string normalKey(std::string_view key) {
  std::string k(key);
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

Result<std::chrono::milliseconds> parseMs(std::string_view value, std::chrono::milliseconds unit,
                                          std::string_view key) {
  std::string v = trim(value);
  if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit) && v.size() < 12) {
    return std::chrono::milliseconds(std::stoll(v) * unit.count());
  }
  auto d = parseDuration(v);
  if (!d.isOk()) {
    return Status::invalidArgument(
        std::string(key) + ": '" + v + "' is not a duration (a number of " +
        (unit.count() == 1 ? "milliseconds" : "seconds") + " or e.g. 10s, 500ms)");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

Result<bool> parseBool(std::string_view value, std::string_view key) {
  std::string v = trim(value);
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return Status::invalidArgument(std::string(key) + ": '" + v + "' is not a boolean");
}

Status readFirstLine(const std::string& path, std::string& out, const char* what) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument(std::string(what) + ": cannot read " + path);
  std::getline(in, out);
  out = trim(out);
  return Status::ok();
}

// Flags: every config key, as --key-with-dashes.
constexpr std::array<const char*, 21> kConfigKeys = {
    "node_id",       "broker_url",     "username",         "password",
    "password_file", "tls_ca",         "tls_cert",         "tls_key",
    "tls_insecure",  "keep_alive",     "state_file",       "key_file",
    "data_dir",      "docker_host",    "metrics_interval", "reconcile_interval",
    "pull_jitter",   "health_timeout", "log_level",        "threads",
    "stop_threads"};

std::string flagName(const std::string& key) {
  std::string f = "--" + key;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

}  // namespace

Status applyConfigKey(AgentConfig& c, std::string_view raw_key, std::string_view raw_value) {
  std::string key = normalKey(trim(raw_key));
  std::string value = trim(raw_value);
  auto secondsOf = [&](std::chrono::seconds& field) -> Status {
    auto ms = parseMs(value, std::chrono::seconds(1), key);
    if (!ms.isOk()) return ms.status();
    if (ms->count() < 1000) return Status::invalidArgument(key + ": must be at least 1s");
    field = std::chrono::duration_cast<std::chrono::seconds>(*ms);
    return Status::ok();
  };
  if (key == "node_id") {
    c.node_id = value;
  } else if (key == "broker_url" || key == "broker") {
    c.broker_url = value;
  } else if (key == "username") {
    c.username = value;
  } else if (key == "password") {
    c.password = value;
  } else if (key == "password_file") {
    c.password_file = value;
  } else if (key == "tls_ca") {
    c.tls_ca = value;
  } else if (key == "tls_cert") {
    c.tls_cert = value;
  } else if (key == "tls_key") {
    c.tls_key = value;
  } else if (key == "tls_insecure") {
    auto b = parseBool(value, key);
    if (!b.isOk()) return b.status();
    c.tls_insecure = *b;
  } else if (key == "label" || key == "labels") {
    // label = k=v (repeatable), or labels = k1=v1,k2=v2
    std::stringstream ss(value);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item = trim(item);
      if (item.empty()) continue;
      auto eq = item.find('=');
      if (eq == std::string::npos) {
        return Status::invalidArgument("label: '" + item + "' is not key=value");
      }
      std::string k = trim(item.substr(0, eq));
      if (!isValidId(IdKind::kNode, k)) {
        return Status::invalidArgument("label: key '" + k +
                                       "' must match [a-z0-9][a-z0-9_.-]{0,62}");
      }
      c.labels[k] = trim(item.substr(eq + 1));
    }
  } else if (key == "keep_alive") {
    return secondsOf(c.keep_alive);
  } else if (key == "state_file") {
    c.state_file = value;
  } else if (key == "key_file") {
    c.key_file = value;
  } else if (key == "data_dir") {
    c.data_dir = value;
  } else if (key == "docker_host") {
    c.docker_host = value;
  } else if (key == "metrics_interval") {
    return secondsOf(c.metrics_interval);
  } else if (key == "reconcile_interval") {
    return secondsOf(c.reconcile_interval);
  } else if (key == "health_timeout") {
    return secondsOf(c.health_timeout);
  } else if (key == "pull_jitter") {
    auto ms = parseMs(value, std::chrono::milliseconds(1), key);
    if (!ms.isOk()) return ms.status();
    c.pull_jitter = *ms;
  } else if (key == "log_level") {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
    if (std::none_of(std::begin(kLevels), std::end(kLevels),
                     [&](const char* l) { return value == l; })) {
      return Status::invalidArgument("log_level: '" + value +
                                     "' is not one of trace, debug, info, warn, error");
    }
    c.log_level = value;
  } else if (key == "threads" || key == "stop_threads") {
    if (value.empty() || value.size() > 3 || !std::all_of(value.begin(), value.end(), ::isdigit) ||
        std::stoi(value) < 1) {
      return Status::invalidArgument(std::string(key) + ": must be a number from 1 to 999");
    }
    (key == "threads" ? c.threads : c.stop_threads) = std::stoi(value);
  } else {
    return Status::invalidArgument("unknown key '" + key + "'");
  }
  return Status::ok();
}

Status applyConfigText(AgentConfig& config, std::string_view text, const std::string& origin) {
  std::stringstream ss{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(ss, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) {
      return Status::invalidArgument(origin + ":" + std::to_string(number) +
                                     ": expected 'key = value'");
    }
    Status st = applyConfigKey(config, t.substr(0, eq), t.substr(eq + 1));
    if (!st.isOk()) {
      return Status::invalidArgument(origin + ":" + std::to_string(number) + ": " + st.message());
    }
  }
  return Status::ok();
}

Status finalizeConfig(AgentConfig& c, const std::string& machine_id_path) {
  if (c.node_id.empty()) {
    std::string id;
    Status st = readFirstLine(machine_id_path, id, "node_id");
    if (!st.isOk() || id.empty()) {
      return Status::invalidArgument("node_id: not set and " + machine_id_path +
                                     " is missing or empty; set node_id in the config");
    }
    c.node_id = id;
  }
  PHAROS_RETURN_IF_ERROR(validateId(IdKind::kNode, c.node_id, "node_id"));
  if (c.username.empty()) c.username = c.node_id;
  if (!c.password_file.empty()) {
    PHAROS_RETURN_IF_ERROR(readFirstLine(c.password_file, c.password, "password_file"));
  }
  if (c.broker_url.find("://") == std::string::npos) {
    return Status::invalidArgument("broker_url: '" + c.broker_url +
                                   "' needs a scheme (tcp://, ssl://, ws://, wss://)");
  }
  if (c.state_file.empty()) return Status::invalidArgument("state_file: must not be empty");
  if (c.key_file.empty()) {
    auto slash = c.state_file.rfind('/');
    c.key_file = (slash == std::string::npos ? std::string() : c.state_file.substr(0, slash + 1)) +
                 "node.key";
  }
  if (c.data_dir.empty() || c.data_dir[0] != '/') {
    return Status::invalidArgument("data_dir: must be an absolute path");
  }
  if ((c.tls_cert.empty()) != (c.tls_key.empty())) {
    return Status::invalidArgument("tls_cert and tls_key must be given together");
  }
  return Status::ok();
}

Result<CommandLine> parseCommandLine(int argc, const char* const* argv,
                                     const std::string& machine_id_path) {
  CLI::App app{"pharos-agent: deploys and supervises compose apps on this device"};
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (key = value); default /etc/pharos/agent.conf if present");
  std::map<std::string, std::string> flags;
  for (const char* key : kConfigKeys) {
    app.add_option(flagName(key), flags[key], std::string("config key ") + key);
  }
  std::vector<std::string> labels;
  app.add_option("-l,--label", labels, "node label key=value (repeatable)");
  bool print_public_key = false;
  bool rekey = false;
  app.add_flag("--rekey", rekey,
               "discard this device's key pair and make a new one (stop the agent first), "
               "print the new public key and exit; then `pharosctl node rekey`");
  app.add_flag("--print-public-key", print_public_key,
               "print this device's public key for sealed secrets (creating key_file if "
               "needed), for `pharosctl node add --public-key`, and exit");

  CommandLine out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.help_text = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::invalidArgument(std::string("command line: ") + e.what());
  }

  AgentConfig config;
  bool explicit_config = !config_path.empty();
  if (!explicit_config) config_path = "/etc/pharos/agent.conf";
  std::ifstream in(config_path);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    PHAROS_RETURN_IF_ERROR(applyConfigText(config, buf.str(), config_path));
  } else if (explicit_config) {
    return Status::invalidArgument("config: cannot read " + config_path);
  }
  for (const char* key : kConfigKeys) {
    if (app.count(flagName(key)) == 0) continue;
    Status st = applyConfigKey(config, key, flags[key]);
    if (!st.isOk()) return Status::invalidArgument("command line: " + st.message());
  }
  for (const std::string& label : labels) {
    Status st = applyConfigKey(config, "label", label);
    if (!st.isOk()) return Status::invalidArgument("command line: " + st.message());
  }
  PHAROS_RETURN_IF_ERROR(finalizeConfig(config, machine_id_path));
  out.config = std::move(config);
  out.print_public_key = print_public_key;
  out.rekey = rekey;
  return out;
}

MqttOptions mqttOptions(const AgentConfig& c) {
  MqttOptions o;
  o.url = c.broker_url;
  o.client_id = c.node_id;  // the broker ties an agent identity to its node id
  o.username = c.username;
  o.password = c.password;
  o.keep_alive = c.keep_alive;
  o.clean_start = true;
  o.auto_reconnect = true;
  // A cmd request left retained is refused the moment it arrives (agent_report.cpp).
  o.retain_as_published = true;
  if (!c.tls_ca.empty() || !c.tls_cert.empty() || c.broker_url.rfind("ssl://", 0) == 0 ||
      c.broker_url.rfind("mqtts://", 0) == 0 || c.broker_url.rfind("wss://", 0) == 0) {
    TlsOptions tls;
    tls.ca_file = c.tls_ca;
    tls.cert_file = c.tls_cert;
    tls.key_file = c.tls_key;
    tls.insecure = c.tls_insecure;
    o.tls = tls;
  }
  return o;
}

}  // namespace pharos::agent
