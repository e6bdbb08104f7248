// Connection settings: config file parsing, environment, precedence (see settings.h).
#include "cli/settings.h"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

namespace pharos::cli {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
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
  if (upper.request_timeout) lower.request_timeout = upper.request_timeout;
}

}  // namespace

Result<SettingsLayer> parseConfigFile(const std::string& text, const std::string& path) {
  SettingsLayer out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) {
      return Status::invalidArgument(
          fmt::format("{}:{}: expected 'key = value', got '{}'", path, number, t));
    }
    std::string key = trim(t.substr(0, eq));
    for (char& c : key) {
      if (c == '-') c = '_';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::string value = unquote(trim(t.substr(eq + 1)));
    if (key == "broker") {
      out.broker = value;
    } else if (key == "user") {
      out.user = value;
    } else if (key == "password") {
      out.password = value;
    } else if (key == "password_file") {
      out.password_file = value;
    } else if (key == "ca_file") {
      out.ca_file = value;
    } else if (key == "request_timeout" || key == "timeout") {
      out.request_timeout = value;
    } else {
      return Status::invalidArgument(fmt::format(
          "{}:{}: unknown key '{}' (known: broker, user, password, password_file, ca_file, "
          "request_timeout)",
          path, number, key));
    }
  }
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
  out.broker = get("PHAROS_BROKER");
  out.user = get("PHAROS_USER");
  out.password = get("PHAROS_PASSWORD");
  out.password_file = get("PHAROS_PASSWORD_FILE");
  out.ca_file = get("PHAROS_CA_FILE");
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
