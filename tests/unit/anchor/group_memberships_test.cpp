// GroupMemberships: a few changes go out at once, member by member; bulk changes go out in
// steps of at most max_nodes nodes, one step at a time with a gap after each answer, and a node
// a step disconnected is not in another step before it had `settle` to reconnect; a node's
// changes of several groups share one step; before the broker's members are known only
// per-member commands go out.
#include "anchor/group_memberships.h"

#include <doctest/doctest.h>

#include <cstdio>

using namespace pharos;
using namespace pharos::anchor;
using namespace std::chrono_literals;

namespace {

using TimePoint = GroupMemberships::TimePoint;
const TimePoint t0{};

std::map<std::string, size_t> counts(const std::vector<Json>& commands) {
  std::map<std::string, size_t> out;
  for (const auto& c : commands) ++out[c["command"].get<std::string>()];
  return out;
}

std::vector<std::string> names(const std::string& prefix, size_t n) {
  std::vector<std::string> out;
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%05zu", prefix.c_str(), i);
    out.push_back(buf);
  }
  return out;
}

// The members each modifyGroup lists: broker group -> nodes.
std::map<std::string, std::set<std::string>> listed(const std::vector<Json>& commands) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& c : commands) {
    if (c["command"] != "modifyGroup") continue;
    for (const auto& m : c["clients"]) out[c["groupname"]].insert(m["username"]);
  }
  return out;
}

MembershipPacing pacing() {
  MembershipPacing p;
  p.max_nodes = 1000;
  p.step_gap = 1s;
  p.settle = 10s;
  return p;
}

}  // namespace

TEST_CASE("a few changes go out at once; the last change of a node wins") {
  GroupMemberships m(pacing());
  m.reset({{"hall", {{"n1", "group-hall"}}}});
  m.change("n2", {"hall"}, {});
  m.change("n2", {}, {"hall"});  // cancels out: n2 was never in
  m.change("n3", {"hall"}, {});
  m.change("n1", {}, {"hall"});
  bool bulk = true;
  auto c = counts(m.take(t0, &bulk));
  CHECK_FALSE(bulk);
  CHECK(c["createGroup"] == 0);  // the reconciliation placed it: the broker has it
  CHECK(c["addGroupClient"] == 1);
  CHECK(c["removeGroupClient"] == 1);
  CHECK_FALSE(m.pending());
  CHECK_FALSE(m.nextDue(t0).has_value());
  m.change("n4", {"hall"}, {});
  CHECK(m.nextDue(t0) == t0);
  c = counts(m.take(t0));
  CHECK(c["createGroup"] == 0);
  CHECK(c["addGroupClient"] == 1);
}

TEST_CASE("before the broker's members are known, each change is its own command") {
  GroupMemberships m(pacing());
  for (const auto& n : names("n", kBulkMembershipChanges + 5)) m.change(n, {"hall"}, {});
  bool bulk = true;
  auto c = counts(m.take(t0, &bulk));
  CHECK_FALSE(bulk);
  CHECK(c["addGroupClient"] == kBulkMembershipChanges + 5);
  CHECK(c["modifyGroup"] == 0);
}

TEST_CASE("the reconciliation's view replaces the queue; a removed node holds nothing") {
  GroupMemberships m(pacing());
  m.change("early", {"hall"}, {});
  m.reset({{"hall", {{"keep", "group-hall"}, {"gone", "group-hall"}}}});
  CHECK_FALSE(m.pending());  // the reconciliation already brought "early" in
  m.forgetNode("gone");
  m.change("gone", {}, {"hall"});
  auto c = counts(m.take(t0));
  CHECK(c["removeGroupClient"] == 0);
}

TEST_CASE("a node created into groups makes them first and counts as a member") {
  GroupMemberships m(pacing());
  m.reset({});
  auto made = counts(m.created("n1", {"hall", "yard"}));
  CHECK(made["createRole"] == 2);
  CHECK(made["createGroup"] == 2);
  CHECK(m.created("n2", {"hall"}).empty());  // already made in this process
  m.change("n1", {"hall"}, {});
  CHECK(counts(m.take(t0))["addGroupClient"] == 0);  // already a member
}

