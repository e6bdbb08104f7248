// Unit tests of the wire message codecs (messages.h): round trips, and one test per failure
// class checking that the error names the field.
#include "pharos/messages.h"

#include <doctest/doctest.h>

#include <string>

namespace pharos {
namespace {

NodeState sampleState() {
  NodeState s;
  s.applied = {{"node", "e1", 4}, {"group:line-1", "e1", 9}, {"secrets", "e1", 2}};
  AppState a;
  a.name = "web";
  a.revision = 3;
  a.phase = AppPhase::kRunning;
  a.message = "";
  a.services = {
      {"api", "c0ffee", ContainerState::kRunning, "healthy", 1, 0, "nginx:1.25", "sha256:ab"},
      {"init", "", ContainerState::kExited, "", 0, 0, "busybox", "sha256:cd"}};
  s.apps = {a};
  s.ts = 1700000000000;
  return s;
}

DesiredDoc sampleDesired() {
  DesiredDoc d;
  d.epoch = "3f9a";
  d.generation = 12;
  d.labels = {{"site", "lyon"}};
  d.groups = {"line-1", "all"};
  AppSpec app;
  app.name = "web";
  app.revision = 2;
  app.compose = "services:\n  api:\n    image: nginx\n";
  app.variables = {{"PORT", "8080"}};
  d.apps = {app};
  return d;
}

// Encodes, dumps, decodes from text; the result must equal the input.
template <typename T, typename Decode>
void roundTrip(const T& value, Decode decode) {
  std::string text = dumpJson(encode(value));
  auto back = decode(text);
  REQUIRE_MESSAGE(back.isOk(), back.status().toString());
  CHECK(*back == value);
}

// Decodes `text` and expects `code` with a message starting with `field`.
template <typename Decode>
void refused(Decode decode, const std::string& text, const std::string& field,
             Code code = Code::kInvalidArgument) {
  auto r = decode(text);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == code);
  CHECK_MESSAGE(r.status().message().rfind(field, 0) == 0, r.status().message());
}

}  // namespace

TEST_CASE("every message survives an encode/decode round trip") {
  roundTrip(NodeStatus{Readiness::kReady, 1700000000123, "", 1700000000124},
            [](const std::string& t) { return decodeNodeStatus(t); });
  NodeInfo info{"0.1.0",
                "edge-1",
                "Debian 12",
                "x86_64",
                "6.1",
                "24.0",
                "1.43",
                4,
                8LL << 30,
                64LL << 30,
                {"10.0.0.5"},
                "tcp://127.0.0.1:1883",
                {{"site", "a"}},
                std::string(43, 'A') + "=",
                5};
  roundTrip(info, [](const std::string& t) { return decodeNodeInfo(t); });
  roundTrip(sampleState(), [](const std::string& t) { return decodeNodeState(t); });
  roundTrip(NodeEvent{"container_died", "web", "api", "oom", "exit 137", 9},
            [](const std::string& t) { return decodeNodeEvent(t); });
  roundTrip(NodeEvent{"state_file", "", "", "", "written", 9},
            [](const std::string& t) { return decodeNodeEvent(t); });
  NodeMetrics m{12.5, 100, 200, 300, 400, 0.5, 0.25, 0.125, {{"web", "api", "c1", 3.5, 77}}, 11};
  roundTrip(m, [](const std::string& t) { return decodeNodeMetrics(t); });
  roundTrip(NodeHeartbeat{1700000000123, 2, 1700000001130},
            [](const std::string& t) { return decodeNodeHeartbeat(t); });
  roundTrip(NodeHealth{Readiness::kUnreachable, 5, "bridge down", 7},
            [](const std::string& t) { return decodeNodeHealth(t); });
  roundTrip(sampleDesired(), [](const std::string& t) { return decodeDesired(t); });
  SecretsDoc sec{"n1", "e1", 3, {{"DB_PASSWORD", "hunter2"}}, {{"registry.local:5000", "u", "p"}}};
  roundTrip(sec, [](const std::string& t) { return decodeSecretsContent(t); });
  roundTrip(SealedSecretsDoc{"e1", 3, "0123456789abcdef", std::string(64, 'A'), ""},
            [](const std::string& t) { return decodeSealedSecrets(t); });
  RolloutSummary ro{"web",
                    "group",
                    "line-1",
                    4,
                    3,
                    0,
                    1,
                    1,
                    1,
                    0,
                    {{"n1", "running", ""}, {"n2", "applied", ""}, {"n3", "failed", "pull"}},
                    false,
                    8};
  roundTrip(ro, [](const std::string& t) { return decodeRolloutSummary(t); });
  roundTrip(AnchorStatus{"online", 4}, [](const std::string& t) { return decodeAnchorStatus(t); });
}

