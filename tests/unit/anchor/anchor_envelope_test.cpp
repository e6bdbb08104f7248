// The API envelope and hostile requests: MQTT 5 and 3.1.1 reply paths, reply topics outside
// replies/{user}/ (no answer), malformed JSON, wrong types, oversized bodies, unknown
// operations, viewers limited to read operations, and a failing store (disk full) leaving
// nothing half-written.
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

TEST_CASE("an MQTT 5 request is answered on its response topic with its correlation data") {
  AnchorFixture f;
  MqttMessage m = message(topics::apiRequest("ops", "group.list"), R"({"v":1})");
  m.response_topic = topics::replies("ops", "abc/def");
  m.correlation_data = std::string("\x01\x02", 2);
  REQUIRE(f.ops().publish(m).isOk());
  f.pump();
  REQUIRE(f.replies().size() == 1);
  CHECK(f.replies()[0].topic == topics::replies("ops", "abc/def"));
  CHECK(f.replies()[0].correlation_data == std::string("\x01\x02", 2));
  CHECK(f.replies()[0].retained == false);
}

TEST_CASE("an MQTT 3.1.1 request gets replyTo and its correlation echoed in the body") {
  AnchorFixture f;
  Json body{{"v", 1},
            {"name", "g1"},
            {"replyTo", topics::replies("ops", "x")},
            {"correlation", {{"id", 7}, {"s", "t"}}}};
  REQUIRE(
      f.ops().publish(message(topics::apiRequest("ops", "group.create"), dumpJson(body))).isOk());
  f.pump();
  REQUIRE(f.replies().size() == 1);
  CHECK(f.replies()[0].topic == topics::replies("ops", "x"));
  auto reply = parseJson(f.replies()[0].payload);
  REQUIRE(reply.isOk());
  CHECK((*reply)["ok"] == true);
  CHECK((*reply)["correlation"] == Json{{"id", 7}, {"s", "t"}});
  CHECK(f.anchor().registry().findGroup("g1"));
}

TEST_CASE("a reply topic outside replies/{user}/ gets no answer and the request is not run") {
  AnchorFixture f;
  for (std::string reply_to : {std::string("pharos/v1/nodes/n1/desired"),
                               std::string("pharos/v1/nodes/n1/cmd-replies/ops/x"),
                               std::string("elsewhere"), topics::replies("ops", "#")}) {
    f.replies().clear();
    MqttMessage m = message(topics::apiRequest("ops", "group.create"),
                            dumpJson(Json{{"v", 1}, {"name", "g1"}}));
    m.response_topic = reply_to;
    REQUIRE(f.ops().publish(m).isOk());
    f.pump();
    CHECK(f.replies().empty());
  }
  // Same through the 3.1.1 body.
  Json body{{"v", 1}, {"name", "g1"}, {"replyTo", "pharos/v1/nodes/n1/desired"}};
  REQUIRE(
      f.ops().publish(message(topics::apiRequest("ops", "group.create"), dumpJson(body))).isOk());
  f.pump();
  CHECK(f.replies().empty());
  CHECK_FALSE(f.anchor().registry().findGroup("g1"));
  CHECK_FALSE(f.broker().retained("pharos/v1/nodes/n1/desired"));
}

TEST_CASE("a reply topic under another user's replies is refused on the caller's own") {
  AnchorFixture f;
  MqttMessage m =
      message(topics::apiRequest("ops", "group.create"), dumpJson(Json{{"v", 1}, {"name", "g1"}}));
  m.response_topic = topics::replies("viewer", "x");
  m.correlation_data = "c-other";
  REQUIRE(f.ops().publish(m).isOk());
  f.pump();
  REQUIRE(f.replies().size() == 1);
  CHECK(f.replies()[0].topic == topics::replies("ops", "x"));
  CHECK(f.replies()[0].correlation_data == "c-other");
  Json body = Json::parse(f.replies()[0].payload);
  CHECK(body["error"]["code"] == "permission_denied");
  CHECK_FALSE(f.anchor().registry().findGroup("g1"));
}

