// group.get's request and result codecs (api.h GroupGetRequest, group_tree.h) and the line
// control topics (topics.h): round trips, the bounds a hostile answer cannot pass, and what a
// reader makes of an older anchor's answer.
#include "pharos/group_tree.h"

#include <doctest/doctest.h>

#include "pharos/topics.h"

using namespace pharos;

namespace {

GroupTreeEntry chain(int levels) {
  GroupTreeEntry e{"g" + std::to_string(levels), {}, {}, {}, false};
  if (levels > 0) e.groups.push_back(chain(levels - 1));
  return e;
}

Json answer(GroupTreeEntry tree) {
  GroupGetResult r;
  r.name = tree.name;
  r.tree = std::move(tree);
  return encode(r);
}

}  // namespace

TEST_CASE("a group.get result survives an encode/decode round trip") {
  GroupGetResult r;
  r.name = "plant";
  r.groups = {"line-a"};
  r.apps = {"historian"};
  r.effective_node_count = 1;
  r.created = 5;
  r.parents = {"site"};
  r.ancestors = {{"site"}};
  r.tree = {"plant", {}, {"historian"}, {{"line-a", {"n1"}, {}, {}, true}}, false};
  r.depth = 1;
  r.truncated = true;
  auto back = decodeGroupGetResult(encode(r));
  REQUIRE(back);
  CHECK(back->has_tree);
  CHECK(back->tree == r.tree);
  CHECK(back->ancestors == r.ancestors);
  CHECK(back->truncated);
  CHECK(back->depth == 1);
  CHECK(back->effective_node_count == 1);
}

TEST_CASE("an older anchor's group.get answer reads as a one-level tree") {
  Json old = {{"name", "line-3"},
              {"parents", {"lyon"}},
              {"nodes", {"press-07"}},
              {"groups", {"cell"}},
              {"apps", Json::array()}};
  auto got = decodeGroupGetResult(old);
  REQUIRE(got);
  CHECK_FALSE(got->has_tree);
  CHECK(got->tree.nodes == std::vector<std::string>{"press-07"});
  REQUIRE(got->tree.groups.size() == 1);
  CHECK(got->tree.groups[0].name == "cell");
  CHECK(got->tree.groups[0].truncated);
}

TEST_CASE("a group.get answer beyond the bounds is refused") {
  CHECK(decodeGroupGetResult(answer(chain(kMaxGroupTreeDepth))).status().isOk());
  CHECK(decodeGroupGetResult(answer(chain(kMaxGroupTreeDepth + 1))).status().code() ==
        Code::kTooLarge);
  GroupTreeEntry wide{"top", {}, {}, {}, false};
  for (size_t i = 0; i <= kMaxGroupTreeEntries; ++i) {
    wide.nodes.push_back("n" + std::to_string(i));
  }
  CHECK(decodeGroupGetResult(answer(wide)).status().code() == Code::kTooLarge);
  Json bad_path = answer(chain(1));
  bad_path["ancestors"] = Json::array({Json::array({"Not An Id"})});
  auto refused = decodeGroupGetResult(bad_path);
  REQUIRE_FALSE(refused);
  CHECK(refused.status().message().find("ancestors[0][0]") != std::string::npos);
  Json missing = answer(chain(0));
  missing.erase("parents");
  CHECK_FALSE(decodeGroupGetResult(missing));
}

TEST_CASE("group.get takes an optional depth within 1..kMaxGroupTreeDepth") {
  auto plain = decodeGroupGet(Json{{"v", 1}, {"name", "plant"}});
  REQUIRE(plain);
  CHECK(plain->depth == kDefaultGroupTreeDepth);
  CHECK(encode(GroupGetRequest{"plant", 3}) == Json{{"v", 1}, {"name", "plant"}, {"depth", 3}});
  CHECK(encode(GroupGetRequest{"plant"}) == Json{{"v", 1}, {"name", "plant"}});
  CHECK_FALSE(decodeGroupGet(Json{{"v", 1}, {"name", "plant"}, {"depth", 0}}));
  CHECK_FALSE(decodeGroupGet(Json{{"v", 1}, {"name", "plant"}, {"depth", "2"}}));
  CHECK_FALSE(decodeGroupGet(Json{{"v", 1}, {"name", "plant"}, {"depth", 17}}));
}

TEST_CASE("line control topics are built and recognised") {
  CHECK(topics::lineControl("line-a") == "pharos/v1/lines/line-a/control/dynamic-security/v1");
  CHECK(topics::lineControlResponse("line-a") ==
        "pharos/v1/lines/line-a/control/dynamic-security/v1/response");
  CHECK(topics::allLineControlResponses() ==
        "pharos/v1/lines/+/control/dynamic-security/v1/response");
  CHECK(topics::lineOfControlResponse(topics::lineControlResponse("line-a")) == "line-a");
  // Corner cases, one per line.
  CHECK(topics::lineOfControlResponse(topics::lineControl("line-a")).empty());
  CHECK(topics::lineOfControlResponse("pharos/v1/lines/Line A/control/dynamic-security/v1/response")
            .empty());
  CHECK(topics::lineOfControlResponse("pharos/v1/lines//control/dynamic-security/v1/response")
            .empty());
  CHECK(topics::lineOfControlResponse("pharos/v2/lines/a/control/dynamic-security/v1/response")
            .empty());
  CHECK(topics::lineOfControlResponse("$CONTROL/dynamic-security/v1/response").empty());
  CHECK(topics::lineOfControlResponse("pharos/v1").empty());
}
