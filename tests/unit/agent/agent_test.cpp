// Agent core over FakeBroker + FakeDockerClient + ManualClock/ManualExecutor: registration,
// session rule and will, documents (generation rule, union and conflicts, group
// subscriptions, bad and deleted documents), offline boot from the state file, engine
// reachability in the status, clean shutdown, and cmd/logs answered on the response topic.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "agent_rig.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

namespace pharos::agent {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared rig
using std::chrono::milliseconds;

TEST_CASE("an agent registers: info, status Ready with a session, its subscriptions") {
  Rig rig;
  rig.boot();
  NodeStatus st = rig.status();
  CHECK(st.state == Readiness::kReady);
  CHECK(st.session >= rig.clock.nowMs() - 1000);
  CHECK(rig.broker.retained(topics::node(kNode, topics::NodeTopic::kInfo)).has_value());
  CHECK(rig.subscribed(topics::node(kNode, topics::NodeTopic::kDesired)));
  CHECK(rig.subscribed(topics::node(kNode, topics::NodeTopic::kSecrets)));
  CHECK(rig.subscribed(topics::nodeCmd(kNode, "#")));
  CHECK(rig.subscribed(topics::anchorStatus()));
  auto info =
      decodeNodeInfo(rig.broker.retained(topics::node(kNode, topics::NodeTopic::kInfo))->payload);
  REQUIRE(info.isOk());
  CHECK(info->labels.at("line") == "a");
}

TEST_CASE("the session grows across restarts even when the clock is behind") {
  Rig rig;
  PersistedState ahead;
  ahead.last_session = rig.clock.nowMs() + 10'000'000;  // a previous boot with a later clock
  REQUIRE(rig.state_file.save(ahead).isOk());
  rig.boot();
  CHECK(rig.status().session == ahead.last_session + 1);
  rig.shutdown();
  rig.boot();
  CHECK(rig.status().session == ahead.last_session + 2);
  CHECK(rig.state_file.load()->last_session == ahead.last_session + 2);
}

TEST_CASE("every connection takes a new persisted session, and its will carries it") {
  Rig rig;
  PersistedState ahead;
  ahead.last_session = rig.clock.nowMs() + 10'000'000;  // a previous boot with a later clock
  REQUIRE(rig.state_file.save(ahead).isOk());
  rig.boot();
  CHECK(rig.status().session == ahead.last_session + 1);
  // The broker restarts: the reconnection is a new session although the clock is behind.
  rig.broker.restart();
  rig.pump();
  CHECK(rig.status().state == Readiness::kReady);
  CHECK(rig.status().session == ahead.last_session + 2);
  CHECK(rig.agent->session() == ahead.last_session + 2);
  CHECK(rig.state_file.load()->last_session == ahead.last_session + 2);
  // Cut off and back: the clock caught up, so the session is the clock's.
  rig.clock.advance(milliseconds(20'000'000));
  rig.broker.setOnline(kClient, false);
  rig.pump();
  rig.broker.setOnline(kClient, true);
  rig.pump();
  int64_t third = rig.status().session;
  CHECK(third == rig.clock.nowMs());
  CHECK(rig.state_file.load()->last_session == third);
  // Killed: the will is the one of that last connection.
  rig.broker.kill(kClient);
  rig.pump();
  CHECK(rig.status().state == Readiness::kNotReady);
  CHECK(rig.status().reason == "connection lost");
  CHECK(rig.status().session == third);
}

TEST_CASE("a session is persisted before its connection, with the documents kept") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  REQUIRE(rig.state_file.load()->node_desired.has_value());
  int64_t first = rig.status().session;
  rig.broker.restart();
  rig.pump();
  auto saved = rig.state_file.load();
  REQUIRE(saved.isOk());
  CHECK(saved->last_session > first);
  CHECK(saved->last_session == rig.status().session);
  CHECK(saved->node_desired.has_value());
}

TEST_CASE("a killed agent's will says NotReady with its session; a clean stop too") {
  Rig rig;
  rig.boot();
  int64_t session = rig.status().session;
  rig.broker.kill(kClient);
  rig.pump();
  CHECK(rig.status().state == Readiness::kNotReady);
  CHECK(rig.status().session == session);

  Rig clean;
  clean.boot();
  clean.shutdown();
  CHECK(clean.status().state == Readiness::kNotReady);
  CHECK(clean.status().reason == "agent stopped");
  CHECK_FALSE(clean.broker.isConnected(kClient));
}

