// Relations (relations.h) over plain node and group records: direct and effective groups,
// parents, effective members through nested groups, the nodes a target reaches (never a
// pending node), the apps on a document and the path between nested groups. Malformed data
// (a cycle the operations refuse) still ends every walk.
#include "anchor/relations.h"

#include <doctest/doctest.h>

using namespace pharos;
using namespace pharos::anchor;

namespace {

using Names = std::set<std::string>;
using Path = std::vector<std::string>;

GroupRecord group(const std::string& name, Names nodes, Names groups = {}) {
  GroupRecord g;
  g.name = name;
  g.nodes = std::move(nodes);
  g.groups = std::move(groups);
  return g;
}

NodeRecord node(const std::string& name, Registration registration = Registration::kAccepted) {
  NodeRecord n;
  n.name = name;
  n.registration = registration;
  return n;
}

Target target(Target::Kind kind, const std::string& name) {
  Target t;
  t.kind = kind;
  t.name = name;
  return t;
}

// plant > {line-a > cell (n1, pend), line-b (n2, n3)}; quality > cell; spare (no members);
// n4 in no group. `pend` is a pending node, `gone` a member with no node record.
struct Fleet {
  std::map<std::string, NodeRecord> nodes{
      {"n1", node("n1")},
      {"n2", node("n2")},
      {"n3", node("n3", Registration::kRemoving)},
      {"n4", node("n4")},
      {"pend", node("pend", Registration::kPending)},
  };
  std::map<std::string, GroupRecord> groups{
      {"plant", group("plant", {}, {"line-a", "line-b"})},
      {"line-a", group("line-a", {}, {"cell"})},
      {"line-b", group("line-b", {"n2", "n3", "gone"})},
      {"cell", group("cell", {"n1", "pend"})},
      {"quality", group("quality", {}, {"cell"})},
      {"spare", group("spare", {})},
  };
  std::map<std::string, AppRecord> apps;
  RelationIndex index{groups, apps};
  Relations relations{nodes, groups, index};

  void addApp(const std::string& name, const Target& t) {
    AppRecord a;
    a.name = name;
    a.target = t;
    apps[name] = a;
    index.invalidate();
  }
};

}  // namespace

TEST_CASE("a node's direct groups and its effective groups with every ancestor") {
  Fleet f;
  CHECK(f.relations.directGroupsOf("n1") == Names{"cell"});
  CHECK(f.relations.effectiveGroups("n1") == Names{"cell", "line-a", "plant", "quality"});
  CHECK(f.relations.effectiveGroups("n2") == Names{"line-b", "plant"});
  CHECK(f.relations.directGroupsOf("n4").empty());
  CHECK(f.relations.effectiveGroups("n4").empty());
  CHECK(f.relations.effectiveGroups("unknown").empty());
}

TEST_CASE("a group's parents are the groups that list it, not their ancestors") {
  Fleet f;
  CHECK(f.relations.parentsOf("cell") == Names{"line-a", "quality"});
  CHECK(f.relations.parentsOf("line-a") == Names{"plant"});
  CHECK(f.relations.parentsOf("plant").empty());
}

TEST_CASE("a group's effective members are its nodes and those of its nested groups") {
  Fleet f;
  // Any registration state, and a member without a node record.
  CHECK(f.relations.effectiveMembers("plant") == Names{"gone", "n1", "n2", "n3", "pend"});
  CHECK(f.relations.effectiveMembers("quality") == Names{"n1", "pend"});
  CHECK(f.relations.effectiveMembers("spare").empty());
  CHECK(f.relations.effectiveMembers("unknown").empty());
}

TEST_CASE("a target reaches the known nodes that are not pending") {
  Fleet f;
  CHECK(f.relations.targetNodes(target(Target::Kind::kGroup, "plant")) == Names{"n1", "n2", "n3"});
  CHECK(f.relations.targetNodes(target(Target::Kind::kGroup, "cell")) == Names{"n1"});
  CHECK(f.relations.targetNodes(target(Target::Kind::kNode, "n4")) == Names{"n4"});
  CHECK(f.relations.targetNodes(target(Target::Kind::kNode, "n3")) == Names{"n3"});  // removing
  CHECK(f.relations.targetNodes(target(Target::Kind::kNode, "pend")).empty());
  CHECK(f.relations.targetNodes(target(Target::Kind::kNode, "unknown")).empty());
  CHECK(f.relations.targetNodes(target(Target::Kind::kGroup, "unknown")).empty());
}

TEST_CASE("the path down from a group to one nested in it, top first") {
  Fleet f;
  CHECK(f.relations.pathDown("plant", "cell") == Path{"plant", "line-a", "cell"});
  CHECK(f.relations.pathDown("quality", "cell") == Path{"quality", "cell"});
  CHECK(f.relations.pathDown("cell", "cell") == Path{"cell"});
}

TEST_CASE("no path down to a group that is not nested below") {
  Fleet f;
  CHECK(f.relations.pathDown("cell", "plant").empty());     // upwards
  CHECK(f.relations.pathDown("line-b", "cell").empty());    // a sibling's child
  CHECK(f.relations.pathDown("plant", "quality").empty());  // another tree
  CHECK(f.relations.pathDown("plant", "unknown").empty());
}

TEST_CASE("the apps on a document follow the apps' targets") {
  Fleet f;
  CHECK(f.relations.appsOn(docKey(DocKind::kNode, "n1")).empty());
  f.addApp("web", target(Target::Kind::kNode, "n1"));
  f.addApp("cam", target(Target::Kind::kGroup, "cell"));
  f.addApp("log", target(Target::Kind::kGroup, "cell"));
  CHECK(f.relations.appsOn(docKey(DocKind::kNode, "n1")) == Names{"web"});
  CHECK(f.relations.appsOn(docKey(DocKind::kGroup, "cell")) == Names{"cam", "log"});
  CHECK(f.relations.appsOn(docKey(DocKind::kGroup, "plant")).empty());  // not inherited
}

TEST_CASE("answers are copies that later changes leave alone") {
  Fleet f;
  Names before = f.relations.effectiveGroups("n2");
  f.groups["spare"].nodes.insert("n2");
  f.index.invalidate();
  CHECK(before == Names{"line-b", "plant"});
  CHECK(f.relations.effectiveGroups("n2") == Names{"line-b", "plant", "spare"});
}

TEST_CASE("a membership cycle in the records still ends every walk") {
  Fleet f;
  f.groups["cell"].groups.insert("plant");  // plant > line-a > cell > plant
  f.index.invalidate();
  CHECK(f.relations.effectiveGroups("n1") == Names{"cell", "line-a", "plant", "quality"});
  CHECK(f.relations.effectiveMembers("cell") == Names{"gone", "n1", "n2", "n3", "pend"});
  CHECK(f.relations.pathDown("cell", "line-b") == Path{"cell", "plant", "line-b"});
}
