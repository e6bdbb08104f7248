// group.get's tree and ancestor paths (group_view.h), with their bounds, and the group read
// rights of agents on line brokers, which the anchor keeps in step through
// BrokerAdmin::syncLineNodeGroups (docs/levels.md "Group rights on line brokers").
#include <fmt/format.h>

#include "anchor/group_view.h"
#include "anchor/memory_store.h"
#include "anchor_fixture.h"
#include "pharos/group_tree.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

std::string infoWithBroker(const std::string& broker) {
  NodeInfo info;
  info.agent_version = "0.1.0";
  info.hostname = "h";
  info.broker = broker;
  return dumpJson(encode(info));
}

// plant > {line-a > cell (n1), line-b (n2)}; quality > cell.
void plantTree(AnchorFixture& f) {
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "plant"}});
  f.ok("group.create", {{"name", "line-a"}, {"parent", "plant"}});
  f.ok("group.create", {{"name", "line-b"}, {"parent", "plant"}});
  f.ok("group.create", {{"name", "cell"}, {"parent", "line-a"}});
  f.ok("group.create", {{"name", "quality"}});
  f.ok("group.add", {{"group", "quality"}, {"groups", {"cell"}}});
  f.ok("group.add", {{"group", "cell"}, {"nodes", {"n1"}}});
  f.ok("group.add", {{"group", "line-b"}, {"nodes", {"n2"}}});
}

}  // namespace

TEST_CASE("group.get returns the whole subtree with nodes and apps, and the ancestor paths") {
  AnchorFixture f;
  plantTree(f);
  f.ok("app.deploy", {{"name", "vision"},
                      {"target", {{"group", "cell"}}},
                      {"compose", "services:\n  cam:\n    image: cam:1\n"}});
  auto got = decodeGroupGetResult(f.ok("group.get", {{"name", "plant"}}));
  REQUIRE(got);
  CHECK(got->has_tree);
  CHECK(got->ancestors.empty());
  CHECK_FALSE(got->truncated);
  CHECK(got->depth == kDefaultGroupTreeDepth);
  CHECK(got->effective_node_count == 2);
  GroupTreeEntry cell{"cell", {"n1"}, {"vision"}, {}, false};
  GroupTreeEntry line_a{"line-a", {}, {}, {cell}, false};
  GroupTreeEntry line_b{"line-b", {"n2"}, {}, {}, false};
  CHECK(got->tree == GroupTreeEntry{"plant", {}, {}, {line_a, line_b}, false});
  // A group with two parents has one path per parent, top first.
  auto of_cell = decodeGroupGetResult(f.ok("group.get", {{"name", "cell"}}));
  REQUIRE(of_cell);
  CHECK(of_cell->ancestors ==
        std::vector<std::vector<std::string>>{{"plant", "line-a"}, {"quality"}});
  CHECK(of_cell->tree == cell);
}

TEST_CASE("group.get stops at the requested depth and marks what it left out") {
  AnchorFixture f;
  plantTree(f);
  auto got = decodeGroupGetResult(f.ok("group.get", {{"name", "plant"}, {"depth", 1}}));
  REQUIRE(got);
  CHECK(got->truncated);
  CHECK(got->depth == 1);
  REQUIRE(got->tree.groups.size() == 2);
  const GroupTreeEntry& line_a = got->tree.groups[0];
  CHECK(line_a.name == "line-a");
  CHECK(line_a.truncated);  // cell lies below the limit
  CHECK(line_a.groups.empty());
  CHECK_FALSE(got->tree.groups[1].truncated);  // line-b has nothing below
  CHECK(f.errorCode("group.get", {{"name", "plant"}, {"depth", 0}}) == "invalid_argument");
  CHECK(f.errorCode("group.get", {{"name", "plant"}, {"depth", kMaxGroupTreeDepth + 1}}) ==
        "invalid_argument");
}

TEST_CASE("group.get lists at most kMaxGroupTreeEntries groups and nodes, nearest first") {
  MemoryStore store;
  Registry reg;
  REQUIRE(reg.load(store).isOk());
  Txn txn(reg);
  // 45 child groups of 45 nodes each under "top": 2,070 entries, more than the bound.
  GroupRecord top{"top", 1, {}, {}};
  for (int g = 0; g < 45; ++g) {
    GroupRecord child{fmt::format("c{:02d}", g), 1, {}, {}};
    for (int n = 0; n < 45; ++n) child.nodes.insert(fmt::format("n{:02d}-{:02d}", g, n));
    top.groups.insert(child.name);
    txn.putGroup(std::move(child));
  }
  txn.putGroup(std::move(top));
  REQUIRE(txn.commit(store).isOk());
  GroupGetResult got = describeGroup(reg, "top", 8);
  size_t entries = got.tree.groups.size();
  for (const auto& c : got.tree.groups) entries += c.nodes.size();
  CHECK(entries == kMaxGroupTreeEntries);
  CHECK(got.truncated);
  CHECK(got.tree.groups.size() == 45);  // the first level is complete
  CHECK(got.tree.groups.back().truncated);
  CHECK_FALSE(got.tree.groups.front().truncated);
  CHECK(got.effective_node_count == 45 * 45);
  // The encoded answer decodes within the same bounds.
  CHECK(decodeGroupGetResult(encode(got)).status().isOk());
}

TEST_CASE("group read rights of an agent on a line broker follow its groups") {
  AnchorOptions config;
  config.bridges["bridge-line-a"] = {"tcp://127.0.0.1:1884"};
  AnchorFixture f(config);
  f.publishAs("a1", NodeTopic::kInfo, infoWithBroker("tcp://127.0.0.1:1884"));
  f.publishAs("a1", NodeTopic::kStatus, statusPayload(Readiness::kReady, 10));
  f.nodeOnline("s1", 1000);  // on the site broker
  // First sight on the line: its rights there are made to match (none yet).
  REQUIRE(f.admin().line_acl["line-a"].count("a1") == 1);
  CHECK(f.admin().line_acl["line-a"]["a1"].empty());
  f.ok("group.create", {{"name", "plant"}});
  f.ok("group.create", {{"name", "line-a"}, {"parent", "plant"}});
  f.ok("group.add", {{"group", "line-a"}, {"nodes", {"a1"}}});
  f.ok("group.add", {{"group", "plant"}, {"nodes", {"s1"}}});
  CHECK(f.admin().line_acl["line-a"]["a1"] == std::set<std::string>{"line-a", "plant"});
  CHECK(f.admin().acl.count("a1") == 0);  // nothing asked of the site broker for it
  CHECK(f.admin().acl["s1"] == std::set<std::string>{"plant"});
  CHECK(f.admin().line_acl["line-a"].count("s1") == 0);
  // Unnesting moves the rights at once.
  f.ok("group.remove", {{"group", "plant"}, {"groups", {"line-a"}}});
  CHECK(f.admin().line_acl["line-a"]["a1"] == std::set<std::string>{"line-a"});
  // Whenever the bridge connects, the line is synced again.
  int before = f.admin().line_syncs;
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "1", true));
  f.pump();
  CHECK(f.admin().line_syncs == before + 1);
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "0", true));
  f.pump();
  CHECK(f.admin().line_syncs == before + 1);
  f.broker().publish(message("$SYS/broker/connection/bridge-line-a/state", "1", true));
  f.pump();
  CHECK(f.admin().line_syncs == before + 2);
  CHECK(f.admin().line_acl["line-a"]["a1"] == std::set<std::string>{"line-a"});
}
