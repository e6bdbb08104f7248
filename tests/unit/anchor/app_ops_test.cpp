// AppOps (app_ops.h) over an OpContext with no MQTT at all: a MemoryStore, a publisher that
// captures what it would send, a ManualClock. A deploy publishes its target's document once
// and stores a revision; a bad compose file publishes nothing; the rollout summary follows
// the deploy after the tracker's debounce.
#include "anchor/app_ops.h"

#include <doctest/doctest.h>

#include <vector>

#include "anchor/memory_store.h"
#include "anchor_fixture.h"
#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

struct Ops : OpsFixture {
  AppOps apps{ctx};

  Ops() { addNode("n1"); }
};

Json deployBody(const std::string& compose) {
  return Json{{"v", 1}, {"name", "web"}, {"target", {{"node", "n1"}}}, {"compose", compose}};
}

}  // namespace

TEST_CASE("app deploy publishes the target node's document once and stores revision 1") {
  Ops o;
  auto result = o.apps.deploy("ops", deployBody(kCompose));
  REQUIRE(result.isOk());
  CHECK((*result)["revision"] == 1);
  CHECK((*result)["changed"] == true);
  CHECK(o.topicsSent() == std::vector<std::string>{topics::node("n1", NodeTopic::kDesired)});
  auto doc = *parseJson(o.sent[0].payload, 1 << 20);
  REQUIRE(doc["apps"].size() == 1);
  CHECK(doc["apps"][0]["name"] == "web");
  auto history = o.apps.history(Json{{"v", 1}, {"name", "web"}});
  REQUIRE(history.isOk());
  CHECK((*history)["revisions"].size() == 1);
}

TEST_CASE("the same deploy again changes nothing and publishes nothing") {
  Ops o;
  REQUIRE(o.apps.deploy("ops", deployBody(kCompose)).isOk());
  o.sent.clear();
  auto again = o.apps.deploy("ops", deployBody(kCompose));
  REQUIRE(again.isOk());
  CHECK((*again)["changed"] == false);
  CHECK(o.sent.empty());
}

TEST_CASE("a compose file that does not parse is refused and nothing is published") {
  Ops o;
  auto result = o.apps.deploy("ops", deployBody("services:\n  web:\n    build: .\n"));
  CHECK_FALSE(result.isOk());
  CHECK(o.sent.empty());
  CHECK(o.reg.findApp("web") == nullptr);
}

TEST_CASE("the rollout summary is published after the tracker's debounce") {
  Ops o;
  REQUIRE(o.apps.deploy("ops", deployBody(kCompose)).isOk());
  o.sent.clear();
  o.executor.advance(o.config.rollout_interval);
  REQUIRE(o.topicsSent() == std::vector<std::string>{topics::appRollout("web")});
  auto summary = *parseJson(o.sent[0].payload, 1 << 20);
  CHECK(summary["revision"] == 1);
  CHECK(summary["total"] == 1);
}

TEST_CASE("a removed app stays as a tombstone in its target's document") {
  Ops o;
  REQUIRE(o.apps.deploy("ops", deployBody(kCompose)).isOk());
  o.sent.clear();
  auto removed = o.apps.remove("ops", Json{{"v", 1}, {"name", "web"}});
  REQUIRE(removed.isOk());
  REQUIRE(o.topicsSent() == std::vector<std::string>{topics::node("n1", NodeTopic::kDesired)});
  auto doc = *parseJson(o.sent[0].payload, 1 << 20);
  CHECK(doc["apps"][0]["state"] == "removed");
}