TEST_CASE("a group made before a reconciliation that deleted it is made again when used") {
  GroupMemberships m(pacing());
  m.change("x", {"hall"}, {});  // before the broker's members are known
  CHECK(counts(m.take(t0))["createGroup"] == 1);
  m.change("x", {}, {"hall"});
  m.take(t0);
  m.reset({});  // the reconciliation found no member of hall and deleted its broker group
  m.change("y", {"hall"}, {});
  auto c = counts(m.take(t0));
  CHECK(c["createRole"] == 1);
  CHECK(c["createGroup"] == 1);
  CHECK(c["addGroupClient"] == 1);
}

TEST_CASE("bulk changes go out in steps of max_nodes, each after the last one's answer") {
  GroupMemberships m(pacing());
  m.reset({});
  auto nodes = names("n", 2500);
  for (const auto& n : nodes) m.change(n, {"fan"}, {});
  bool bulk = false;
  auto first = m.take(t0, &bulk);
  CHECK(bulk);
  auto lists = listed(first);
  REQUIRE(lists.count("group-fan"));
  CHECK(lists["group-fan"].size() == 1000);  // the empty base group takes the first step
  CHECK(m.pending());
  CHECK_FALSE(m.nextDue(t0).has_value());  // waits for the answer
  CHECK(m.take(t0 + 5s).empty());
  m.stepAnswered(t0 + 2s);
  CHECK(m.nextDue(t0 + 2s) == t0 + 3s);
  CHECK(m.take(t0 + 2500ms).empty());
  auto second = m.take(t0 + 3s, &bulk);
  CHECK(bulk);
  CHECK(counts(second)["createGroup"] == 1);
  lists = listed(second);
  REQUIRE(lists.count("group-fan~1"));  // the members of the base group are left alone
  CHECK(lists["group-fan~1"].size() == 1000);
  m.stepAnswered(t0 + 4s);
  auto third = m.take(t0 + 5s);
  CHECK(listed(third)["group-fan~2"].size() == 500);
  CHECK_FALSE(m.pending());
  std::set<std::string> all;
  for (const auto& cmds : {first, second, third}) {
    for (const auto& [g, members] : listed(cmds)) all.insert(members.begin(), members.end());
  }
  CHECK(all.size() == 2500);
}

TEST_CASE("a node a step disconnected rests before the next step; fresh nodes go first") {
  GroupMemberships m(pacing());
  m.reset({});
  auto hall = names("h", 100);
  for (const auto& n : hall) m.change(n, {"hall"}, {});
  CHECK(listed(m.take(t0))["group-hall"].size() == 100);
  m.stepAnswered(t0 + 500ms);
  // The same nodes join yard, and 50 others too.
  for (const auto& n : hall) m.change(n, {"yard"}, {});
  auto fresh = names("f", 50);
  for (const auto& n : fresh) m.change(n, {"yard"}, {});
  auto step = m.take(t0 + 2s);
  auto lists = listed(step);
  CHECK(lists["group-yard"] == std::set<std::string>(fresh.begin(), fresh.end()));
  m.stepAnswered(t0 + 2500ms);
  CHECK(m.nextDue(t0 + 3s) == t0 + 10s);  // the hall nodes rest until then
  CHECK(m.take(t0 + 9s).empty());
  // 100 pending, more than the bulk limit: they wait for their rest, then go together.
  lists = listed(m.take(t0 + 10s));
  CHECK(lists["group-yard~1"].size() == 100);
  CHECK_FALSE(m.pending());
}

TEST_CASE("a node's changes of several groups go in the same step") {
  MembershipPacing p = pacing();
  p.max_nodes = 40;
  GroupMemberships m(p);
  m.reset({});
  auto nodes = names("n", 80);
  for (const auto& n : nodes) m.change(n, {"a", "b"}, {});
  auto first = listed(m.take(t0));
  CHECK(first["group-a"].size() == 40);
  CHECK(first["group-a"] == first["group-b"]);
}