TEST_CASE("a desired document is applied and reported in the retained state") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  CHECK(rig.running("web"));
  Json st = rig.state();
  REQUIRE(st["apps"].size() == 1);
  CHECK(st["apps"][0]["name"] == "web");
  CHECK(st["apps"][0]["phase"] == "Running");
  CHECK(st["apps"][0]["services"][0]["state"] == "running");
  CHECK(st["applied"][0]["source"] == "node");
  CHECK(st["applied"][0]["generation"] == 1);
  CHECK(rig.hasEvent("app_applied"));
}

TEST_CASE("generation rule: an older generation is ignored, a new epoch applies") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(2, {app("a")}));
  rig.publishNode(nodeDoc(1, {app("b")}));
  CHECK(rig.running("a"));
  CHECK_FALSE(rig.running("b"));
  rig.publishNode(nodeDoc(2, {app("b")}));  // same generation: ignored
  CHECK(rig.running("a"));
  rig.publishNode(nodeDoc(1, {app("b")}, {}, "restored-epoch"));
  CHECK(rig.running("b"));
  CHECK_FALSE(rig.running("a"));
}

TEST_CASE("group documents: union, conflicts, subscriptions follow the node document") {
  Rig rig;
  rig.boot();
  rig.publishGroup("g2", nodeDoc(1, {app("x", "redis"), app("only2")}));
  rig.publishGroup("g1", nodeDoc(1, {app("x", "nginx")}));
  rig.publishNode(nodeDoc(1, {}, {"g2", "g1"}));
  CHECK(rig.subscribed(topics::groupDesired("g1")));
  CHECK(rig.subscribed(topics::groupDesired("g2")));
  CHECK(rig.running("only2"));
  auto x = rig.docker.containers().inspectContainer("x_main_1");
  REQUIRE(x.isOk());
  CHECK(x->image == "nginx");  // g1 < g2
  CHECK(rig.hasEvent("conflict"));

  // The node document names x itself: it wins.
  rig.publishNode(nodeDoc(2, {app("x", "busybox")}, {"g2", "g1"}));
  CHECK(rig.docker.containers().inspectContainer("x_main_1")->image == "busybox");

  // g2 leaves the list: unsubscribed and its apps dropped.
  rig.publishNode(nodeDoc(3, {app("x", "busybox")}, {"g1"}));
  CHECK_FALSE(rig.subscribed(topics::groupDesired("g2")));
  CHECK_FALSE(rig.docker.containers().inspectContainer("only2_main_1").isOk());
}

TEST_CASE("a moved app stays while the document of its new group is on its way") {
  Rig rig;
  rig.boot();
  rig.publishGroup("g1", nodeDoc(1, {app("web")}));
  rig.publishNode(nodeDoc(1, {app("own")}, {"g1"}));
  REQUIRE(rig.running("web"));
  auto id_of = [&](const std::string& name) {
    auto c = rig.docker.containers().inspectContainer(name);
    return c.isOk() ? c->id : std::string("(none)");
  };
  std::string id = id_of("web_main_1");

  // Back from a partition: the node now lists g2 too, g1 holds web's tombstone (web moved to
  // g2), and g2's document has not arrived yet. Nothing may be removed meanwhile.
  rig.publishNode(nodeDoc(2, {}, {"g1", "g2"}));
  AppSpec tombstone = app("web", "busybox", 2);
  tombstone.state = DesiredState::kRemoved;
  rig.publishGroup("g1", nodeDoc(2, {tombstone}));
  CHECK(rig.subscribed(topics::groupDesired("g2")));
  CHECK(id_of("web_main_1") == id);
  CHECK(rig.running("own"));  // dropped from the node document, but not removed yet

  // g2 arrives with web: the same container runs on; only now is "own" removed.
  rig.publishGroup("g2", nodeDoc(1, {app("web")}));
  CHECK(id_of("web_main_1") == id);
  CHECK_FALSE(rig.docker.containers().inspectContainer("own_main_1").isOk());
}

