// Unit tests of staged rollouts in libpharos: the `staged` codec of desired documents
// (messages.h, version 2) and wave membership (rollout_wave.h).
#include "pharos/rollout_wave.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace pharos {
namespace {

AppSpec stagedApp(std::vector<std::string> nodes, int64_t cutoff, bool with_previous = true) {
  AppSpec app;
  app.name = "vision";
  app.revision = 4;
  app.compose = "services:\n  camera:\n    image: camera:1.5\n";
  app.variables = {{"TAG", "1.5"}};
  StagedApp s;
  s.nodes = std::move(nodes);
  s.cutoff = cutoff;
  if (with_previous) {
    s.previous = AppRevisionSpec{3,
                                 "services:\n  camera:\n    image: camera:1.4\n",
                                 DesiredState::kRunning,
                                 {{"TAG", "1.4"}},
                                 2};
  }
  app.staged = s;
  return app;
}

DesiredDoc groupDoc(AppSpec app) {
  DesiredDoc d;
  d.epoch = "e1";
  d.generation = 7;
  d.apps = {std::move(app)};
  return d;
}

std::vector<WaveMember> members(int n, const std::string& subgroup = "") {
  std::vector<WaveMember> out;
  for (int i = 0; i < n; ++i) out.push_back({subgroup + "node-" + std::to_string(i), subgroup});
  return out;
}

TEST_CASE("a staged document is version 2 and round trips") {
  DesiredDoc d = groupDoc(stagedApp({"press-07"}, kRolloutPositions / 10));
  Json j = encodeGroupDesired(d);
  CHECK(j["v"] == kStagedDocVersion);
  auto back = decodeGroupDesired(dumpJson(j));
  REQUIRE(back.isOk());
  CHECK(*back == d);
  DesiredDoc plain = d;
  plain.apps[0].staged.reset();
  CHECK(encodeGroupDesired(plain)["v"] == 1);
}

TEST_CASE("a node document carries a staged first deployment") {
  DesiredDoc d = groupDoc(stagedApp({}, kRolloutPositions, false));
  d.groups = {"line-3"};
  auto back = decodeDesired(dumpJson(encode(d)));
  REQUIRE(back.isOk());
  CHECK(*back == d);
}

TEST_CASE("staged documents that must be refused, each naming the field") {
  struct Case {
    const char* doc;
    const char* field;
  };
  const Case cases[] = {
      // staged in a version 1 document: what an older anchor never writes
      {R"({"v":1,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"nodes":["n1"]}}]})",
       "apps[0].staged"},
      // a tombstone is never staged
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"state":"removed",
          "staged":{"nodes":["n1"]}}]})",
       "apps[0].staged"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"nodes":["Bad Node"]}}]})",
       "apps[0].staged.nodes[0]"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"cutoff":4294967297}}]})",
       "apps[0].staged.cutoff"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"cutoff":-1}}]})",
       "apps[0].staged.cutoff"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"previous":{"revision":3}}}]})",
       "apps[0].staged.previous.compose"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":3,"compose":"x",
          "staged":{"previous":{"revision":3,"compose":"y"}}}]})",
       "apps[0].staged.previous.revision"},
      {R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":4,"compose":"x",
          "staged":{"previous":{"revision":3,"compose":"y","state":"removed"}}}]})",
       "apps[0].staged.previous.state"},
      {R"({"v":3,"epoch":"e","generation":1,"apps":[]})", "v"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.doc);
    auto r = decodeGroupDesired(std::string(c.doc));
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().find(c.field) != std::string::npos);
  }
}

TEST_CASE("a version 2 document without staged apps decodes like version 1") {
  auto r = decodeGroupDesired(
      std::string(R"({"v":2,"epoch":"e","generation":1,"apps":[{"name":"a","revision":1,
                  "compose":"x"}]})"));
  REQUIRE(r.isOk());
  CHECK_FALSE(r->apps[0].staged);
}

TEST_CASE("the rollout position is the documented function (reference values)") {
  // Computed independently from docs/protocol.md's definition (tests/integration/
  // test_agent_staged.py has the same function in Python).
  CHECK(rolloutPosition("vision", "press-07") == 4226041717);
  CHECK(rolloutPosition("web", "edge-1") == 2961315627);
  CHECK(rolloutPosition("a", "bc") == 2402072460);
}

TEST_CASE("the rollout position depends on app and node only, and is spread") {
  CHECK(rolloutPosition("vision", "press-07") == rolloutPosition("vision", "press-07"));
  CHECK(rolloutPosition("vision", "press-07") != rolloutPosition("vision", "press-08"));
  CHECK(rolloutPosition("vision", "press-07") != rolloutPosition("camera", "press-07"));
  // "a/bc" and "ab/c" are different pairs
  CHECK(rolloutPosition("a", "bc") != rolloutPosition("ab", "c"));
  int below_half = 0;
  for (int i = 0; i < 1000; ++i) {
    int64_t p = rolloutPosition("vision", "node-" + std::to_string(i));
    CHECK(p >= 0);
    CHECK(p < kRolloutPositions);
    if (p < kRolloutPositions / 2) ++below_half;
  }
  CHECK(below_half > 430);
  CHECK(below_half < 570);
}

