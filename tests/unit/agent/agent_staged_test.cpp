// The agent during a staged rollout (docs/protocol.md "Staged rollouts"): it chooses the
// revision its wave says from the document alone, whether it was there all along, joins the
// group mid-rollout, boots offline from its state file or reconnects after a cut.
#include <doctest/doctest.h>

#include "agent/desired_set.h"
#include "agent_rig.h"
#include "pharos/rollout_wave.h"

namespace pharos::agent::testing {
namespace {

// Revision 2 (nginx) staged over revision 1 (busybox); `nodes` take revision 2.
AppSpec stagedWeb(std::vector<std::string> nodes, int64_t cutoff = 0, bool first = false) {
  AppSpec a = app("web", "nginx", 2);
  StagedApp s;
  s.nodes = std::move(nodes);
  s.cutoff = cutoff;
  if (!first)
    s.previous = AppRevisionSpec{1, app("web", "busybox").compose, DesiredState::kRunning, {}, 0};
  a.staged = s;
  return a;
}

std::string image(Rig& rig) {
  auto c = rig.docker.containers().inspectContainer("web_main_1");
  return c.isOk() ? c->image : "";
}

int64_t reportedRevision(Rig& rig) {
  Json state = rig.state();
  for (const Json& a : state["apps"]) {
    if (a["name"] == "web") return a["revision"].get<int64_t>();
  }
  return 0;
}

TEST_CASE("the union resolves a staged entry for this node before conflicts") {
  DesiredDoc group = nodeDoc(1, {stagedWeb({"edge-1"})});
  DesiredDoc node = nodeDoc(1, {}, {"g1"});
  auto in = unionDesired("edge-1", node, {{"g1", group}});
  REQUIRE(in.apps.size() == 1);
  CHECK(in.apps[0].spec.revision == 2);
  CHECK_FALSE(in.apps[0].spec.staged);
  auto out = unionDesired("edge-2", node, {{"g1", group}});
  REQUIRE(out.apps.size() == 1);
  CHECK(out.apps[0].spec.revision == 1);
  CHECK(out.apps[0].source == "group:g1");
  // Outside the wave of a first deployment the group does not name the app: another
  // group's entry is no conflict then.
  DesiredDoc first = nodeDoc(1, {stagedWeb({"edge-1"}, 0, true)});
  auto none = unionDesired("edge-2", nodeDoc(1, {}, {"a", "b"}),
                           {{"a", first}, {"b", nodeDoc(1, {app("web", "redis", 7)})}});
  REQUIRE(none.apps.size() == 1);
  CHECK(none.apps[0].spec.revision == 7);
  CHECK(none.conflicts.empty());
}

TEST_CASE("each wave is one new generation of the group document; the node follows it") {
  Rig rig;
  rig.boot();
  rig.publishGroup("line", nodeDoc(1, {app("web", "busybox", 1)}));
  rig.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK(image(rig) == "busybox");

  // Canary wave: another node only. This node keeps revision 1 and its container.
  std::string id = rig.docker.containers().inspectContainer("web_main_1")->id;
  rig.publishGroup("line", nodeDoc(2, {stagedWeb({"press-07"})}));
  CHECK(image(rig) == "busybox");
  CHECK(rig.docker.containers().inspectContainer("web_main_1")->id == id);
  CHECK(reportedRevision(rig) == 1);

  // Next wave: the share's cutoff now covers this node.
  int64_t mine = rolloutPosition("web", kNode);
  rig.publishGroup("line", nodeDoc(3, {stagedWeb({"press-07"}, mine + 1)}));
  CHECK(image(rig) == "nginx");
  CHECK(reportedRevision(rig) == 2);

  // Rollback of the wave: the entry returns to revision 1 without `staged`.
  rig.publishGroup("line", nodeDoc(4, {app("web", "busybox", 1)}));
  CHECK(image(rig) == "busybox");
  CHECK(reportedRevision(rig) == 1);
}

TEST_CASE("outside the wave of a staged first deployment the app does not run") {
  Rig rig;
  rig.boot();
  rig.publishGroup("line", nodeDoc(1, {stagedWeb({"press-07"}, 0, true)}));
  rig.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK_FALSE(rig.docker.containers().inspectContainer("web_main_1").isOk());
  rig.publishGroup("line", nodeDoc(2, {stagedWeb({"press-07", kNode}, 0, true)}));
  CHECK(image(rig) == "nginx");
}

TEST_CASE("a node that joins the group mid-rollout runs the revision of its wave") {
  Rig rig;
  rig.boot();
  // The group's retained document is mid-rollout before this node is a member.
  rig.publishGroup("line", nodeDoc(5, {stagedWeb({kNode})}));
  rig.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK(image(rig) == "nginx");

  Rig other;  // the same node when the document names only another canary
  other.boot();
  other.publishGroup("line", nodeDoc(5, {stagedWeb({"press-07"})}));
  other.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK(image(other) == "busybox");
}

TEST_CASE("a node-targeted app is staged in the node document the same way") {
  Rig rig;
  rig.boot();
  rig.publishNode(nodeDoc(1, {app("web", "busybox", 1)}));
  rig.publishNode(nodeDoc(2, {stagedWeb({})}));
  CHECK(image(rig) == "busybox");
  rig.publishNode(nodeDoc(3, {stagedWeb({}, kRolloutPositions)}));
  CHECK(image(rig) == "nginx");
}

TEST_CASE("booting offline, the node runs what its wave in the held document says") {
  Rig rig;
  rig.boot();
  rig.publishGroup("line", nodeDoc(3, {stagedWeb({kNode})}));
  rig.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK(image(rig) == "nginx");
  rig.shutdown();
  REQUIRE(rig.docker.containers()
              .removeBehindBack(rig.docker.containers().inspectContainer("web_main_1")->id)
              .isOk());
  rig.broker.setUp(false);
  rig.boot();
  CHECK(image(rig) == "nginx");
  CHECK(rig.running("web"));
}

TEST_CASE("reconnecting after a cut, the node runs what the current document says") {
  Rig rig;
  rig.boot();
  rig.publishGroup("line", nodeDoc(3, {stagedWeb({"press-07"})}));
  rig.publishNode(nodeDoc(1, {}, {"line"}));
  CHECK(image(rig) == "busybox");
  rig.broker.setOnline(kClient, false);
  rig.pump();
  // Two waves go by while the node is cut off; only the last is retained.
  rig.publishGroup("line", nodeDoc(4, {stagedWeb({"press-07", "press-09"})}));
  rig.publishGroup("line", nodeDoc(5, {stagedWeb({"press-07", "press-09", kNode})}));
  CHECK(image(rig) == "busybox");
  rig.broker.setOnline(kClient, true);
  rig.pump();
  rig.advance(milliseconds(300));
  CHECK(image(rig) == "nginx");
  CHECK(reportedRevision(rig) == 2);
}

}  // namespace
}  // namespace pharos::agent::testing
