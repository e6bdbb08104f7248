// app.get and app.list answer from the rollout summary the anchor computed at its last
// publish while nothing that feeds it changed (a 10,000-node app is not re-summarised per
// request), and from a fresh computation as soon as something did: a node's state, group
// membership (direct and nested), a node's health, the app's own state or revision.
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;

namespace {

Json deployBody(const std::string& name, Json target, const std::string& compose) {
  return Json{{"name", name}, {"target", std::move(target)}, {"compose", compose}};
}

Json appRollout(AnchorFixture& f, const std::string& app) {
  return f.ok("app.get", {{"name", app}})["rollout"];
}

Json withoutTs(Json j) {
  j.erase("ts");
  j.erase("v");
  return j;
}

// After the summaries are published: app.get equals the retained summary, including its
// timestamp (the cached one, not a new computation), also once the clock moved on.
void checkCachedEqualsPublished(AnchorFixture& f, const std::string& app) {
  f.advance(std::chrono::milliseconds(300));
  auto published = f.retainedJson(topics::appRollout(app));
  REQUIRE(published);
  f.clock().advance(std::chrono::seconds(5));
  Json got = appRollout(f, app);
  CHECK(got["ts"] == (*published)["ts"]);
  CHECK(withoutTs(got) == withoutTs(*published));
  Json list = f.ok("app.list", Json::object());
  for (const auto& a : list["apps"]) {
    if (a["name"] != app) continue;
    for (const char* k : {"total", "pending", "applied", "running", "failed", "notready"}) {
      CHECK(a["rollout"][k] == (*published)[k]);
    }
  }
}

}  // namespace

TEST_CASE("app.get answers from the cached summary and recomputes after every relevant change") {
  AnchorFixture f;
  for (const char* n : {"n1", "n2", "n3", "n4"}) f.nodeOnline(n, 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.create", {{"name", "sub"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2"}}});
  f.ok("app.deploy", deployBody("web", Json{{"group", "g"}}, kCompose));
  checkCachedEqualsPublished(f, "web");
  CHECK(appRollout(f, "web")["pending"] == 2);

  SUBCASE("a node's state") {
    f.reportState("n1", {{"web", 1}});
    Json r = appRollout(f, "web");  // before the debounced publish
    CHECK(r["running"] == 1);
    CHECK(r["pending"] == 1);
    checkCachedEqualsPublished(f, "web");
    f.reportState("n1", {{"web", 1}}, AppPhase::kCrashLoop);
    CHECK(appRollout(f, "web")["failed"] == 1);
    checkCachedEqualsPublished(f, "web");
  }
  SUBCASE("group membership, direct and through a nested group") {
    f.ok("group.add", {{"group", "g"}, {"nodes", {"n3"}}});
    CHECK(appRollout(f, "web")["total"] == 3);
    checkCachedEqualsPublished(f, "web");
    f.ok("group.add", {{"group", "sub"}, {"nodes", {"n4"}}});
    f.ok("group.add", {{"group", "g"}, {"groups", {"sub"}}});
    CHECK(appRollout(f, "web")["total"] == 4);
    checkCachedEqualsPublished(f, "web");
    f.ok("group.remove", {{"group", "sub"}, {"nodes", {"n4"}}});
    CHECK(appRollout(f, "web")["total"] == 3);
    checkCachedEqualsPublished(f, "web");
    f.ok("group.remove", {{"group", "g"}, {"nodes", {"n1"}}});
    Json r = appRollout(f, "web");
    CHECK(r["total"] == 2);
    CHECK(r["nodes"][0]["node"] == "n2");
    checkCachedEqualsPublished(f, "web");
  }
  SUBCASE("a node's health") {
    f.reportState("n2", {{"web", 1}});
    checkCachedEqualsPublished(f, "web");
    f.broker().kill("n2");
    f.pump();
    Json r = appRollout(f, "web");
    CHECK(r["notready"] == 1);
    CHECK(r["running"] == 0);
    checkCachedEqualsPublished(f, "web");
    f.nodeOnline("n2", 2000);
    CHECK(appRollout(f, "web")["running"] == 1);
    checkCachedEqualsPublished(f, "web");
  }
  SUBCASE("the app's state and revision") {
    f.reportState("n1", {{"web", 1}});
    checkCachedEqualsPublished(f, "web");
    f.ok("app.stop", {{"name", "web"}});
    CHECK(appRollout(f, "web")["running"] == 0);  // stopped: applied, not running
    checkCachedEqualsPublished(f, "web");
    f.ok("app.deploy", deployBody("web", Json{{"group", "g"}}, kCompose2));
    Json r = appRollout(f, "web");
    CHECK(r["revision"] == 2);
    CHECK(r["pending"] == 2);
    checkCachedEqualsPublished(f, "web");
  }
  SUBCASE("a move to another target") {
    f.ok("app.deploy", deployBody("web", Json{{"node", "n4"}}, kCompose));
    Json r = appRollout(f, "web");
    CHECK(r["target"] == "n4");
    CHECK(r["total"] == 1);
    checkCachedEqualsPublished(f, "web");
  }
}
