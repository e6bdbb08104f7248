// Topic builders and parser: every topic of DESIGN.md section 2, and the shapes refused.
#include "pharos/topics.h"

#include <doctest/doctest.h>

namespace t = pharos::topics;

TEST_CASE("builds every topic under pharos/v1") {
  CHECK(t::node("n1", t::NodeTopic::kStatus) == "pharos/v1/nodes/n1/status");
  CHECK(t::node("n1", t::NodeTopic::kSecrets) == "pharos/v1/nodes/n1/secrets");
  CHECK(t::nodeCmd("n1", "logs") == "pharos/v1/nodes/n1/cmd/logs");
  CHECK(t::nodeCmd("n1", "logs", "ops") == "pharos/v1/nodes/n1/cmd/logs/ops");
  CHECK(t::groupDesired("g") == "pharos/v1/groups/g/desired");
  CHECK(t::appRollout("web") == "pharos/v1/apps/web/rollout");
  CHECK(t::anchorStatus() == "pharos/v1/anchor/status");
  CHECK(t::apiRequest("ops", "app.deploy") == "pharos/v1/api/ops/app.deploy");
  CHECK(t::replies("ops", "x/1") == "pharos/v1/replies/ops/x/1");
  CHECK(t::allNodes(t::NodeTopic::kHealth) == "pharos/v1/nodes/+/health");
  CHECK(t::node("n1", t::NodeTopic::kHeartbeat) == "pharos/v1/nodes/n1/heartbeat");
  CHECK(t::allNodes(t::NodeTopic::kHeartbeat) == "pharos/v1/nodes/+/heartbeat");
}

TEST_CASE("parses what it builds") {
  for (auto kind : {t::NodeTopic::kStatus, t::NodeTopic::kInfo, t::NodeTopic::kState,
                    t::NodeTopic::kEvents, t::NodeTopic::kMetrics, t::NodeTopic::kHeartbeat,
                    t::NodeTopic::kHealth, t::NodeTopic::kDesired, t::NodeTopic::kSecrets}) {
    auto p = t::parse(t::node("press-1", kind));
    REQUIRE(p.isOk());
    CHECK(p->kind == t::Kind::kNode);
    CHECK(p->node_kind == kind);
    CHECK(p->node == "press-1");
  }
  auto api = t::parse(t::apiRequest("ops", "group.create"));
  REQUIRE(api.isOk());
  CHECK(api->user == "ops");
  CHECK(api->name == "group.create");
  auto rep = t::parse(t::replies("ops", "cli/42"));
  REQUIRE(rep.isOk());
  CHECK(rep->name == "cli/42");
  CHECK(t::parse(t::groupDesired("hall.1"))->group == "hall.1");
  CHECK(t::parse(t::appRollout("web"))->app == "web");
  CHECK(t::parse(t::anchorStatus())->kind == t::Kind::kAnchorStatus);
  CHECK(t::parse(t::nodeCmd("n", "logs"))->name == "logs");
  CHECK(t::parse(t::nodeCmd("n", "logs"))->user.empty());
  auto cmd = t::parse(t::nodeCmd("n", "inspect", "ops"));
  REQUIRE(cmd.isOk());
  CHECK(cmd->kind == t::Kind::kNodeCmd);
  CHECK(cmd->name == "inspect");
  CHECK(cmd->user == "ops");
  CHECK(t::matches(t::nodeCmd("n", "#"), t::nodeCmd("n", "inspect", "ops")));
  auto cmd_reply = t::parse(t::nodeCmdReplies("press-1", "ops", "cli/42"));
  REQUIRE(cmd_reply.isOk());
  CHECK(cmd_reply->kind == t::Kind::kNodeCmdReplies);
  CHECK(cmd_reply->node == "press-1");
  CHECK(cmd_reply->user == "ops");
  CHECK(cmd_reply->name == "cli/42");
  CHECK(t::matches(t::allNodeCmdReplies("+", "ops"), t::nodeCmdReplies("n", "ops", "x")));
}

TEST_CASE("refuses topics outside the contract") {
  for (const char* topic : {"",
                            "pharos/v1",
                            "pharos/v1/",
                            "pharos/v2/nodes/a/status",
                            "/pharos/v1/nodes/a/status",
                            "pharos/v1/nodes/A/status",
                            "pharos/v1/nodes/+/status",
                            "pharos/v1/nodes/#",
                            "pharos/v1/nodes/a/unknown",
                            "pharos/v1/nodes/a/status/x",
                            "pharos/v1/nodes//status",
                            "pharos/v1/groups/g/state",
                            "pharos/v1/api/ops/deploy",
                            "pharos/v1/api/ops/App.deploy",
                            "pharos/v1/api/ops/app.deploy/x",
                            "pharos/v1/replies/ops",
                            "pharos/v1/replies/ops/",
                            "pharos/v1/nodes/a/cmd-replies/ops",
                            "pharos/v1/nodes/a/cmd-replies/ops/",
                            "pharos/v1/nodes/a/cmd-replies/Ops/x",
                            "pharos/v1/nodes/a/cmd/logs/Ops",
                            "pharos/v1/nodes/a/cmd/logs/ops/x",
                            "pharos/v1/nodes/a/cmd/logs/",
                            "pharos/v1/apps/web.v2/rollout",
                            "$SYS/broker/uptime"}) {
    CAPTURE(topic);
    CHECK_FALSE(t::parse(topic).isOk());
  }
}

TEST_CASE("names the user of an API request whose operation name is malformed") {
  CHECK(t::apiUserOfMalformed("pharos/v1/api/ops/NODE.LIST") == "ops");
  CHECK(t::apiUserOfMalformed("pharos/v1/api/ops/" + std::string(200, 'a') + ".list") == "ops");
  CHECK(t::apiUserOfMalformed("pharos/v1/api/ops/n\xc3\xb6"
                              "de.list") == "ops");
  CHECK(t::apiUserOfMalformed("pharos/v1/api/ops/node.list/x") == "ops");
  for (const char* topic :
       {"pharos/v1/api/ops/node.list", "pharos/v1/api/ops/", "pharos/v1/api/ops",
        "pharos/v1/api/OPS/NODE.LIST", "pharos/v1/replies/ops/x"}) {
    CAPTURE(topic);
    CHECK(t::apiUserOfMalformed(topic).empty());
  }
}

TEST_CASE("matches MQTT filters") {
  CHECK(t::matches("a/+/c", "a/b/c"));
  CHECK(t::matches("a/#", "a/b/c"));
  CHECK(t::matches("a/#", "a"));
  CHECK(t::matches("#", "a/b"));
  CHECK_FALSE(t::matches("a/+", "a/b/c"));
  CHECK_FALSE(t::matches("a/b", "a/c"));
  CHECK_FALSE(t::matches("a/+/c", "a/b/d"));
  CHECK(t::matches("+/+", "/x"));
}
