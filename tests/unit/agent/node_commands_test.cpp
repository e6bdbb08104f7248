// NodeCommands (node_commands.h) over FakeBroker and FakeDockerClient, without an Agent: the
// containers it answers about come from a list the test gives, as the reconciler's would.
#include "agent/node_commands.h"

#include <doctest/doctest.h>

#include "agent/fake_docker.h"
#include "parts_rig.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::agent;
using namespace pharos::agent::testing;

namespace {

struct Rig : PartsBase {
  FakeDockerClient docker{&clock};
  std::vector<Reconciler::Observed> observed;
  std::vector<std::string> secrets;
  NodeCommands commands{
      "edge-1",
      docker.containers(),
      exec,
      strand,
      clock,
      publisher,
      NodeCommands::Sources{[this] { return observed; }, [this] { return secrets; }}};

  Rig() {
    goOnline(broker, *link, publisher);
    docker.addLocalImage("busybox:latest");
    auto id = docker.containers().createContainer(
        "web_main_1", Json{{"Image", "busybox:latest"}, {"Env", {"T=s3cret", "X=plain"}}});
    REQUIRE(id.isOk());
    REQUIRE(docker.containers().startContainer(*id).isOk());
    observed.push_back({"web", "main", *docker.containers().inspectContainer(*id)});
  }
  // Runs `command` from `user` with the answer expected on cmd-replies/{user}/r.
  std::vector<PublishRecord> run(const std::string& command, const std::string& body,
                                 const std::string& user = "alice", bool retained = false) {
    std::string reply_to = topics::nodeCmdReplies("edge-1", user, "r");
    commands.handle(
        command, user,
        MqttMessage{topics::nodeCmd("edge-1", command, user), body, 1, retained, reply_to, "c1"});
    exec.runUntilIdle();
    return broker.published(reply_to);
  }
};

}  // namespace

TEST_CASE("cmd/inspect answers with the app's containers, secret values redacted") {
  Rig r;
  r.secrets = {"s3cret"};
  auto replies = r.run("inspect", R"({"v":1,"app":"web"})");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].message.correlation_data == "c1");
  const std::string& payload = replies[0].message.payload;
  CHECK(payload.find("s3cret") == std::string::npos);
  CHECK(payload.find("T=<redacted>") != std::string::npos);
  CHECK(payload.find("X=plain") != std::string::npos);
}

TEST_CASE("cmd/logs of an unknown service, an unknown command: error answers") {
  Rig r;
  auto logs = r.run("logs", R"({"v":1,"app":"web","service":"nope"})");
  REQUIRE(logs.size() == 1);
  Json body = Json::parse(logs[0].message.payload);
  CHECK(body["ok"] == false);
  CHECK(body["error"]["code"] == "not_found");
  r.broker.clearLog();
  auto unknown = r.run("reboot", R"({"v":1})");
  REQUIRE(unknown.size() == 1);
  CHECK(Json::parse(unknown[0].message.payload)["error"]["code"] == "invalid_argument");
}

TEST_CASE("a retained request or one without the user level is not run") {
  Rig r;
  CHECK(r.run("inspect", R"({"v":1,"app":"web"})", "alice", true).empty());
  r.commands.handle("inspect", "",
                    MqttMessage{topics::nodeCmd("edge-1", "inspect"), R"({"v":1,"app":"web"})", 1,
                                false, topics::nodeCmdReplies("edge-1", "alice", "r"), ""});
  r.exec.runUntilIdle();
  CHECK(r.broker.published(topics::nodeCmdReplies("edge-1", "alice", "r")).empty());
}
