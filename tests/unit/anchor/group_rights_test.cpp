// The broker groups of a group's read right (group_rights.h): names and shards; a few changes
// are one command per member; many joining nodes get a broker group of their own, so that only
// they are disconnected; many leaving one broker group are one command; the reconciliation
// reads where members are held, across shards, and brings them to the registry's view.
#include "anchor/group_rights.h"

#include <doctest/doctest.h>

using namespace pharos;
using namespace pharos::anchor;

namespace {

std::map<std::string, size_t> counts(const std::vector<Json>& commands) {
  std::map<std::string, size_t> out;
  for (const auto& c : commands) ++out[c["command"].get<std::string>()];
  return out;
}

std::set<std::string> names(const std::string& prefix, size_t n) {
  std::set<std::string> out;
  for (size_t i = 0; i < n; ++i) out.insert(prefix + std::to_string(i));
  return out;
}

Placement heldBy(const std::set<std::string>& nodes, const std::string& broker_group) {
  Placement out;
  for (const auto& n : nodes) out[n] = broker_group;
  return out;
}

std::set<std::string> listed(const Json& command) {
  std::set<std::string> out;
  for (const auto& c : command["clients"]) out.insert(c["username"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the broker groups of a group are named after it, shards with a number") {
  CHECK(groupRightsName("hall") == "group-hall");
  CHECK(groupShardName("hall", 3) == "group-hall~3");
  CHECK(rightsGroupOf("group-hall") == "hall");
  CHECK(rightsGroupOf("group-hall~3") == "hall");
  CHECK(rightsGroupOf("group-a.b-c~12") == "a.b-c");
  CHECK_FALSE(rightsGroupOf("group-"));
  CHECK_FALSE(rightsGroupOf("group-~1"));
  CHECK_FALSE(rightsGroupOf("group-hall~"));
  CHECK_FALSE(rightsGroupOf("group-hall~x"));
  CHECK_FALSE(rightsGroupOf("agents"));
  CHECK(isGroupRightsName("group-hall~1"));
  CHECK_FALSE(isGroupRightsName("operators"));
}

TEST_CASE("up to the limit, one command per changed member, in the base group") {
  std::vector<Json> out;
  std::set<std::string> kicked;
  Placement have = heldBy(names("n", 10), "group-hall");
  auto add = names("x", kBulkMembershipChanges - 1);
  CHECK(appendPlacementChange(out, "hall", have, add, {"n0"}, &kicked) == kBulkMembershipChanges);
  auto c = counts(out);
  CHECK(c["removeGroupClient"] == 1);
  CHECK(c["addGroupClient"] == kBulkMembershipChanges - 1);
  CHECK(c["modifyGroup"] == 0);
  CHECK(kicked.size() == kBulkMembershipChanges);
  CHECK(kicked.count("n0"));
  CHECK_FALSE(kicked.count("n1"));  // nobody else is disconnected
  CHECK(have.size() == 10 - 1 + kBulkMembershipChanges - 1);
  CHECK(have.at("x0") == "group-hall");

  out.clear();
  CHECK(appendPlacementChange(out, "hall", have, {"n1"}, {"n0"}) == 0);  // n1 is in, n0 gone
  CHECK(out.empty());
}

TEST_CASE("many joining an empty group are one modifyGroup of the base group") {
  std::vector<Json> out;
  std::set<std::string> kicked;
  Placement have;
  auto add = names("n", kBulkMembershipChanges + 1);
  appendPlacementChange(out, "hall", have, add, {}, &kicked);
  REQUIRE(out.size() == 1);
  CHECK(out[0]["command"] == "modifyGroup");
  CHECK(out[0]["groupname"] == "group-hall");
  CHECK(listed(out[0]) == add);
  CHECK(kicked == add);
}

TEST_CASE("many joining a group with members get a shard: the members are not disconnected") {
  std::vector<Json> out;
  std::set<std::string> kicked;
  Placement have = heldBy(names("old", 5), "group-hall");
  have["s0"] = "group-hall~1";
  auto add = names("n", kBulkMembershipChanges + 1);
  appendPlacementChange(out, "hall", have, add, {}, &kicked);
  REQUIRE(out.size() == 2);
  CHECK(out[0]["command"] == "createGroup");
  CHECK(out[0]["groupname"] == "group-hall~2");  // ~1 holds s0
  CHECK(out[0]["roles"][0]["rolename"] == "group-hall");
  CHECK(out[1]["command"] == "modifyGroup");
  CHECK(out[1]["groupname"] == "group-hall~2");
  CHECK(listed(out[1]) == add);
  CHECK(kicked == add);
  CHECK(have.at("n0") == "group-hall~2");
  CHECK(have.at("old0") == "group-hall");
}

TEST_CASE("many leaving: the ones that stay are listed once, an emptied shard is deleted") {
  std::vector<Json> out;
  std::set<std::string> kicked;
  auto stay = names("stay", 3);
  auto go = names("go", kBulkMembershipChanges + 1);
  Placement have = heldBy(stay, "group-hall");
  for (const auto& [n, g] : heldBy(go, "group-hall")) have[n] = g;
  auto sharded = names("s", 4);
  for (const auto& [n, g] : heldBy(sharded, "group-hall~1")) have[n] = g;
  std::set<std::string> remove = go;
  remove.insert(sharded.begin(), sharded.end());
  appendPlacementChange(out, "hall", have, {}, remove, &kicked);
  auto c = counts(out);
  CHECK(c["deleteGroup"] == 1);  // ~1, emptied: one command for its 4
  CHECK(c["modifyGroup"] == 1);  // the base group keeps `stay`
  CHECK(c["removeGroupClient"] == 0);
  for (const auto& cmd : out) {
    if (cmd["command"] == "modifyGroup") CHECK(listed(cmd) == stay);
    if (cmd["command"] == "deleteGroup") CHECK(cmd["groupname"] == "group-hall~1");
  }
  CHECK(have == heldBy(stay, "group-hall"));
  CHECK(kicked.count("s0"));
  CHECK(kicked.count("stay0"));  // a modifyGroup disconnects the members it lists
}

TEST_CASE("the reconciliation reads members across shards and corrects what differs") {
  std::vector<DynsecClient> clients;
  for (const auto& n : names("n", 6)) clients.push_back(DynsecClient{n, {}, {}});
  DynsecGroups groups;
  groups["group-hall"] = DynsecGroup{{"group-hall"}, {"n0", "n1", "ghost"}};
  groups["group-hall~1"] = DynsecGroup{{"group-hall"}, {"n1", "n2", "n5"}};  // n1 twice
  groups["group-hall~2"] = DynsecGroup{{}, {}};                              // empty: goes
  groups["group-yard"] = DynsecGroup{{"group-yard"}, {"n3"}};  // no node in yard: goes
  std::map<std::string, Json> roles{{"group-hall", groupReadAcls("hall")},
                                    {"group-yard", groupReadAcls("yard")}};
  IdentityPlan plan;
  for (const auto& n : {"n0", "n1", "n2", "n3"}) plan.local_nodes[n] = {"hall"};
  std::vector<Json> out;
  IdentityReport report;
  Placements placed;
  appendGroupRightsReconcile(out, clients, roles, groups, plan, &report, &placed);
  std::set<std::string> lines;
  for (const auto& c : out) {
    std::string line = c["command"].get<std::string>();
    for (const char* key : {"groupname", "rolename", "username"}) {
      if (c.contains(key)) line += " " + c[key].get<std::string>();
    }
    lines.insert(line);
  }
  CHECK(lines.count("removeGroupClient group-hall~1 n1"));   // held by the base group already
  CHECK(lines.count("removeGroupClient group-hall ghost"));  // no client of that name
  CHECK(lines.count("deleteGroup group-hall~2"));
  CHECK(lines.count("removeGroupClient group-hall~1 n5"));  // not in hall
  CHECK(lines.count("addGroupClient group-hall n3"));
  CHECK(lines.count("deleteGroup group-yard"));
  CHECK(lines.count("deleteRole group-yard"));
  CHECK_FALSE(lines.count("deleteRole group-hall"));
  CHECK(placed.at("hall") == Placement{{"n0", "group-hall"},
                                       {"n1", "group-hall"},
                                       {"n2", "group-hall~1"},
                                       {"n3", "group-hall"}});
  CHECK(report.groups_changed == 1);
  CHECK(report.groups_removed == 1);
}

TEST_CASE("a group with no broker group yet is made, many members in one command") {
  std::vector<DynsecClient> clients;
  IdentityPlan plan;
  for (const auto& n : names("n", kBulkMembershipChanges + 1)) {
    clients.push_back(DynsecClient{n, {}, {}});
    plan.local_nodes[n] = {"hall"};
  }
  std::vector<Json> out;
  IdentityReport report;
  appendGroupRightsReconcile(out, clients, {}, {}, plan, &report);
  auto c = counts(out);
  CHECK(c["createRole"] == 1);
  CHECK(c["createGroup"] == 1);
  CHECK(c["modifyGroup"] == 1);
  CHECK(c["addGroupClient"] == 0);
  CHECK(report.groups_created == 1);
}
