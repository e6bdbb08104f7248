// The Paho link's security paths against a real Mosquitto: refused credentials and client
// ids (permission_denied), a subscription the dynamic-security ACL refuses, TLS and secure
// WebSocket with a CA file, and an untrusted server certificate.
#include "mosquitto_process.h"

using namespace pharos_test;  // NOLINT(google-build-using-namespace): test helpers

namespace {

// A throw-away CA (ca.crt), a server certificate for 127.0.0.1 (server.crt/key) and a
// client certificate (client.crt/key), made with the openssl CLI.
void makeCerts(const std::string& dir) {
  std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string cmd =
      "cd " + dir + " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext" +
      " && openssl req -x509" + ec + " -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca" +
      " && openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1" +
      " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial" +
      " -out server.crt -days 2 -extfile san.ext" + " && openssl req" + ec +
      " -keyout client.key -out client.csr -subj /CN=n1" +
      " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial" +
      " -out client.crt -days 2 && chmod 0644 server.key client.key";
  REQUIRE_MESSAGE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0, "openssl failed");
}

}  // namespace

TEST_CASE("paho link reports refused credentials as permission_denied") {
  MosquittoProcess probe;  // only for its temporary directory
  fs::path passwd = probe.dir() / "passwd";
  std::string cmd = "/usr/bin/mosquitto_passwd -c -b " + passwd.string() + " ops s3cret";
  REQUIRE(std::system(cmd.c_str()) == 0);
  ::chmod(passwd.c_str(), 0644);
  MosquittoProcess broker("allow_anonymous false\npassword_file " + passwd.string() + "\n");
  broker.start();

  MqttOptions good = options(broker, "ops-cli");
  good.username = "ops";
  good.password = "s3cret";
  good.auto_reconnect = false;
  auto ok_link = pharos::makePahoLink(good);
  REQUIRE_OK(ok_link->connect());

  MqttOptions bad = good;
  bad.client_id = "ops-cli-2";
  bad.password = "wrong";
  auto bad_link = pharos::makePahoLink(bad);
  auto start = std::chrono::steady_clock::now();
  auto status = bad_link->connect();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK_MESSAGE(status.code() == Code::kPermissionDenied, status.toString());
  CHECK(status.message().find("refused the credentials") != std::string::npos);

  MqttOptions anonymous = options(broker, "anon");
  anonymous.auto_reconnect = false;
  auto anon_link = pharos::makePahoLink(anonymous);
  CHECK(anon_link->connect().code() == Code::kPermissionDenied);
}

TEST_CASE("paho link connects over TLS and secure WebSocket with the given CA") {
  MosquittoProcess certs;  // only for its temporary directory
  std::string dir = certs.dir().string();
  makeCerts(dir);
  int tls_port = freePort();
  int wss_port = freePort();
  std::string files = "cafile " + dir + "/ca.crt\ncertfile " + dir + "/server.crt\nkeyfile " + dir +
                      "/server.key\n";
  MosquittoProcess broker("allow_anonymous true\nlistener " + std::to_string(tls_port) +
                          " 127.0.0.1\n" + files + "listener " + std::to_string(wss_port) +
                          " 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n" + files);
  broker.start();
  REQUIRE(waitFor([&] { return portOpen(tls_port) && portOpen(wss_port); }));

  pharos::TlsOptions tls;
  tls.ca_file = dir + "/ca.crt";
  MqttOptions over_tls = options(broker, "tls-client");
  over_tls.url = "mqtts://127.0.0.1:" + std::to_string(tls_port);
  over_tls.tls = tls;
  auto sub = pharos::makePahoLink(over_tls);
  Recorder rec;
  rec.attach(*sub);
  REQUIRE_OK(sub->connect());
  REQUIRE_OK(sub->subscribe("t/#", 1));

  MqttOptions over_wss = options(broker, "wss-client");
  over_wss.url = "wss://127.0.0.1:" + std::to_string(wss_port);
  over_wss.tls = tls;
  auto pub = pharos::makePahoLink(over_wss);
  REQUIRE_OK(pub->connect());
  REQUIRE_OK(pub->publish(message("t/1", "secure")));
  CHECK(rec.waitMessage("t/1", "secure"));

  // Without the CA the broker's certificate is not trusted: unavailable, no crash.
  MqttOptions untrusted = options(broker, "untrusted");
  untrusted.url = "ssl://127.0.0.1:" + std::to_string(tls_port);
  untrusted.auto_reconnect = false;
  auto bad = pharos::makePahoLink(untrusted);
  auto status = bad->connect();
  CHECK_MESSAGE(status.code() == Code::kUnavailable, status.toString());
}

