// Per-node compose variables: the node's identity wins over a deploy variable or secret of
// the same name.
#include "pharos/node_variables.h"

#include <doctest/doctest.h>

namespace pharos {
namespace {

TEST_CASE("node id, labels, deploy variables and secrets") {
  Variables v = appVariables("edge-1", {{"line", "cfg"}, {"zone.x", "z"}}, {{"line", "doc"}},
                             {{"PORT", "80"}, {"PW", "deploy"}}, {{"PW", "secret"}});
  CHECK(v.at("PHAROS_NODE_ID") == "edge-1");
  CHECK(v.at("PHAROS_LABEL_LINE") == "doc");
  CHECK(v.at("PHAROS_LABEL_ZONE_X") == "z");
  CHECK(v.at("PORT") == "80");
  CHECK(v.at("PW") == "secret");
}

TEST_CASE("a deploy variable or secret named PHAROS_NODE_ID does not replace the node's id") {
  Variables v = appVariables("edge-1", {}, {{"line", "l1"}},
                             {{"PHAROS_NODE_ID", "x"}, {"PHAROS_LABEL_LINE", "y"}},
                             {{"PHAROS_NODE_ID", "z"}});
  CHECK(v.at("PHAROS_NODE_ID") == "edge-1");
  CHECK(v.at("PHAROS_LABEL_LINE") == "l1");
}

TEST_CASE("names the node supplies") {
  CHECK(isNodeVariable("PHAROS_NODE_ID"));
  CHECK(isNodeVariable("PHAROS_LABEL_LINE"));
  CHECK_FALSE(isNodeVariable("PHAROS_NODE"));
  CHECK_FALSE(isNodeVariable("NODE_ID"));
  CHECK(labelVariable("zone.x-1") == "PHAROS_LABEL_ZONE_X_1");
}

}  // namespace
}  // namespace pharos
