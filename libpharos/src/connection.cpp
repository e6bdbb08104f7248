// The connection vocabulary shared by every program (connection.h).
#include "pharos/connection.h"

#include <array>

namespace pharos {

void addConnectionKeys(ConfigTable& table, ConnectionSettings* s, ConnectionKeys which,
                       bool tls_key_file_alias) {
  table.text("broker_url", &s->broker_url, "broker URL (tcp://, ssl://, mqtts://, ws://, wss://)")
      .aliases = {"broker"};
  table.text("username", &s->username, "broker username").aliases = {"user"};
  table.text("password", &s->password, "broker password (prefer password_file)");
  table.text("password_file", &s->password_file, "file whose first line is the broker password");
  table.text("tls_ca", &s->tls_ca, "CA certificate that verifies the broker (TLS)").aliases = {
      "ca_file"};
  table.text("tls_cert", &s->tls_cert, "client certificate (TLS, with tls_key)").aliases = {
      "cert_file"};
  auto& key = table.text("tls_key", &s->tls_key, "client key (TLS, with tls_cert)");
  if (tls_key_file_alias) key.aliases = {"key_file"};
  table.boolean("tls_insecure", &s->tls_insecure, "skip the broker hostname check (tests only)");
  if (which == ConnectionKeys::kAll) {
    table.seconds("keep_alive", &s->keep_alive, 1, 3600, "MQTT keep-alive (seconds or 10s, 1m)");
  }
}

Status finishConnection(ConnectionSettings& s) {
  if (s.password.empty() && !s.password_file.empty()) {
    auto pw = readFirstLine(s.password_file, "password_file");
    if (!pw) return pw.status();
    s.password = *pw;
  }
  static constexpr std::array<const char*, 5> kSchemes = {"tcp://", "ssl://", "mqtts://", "ws://",
                                                          "wss://"};
  bool known = false;
  for (const char* scheme : kSchemes) known = known || s.broker_url.rfind(scheme, 0) == 0;
  if (!known) {
    return Status::invalidArgument("broker_url: '" + s.broker_url +
                                   "' needs a scheme (tcp://, ssl://, mqtts://, ws://, wss://)");
  }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return Status::invalidArgument("tls_cert and tls_key must be given together");
  }
  return Status::ok();
}

bool usesTls(const ConnectionSettings& s) {
  const std::string& url = s.broker_url;
  return !s.tls_ca.empty() || !s.tls_cert.empty() || s.tls_insecure ||
         url.rfind("ssl://", 0) == 0 || url.rfind("mqtts://", 0) == 0 ||
         url.rfind("wss://", 0) == 0;
}

MqttOptions connectionMqttOptions(const ConnectionSettings& s) {
  MqttOptions m;
  m.url = s.broker_url;
  m.username = s.username;
  m.password = s.password;
  m.keep_alive = s.keep_alive;
  if (usesTls(s)) m.tls = TlsOptions{s.tls_ca, s.tls_cert, s.tls_key, s.tls_insecure};
  return m;
}

}  // namespace pharos