TEST_CASE("paho link reports a subscription the dynamic-security ACL refuses") {
  MosquittoProcess probe;  // only for its temporary directory
  std::string dir = probe.dir().string();
  std::string cmd = std::string("/usr/bin/python3 ") + PHAROS_SOURCE_DIR +
                    "/tools/dynsec.py init " + dir + " --agent n1 >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto readPassword = [&](const std::string& name) {
    std::ifstream env(dir + "/credentials/" + name + ".env");
    std::string line;
    while (std::getline(env, line)) {
      if (line.rfind("PHAROS_MQTT_PASSWORD=", 0) == 0) return line.substr(21);
    }
    return std::string();
  };
  std::string password = readPassword("agent-n1");
  REQUIRE_FALSE(password.empty());
  MosquittoProcess broker(
      "allow_anonymous false\nplugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\n"
      "plugin_opt_config_file " +
      dir + "/dynamic-security.json\n");
  broker.start();

  MqttOptions o = options(broker, "n1");
  o.username = "n1";
  o.password = password;
  auto agent = pharos::makePahoLink(o);
  Recorder rec;
  rec.attach(*agent);
  REQUIRE_OK(agent->connect());
  REQUIRE_OK(agent->subscribe("pharos/v1/nodes/n1/desired", 1));
  auto denied = agent->subscribe("pharos/v1/nodes/n2/desired", 1);
  CHECK_MESSAGE(denied.code() == Code::kPermissionDenied, denied.toString());
  // Several in one request: one answer, one status per filter.
  auto many = agent->subscribeMany({{"pharos/v1/nodes/n2/secrets", 1},
                                    {"pharos/v1/nodes/n1/secrets", 1},
                                    {"", 1},
                                    {"pharos/v1/nodes/n2/state", 0}});
  REQUIRE(many.size() == 4);
  CHECK_MESSAGE(many[0].code() == Code::kPermissionDenied, many[0].toString());
  CHECK_MESSAGE(many[1].isOk(), many[1].toString());
  CHECK(many[2].code() == Code::kInvalidArgument);
  CHECK_MESSAGE(many[3].code() == Code::kPermissionDenied, many[3].toString());
  // The refused filter is forgotten; the granted one is still made after a reconnect.
  broker.stop();
  REQUIRE(waitFor([&] { return !agent->connected(); }));
  broker.start();
  REQUIRE(waitFor([&] { return agent->connected(); }, 10s));
  MqttOptions a = options(broker, "anchor");
  a.username = "anchor";
  a.password = readPassword("anchor");
  auto anchor = pharos::makePahoLink(a);
  REQUIRE_OK(anchor->connect());
  REQUIRE_OK(anchor->publish(message("pharos/v1/nodes/n2/desired", "for-n2", true)));
  REQUIRE_OK(anchor->publish(message("pharos/v1/nodes/n1/desired", "for-n1", true)));
  REQUIRE_OK(anchor->publish(message("pharos/v1/nodes/n1/secrets", "secrets-n1", true)));
  CHECK(rec.waitMessage("pharos/v1/nodes/n1/desired", "for-n1"));
  CHECK(rec.waitMessage("pharos/v1/nodes/n1/secrets", "secrets-n1"));  // restored too
  CHECK_FALSE(rec.find("pharos/v1/nodes/n2/desired").has_value());

  // An agent logging in with another node's client id is refused.
  MqttOptions impostor = o;
  impostor.client_id = "n2";
  impostor.auto_reconnect = false;
  auto status = pharos::makePahoLink(impostor)->connect();
  CHECK_MESSAGE(status.code() == Code::kPermissionDenied, status.toString());
}

TEST_CASE("paho link presents its client certificate to a broker that requires one") {
  MosquittoProcess certs;  // only for its temporary directory
  std::string dir = certs.dir().string();
  makeCerts(dir);
  int tls_port = freePort();
  MosquittoProcess broker("allow_anonymous true\nlistener " + std::to_string(tls_port) +
                          " 127.0.0.1\ncafile " + dir + "/ca.crt\ncertfile " + dir +
                          "/server.crt\nkeyfile " + dir +
                          "/server.key\nrequire_certificate true\nlog_type all\n");
  broker.start();
  REQUIRE(waitFor([&] { return portOpen(tls_port); }));

  MqttOptions o = options(broker, "mtls");
  o.url = "ssl://127.0.0.1:" + std::to_string(tls_port);
  o.auto_reconnect = false;
  pharos::TlsOptions tls;
  tls.ca_file = dir + "/ca.crt";
  o.tls = tls;
  auto anonymous = pharos::makePahoLink(o);
  auto status = anonymous->connect();
  CHECK_MESSAGE(status.code() == Code::kUnavailable, status.toString());
  anonymous.reset();

  tls.cert_file = dir + "/client.crt";
  tls.key_file = dir + "/client.key";
  o.tls = tls;
  o.client_id = "mtls-2";
  auto with_cert = pharos::makePahoLink(o);
  auto connected = with_cert->connect();
  REQUIRE_MESSAGE(connected.isOk(), connected.toString() << "\nbroker log:\n" << broker.readLog());
  REQUIRE_OK(with_cert->publish(message("t/mtls", "ok")));
}
