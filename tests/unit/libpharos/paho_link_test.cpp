// The Paho link against a real Mosquitto: each test starts its own broker on a free loopback
// port (mosquitto_process.h). Covers connect, retained messages, MQTT 5 request/response
// properties, the will of a killed process, reconnect with subscriptions restored after a
// broker restart, and connect failures (closed port, unanswered connect, bad URL).
#include "mosquitto_process.h"

using namespace pharos_test;  // NOLINT(google-build-using-namespace): test helpers

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

  // Several subscriptions in one request: every filter's retained messages arrive (topics
  // outside the "late" link's filter: its recorder goes before it).
  REQUIRE_OK(pub->publish(message("pharos/v1/groups/g1/desired", "g1", true)));
  REQUIRE_OK(pub->publish(message("pharos/v1/apps/a1/rollout", "a1", true)));
  Recorder many_rec;
  auto many = pharos::makePahoLink(options(broker, "many"));
  many_rec.attach(*many);
  REQUIRE_OK(many->connect());
  auto statuses =
      many->subscribeMany({{"pharos/v1/groups/+/desired", 1}, {"pharos/v1/apps/+/rollout", 0}});
  REQUIRE(statuses.size() == 2);
  CHECK(statuses[0].isOk());
  CHECK(statuses[1].isOk());
  CHECK(many_rec.waitMessage("pharos/v1/groups/g1/desired", "g1"));
  CHECK(many_rec.waitMessage("pharos/v1/apps/a1/rollout", "a1"));

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

TEST_CASE("paho link gives up a connect that is never answered and closes without waiting") {
  SilentListener silent;
  MqttOptions o;
  o.url = silent.url();
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
}

TEST_CASE("paho link gets its session back after another connection with its id leaves") {
  MosquittoProcess broker;
  broker.start();
  MqttOptions o = options(broker, "dup");
  auto first = pharos::makePahoLink(o);
  Recorder rec;
  rec.attach(*first);
  REQUIRE_OK(first->connect());
  auto second = pharos::makePahoLink(o);
  REQUIRE_OK(second->connect());  // the broker hands the session to the newest connection
  REQUIRE(waitFor([&] { return rec.connections().size() >= 2; }));
  CHECK(rec.connections()[1] == false);
  second.reset();
  CHECK(waitFor([&] { return first->connected(); }, 10s));
}

TEST_CASE("paho link connects over plain WebSocket") {
  int ws_port = freePort();
  MosquittoProcess broker("allow_anonymous true\nlistener " + std::to_string(ws_port) +
                          " 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n");
  broker.start();
  REQUIRE(waitFor([&] { return portOpen(ws_port); }));
  MqttOptions o = options(broker, "ws-client");
  o.url = "ws://127.0.0.1:" + std::to_string(ws_port);
  auto link = pharos::makePahoLink(o);
  Recorder rec;
  rec.attach(*link);
  REQUIRE_OK(link->connect());
  REQUIRE_OK(link->subscribe("ws/#", 1));
  REQUIRE_OK(link->publish(message("ws/echo", "over websocket")));
  CHECK(rec.waitMessage("ws/echo", "over websocket"));
}

TEST_CASE("paho link accepts a burst of publishes far beyond Paho's default queue of 100") {
  // broker-config/mosquitto.conf's in-flight window; with Mosquitto's default of 20 Paho
  // drains a burst at a few dozen messages per second.
  MosquittoProcess broker(
      "allow_anonymous true\nmax_queued_messages 100000\nmax_inflight_messages 1000\n");
  broker.start();
  auto sub = pharos::makePahoLink(options(broker, "sub"));
  Recorder rec;
  rec.attach(*sub);
  REQUIRE_OK(sub->connect());
  REQUIRE_OK(sub->subscribe("pharos/v1/nodes/+/health", 1));
  auto pub = pharos::makePahoLink(options(broker, "anchor"));
  REQUIRE_OK(pub->connect());
  constexpr int kBurst = 5000;  // the anchor's health burst after a registration storm
  int refused = 0;
  for (int i = 0; i < kBurst; ++i) {
    std::string topic = "pharos/v1/nodes/n" + std::to_string(i) + "/health";
    if (!pub->publish(message(topic, "{\"v\":1}", true)).isOk()) ++refused;
  }
  CHECK(refused == 0);
  bool all = waitFor([&] { return rec.messages().size() == kBurst; }, 30s);
  INFO("received " << rec.messages().size() << " of " << kBurst);
  CHECK(all);
}
