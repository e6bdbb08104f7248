// DesiredFeed (desired_feed.h) over a DesiredDocs fed payloads: the freeze, the union with
// its variables, one conflict event per new conflict, and the grace of an awaited group. No
// broker, no engine, no reconciler: the effects record what the agent would do.
#include "agent/desired_feed.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "parts_rig.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/json.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

using namespace pharos;
using namespace pharos::agent;
using namespace pharos::agent::testing;
using std::chrono::milliseconds;

namespace {

AppSpec app(const std::string& name, DesiredState state = DesiredState::kRunning) {
  AppSpec a;
  a.name = name;
  a.revision = 1;
  a.state = state;
  a.compose = "services:\n  main:\n    image: busybox\n";
  return a;
}

struct Feed {
  ManualClock clock;
  ManualExecutor exec{clock};
  std::shared_ptr<Strand> strand = Strand::create(exec);
  std::vector<std::string> events;  // "kind app"
  int freezes = 0;
  int reports = 0;
  std::vector<std::vector<DesiredApp>> applied;
  std::vector<bool> authoritative;
  DesiredFeed* feed_ptr = nullptr;
  DesiredDocs docs{clock, quietEffects([this] { feed_ptr->recompute(); })};
  DesiredFeed feed{
      "edge-1",
      {{"line", "a"}},
      docs,
      strand,
      clock,
      DesiredFeed::Effects{[this](const std::string& kind, const std::string& a, const std::string&,
                                  const std::string&) { events.push_back(kind + " " + a); },
                           [this] { ++freezes; },
                           [this](std::vector<DesiredApp> apps, bool complete) {
                             applied.push_back(std::move(apps));
                             authoritative.push_back(complete);
                           },
                           [this] { ++reports; }}};
  Feed() { feed_ptr = &feed; }

  void node(int64_t generation, std::vector<AppSpec> apps, std::vector<std::string> groups = {}) {
    DesiredDoc d;
    d.epoch = "e1";
    d.generation = generation;
    d.apps = std::move(apps);
    d.groups = std::move(groups);
    d.labels = {{"room", "2"}};
    docs.offerNode(dumpJson(encode(d)), false);
  }
  void group(const std::string& name, int64_t generation, std::vector<AppSpec> apps) {
    DesiredDoc d;
    d.epoch = "e1";
    d.generation = generation;
    d.apps = std::move(apps);
    docs.offerGroup(name, dumpJson(encodeGroupDesired(d)), false);
  }
};

}  // namespace

TEST_CASE("without a node document the feed freezes the reconciler") {
  Feed f;
  f.feed.recompute();
  CHECK(f.freezes == 1);
  CHECK(f.applied.empty());
  CHECK(f.reports == 1);
}

TEST_CASE("the union is applied with the node's variables, authoritative once groups answered") {
  Feed f;
  f.node(1, {app("web")}, {"line-a"});
  REQUIRE(f.applied.size() == 1);
  CHECK_FALSE(f.authoritative.back());  // line-a has not answered yet
  f.group("line-a", 1, {app("db")});
  REQUIRE(f.applied.size() >= 2);
  CHECK(f.authoritative.back());
  const auto& apps = f.applied.back();
  REQUIRE(apps.size() == 2);
  CHECK(apps[0].spec.name == "db");
  CHECK(apps[0].source == "group:line-a");
  CHECK(apps[1].source == "node");
  CHECK(apps[1].variables.at("PHAROS_NODE_ID") == "edge-1");
  CHECK(apps[1].variables.at("PHAROS_LABEL_LINE") == "a");
  CHECK(apps[1].variables.at("PHAROS_LABEL_ROOM") == "2");
}

TEST_CASE("a conflict is reported once while it lasts, and again when it comes back") {
  Feed f;
  f.node(1, {app("web")}, {"line-a"});
  f.group("line-a", 1, {app("web")});
  CHECK(f.events == std::vector<std::string>{"conflict web"});
  f.feed.recompute();
  CHECK(f.events.size() == 1);
  f.group("line-a", 2, {});
  f.group("line-a", 3, {app("web")});
  CHECK(f.events.size() == 2);
}

TEST_CASE("a group's tombstone waits for the groups still awaited, at most the grace") {
  Feed f;
  f.node(1, {}, {"old"});
  f.group("old", 1, {app("web", DesiredState::kRemoved)});
  f.node(2, {}, {"old", "new"});  // the app moves to "new", whose document is on its way
  REQUIRE_FALSE(f.authoritative.back());
  CHECK(f.applied.back().empty());  // the tombstone is held back
  f.exec.advance(kGroupDocGrace);
  CHECK(f.authoritative.back());  // the grace passed: applied without "new"
  REQUIRE(f.applied.back().size() == 1);
  CHECK(f.applied.back()[0].spec.state == DesiredState::kRemoved);
}
