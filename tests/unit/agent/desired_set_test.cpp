// Effective desired state: union with conflicts, the epoch/generation rule, variables.
#include "agent/desired_set.h"

#include <doctest/doctest.h>

namespace pharos::agent {
namespace {

AppSpec app(const std::string& name, int64_t revision = 1) {
  AppSpec a;
  a.name = name;
  a.revision = revision;
  a.compose = "services: {x: {image: a}}";
  return a;
}

DesiredDoc doc(std::vector<AppSpec> apps, std::vector<std::string> groups = {}) {
  DesiredDoc d;
  d.epoch = "e1";
  d.generation = 1;
  d.apps = std::move(apps);
  d.groups = std::move(groups);
  return d;
}

TEST_CASE("the union holds node and group apps") {
  auto eff = unionDesired("n1", doc({app("a")}, {"g1"}), {{"g1", doc({app("b")})}});
  REQUIRE(eff.apps.size() == 2);
  CHECK(eff.apps[0].spec.name == "a");
  CHECK(eff.apps[0].source == "node");
  CHECK(eff.apps[1].source == "group:g1");
  CHECK(eff.conflicts.empty());
}

TEST_CASE("the node document wins a conflict over groups") {
  auto eff = unionDesired("n1", doc({app("a", 5)}, {"g1"}), {{"g1", doc({app("a", 9)})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].spec.revision == 5);
  REQUIRE(eff.conflicts.size() == 1);
  CHECK(eff.conflicts[0].winner == "node");
  CHECK(eff.conflicts[0].losers == std::vector<std::string>{"group:g1"});
}

TEST_CASE("among groups the lexicographically first wins") {
  auto eff = unionDesired("n1", doc({}, {"zeta", "alpha"}),
                          {{"zeta", doc({app("a", 2)})}, {"alpha", doc({app("a", 3)})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].source == "group:alpha");
  CHECK(eff.apps[0].spec.revision == 3);
  REQUIRE(eff.conflicts.size() == 1);
  CHECK(eff.conflicts[0].losers == std::vector<std::string>{"group:zeta"});
}

TEST_CASE("a tombstone never shadows a live entry of a moved app, and is no conflict") {
  AppSpec tomb = app("a", 2);
  tomb.state = DesiredState::kRemoved;
  // Moved from group alpha to group zeta: alpha's tombstone sorts first.
  auto eff = unionDesired("n1", doc({}, {"alpha", "zeta"}),
                          {{"alpha", doc({tomb})}, {"zeta", doc({app("a", 3)})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].source == "group:zeta");
  CHECK(eff.apps[0].spec.revision == 3);
  CHECK(eff.conflicts.empty());
  // Moved from a group to the node: the live node entry stays, whatever the order.
  eff = unionDesired("n1", doc({app("a", 3)}, {"g1"}), {{"g1", doc({tomb})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].source == "node");
  CHECK(eff.conflicts.empty());
  // Moved from the node to a group: the node's tombstone yields.
  eff = unionDesired("n1", doc({tomb}, {"g1"}), {{"g1", doc({app("a", 3)})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].source == "group:g1");
  CHECK(eff.apps[0].spec.state == DesiredState::kRunning);
  // Only tombstones: the first one is kept, so the app is removed.
  eff = unionDesired("n1", doc({}, {"alpha", "zeta"}),
                     {{"alpha", doc({tomb})}, {"zeta", doc({tomb})}});
  REQUIRE(eff.apps.size() == 1);
  CHECK(eff.apps[0].spec.state == DesiredState::kRemoved);
  CHECK(eff.conflicts.empty());
}

TEST_CASE("group documents of groups the node does not list are ignored") {
  auto eff = unionDesired("n1", doc({}, {"g1"}), {{"g2", doc({app("b")})}});
  CHECK(eff.apps.empty());
}

TEST_CASE("generation rule: newer generation or another epoch applies") {
  DesiredDoc held = doc({});
  held.generation = 5;
  DesiredDoc next = held;
  CHECK(shouldApply(std::nullopt, held));
  next.generation = 6;
  CHECK(shouldApply(held, next));
  next.generation = 5;
  CHECK_FALSE(shouldApply(held, next));  // same
  next.generation = 4;
  CHECK_FALSE(shouldApply(held, next));  // older
  next.epoch = "restored";
  CHECK(shouldApply(held, next));  // a restored store: lower generation, new epoch
}

TEST_CASE("variables: node id, labels, deploy variables, secrets win") {
  AppSpec a = app("a");
  a.variables = {{"PORT", "80"}, {"PW", "deploy"}};
  Variables v = appVariables("edge-1", {{"line", "cfg"}, {"zone.x", "z"}}, {{"line", "doc"}}, a,
                             {{"PW", "secret"}});
  CHECK(v.at("PHAROS_NODE_ID") == "edge-1");
  CHECK(v.at("PHAROS_LABEL_LINE") == "doc");
  CHECK(v.at("PHAROS_LABEL_ZONE_X") == "z");
  CHECK(v.at("PORT") == "80");
  CHECK(v.at("PW") == "secret");
}

TEST_CASE("variables: a deploy variable named PHAROS_NODE_ID does not replace the node's id") {
  // `pharosctl app deploy --var PHAROS_NODE_ID=x`: the anchor validates the file with the
  // node's real id, so the agent must run it with the same.
  AppSpec a = app("a");
  a.variables = {{"PHAROS_NODE_ID", "x"}, {"PHAROS_LABEL_LINE", "y"}};
  Variables v = appVariables("edge-1", {}, {{"line", "doc"}}, a, {});
  CHECK(v.at("PHAROS_NODE_ID") == "edge-1");
  CHECK(v.at("PHAROS_LABEL_LINE") == "doc");
}

}  // namespace
}  // namespace pharos::agent