TEST_CASE("a malformed operation name is answered invalid_argument") {
  AnchorFixture f;
  for (std::string op : {std::string("NODE.LIST"), std::string(200, 'n') + ".list",
                         std::string("n\xc3\xb6") + "de.list"}) {
    CAPTURE(op);
    f.replies().clear();
    MqttMessage m = message(std::string(topics::kRoot) + "/api/ops/" + op, R"({"v":1})");
    m.response_topic = topics::replies("ops", "bad");
    REQUIRE(f.ops().publish(m).isOk());
    f.pump();
    REQUIRE(f.replies().size() == 1);
    CHECK(Json::parse(f.replies()[0].payload)["error"]["code"] == "invalid_argument");
  }
}

TEST_CASE("request-field errors name their path") {
  AnchorFixture f;
  Json r = f.request("node.get", Json{{"name", 3}});
  CHECK(r["error"]["code"] == "invalid_argument");
  CHECK(r["error"]["path"] == "name");
}

TEST_CASE("malformed requests get invalid_argument and change nothing") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  size_t writes = f.store().writes();
  auto docs = f.anchor().registry().docStates();
  for (const char* payload :
       {"", "{", "[1,2]", "\"x\"", "{\"v\":2}", "{\"name\":\"g\"}", "{\"v\":1,\"name\":5}",
        "{\"v\":1,\"name\":null}", "{\"v\":1,\"name\":\"g\",\"parent\":[]}",
        "{\"v\":1,\"name\":\"../x\"}"}) {
    Json r = f.requestRaw("group.create", payload);
    INFO(payload << " -> " << r.dump());
    REQUIRE(r.is_object());
    CHECK(r["ok"] == false);
    CHECK(r["error"]["code"] == "invalid_argument");
  }
  CHECK(f.errorCode("app.deploy", {{"name", "web"}, {"target", {{"node", 1}}}, {"compose", "x"}}) ==
        "invalid_argument");
  CHECK(f.errorCode("app.deploy", {{"name", "web"},
                                   {"target", {{"node", "n1"}, {"group", "g"}}},
                                   {"compose", kCompose}}) == "invalid_argument");
  CHECK(f.errorCode("node.label", {{"name", "n1"}, {"set", {{"a", 1}}}}) == "invalid_argument");
  CHECK(f.errorCode("group.add", {{"group", "g"}, {"nodes", "n1"}}) == "invalid_argument");
  // Deep nesting is refused before it is built.
  std::string deep = "{\"v\":1,\"x\":" + std::string(500, '[') + std::string(500, ']') + "}";
  CHECK(f.requestRaw("group.list", deep)["error"]["code"] == "invalid_argument");
  CHECK(f.store().writes() == writes);
  CHECK(f.anchor().registry().docStates() == docs);
  CHECK(f.anchor().registry().groups().empty());
}

TEST_CASE("a 2 MB request is answered too_large on both reply paths") {
  AnchorFixture f;
  std::string big(2 << 20, 'a');
  Json body{{"v", 1}, {"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", big}};
  Json r = f.request("app.deploy", body);
  CHECK(r["error"]["code"] == "too_large");
  // MQTT 3.1.1: replyTo inside the oversized body still gets the answer.
  body["replyTo"] = topics::replies("ops", "big");
  body["correlation"] = 42;
  f.replies().clear();
  REQUIRE(f.ops().publish(message(topics::apiRequest("ops", "app.deploy"), dumpJson(body))).isOk());
  f.pump();
  REQUIRE(f.replies().size() == 1);
  auto reply = parseJson(f.replies()[0].payload);
  CHECK((*reply)["error"]["code"] == "too_large");
  CHECK((*reply)["correlation"] == 42);
  // A compose text above 512 KiB inside a 1 MiB request is too_large as well.
  f.nodeOnline("n1", 1000);
  CHECK(f.errorCode("app.deploy", {{"name", "web"},
                                   {"target", {{"node", "n1"}}},
                                   {"compose", std::string(600 << 10, '#')}}) == "too_large");
  CHECK(f.anchor().registry().apps().empty());
}

