// RelationIndex (relation_index.h) over plain group and app records: the reverse lookups,
// empty answers for what nothing matches, and a rebuild only at the first lookup after
// invalidate().
#include "anchor/relation_index.h"

#include <doctest/doctest.h>

using namespace pharos;
using namespace pharos::anchor;

namespace {

using Names = std::set<std::string>;

// plant > {line (n1), cell (n1, n2)}; quality > cell.
struct Records {
  std::map<std::string, GroupRecord> groups;
  std::map<std::string, AppRecord> apps;
  RelationIndex index{groups, apps};

  Records() {
    groups["plant"].groups = {"line", "cell"};
    groups["line"].nodes = {"n1"};
    groups["cell"].nodes = {"n1", "n2"};
    groups["quality"].groups = {"cell"};
    for (auto& [name, g] : groups) g.name = name;
    apps["web"].target = {Target::Kind::kNode, "n1"};
    apps["db"].target = {Target::Kind::kNode, "n1"};
    apps["cam"].target = {Target::Kind::kGroup, "cell"};
    for (auto& [name, a] : apps) a.name = name;
  }
};

}  // namespace

TEST_CASE("a node's direct groups, a group's parents and the apps on a document") {
  Records r;
  CHECK(r.index.groupsOf("n1") == Names{"cell", "line"});
  CHECK(r.index.groupsOf("n2") == Names{"cell"});
  CHECK(r.index.parentsOf("cell") == Names{"plant", "quality"});
  CHECK(r.index.parentsOf("line") == Names{"plant"});
  CHECK(r.index.appsOn(docKey(DocKind::kNode, "n1")) == Names{"db", "web"});
  CHECK(r.index.appsOn(docKey(DocKind::kGroup, "cell")) == Names{"cam"});
}

TEST_CASE("a lookup that matches nothing is empty") {
  Records r;
  CHECK(r.index.groupsOf("n9").empty());        // in no group
  CHECK(r.index.parentsOf("plant").empty());    // a top group
  CHECK(r.index.parentsOf("unknown").empty());  // no such group
  CHECK(r.index.appsOn(docKey(DocKind::kNode, "n2")).empty());
  CHECK(r.index.appsOn(docKey(DocKind::kSecrets, "n1")).empty());  // apps target no secrets
}

TEST_CASE("the index is built at the first lookup, not before") {
  Records r;
  CHECK_FALSE(r.index.fresh());
  (void)r.index.appsOn(docKey(DocKind::kNode, "n1"));
  CHECK(r.index.fresh());
}

TEST_CASE("the index answers from the records it was built from until it is invalidated") {
  Records r;
  REQUIRE(r.index.groupsOf("n2") == Names{"cell"});
  r.groups["line"].nodes.insert("n2");
  r.apps.erase("cam");
  // Not invalidated: the answers built before the change.
  CHECK(r.index.fresh());
  CHECK(r.index.groupsOf("n2") == Names{"cell"});
  CHECK(r.index.appsOn(docKey(DocKind::kGroup, "cell")) == Names{"cam"});
  r.index.invalidate();
  CHECK_FALSE(r.index.fresh());
  CHECK(r.index.groupsOf("n2") == Names{"cell", "line"});
  CHECK(r.index.fresh());
  CHECK(r.index.appsOn(docKey(DocKind::kGroup, "cell")).empty());
}

TEST_CASE("a rebuild drops what the records no longer hold") {
  Records r;
  REQUIRE(r.index.parentsOf("cell") == Names{"plant", "quality"});
  r.groups.erase("quality");
  r.groups["plant"].groups.erase("cell");
  r.index.invalidate();
  CHECK(r.index.parentsOf("cell").empty());
  CHECK(r.index.groupsOf("n1") == Names{"cell", "line"});
}
