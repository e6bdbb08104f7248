// How every Pharos program reaches its broker, in one vocabulary: the connection keys of the
// config table (broker_url, username, password, password_file, tls_ca, tls_cert, tls_key,
// tls_insecure, keep_alive), the checks on them and the MqttOptions they make. The agent,
// the anchor, pharos-sparkplug and pharosctl all use these; docs/configuration.md lists them.
// Pure functions over values (reading the password file aside): thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "pharos/config_table.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos {

struct ConnectionSettings {
  std::string broker_url = "tcp://127.0.0.1:1883";  // tcp://, ssl://, mqtts://, ws://, wss://
  std::string username;
  std::string password;       // or password_file (its first line)
  std::string password_file;  // read by finishConnection when password is empty
  std::string tls_ca;         // CA that verifies the broker ("" = the system trust store)
  std::string tls_cert;       // client certificate (with tls_key)
  std::string tls_key;        // client key
  bool tls_insecure = false;  // skip the broker hostname check (tests only)
  std::chrono::seconds keep_alive{10};
};

// Default settings with `username` set (a program's own default identity).
inline ConnectionSettings connectionAs(std::string username) {
  ConnectionSettings s;
  s.username = std::move(username);
  return s;
}

// Which keys addConnectionKeys declares: pharosctl has no keep_alive of its own.
enum class ConnectionKeys { kAll, kNoKeepAlive };

// Declares the connection keys over `settings`, with the older spellings programs used as
// aliases: broker (broker_url); user (username); ca_file (tls_ca); cert_file (tls_cert);
// key_file (tls_key) unless `tls_key_file_alias` is false (the agent's key_file is its
// sealing key). Defaults shown are the struct's values now.
void addConnectionKeys(ConfigTable& table, ConnectionSettings* settings,
                       ConnectionKeys which = ConnectionKeys::kAll, bool tls_key_file_alias = true);

// Reads password_file when no password is set, and checks the URL scheme and that tls_cert
// and tls_key come together. Errors name the key.
Status finishConnection(ConnectionSettings& settings);

// True when the link uses TLS: an ssl://, mqtts:// or wss:// URL, or a CA, a client
// certificate or tls_insecure given.
bool usesTls(const ConnectionSettings& settings);

// The MqttOptions of these settings: URL, credentials, keep-alive and TLS. The caller adds
// the client id, will and reconnect policy.
MqttOptions connectionMqttOptions(const ConnectionSettings& settings);

}  // namespace pharos