TEST_CASE("named nodes and nodes below the cutoff take the new revision") {
  AppSpec app = stagedApp({"press-07"}, 0);
  CHECK(inWave(app, "press-07"));
  CHECK_FALSE(inWave(app, "press-08"));
  app.staged->cutoff = kRolloutPositions;
  CHECK(inWave(app, "press-08"));
  app.staged->cutoff = rolloutPosition("vision", "press-08");
  CHECK_FALSE(inWave(app, "press-08"));  // strictly below
  app.staged->cutoff += 1;
  CHECK(inWave(app, "press-08"));
  app.staged.reset();
  CHECK(inWave(app, "anything"));
}

TEST_CASE("a node outside the wave runs the previous revision, a node inside the new one") {
  AppSpec app = stagedApp({"press-07"}, 0);
  auto in = specForNode(app, "press-07");
  REQUIRE(in);
  CHECK(in->revision == 4);
  CHECK_FALSE(in->staged);
  CHECK(in->variables.at("TAG") == "1.5");
  auto out = specForNode(app, "press-08");
  REQUIRE(out);
  CHECK(out->name == "vision");
  CHECK(out->revision == 3);
  CHECK(out->compose.find("camera:1.4") != std::string::npos);
  CHECK(out->variables.at("TAG") == "1.4");
  CHECK(out->restart == 2);
  CHECK_FALSE(out->staged);
}

TEST_CASE("outside the wave of a staged first deployment a node does not run the app") {
  DesiredDoc d = groupDoc(stagedApp({"press-07"}, 0, false));
  AppSpec other;
  other.name = "logger";
  other.revision = 1;
  other.compose = "services: {}\n";
  d.apps.push_back(other);
  DesiredDoc for_07 = docForNode(d, "press-07");
  REQUIRE(for_07.apps.size() == 2);
  CHECK(for_07.apps[0].revision == 4);
  DesiredDoc for_08 = docForNode(d, "press-08");
  REQUIRE(for_08.apps.size() == 1);
  CHECK(for_08.apps[0].name == "logger");
  CHECK(for_08.generation == d.generation);
}

TEST_CASE("cutoffs of shares") {
  CHECK(cutoffForShare(0) == 0);
  CHECK(cutoffForShare(kWholeShare) == kRolloutPositions);
  CHECK(cutoffForShare(5000) == kRolloutPositions / 2);
  CHECK(cutoffForShare(-5) == 0);
  CHECK(cutoffForShare(20000) == kRolloutPositions);
}

TEST_CASE("a wave takes its share of every sub-group, at least one node each") {
  std::vector<WaveMember> all = members(3, "line-1/");
  for (const WaveMember& m : members(40, "line-2/")) all.push_back(m);
  AppSpec app = stagedApp({}, 0);
  app.staged = planWave("vision", {}, 1000, all);  // 10 %
  std::vector<std::string> in = waveNodes(app, all);
  int line1 = 0, line2 = 0;
  for (const std::string& n : in) (n.rfind("line-1/", 0) == 0 ? line1 : line2)++;
  CHECK(line1 >= 1);
  CHECK(line2 >= 4);
  // Every listed node is one the cutoff alone does not cover.
  for (const std::string& n : app.staged->nodes) {
    CHECK(rolloutPosition("vision", n) >= app.staged->cutoff);
  }
}

TEST_CASE("waves grow monotonically and the same nodes go first for every revision") {
  std::vector<WaveMember> all = members(10, "a");
  for (const WaveMember& m : members(25, "b")) all.push_back(m);
  for (const WaveMember& m : members(7, "")) all.push_back(m);
  AppSpec app = stagedApp({}, 0);
  std::set<std::string> before;
  for (int share : {0, 100, 1000, 2500, 5000, 9000, 10000}) {
    app.staged = planWave("vision", {"bnode-3"}, share, all);
    std::vector<std::string> now = waveNodes(app, all);
    std::set<std::string> now_set(now.begin(), now.end());
    for (const std::string& n : before) CHECK(now_set.count(n) == 1);
    CHECK(now_set.count("bnode-3") == 1);
    before = now_set;
    // A new revision of the same app picks the same nodes.
    AppSpec next = app;
    next.revision = 9;
    CHECK(waveNodes(next, all) == now);
  }
  CHECK(before.size() == 42);
}

TEST_CASE("a node listed twice counts once, and a node joining later follows the cutoff") {
  std::vector<WaveMember> all = members(20, "x");
  all.push_back(all[0]);
  AppSpec app = stagedApp({}, 0);
  app.staged = planWave("vision", {}, 5000, all);
  CHECK(waveNodes(app, all).size() >= 10);
  // A joiner not planned for: in exactly when its position is below the cutoff.
  for (int i = 0; i < 50; ++i) {
    std::string joiner = "late-" + std::to_string(i);
    CHECK(inWave(app, joiner) == (rolloutPosition("vision", joiner) < app.staged->cutoff));
  }
}

}  // namespace
}  // namespace pharos
