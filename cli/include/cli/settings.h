// Connection settings of pharosctl and where they come from: command-line flags, then the
// environment (PHAROS_BROKER_URL, PHAROS_USERNAME, PHAROS_PASSWORD, PHAROS_PASSWORD_FILE,
// PHAROS_TLS_CA, PHAROS_TLS_CERT, PHAROS_TLS_KEY, PHAROS_CONFIG; the older PHAROS_BROKER,
// PHAROS_USER and PHAROS_CA_FILE too), then the config file (~/.config/pharos/pharosctl.conf
// or --config; `key = value` lines of the shared connection keys, pharos/connection.h), then
// the defaults. Within one source a
// password beats a password file. Pure functions over values (file reads are injected):
// thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "pharos/connection.h"
#include "pharos/status.h"

namespace pharos::cli {

inline constexpr const char* kDefaultBroker = "tcp://127.0.0.1:1883";
inline constexpr std::chrono::milliseconds kDefaultRequestTimeout{10'000};

// One source of settings; unset fields defer to the next source.
struct SettingsLayer {
  std::optional<std::string> broker;
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::optional<std::string> password_file;
  std::optional<std::string> ca_file;  // tls_ca
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<bool> tls_insecure;
  std::optional<std::string> request_timeout;  // a duration ("10s", "1500ms", "2m", "30")
};

struct Settings {
  std::string broker = kDefaultBroker;
  std::string user;
  std::string password;
  std::string ca_file;  // tls_ca
  std::string tls_cert;
  std::string tls_key;
  bool tls_insecure = false;
  std::chrono::milliseconds request_timeout = kDefaultRequestTimeout;
  // Where each value came from ("flag", "env", "file <path>", "default"), for messages.
  std::string user_source = "default";
};

// Parses the config file text. Keys: the connection keys (broker_url, username, password,
// password_file, tls_ca, tls_cert, tls_key, tls_insecure; older spellings broker, user,
// ca_file still accepted with a warning) and request_timeout ('-' or '_'). Unknown keys and lines
// without
// '=' are invalid_argument naming the line.
Result<SettingsLayer> parseConfigFile(const std::string& text, const std::string& path);

// Reads PHAROS_* variables through `getenv` (injected so tests need no real environment).
SettingsLayer settingsFromEnv(const std::function<std::optional<std::string>(const char*)>& getenv);

// The config file to read: --config, else $PHAROS_CONFIG, else
// $XDG_CONFIG_HOME/pharos/pharosctl.conf, else $HOME/.config/pharos/pharosctl.conf.
// `explicit_path` says the user named it (then a missing file is an error).
struct ConfigPath {
  std::string path;
  bool explicit_path = false;
};
ConfigPath configFilePath(const std::optional<std::string>& flag,
                          const std::function<std::optional<std::string>(const char*)>& getenv);

using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Merges flags > env > file > defaults; reads a password file through `read_file` (trailing
// newline dropped). A missing user is invalid_argument with a message saying how to set one.
Result<Settings> resolveSettings(const SettingsLayer& flags, const SettingsLayer& env,
                                 const SettingsLayer& file, const FileReader& read_file);

// The shared connection settings (connection.h) of resolved settings.
ConnectionSettings connectionOf(const Settings& settings);

// "10s", "1500ms", "5m", "1h", "30" (seconds) -> milliseconds; invalid_argument otherwise.
Result<std::chrono::milliseconds> parseDuration(const std::string& text);
// "10 s", "1.5 s", "5 min" for messages.
std::string formatDuration(std::chrono::milliseconds duration);

}  // namespace pharos::cli