TEST_CASE("a listed group whose document never comes holds removals only for a grace time") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("old")}));
  REQUIRE(rig.running("old"));
  rig.publishNode(nodeDoc(2, {app("new")}, {"silent"}));
  CHECK(rig.running("new"));  // what is desired is applied at once
  CHECK(rig.running("old"));
  rig.advance(milliseconds(10'500));
  CHECK_FALSE(rig.docker.containers().inspectContainer("old_main_1").isOk());
}

TEST_CASE("a deleted group document drops that group's apps") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("mine")}, {"g1"}));
  rig.publishGroup("g1", nodeDoc(1, {app("shared")}));
  CHECK(rig.running("shared"));
  rig.publish(topics::groupDesired("g1"), "");
  CHECK_FALSE(rig.docker.containers().inspectContainer("shared_main_1").isOk());
  CHECK(rig.running("mine"));
}

TEST_CASE("a bad document is refused with an event, shown in state, nothing changes") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  rig.docker.resetCounters();
  rig.publish(topics::node(kNode, topics::NodeTopic::kDesired), "{not json");
  rig.publish(topics::node(kNode, topics::NodeTopic::kDesired),
              R"({"v":1,"epoch":"ep1","generation":5,"apps":[{"name":"Bad Name"}]})");
  CHECK(rig.hasEvent("bad_document"));
  CHECK(rig.state().contains("bad_documents"));
  CHECK(rig.docker.mutatingCalls() == 0);
  CHECK(rig.running("web"));
  // A good document clears it.
  rig.publishNode(nodeDoc(2, {app("web")}));
  CHECK_FALSE(rig.state().contains("bad_documents"));
}

TEST_CASE("a deleted node document freezes the agent until a new one arrives") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}, {"g1"}));
  rig.publishGroup("g1", nodeDoc(1, {app("shared")}));
  rig.docker.resetCounters();
  rig.publish(topics::node(kNode, topics::NodeTopic::kDesired), "");
  rig.publish(topics::groupDesired("g1"), "");
  rig.advance(milliseconds(60'000));
  CHECK(rig.docker.mutatingCalls() == 0);
  CHECK(rig.running("web"));
  CHECK(rig.running("shared"));
  CHECK(rig.state()["frozen"] == true);
  rig.publishNode(nodeDoc(2, {app("web")}));
  CHECK_FALSE(rig.docker.containers().inspectContainer("shared_main_1").isOk());
  CHECK(rig.running("web"));
}

TEST_CASE("with the broker down, apps from the state file run at boot") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  rig.shutdown();
  REQUIRE(rig.docker.containers()
              .removeBehindBack(rig.docker.containers().inspectContainer("web_main_1")->id)
              .isOk());
  rig.broker.setUp(false);
  rig.boot();
  CHECK(rig.running("web"));
  CHECK_FALSE(rig.broker.isConnected(kClient));
  rig.broker.setUp(true);
  rig.pump();
  rig.advance(milliseconds(300));
  CHECK(rig.status().state == Readiness::kReady);
  // The re-created container is in the app_applied event of this boot, buffered while
  // offline and sent on connect (the first boot sent one too).
  auto events = rig.events();
  CHECK(std::count_if(events.begin(), events.end(), [](const NodeEvent& e) {
          return e.kind == "app_applied" && e.message.find("service main") != std::string::npos;
        }) == 2);
}

TEST_CASE("a corrupt state file is reported and the agent recovers from the broker") {
  Rig rig;
  std::ofstream(rig.dir.path + "/state.json") << "{\"v\":1,\"node_desi";
  rig.docker.addLocalImage("busybox:latest");
  Json keep = {{"Image", "busybox"},
               {"Labels", {{"io.pharos.node", kNode}, {"io.pharos.app", "old"}}}};
  REQUIRE(rig.docker.containers().createContainer("old_main_1", keep).isOk());
  rig.boot();
  CHECK(rig.hasEvent("state_file"));
  CHECK(rig.docker.containers()
            .inspectContainer("old_main_1")
            .isOk());  // nothing removed while empty
  rig.publishNode(nodeDoc(1, {app("web")}));
  CHECK(rig.running("web"));
  CHECK(rig.state_file.load().isOk());
}

