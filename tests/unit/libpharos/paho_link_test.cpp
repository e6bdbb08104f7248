// The Paho link against a real Mosquitto (/usr/sbin/mosquitto, a declared dependency: the
// tests fail, not skip, when it is missing). Each test starts its own broker on a free
// loopback port with a temporary config, and stops it at the end. Covers connect, retained
// messages, MQTT 5 request/response properties, the will of a killed process, reconnect
// with subscriptions restored after a broker restart, and the connect errors.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pharos/mqtt_link.h"

namespace fs = std::filesystem;

#define REQUIRE_OK(expr)                                 \
  do {                                                   \
    ::pharos::Status status_ = (expr);                   \
    REQUIRE_MESSAGE(status_.isOk(), status_.toString()); \
  } while (0)
using namespace std::chrono_literals;
using pharos::Code;
using pharos::MqttLink;
using pharos::MqttMessage;
using pharos::MqttOptions;

namespace {

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kWillChildEnv = "PHAROS_PAHO_WILL_CHILD_PORT";

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool portOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A mosquitto process on a free loopback port with a temporary directory.
class MosquittoProcess {
 public:
  explicit MosquittoProcess(std::string extra_config = "allow_anonymous true\n")
      : extra_config_(std::move(extra_config)), port_(freePort()) {
    char tmpl[] = "/tmp/pharos-paho-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
  }
  ~MosquittoProcess() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  MosquittoProcess(const MosquittoProcess&) = delete;
  MosquittoProcess& operator=(const MosquittoProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const fs::path& dir() const { return dir_; }

  void start() {
    REQUIRE_MESSAGE(fs::exists(kMosquitto), kMosquitto << " is missing: install mosquitto");
    fs::path conf = dir_ / "mosquitto.conf";
    {
      std::ofstream out(conf);
      out << "per_listener_settings false\n"
          << "listener " << port_ << " 127.0.0.1\n"
          << "persistence false\n"
          << "log_dest stderr\n"
          << "log_type error\nlog_type warning\nlog_type notice\n"
          << (::geteuid() == 0 ? "user root\n" : "") << extra_config_;
    }
    fs::path log = dir_ / "mosquitto.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // The broker dies with the test process even when a crash skips the destructor.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    bool up = waitFor([&] { return portOpen(port_) || exited(); }, 10s) && !exited();
    REQUIRE_MESSAGE(up, "mosquitto did not start; log: " << readLog());
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string readLog() const {
    std::ifstream in(dir_ / "mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  bool exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }

  std::string extra_config_;
  int port_;
  fs::path dir_;
  pid_t pid_ = -1;
};

// Thread-safe record of what a link's callbacks saw.
class Recorder {
 public:
  void attach(MqttLink& link) {
    link.onMessage([this](const MqttMessage& m) {
      std::lock_guard lock(mu_);
      messages_.push_back(m);
    });
    link.onConnection([this](bool up) {
      std::lock_guard lock(mu_);
      connections_.push_back(up);
    });
  }
  std::vector<MqttMessage> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<bool> connections() const {
    std::lock_guard lock(mu_);
    return connections_;
  }
  bool waitMessage(const std::string& topic, const std::string& payload,
                   std::chrono::milliseconds timeout = 5s) const {
    return waitFor(
        [&] {
          for (const auto& m : messages()) {
            if (m.topic == topic && m.payload == payload) return true;
          }
          return false;
        },
        timeout);
  }
  std::optional<MqttMessage> find(const std::string& topic) const {
    for (const auto& m : messages()) {
      if (m.topic == topic) return m;
    }
    return std::nullopt;
  }

 private:
  mutable std::mutex mu_;
  std::vector<MqttMessage> messages_;
  std::vector<bool> connections_;
};

MqttOptions options(const MosquittoProcess& broker, std::string client_id) {
  MqttOptions o;
  o.url = broker.url();
  o.client_id = std::move(client_id);
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  o.connect_timeout = 3000ms;
  return o;
}

MqttMessage message(std::string topic, std::string payload, bool retained = false) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.retained = retained;
  return m;
}

}  // namespace

TEST_CASE("paho link publishes and receives retained messages through mosquitto") {
  MosquittoProcess broker;
  broker.start();
  auto pub = pharos::makePahoLink(options(broker, "pub"));
  Recorder pub_rec;
  pub_rec.attach(*pub);
  REQUIRE_OK(pub->connect());
  CHECK(pub->connected());
  CHECK(waitFor([&] { return pub_rec.connections() == std::vector<bool>{true}; }));
  REQUIRE_OK(pub->publish(message("pharos/v1/nodes/n1/status", "{\"v\":1}", true)));

  auto sub = pharos::makePahoLink(options(broker, "sub"));
  Recorder rec;
  rec.attach(*sub);
  REQUIRE_OK(sub->connect());
  REQUIRE_OK(sub->subscribe("pharos/v1/nodes/+/status", 1));
  REQUIRE(rec.waitMessage("pharos/v1/nodes/n1/status", "{\"v\":1}"));
  CHECK(rec.find("pharos/v1/nodes/n1/status")->retained);

  // A live publish arrives with retained = false; an empty retained payload deletes.
  REQUIRE_OK(pub->publish(message("pharos/v1/nodes/n2/status", "live")));
  REQUIRE(rec.waitMessage("pharos/v1/nodes/n2/status", "live"));
  CHECK_FALSE(rec.find("pharos/v1/nodes/n2/status")->retained);
  REQUIRE_OK(pub->publish(message("pharos/v1/nodes/n1/status", "", true)));
  REQUIRE(rec.waitMessage("pharos/v1/nodes/n1/status", ""));
  auto late = pharos::makePahoLink(options(broker, "late"));
  Recorder late_rec;
  late_rec.attach(*late);
  REQUIRE_OK(late->connect());
  REQUIRE_OK(late->subscribe("pharos/v1/nodes/#", 1));
  REQUIRE_OK(pub->publish(message("pharos/v1/nodes/n3/status", "marker")));
  REQUIRE(late_rec.waitMessage("pharos/v1/nodes/n3/status", "marker"));
  CHECK_FALSE(late_rec.find("pharos/v1/nodes/n1/status").has_value());

  CHECK(pub->publish(message("bad/+/topic", "x")).code() == Code::kInvalidArgument);
  pub->disconnect();
  CHECK_FALSE(pub->connected());
  CHECK(pub->publish(message("a", "b")).code() == Code::kUnavailable);
}

TEST_CASE("paho link carries MQTT 5 response topic and correlation data both ways") {
  MosquittoProcess broker;
  broker.start();
  auto anchor = pharos::makePahoLink(options(broker, "anchor"));
  MqttLink* anchor_ptr = anchor.get();
  anchor->onMessage([anchor_ptr](const MqttMessage& request) {
    MqttMessage reply = message(request.response_topic, "reply:" + request.payload);
    reply.correlation_data = request.correlation_data;
    (void)anchor_ptr->publish(reply);
  });
  REQUIRE_OK(anchor->connect());
  REQUIRE_OK(anchor->subscribe("pharos/v1/api/+/+", 1));

  auto cli = pharos::makePahoLink(options(broker, "cli-ops"));
  Recorder rec;
  rec.attach(*cli);
  REQUIRE_OK(cli->connect());
  REQUIRE_OK(cli->subscribe("pharos/v1/replies/ops/#", 1));
  MqttMessage request = message("pharos/v1/api/ops/node.list", "{}");
  request.response_topic = "pharos/v1/replies/ops/r-42";
  request.correlation_data = std::string("\x00\x01corr\xff", 7);
  REQUIRE_OK(cli->publish(request));
  REQUIRE(rec.waitMessage("pharos/v1/replies/ops/r-42", "reply:{}"));
  auto reply = rec.find("pharos/v1/replies/ops/r-42");
  CHECK(reply->correlation_data == std::string("\x00\x01corr\xff", 7));
  CHECK(reply->response_topic.empty());
}

// Runs only in the child process the will test starts (--no-skip): connects with a will,
// announces itself, and waits to be killed.
TEST_CASE("paho link will child process" * doctest::skip()) {
  const char* port = std::getenv(kWillChildEnv);
  REQUIRE(port != nullptr);
  MqttOptions o;
  o.url = std::string("tcp://127.0.0.1:") + port;
  o.client_id = "will-child";
  o.will = message("pharos/v1/nodes/child/status", "NotReady");
  auto link = pharos::makePahoLink(o);
  REQUIRE_OK(link->connect());
  REQUIRE_OK(link->publish(message("pharos/v1/nodes/child/status", "Ready", true)));
  std::this_thread::sleep_for(30s);
}

TEST_CASE("paho link will is published retained when the client process is killed") {
  MosquittoProcess broker;
  broker.start();
  auto watcher = pharos::makePahoLink(options(broker, "watcher"));
  Recorder rec;
  rec.attach(*watcher);
  REQUIRE_OK(watcher->connect());
  REQUIRE_OK(watcher->subscribe("pharos/v1/nodes/child/status", 1));

  // Everything exec needs is built before fork (the parent has Paho threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kWillChildEnv) + "=" + std::to_string(broker.port()));
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execle("/proc/self/exe", "paho_will_child", "--test-case=paho link will child process",
             "--no-skip=true", static_cast<char*>(nullptr), envp.data());
    ::_exit(127);
  }
  bool ready = rec.waitMessage("pharos/v1/nodes/child/status", "Ready", 10s);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(ready);
  REQUIRE(rec.waitMessage("pharos/v1/nodes/child/status", "NotReady", 5s));

  // Retained: a new subscriber sees the will.
  auto late = pharos::makePahoLink(options(broker, "late"));
  Recorder late_rec;
  late_rec.attach(*late);
  REQUIRE_OK(late->connect());
  REQUIRE_OK(late->subscribe("pharos/v1/nodes/child/status", 1));
  REQUIRE(late_rec.waitMessage("pharos/v1/nodes/child/status", "NotReady"));
  CHECK(late_rec.find("pharos/v1/nodes/child/status")->retained);
}

TEST_CASE("paho link reconnects after a broker restart and restores its subscriptions") {
  MosquittoProcess broker;
  broker.start();
  auto agent = pharos::makePahoLink(options(broker, "n1"));
  Recorder rec;
  rec.attach(*agent);
  REQUIRE_OK(agent->connect());
  REQUIRE_OK(agent->subscribe("pharos/v1/nodes/n1/desired", 1));

  broker.stop();
  REQUIRE(waitFor([&] { return !agent->connected(); }));
  REQUIRE(waitFor([&] { return rec.connections() == std::vector<bool>{true, false}; }));
  CHECK(agent->publish(message("pharos/v1/nodes/n1/state", "x")).code() == Code::kUnavailable);
  std::this_thread::sleep_for(500ms);  // a few failed reconnects with backoff
  broker.start();
  REQUIRE(waitFor([&] { return agent->connected(); }, 10s));
  REQUIRE(waitFor([&] { return rec.connections() == std::vector<bool>{true, false, true}; }));

  auto anchor = pharos::makePahoLink(options(broker, "anchor"));
  REQUIRE_OK(anchor->connect());
  REQUIRE_OK(anchor->publish(message("pharos/v1/nodes/n1/desired", "g2", true)));
  CHECK(rec.waitMessage("pharos/v1/nodes/n1/desired", "g2"));
}

TEST_CASE("paho link connect to a closed port fails fast with unavailable") {
  MqttOptions o;
  o.url = "tcp://127.0.0.1:" + std::to_string(freePort());
  o.client_id = "nobody";
  o.auto_reconnect = false;
  auto link = pharos::makePahoLink(o);
  auto start = std::chrono::steady_clock::now();
  auto status = link->connect();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(status.code() == Code::kUnavailable);
  CHECK(status.message().find("cannot reach the MQTT broker at " + o.url) != std::string::npos);
  CHECK(took < 3s);
  CHECK_FALSE(link->connected());
}

TEST_CASE("paho link refuses an unknown URL scheme") {
  MqttOptions o;
  o.url = "http://127.0.0.1:1883";
  auto link = pharos::makePahoLink(o);
  CHECK(link->connect().code() == Code::kInvalidArgument);
}

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
  std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string cmd =
      "cd " + dir + " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext" +
      " && openssl req -x509" + ec + " -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca" +
      " && openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1" +
      " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial" +
      " -out server.crt -days 2 -extfile san.ext && chmod 0644 server.key >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system((cmd + " 2>/dev/null").c_str()) == 0, "openssl failed");
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

TEST_CASE("paho link gives up a connect that is never answered and closes without waiting") {
  // A listening socket nobody accepts: TCP connects, CONNACK never comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  MqttOptions o;
  o.url = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.client_id = "silent";
  o.connect_timeout = 1000ms;
  o.auto_reconnect = false;
  auto start = std::chrono::steady_clock::now();
  auto status = pharos::makePahoLink(o)->connect();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(status.code() == Code::kUnavailable, status.toString());
  CHECK(took >= 900ms);
  CHECK(took < 4s);

  // With auto_reconnect the background thread retries at once; destroying the link while
  // that attempt waits for its CONNACK must not wait out the 3 s connect timeout.
  o.auto_reconnect = true;
  o.connect_timeout = 3000ms;
  auto retrying = pharos::makePahoLink(o);
  CHECK(retrying->connect().code() == Code::kUnavailable);
  std::this_thread::sleep_for(200ms);
  auto close_start = std::chrono::steady_clock::now();
  retrying.reset();
  CHECK(std::chrono::steady_clock::now() - close_start < 1500ms);
  ::close(fd);
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
  CHECK(rec.waitMessage("pharos/v1/nodes/n1/desired", "for-n1"));
  CHECK_FALSE(rec.find("pharos/v1/nodes/n2/desired").has_value());

  // An agent logging in with another node's client id is refused.
  MqttOptions impostor = o;
  impostor.client_id = "n2";
  impostor.auto_reconnect = false;
  auto status = pharos::makePahoLink(impostor)->connect();
  CHECK_MESSAGE(status.code() == Code::kPermissionDenied, status.toString());
}
