// GroupMemberships and appendMembershipChange: a few changes of one group are one command per
// member, more than kBulkMembershipChanges one modifyGroup with the whole list; changes that
// cancel out send nothing; each group is made once per process; before the broker's members
// are known only per-member commands go out.
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

}  // namespace

TEST_CASE("the broker group of a group is named after it") {
  CHECK(groupRightsName("hall") == "group-hall");
  CHECK(isGroupRightsName("group-hall"));
  CHECK_FALSE(isGroupRightsName("group-"));
  CHECK_FALSE(isGroupRightsName("agents"));
}

TEST_CASE("up to the limit, one command per changed member; above it, one modifyGroup") {
  std::vector<Json> out;
  auto have = names("n", 10);
  auto want = names("n", 10 + kBulkMembershipChanges);
  want.erase("n0");  // kBulkMembershipChanges + 1 changes
  CHECK(appendMembershipChange(out, "hall", have, want) == kBulkMembershipChanges + 1);
  REQUIRE(out.size() == 1);
  CHECK(out[0]["command"] == "modifyGroup");
  CHECK(out[0]["groupname"] == "group-hall");
  CHECK(out[0]["clients"].size() == want.size());

  out.clear();
  auto fewer = names("n", 10 + kBulkMembershipChanges - 1);  // kBulkMembershipChanges - 1 more
  fewer.erase("n0");                                         // and one fewer
  CHECK(appendMembershipChange(out, "hall", have, fewer) == kBulkMembershipChanges);
  auto c = counts(out);
  CHECK(c["removeGroupClient"] == 1);
  CHECK(c["addGroupClient"] == kBulkMembershipChanges - 1);
  CHECK(c["modifyGroup"] == 0);

  out.clear();
  CHECK(appendMembershipChange(out, "hall", have, have) == 0);
  CHECK(out.empty());
}

TEST_CASE("the last change of a node wins; a group is made once per process") {
  GroupMemberships m;
  m.change("n1", {"hall"}, {});
  m.change("n1", {}, {"hall"});
  CHECK(m.pending());
  auto first = counts(m.take());
  CHECK(first["removeGroupClient"] + first["addGroupClient"] <= 1);
  CHECK_FALSE(m.pending());
  m.change("n2", {"hall"}, {});
  auto second = counts(m.take());
  CHECK(second["createGroup"] == 0);  // made by the first take
  CHECK(second["addGroupClient"] == 1);
}

TEST_CASE("before the broker's members are known, each change is its own command") {
  GroupMemberships m;
  for (const auto& n : names("n", kBulkMembershipChanges + 5)) m.change(n, {"hall"}, {});
  auto c = counts(m.take());
  CHECK(c["addGroupClient"] == kBulkMembershipChanges + 5);
  CHECK(c["modifyGroup"] == 0);
  CHECK(c["createGroup"] == 1);
}

TEST_CASE("once known, a removed node's memberships are gone and bulk lists leave it out") {
  GroupMemberships m;
  m.reset({{"hall", {"keep", "gone"}}});
  m.forgetNode("gone");
  for (const auto& n : names("n", kBulkMembershipChanges + 1)) m.change(n, {"hall"}, {});
  auto out = m.take();
  Json list;
  for (const auto& c : out) {
    if (c["command"] == "modifyGroup") list = c["clients"];
  }
  REQUIRE(list.is_array());
  CHECK(list.size() == kBulkMembershipChanges + 2);  // keep + the new ones
  for (const auto& e : list) CHECK(e["username"] != "gone");
}

TEST_CASE("a node created into groups makes them first and counts as a member") {
  GroupMemberships m;
  m.reset({});
  auto made = counts(m.created("n1", {"hall", "yard"}));
  CHECK(made["createRole"] == 2);
  CHECK(made["createGroup"] == 2);
  CHECK(m.created("n2", {"hall"}).empty());  // already made in this process
  for (const auto& n : names("x", kBulkMembershipChanges + 1)) m.change(n, {"hall"}, {});
  for (const auto& c : m.take()) {
    if (c["command"] == "modifyGroup") CHECK(c["clients"].size() == kBulkMembershipChanges + 3);
  }
}