TEST_CASE("a group document round trips without labels or groups") {
  DesiredDoc d = sampleDesired();
  d.labels.clear();
  d.groups.clear();
  Json j = encodeGroupDesired(d);
  CHECK_FALSE(j.contains("labels"));
  CHECK_FALSE(j.contains("groups"));
  auto back = decodeGroupDesired(j);
  REQUIRE(back.isOk());
  CHECK(*back == d);
}

TEST_CASE("a group document that carries labels or groups is refused") {
  Json j = encode(sampleDesired());
  auto r = decodeGroupDesired(j);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().rfind("labels:", 0) == 0);
  j.erase("labels");
  r = decodeGroupDesired(j);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().rfind("groups:", 0) == 0);
}

TEST_CASE("decoders accept all four payload forms") {
  const char* text = R"({"v":1,"state":"online","ts":1})";
  CHECK(decodeAnchorStatus(text).isOk());
  CHECK(decodeAnchorStatus(std::string(text)).isOk());
  CHECK(decodeAnchorStatus(std::string_view(text)).isOk());
  CHECK(decodeAnchorStatus(Json::parse(text)).isOk());
}

TEST_CASE("unknown fields are ignored") {
  auto r = decodeNodeStatus(R"({"v":1,"state":"Ready","session":1,"ts":2,"future":{"x":1}})");
  REQUIRE(r.isOk());
  CHECK(r->state == Readiness::kReady);
  CHECK(r->reason.empty());
}

TEST_CASE("a missing or other version is refused") {
  auto dec = [](const std::string& t) { return decodeAnchorStatus(t); };
  refused(dec, R"({"state":"online","ts":1})", "v:");
  refused(dec, R"({"v":2,"state":"online","ts":1})", "v:");
  refused(dec, R"({"v":"1","state":"online","ts":1})", "v:");
}

TEST_CASE("a payload that is not a JSON object is refused") {
  auto dec = [](const std::string& t) { return decodeNodeStatus(t); };
  refused(dec, "[1,2]", "payload:");
  refused(dec, "{", "not valid JSON");
  refused(dec, "", "not valid JSON");
}

TEST_CASE("errors name the field path") {
  SUBCASE("wrong type deep in the state document") {
    Json j = encode(sampleState());
    j["apps"][0]["services"][1]["restart_count"] = "three";
    auto r = decodeNodeState(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message() == "apps[0].services[1].restart_count: must be an integer");
  }
  SUBCASE("wrong type of a compose text") {
    Json j = encode(sampleDesired());
    j["apps"][0]["compose"] = 5;
    auto r = decodeDesired(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message() == "apps[0].compose: must be a string");
  }
  SUBCASE("missing required field") {
    Json j = encode(sampleState());
    j["apps"][0].erase("phase");
    auto r = decodeNodeState(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message() == "apps[0].phase: is required");
  }
  SUBCASE("unknown enum value") {
    Json j = encode(sampleState());
    j["apps"][0]["phase"] = "Exploded";
    auto r = decodeNodeState(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("apps[0].phase: must be one of Pending", 0) == 0);
  }
  SUBCASE("bad identifier") {
    Json j = encode(sampleDesired());
    j["apps"][0]["name"] = "Web.App";
    auto r = decodeDesired(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("apps[0].name: app name must match", 0) == 0);
  }
  SUBCASE("bad group name in a doc ref") {
    Json j = encode(sampleState());
    j["applied"][1]["source"] = "group:Line 1";
    auto r = decodeNodeState(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("applied[1].source:", 0) == 0);
  }
  SUBCASE("bad variable name") {
    Json j = encode(sampleDesired());
    j["apps"][0]["variables"]["1BAD"] = "x";
    auto r = decodeDesired(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("apps[0].variables.1BAD:", 0) == 0);
  }
  SUBCASE("non-string variable value") {
    Json j = encode(sampleDesired());
    j["apps"][0]["variables"]["PORT"] = 8080;
    auto r = decodeDesired(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message() == "apps[0].variables.PORT: must be a string");
  }
  SUBCASE("metrics number of the wrong type") {
    Json j = encode(NodeMetrics{});
    j["containers"] =
        Json::array({{{"app", "web"}, {"service", "a"}, {"cpu_percent", "hi"}, {"mem_bytes", 1}}});
    auto r = decodeNodeMetrics(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message() == "containers[0].cpu_percent: must be a number");
  }
  SUBCASE("secrets registry host") {
    Json j = encode(SecretsDoc{"n1", "e", 1, {}, {{"bad host/x", "u", "p"}}});
    auto r = decodeSecretsContent(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("registries[0].host:", 0) == 0);
  }
  SUBCASE("rollout node status") {
    Json j = encode(RolloutSummary{
        "web", "node", "n1", 1, 1, 0, 0, 0, 0, 0, {{"n1", "exploded", ""}}, false, 1});
    auto r = decodeRolloutSummary(j);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("nodes[0].status: must be one of", 0) == 0);
  }
}