TEST_CASE("an unreachable engine makes the status NotReady with the reason") {
  Rig rig;
  rig.docker.setEngineUp(false);
  rig.boot();
  CHECK(rig.status().state == Readiness::kNotReady);
  CHECK(rig.status().reason.find("engine") != std::string::npos);
  rig.docker.setEngineUp(true);
  rig.pump();
  CHECK(rig.status().state == Readiness::kReady);
}

TEST_CASE("secrets are interpolated into compose files") {
  Rig rig;
  rig.boot();
  SecretsDoc s;
  s.epoch = "ep1";
  s.generation = 1;
  s.variables = {{"DB_PASSWORD", "hunter2"}};
  rig.publishSecrets(s);
  AppSpec a = app("web");
  a.compose =
      "services:\n  main:\n    image: busybox\n    environment:\n"
      "      PW: ${DB_PASSWORD}\n      NODE: ${PHAROS_NODE_ID}\n";
  rig.publishNode(nodeDoc(1, {a}));
  auto c = rig.docker.containers().inspectContainer("web_main_1");
  REQUIRE(c.isOk());
  std::string env = c->raw["Config"]["Env"].dump();
  CHECK(env.find("PW=hunter2") != std::string::npos);
  CHECK(env.find("NODE=edge-1") != std::string::npos);
}

TEST_CASE("cmd/logs is answered on the response topic inside the node's own subtree") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  rig.docker.containers().appendLogs(rig.docker.containers().inspectContainer("web_main_1")->id,
                                     "hello\nworld\n");
  MqttMessage req{topics::nodeCmd(kNode, "logs", "alice"),
                  R"({"v":1,"app":"web","service":"main","tail":10})",
                  1,
                  false,
                  topics::nodeCmdReplies(kNode, "alice", "r1"),
                  "corr-1"};
  rig.broker.publish(req);
  rig.pump();
  auto replies = rig.broker.published(topics::nodeCmdReplies(kNode, "alice", "r1"));
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].message.correlation_data == "corr-1");
  Json body = Json::parse(replies[0].message.payload);
  CHECK(body["ok"] == true);
  CHECK(body["result"]["logs"].get<std::string>().find("world") != std::string::npos);

  MqttMessage bad{topics::nodeCmd(kNode, "inspect", "alice"),
                  R"({"v":1,"app":"nope"})",
                  1,
                  false,
                  topics::nodeCmdReplies(kNode, "alice", "r2"),
                  ""};
  rig.broker.publish(bad);
  rig.pump();
  auto r2 = rig.broker.published(topics::nodeCmdReplies(kNode, "alice", "r2"));
  REQUIRE(r2.size() == 1);
  CHECK(Json::parse(r2[0].message.payload)["ok"] == false);
}

TEST_CASE("cmd answers never leave the node's subtree; retained requests are not run") {
  Rig rig;
  // Planted before the agent subscribes: the broker hands it over as retained.
  MqttMessage planted{topics::nodeCmd(kNode, "inspect", "alice"),
                      R"({"v":1,"app":"web"})",
                      1,
                      true,
                      topics::nodeCmdReplies(kNode, "alice", "planted"),
                      ""};
  rig.broker.publish(planted);
  rig.boot();
  rig.pump();
  CHECK(rig.broker.published(topics::nodeCmdReplies(kNode, "alice", "planted")).empty());
  for (const std::string& reply_to :
       {topics::replies("alice", "r1"), topics::nodeCmdReplies("other-node", "alice", "r1"),
        topics::nodeCmd(kNode, "logs")}) {
    CAPTURE(reply_to);
    MqttMessage req{topics::nodeCmd(kNode, "inspect", "alice"),
                    R"({"v":1,"app":"web"})",
                    1,
                    false,
                    reply_to,
                    ""};
    rig.broker.publish(req);
    rig.pump();
    CHECK(rig.broker.published(reply_to).empty());
  }
  CHECK(rig.broker.published(topics::allNodeCmdReplies("+", "+")).empty());
}

