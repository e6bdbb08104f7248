// Connection settings: config file parsing, environment, precedence (see settings.h).
#include "cli/settings.h"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

#include "pharos/config_table.h"
#include "pharos/connection.h"

namespace pharos::cli {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Applies `upper` over `lower`: each set field of upper wins. A password in a higher layer
// also overrides a password file of a lower one, and the other way round.
void overlay(SettingsLayer& lower, const SettingsLayer& upper) {
  if (upper.broker) lower.broker = upper.broker;
  if (upper.user) lower.user = upper.user;
  if (upper.password || upper.password_file) {
    lower.password = upper.password;
    lower.password_file = upper.password ? std::nullopt : upper.password_file;
  }
  if (upper.ca_file) lower.ca_file = upper.ca_file;
  if (upper.tls_cert) lower.tls_cert = upper.tls_cert;
  if (upper.tls_key) lower.tls_key = upper.tls_key;
  if (upper.tls_insecure) lower.tls_insecure = upper.tls_insecure;
  if (upper.request_timeout) lower.request_timeout = upper.request_timeout;
}

}  // namespace

Result<SettingsLayer> parseConfigFile(const std::string& text, const std::string& path) {
  // The shared connection keys (connection.h), plus request_timeout.
  ConnectionSettings c;
  std::string request_timeout;
  ConfigTable table;
  addConnectionKeys(table, &c, ConnectionKeys::kNoKeepAlive);
  table.text("request_timeout", &request_timeout, "how long to wait for an answer").aliases = {
      "timeout"};
  PHAROS_RETURN_IF_ERROR(table.applyText(text, path));
  SettingsLayer out;
  auto given = [&](const char* key, const std::string& value) -> std::optional<std::string> {
    if (table.applied().count(key) == 0) return std::nullopt;
    return value;
  };
  out.broker = given("broker_url", c.broker_url);
  out.user = given("username", c.username);
  out.password = given("password", c.password);
  out.password_file = given("password_file", c.password_file);
  out.ca_file = given("tls_ca", c.tls_ca);
  out.tls_cert = given("tls_cert", c.tls_cert);
  out.tls_key = given("tls_key", c.tls_key);
  if (table.applied().count("tls_insecure") > 0) out.tls_insecure = c.tls_insecure;
  out.request_timeout = given("request_timeout", request_timeout);
  return out;
}

SettingsLayer settingsFromEnv(
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  SettingsLayer out;
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto v = getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  // PHAROS_<KEY> for each connection key; the older PHAROS_BROKER, PHAROS_USER and
  // PHAROS_CA_FILE still work.
  auto either = [&](const char* name, const char* older) {
    auto v = get(name);
    return v ? v : get(older);
  };
  out.broker = either("PHAROS_BROKER_URL", "PHAROS_BROKER");
  out.user = either("PHAROS_USERNAME", "PHAROS_USER");
  out.password = get("PHAROS_PASSWORD");
  out.password_file = get("PHAROS_PASSWORD_FILE");
  out.ca_file = either("PHAROS_TLS_CA", "PHAROS_CA_FILE");
  out.tls_cert = get("PHAROS_TLS_CERT");
  out.tls_key = get("PHAROS_TLS_KEY");
  out.request_timeout = get("PHAROS_REQUEST_TIMEOUT");
  return out;
}

ConfigPath configFilePath(const std::optional<std::string>& flag,
                          const std::function<std::optional<std::string>(const char*)>& getenv) {
  if (flag && !flag->empty()) return {*flag, true};
  auto env = getenv("PHAROS_CONFIG");
  if (env && !env->empty()) return {*env, true};
  auto xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && !xdg->empty()) return {*xdg + "/pharos/pharosctl.conf", false};
  auto home = getenv("HOME");
  if (home && !home->empty()) return {*home + "/.config/pharos/pharosctl.conf", false};
  return {"", false};
}

Result<Settings> resolveSettings(const SettingsLayer& flags, const SettingsLayer& env,
                                 const SettingsLayer& file, const FileReader& read_file) {
  SettingsLayer merged;
  overlay(merged, file);
  overlay(merged, env);
  overlay(merged, flags);

  Settings out;
  if (merged.broker) out.broker = *merged.broker;
  if (merged.user) {
    out.user = *merged.user;
    out.user_source = flags.user ? "flag --user" : env.user ? "PHAROS_USER" : "config file";
  }
  if (merged.password) {
    out.password = *merged.password;
  } else if (merged.password_file) {
    auto text = read_file(*merged.password_file);
    if (!text) {
      return Status::invalidArgument(fmt::format("cannot read the password file {}: {}",
                                                 *merged.password_file, text.status().message()));
    }
    std::string pw = *text;
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    out.password = pw;
  }
  if (merged.ca_file) out.ca_file = *merged.ca_file;
  if (merged.tls_cert) out.tls_cert = *merged.tls_cert;
  if (merged.tls_key) out.tls_key = *merged.tls_key;
  if (merged.tls_insecure) out.tls_insecure = *merged.tls_insecure;
  if (merged.request_timeout) {
    auto d = parseDuration(*merged.request_timeout);
    if (!d) return Status::invalidArgument("request timeout: " + d.status().message());
    out.request_timeout = *d;
  }
  if (out.user.empty()) {
    return Status::invalidArgument(
        "no user name: pass --user NAME, set PHAROS_USER, or write 'user = NAME' in "
        "~/.config/pharos/pharosctl.conf");
  }
  return out;
}

ConnectionSettings connectionOf(const Settings& s) {
  ConnectionSettings c;
  c.broker_url = s.broker;
  c.username = s.user;
  c.password = s.password;
  c.tls_ca = s.ca_file;
  c.tls_cert = s.tls_cert;
  c.tls_key = s.tls_key;
  c.tls_insecure = s.tls_insecure;
  return c;
}

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  std::string t = trim(text);
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  if (i == 0 || i > 12) {
    return Status::invalidArgument(
        fmt::format("'{}' is not a duration (examples: 30s, 1500ms, 5m, 1h)", text));
  }
  double number = 0;
  try {
    number = std::stod(t.substr(0, i));
  } catch (...) {
    return Status::invalidArgument(fmt::format("'{}' is not a duration", text));
  }
  std::string unit = t.substr(i);
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = number * 1000;
  } else if (unit == "ms") {
    ms = number;
  } else if (unit == "m" || unit == "min") {
    ms = number * 60'000;
  } else if (unit == "h") {
    ms = number * 3'600'000;
  } else {
    return Status::invalidArgument(
        fmt::format("'{}' has an unknown unit '{}' (use ms, s, m or h)", text, unit));
  }
  if (ms > 1e12) return Status::invalidArgument(fmt::format("'{}' is too long", text));
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::string formatDuration(std::chrono::milliseconds duration) {
  int64_t ms = duration.count();
  if (ms % 60'000 == 0 && ms >= 60'000) return fmt::format("{} min", ms / 60'000);
  if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
}

}  // namespace pharos::cli