TEST_CASE("range and format checks") {
  auto status = [](const std::string& t) { return decodeNodeStatus(t); };
  refused(status, R"({"v":1,"state":"Ready","session":-1,"ts":1})", "session:");
  refused(status, R"({"v":1,"state":"Ready","session":1.5,"ts":1})", "session:");
  refused(status, R"({"v":1,"state":"ready","session":1,"ts":1})", "state:");
  auto event = [](const std::string& t) { return decodeNodeEvent(t); };
  refused(event, R"({"v":1,"kind":"Container Died","ts":1})", "kind:");
  refused(event, R"({"v":1,"kind":")" + std::string(65, 'a') + R"(","ts":1})", "kind:");
  refused(event, R"({"v":1,"kind":"x","app":"a.b","ts":1})", "app:");
  auto desired = [](const std::string& t) { return decodeDesired(t); };
  refused(desired, R"({"v":1,"epoch":"","generation":1,"apps":[]})", "epoch:");
  refused(desired, R"({"v":1,"epoch":"e","generation":1,"apps":[{"name":"a","revision":0,
          "compose":"x"}]})",
          "apps[0].revision:");
  refused(desired, R"({"v":1,"epoch":"e","generation":1,"apps":[
          {"name":"a","revision":1,"compose":"x"},{"name":"a","revision":1,"compose":"y"}]})",
          "apps[1].name: duplicate");
  refused(desired, R"({"v":1,"epoch":"e","generation":1,"groups":["g","g"],"apps":[]})",
          "groups[1]:");
  auto metrics = [](const std::string& t) { return decodeNodeMetrics(t); };
  refused(metrics, R"({"v":1,"cpu_percent":1,"mem_used":1,"mem_total":1,"disk_used":1,
          "disk_total":1,"load1":1,"load5":1,"ts":1})",
          "load15:");
}

TEST_CASE("a tombstone may omit its compose text") {
  auto r = decodeDesired(
      R"({"v":1,"epoch":"e","generation":2,"apps":[{"name":"web","revision":3,"state":"removed",
      "volumes":"delete"}]})");
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  CHECK(r->apps[0].state == DesiredState::kRemoved);
  CHECK(r->apps[0].volumes == VolumePolicy::kDelete);
  CHECK(r->apps[0].compose.empty());
  auto running =
      decodeDesired(R"({"v":1,"epoch":"e","generation":2,"apps":[{"name":"web","revision":3}]})");
  REQUIRE_FALSE(running.isOk());
  CHECK(running.status().message() == "apps[0].compose: is required");
}

TEST_CASE("size limits: 1 MiB for messages, 4 MiB for documents, 512 KiB per compose") {
  std::string big_reason(kMaxPayloadBytes, 'x');
  std::string status =
      R"({"v":1,"state":"Ready","session":1,"ts":1,"reason":")" + big_reason + "\"}";
  auto r = decodeNodeStatus(status);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == Code::kTooLarge);

  DesiredDoc d = sampleDesired();
  d.apps[0].compose = std::string(kMaxComposeBytes, '#');
  auto ok = decodeDesired(dumpJson(encode(d)));  // 512 KiB fits in a 4 MiB document
  CHECK_MESSAGE(ok.isOk(), ok.status().toString());
  d.apps[0].compose += "#";
  auto big = decodeDesired(dumpJson(encode(d)));
  REQUIRE_FALSE(big.isOk());
  CHECK(big.status().code() == Code::kTooLarge);
  CHECK(big.status().message().rfind("apps[0].compose:", 0) == 0);

  std::string huge(kMaxDocumentBytes + 1, ' ');
  auto too_big = decodeNodeState(huge);
  REQUIRE_FALSE(too_big.isOk());
  CHECK(too_big.status().code() == Code::kTooLarge);
}

TEST_CASE("a deeply nested payload is refused without recursion") {
  std::string bomb(100000, '[');
  auto r = decodeNodeState(bomb);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == Code::kInvalidArgument);
}

}  // namespace pharos

namespace pharos {

TEST_CASE("integers beyond int64, as floats or unsigned, are refused rather than converted") {
  for (const char* ts :
       {"1e300", "-1e300", "9.3e18", "18446744073709551615", "9223372036854775808"}) {
    auto r = decodeAnchorStatus(std::string(R"({"v":1,"state":"online","ts":)") + ts + "}");
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("ts:", 0) == 0);
  }
  auto ok = decodeAnchorStatus(R"({"v":1,"state":"online","ts":9223372036854775807})");
  REQUIRE(ok.isOk());
  CHECK(ok->ts == INT64_MAX);
  auto whole_float = decodeAnchorStatus(R"({"v":1,"state":"online","ts":5.0})");
  REQUIRE(whole_float.isOk());
  CHECK(whole_float->ts == 5);
}

}  // namespace pharos