TEST_CASE("cmd answers go only to the requester named by the request topic") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  // The requester (topic level, bound to the login by the broker) names another user's
  // cmd-replies: refused, and told so on the same suffix under its own.
  MqttMessage other{topics::nodeCmd(kNode, "inspect", "mallory"),
                    R"({"v":1,"app":"web"})",
                    1,
                    false,
                    topics::nodeCmdReplies(kNode, "alice", "x"),
                    "c1"};
  rig.broker.publish(other);
  rig.pump();
  CHECK(rig.broker.published(topics::allNodeCmdReplies(kNode, "alice")).empty());
  auto told = rig.broker.published(topics::nodeCmdReplies(kNode, "mallory", "x"));
  REQUIRE(told.size() == 1);
  CHECK(told[0].message.correlation_data == "c1");
  Json body = Json::parse(told[0].message.payload);
  CHECK(body["ok"] == false);
  CHECK(body["error"]["code"] == "permission_denied");
  // The same through the MQTT 3.1.1 body field.
  MqttMessage body_field{
      topics::nodeCmd(kNode, "inspect", "mallory"),
      R"({"v":1,"app":"web","replyTo":"pharos/v1/nodes/edge-1/cmd-replies/alice/y"})",
      1,
      false,
      "",
      ""};
  rig.broker.publish(body_field);
  rig.pump();
  CHECK(rig.broker.published(topics::allNodeCmdReplies(kNode, "alice")).empty());
  CHECK(rig.broker.published(topics::nodeCmdReplies(kNode, "mallory", "y")).size() == 1);
  // A request without the user level names nobody: no answer anywhere.
  MqttMessage bare{topics::nodeCmd(kNode, "inspect"),
                   R"({"v":1,"app":"web"})",
                   1,
                   false,
                   topics::nodeCmdReplies(kNode, "alice", "z"),
                   ""};
  rig.broker.publish(bare);
  rig.pump();
  CHECK(rig.broker.published(topics::allNodeCmdReplies(kNode, "+")).size() == 2);
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