TEST_CASE("an unknown operation is invalid_argument") {
  AnchorFixture f;
  CHECK(f.errorCode("node.explode", Json::object()) == "invalid_argument");
}

TEST_CASE("a viewer known to the broker may only call read operations") {
  AnchorFixture f;
  CHECK(f.errorCode("group.create", {{"name", "g"}}, "viewer") == "permission_denied");
  CHECK(f.errorCode("app.deploy", {{"name", "x"}}, "viewer") == "permission_denied");
  CHECK_FALSE(f.anchor().registry().findGroup("g"));
  CHECK(f.request("group.list", Json::object(), "viewer")["ok"] == true);
  // Lookups are cached.
  size_t lookups = f.admin().lookups.size();
  CHECK(f.errorCode("group.create", {{"name", "g"}}, "viewer") == "permission_denied");
  CHECK(f.admin().lookups.size() == lookups);
  f.ok("group.create", {{"name", "g"}});
  // When the broker cannot say, changes are refused (unavailable), reads still work.
  f.admin().fail_lookup = Status::unavailable("broker did not answer");
  f.advance(std::chrono::milliseconds(31'000));
  CHECK(f.errorCode("group.create", {{"name", "h"}}) == "unavailable");
  CHECK(f.request("group.list", Json::object())["ok"] == true);
}

TEST_CASE("configured viewers may only call read operations") {
  AnchorOptions config;
  config.viewers = {"viewer"};
  config.check_broker_roles = false;
  AnchorFixture f(config);
  CHECK(f.errorCode("group.create", {{"name", "g"}}, "viewer") == "permission_denied");
  CHECK_FALSE(f.anchor().registry().findGroup("g"));
  Json r = f.request("group.list", Json::object(), "viewer");
  CHECK(r["ok"] == true);
  CHECK(f.request("events.query", Json::object(), "viewer")["ok"] == true);
}

TEST_CASE("a failing store write (disk full) answers an error and leaves nothing half-written") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1"}}});
  f.ok("app.deploy", {{"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", kCompose}});
  auto docs = f.anchor().registry().docStates();
  auto apps = f.anchor().registry().apps();
  auto groups = f.anchor().registry().groups();
  auto nodes = f.anchor().registry().nodes();
  size_t keys = f.store().keyCount();
  f.broker().clearLog();
  f.store().failWrites(Status::unavailable("store write: IO error: No space left on device"));
  CHECK(f.errorCode("app.deploy",
                    {{"name", "web"}, {"target", {{"node", "n2"}}}, {"compose", kCompose2}}) ==
        "unavailable");
  CHECK(f.errorCode("app.deploy",
                    {{"name", "db"}, {"target", {{"group", "g"}}}, {"compose", kCompose}}) ==
        "unavailable");
  CHECK(f.errorCode("group.add", {{"group", "g"}, {"nodes", {"n2"}}}) == "unavailable");
  CHECK(f.errorCode("group.delete", {{"name", "g"}}) == "unavailable");
  CHECK(f.errorCode("node.label", {{"name", "n1"}, {"set", {{"a", "b"}}}}) == "unavailable");
  CHECK(f.errorCode("app.remove", {{"name", "web"}}) == "unavailable");
  CHECK(f.errorCode("app.stop", {{"name", "web"}}) == "unavailable");
  CHECK(f.errorCode("group.create", {{"name", "h"}}) == "unavailable");
  CHECK(f.anchor().registry().docStates() == docs);
  CHECK(f.anchor().registry().apps() == apps);
  CHECK(f.anchor().registry().groups() == groups);
  CHECK(f.anchor().registry().nodes() == nodes);
  CHECK(f.store().keyCount() == keys);
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kDesired)).empty());
  CHECK(f.broker().published(topics::allGroupsDesired()).empty());
  // The same change succeeds once the disk has room; the generation grows by exactly one.
  f.store().failWrites(std::nullopt);
  int64_t gen = docs.at("node/n1").generation;
  f.ok("node.label", {{"name", "n1"}, {"set", {{"a", "b"}}}});
  CHECK((*f.nodeDoc("n1"))["generation"] == gen + 1);
}
