// `pharosctl group get`: the group's fields, its ancestor paths and the tree below it drawn
// like tree(1), from a group.get result (group_tree.h), and the one-level fallback for an
// older anchor's answer.
#include <doctest/doctest.h>

#include "cli/render.h"
#include "cli/table.h"

using pharos::Json;
using namespace pharos::cli;

namespace {
Style plain() { return Style{false, 0}; }

Json plantAnswer() {
  return Json{{"name", "plant"},
              {"parents", {"site"}},
              {"nodes", Json::array()},
              {"groups", {"line-a", "line-b"}},
              {"apps", {"historian"}},
              {"effective_node_count", 3},
              {"ancestors", {{"site"}}},
              {"depth", 2},
              {"truncated", true},
              {"tree",
               {{"name", "plant"},
                {"nodes", Json::array()},
                {"apps", {"historian"}},
                {"groups",
                 {{{"name", "line-a"},
                   {"nodes", {"press-01"}},
                   {"apps", Json::array()},
                   {"groups",
                    {{{"name", "cell-1"},
                      {"nodes", {"press-02"}},
                      {"apps", {"vision"}},
                      {"groups", Json::array()},
                      {"truncated", true}}}}},
                  {{"name", "line-b"},
                   {"nodes", {"press-03"}},
                   {"apps", Json::array()},
                   {"groups", Json::array()}}}}}}};
}
}  // namespace

TEST_CASE("group get draws the tree below the group like tree(1)") {
  std::string out = renderGroup(plantAnswer(), plain());
  CHECK(out.find("Ancestors:  site > plant\n") != std::string::npos);
  CHECK(out.find("All nodes:  3 (with nested groups)\n") != std::string::npos);
  std::string tree = out.substr(out.find("\n\n") + 2);
  CHECK(tree ==
        "plant/ [historian]\n"
        "├── line-a/\n"
        "│   ├── cell-1/ [vision]\n"
        "│   │   ├── press-02\n"
        "│   │   └── … (more below: pharosctl group get cell-1 [--depth N])\n"
        "│   └── press-01\n"
        "└── line-b/\n"
        "    └── press-03\n");
}

TEST_CASE("group get shows one level for an anchor that sends no tree") {
  Json old = {{"name", "line1"},
              {"parents", {"site"}},
              {"nodes", {"a", "b"}},
              {"groups", {"cell"}},
              {"apps", {"web"}}};
  std::string out = renderGroup(old, plain());
  CHECK(out.find("Ancestors") == std::string::npos);
  CHECK(out.find("line1/ [web]\n├── cell/\n│   └── … (more below: pharosctl group get cell "
                 "[--depth N])\n├── a\n└── b\n") != std::string::npos);
}