TEST_CASE("metrics are published every interval with per-container numbers") {
  Rig rig;
  rig.options.metrics_interval = milliseconds(15'000);
  rig.options.timer_jitter = 0;  // exactly every 15 s (the next case covers the jitter)
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web")}));
  ContainerStats stats;
  stats.cpu_percent = 12.5;
  stats.memory_usage = 4096;
  rig.docker.containers().setStats(rig.docker.containers().inspectContainer("web_main_1")->id,
                                   stats);
  rig.advance(milliseconds(15'000));
  auto published = rig.broker.published(topics::node(kNode, topics::NodeTopic::kMetrics));
  REQUIRE(published.size() == 1);
  CHECK(published[0].message.qos == 0);
  CHECK_FALSE(published[0].message.retained);
  auto m = decodeNodeMetrics(published[0].message.payload);
  REQUIRE(m.isOk());
  REQUIRE(m->containers.size() == 1);
  CHECK(m->containers[0].app == "web");
  CHECK(m->containers[0].service == "main");
  CHECK(m->containers[0].mem_bytes == 4096);
  CHECK(m->containers[0].cpu_percent == doctest::Approx(12.5));
  rig.advance(milliseconds(15'000));
  CHECK(rig.broker.published(topics::node(kNode, topics::NodeTopic::kMetrics)).size() == 2);
}

TEST_CASE("the periodic timers are jittered: agents started together drift apart") {
  // Two agents booted in the same instant with the same 10 s metrics interval: each period
  // is drawn within 10 s +/- 20 %, so their publishes do not stay in step.
  std::vector<std::vector<int64_t>> at(2);
  for (int k = 0; k < 2; ++k) {
    Rig rig;
    rig.options.metrics_interval = milliseconds(10'000);
    rig.options.seed = 100 + k;
    rig.boot();
    rig.publishNode(nodeDoc(1, {app("web")}));
    auto topic = topics::node(kNode, topics::NodeTopic::kMetrics);
    size_t seen = rig.broker.published(topic).size();
    for (int step = 0; step < 1200; ++step) {  // 120 s in 100 ms steps
      rig.advance(milliseconds(100));
      size_t now = rig.broker.published(topic).size();
      if (now > seen) at[k].push_back(rig.clock.nowMs());
      seen = now;
    }
  }
  for (const auto& times : at) {
    REQUIRE(times.size() >= 9);   // 120 s / 12 s at the longest
    REQUIRE(times.size() <= 16);  // 120 s / 8 s at the shortest, plus the step
    std::set<int64_t> gaps;
    for (size_t i = 1; i < times.size(); ++i) {
      int64_t gap = times[i] - times[i - 1];
      CHECK(gap >= 7'900);
      CHECK(gap <= 12'100);
      gaps.insert(gap / 100);
    }
    CHECK(gaps.size() >= 3);  // not one fixed period
  }
  // The two agents' last publishes are apart (same instant without the jitter).
  CHECK(at[0] != at[1]);
}

TEST_CASE("cmd/inspect redacts secret values from the environment") {
  Rig rig;
  rig.boot();
  SecretsDoc s;
  s.epoch = "ep1";
  s.generation = 1;
  s.variables = {{"TOKEN", "t0ps3cret"}};
  rig.publishSecrets(s);
  AppSpec a = app("web");
  a.compose =
      "services:\n  main:\n    image: busybox\n    environment: {T: '${TOKEN}', X: plain}\n";
  rig.publishNode(nodeDoc(1, {a}));
  MqttMessage req{
      topics::nodeCmd(kNode, "inspect", "bob"),
      R"({"v":1,"app":"web","replyTo":"pharos/v1/nodes/edge-1/cmd-replies/bob/x","correlation":7})",
      1,
      false,
      "",
      ""};
  rig.broker.publish(req);
  rig.pump();
  auto replies = rig.broker.published("pharos/v1/nodes/edge-1/cmd-replies/bob/x");
  REQUIRE(replies.size() == 1);
  std::string payload = replies[0].message.payload;
  CHECK(payload.find("t0ps3cret") == std::string::npos);
  CHECK(payload.find("X=plain") != std::string::npos);
  Json body = Json::parse(payload);
  CHECK(body["ok"] == true);
  CHECK(body["correlation"] == 7);
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

TEST_CASE("a daemon restart is survived: NotReady while it is down, then a full reconcile") {
  Rig rig;
  rig.boot();
  AppSpec a = app("web");
  a.compose =
      "services:\n  main: {image: busybox, restart: always}\n  once: {image: busybox}\n"
      "  off: {image: busybox, restart: \"no\"}\n";
  rig.publishNode(nodeDoc(1, {a}));
  REQUIRE(rig.running("web"));
  rig.docker.setEngineUp(false);
  rig.pump();
  CHECK(rig.status().state == Readiness::kNotReady);
  CHECK(rig.hasEvent("engine_unreachable"));
  rig.docker.setEngineUp(true);
  rig.docker.restartDaemon();
  rig.pump();
  rig.advance(milliseconds(1000));
  CHECK(rig.status().state == Readiness::kReady);
  CHECK(rig.hasEvent("engine_reconnected"));
  CHECK(rig.running("web"));
  auto once = rig.docker.containers().inspectContainer("web_once_1");
  REQUIRE(once.isOk());
  CHECK(once->running);
  // restart: "no" is about the app exiting by itself: stopped by the engine's restart, the
  // agent starts it again and says why.
  auto off = rig.docker.containers().inspectContainer("web_off_1");
  REQUIRE(off.isOk());
  CHECK(off->running);
  auto ev = rig.events();
  CHECK(std::any_of(ev.begin(), ev.end(), [](const NodeEvent& e) {
    return e.kind == "container_restarted" && e.service == "off" &&
           e.reason.find("container engine's restart") != std::string::npos;
  }));
  CHECK(rig.state()["apps"][0]["phase"] == "Running");
  // Later, exiting by itself, it is left exited as its policy says.
  rig.advance(milliseconds(10'000));
  REQUIRE(rig.docker.containers().crashContainer(off->id, 1).isOk());
  rig.advance(milliseconds(5'000));
  off = rig.docker.containers().inspectContainer("web_off_1");
  REQUIRE(off.isOk());
  CHECK_FALSE(off->running);
}

}  // namespace
}  // namespace pharos::agent
