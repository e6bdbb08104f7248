// Reconciler + supervision over FakeDockerClient, ManualClock and ManualExecutor: acting by
// difference, depends_on order, recreate only what changed, failed pulls and creates leave
// the running version alone, crash loops and the agent's own restart backoff, containers
// removed or stopped behind the agent's back, never touching foreign containers.
#include "agent/reconciler.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "agent/engine_spec.h"
#include "agent/fake_docker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "reconciler_rig.h"

namespace pharos::agent {
namespace {

using namespace reconciler_testing;

TEST_CASE("a three-service app comes up in depends_on order, waiting for a healthy db") {
  Rig rig;
  rig.apply({desired(kShop)});
  // db and web (service_started) run; worker waits for db to be healthy.
  CHECK(rig.service("shop", "db").state == ContainerState::kRunning);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
  CHECK(rig.service("shop", "worker").container_id.empty());
  CHECK(rig.app("shop").phase == AppPhase::kStarting);
  CHECK(rig.app("shop").message.find("db") != std::string::npos);

  rig.allHealthy();
  CHECK(rig.service("shop", "worker").state == ContainerState::kRunning);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
  CHECK(rig.hasEvent("app_applied"));

  // One event for the rollout: what it created, in order (db before web and worker), is
  // listed in app_applied, not sent as an event each.
  std::vector<std::string> applied;
  for (const NodeEvent& e : rig.events) {
    CHECK(e.kind != "container_created");
    CHECK(e.kind != "network_created");
    CHECK(e.kind != "volume_created");
    if (e.kind == "app_applied") applied.push_back(e.message);
  }
  REQUIRE(applied.size() == 1);
  CHECK(applied[0].find("network shop_default") != std::string::npos);
  CHECK(applied[0].find("volume shop_data") != std::string::npos);
  CHECK(applied[0].find("service db") < applied[0].find("service web"));
  CHECK(applied[0].find("service db") < applied[0].find("service worker"));
  // The named volume exists with the project prefix, the port is bound as compose does.
  CHECK(rig.docker.volumes().inspectVolume("shop_data").isOk());
  CHECK(rig.docker.networks().inspectNetwork("shop_default").isOk());
  auto web = rig.docker.containers().inspectContainer("shop_web_1");
  REQUIRE(web.isOk());
  CHECK(web->labels.at("io.pharos.node") == "edge-1");
  CHECK(web->labels.at("com.docker.compose.project") == "shop");
}

TEST_CASE("outside a rollout, a re-created volume is reported with its own event") {
  Rig rig;
  // A declared volume no container mounts, so it can be deleted behind the agent's back.
  rig.apply({desired("services:\n  main:\n    image: busybox\nvolumes:\n  spare: {}\n")});
  rig.settle();
  REQUIRE(rig.app("shop").phase == AppPhase::kRunning);
  REQUIRE(rig.docker.volumes().removeVolume("shop_spare", true).isOk());
  rig.events.clear();
  rig.rec->reconcileAll("test");
  rig.settle();
  CHECK(rig.docker.volumes().inspectVolume("shop_spare").isOk());
  bool reported = false;
  for (const NodeEvent& e : rig.events) {
    if (e.kind == "volume_created" && e.reason == "created volume shop_spare") reported = true;
    CHECK(e.kind != "app_applied");
  }
  CHECK(reported);
}

TEST_CASE("applying the same document twice performs no engine mutation") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  REQUIRE(rig.app("shop").phase == AppPhase::kRunning);
  rig.docker.resetCounters();
  rig.apply({desired(kShop)});
  rig.rec->reconcileAll("test");
  rig.settle();
  rig.advance(milliseconds(60'000));
  CHECK(rig.docker.mutatingCalls() == 0);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
}

TEST_CASE("an update recreates only the service whose configuration changed") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  std::string db = rig.service("shop", "db").container_id;
  std::string worker = rig.service("shop", "worker").container_id;
  std::string web = rig.service("shop", "web").container_id;
  rig.apply({desired(replaceAll(kShop, "web:1", "web:2"), 2)});
  rig.allHealthy();
  CHECK(rig.service("shop", "db").container_id == db);
  CHECK(rig.service("shop", "worker").container_id == worker);
  CHECK(rig.service("shop", "web").container_id != web);
  CHECK(rig.service("shop", "web").image == "127.0.0.1:5000/web:2");
  CHECK(rig.app("shop").revision == 2);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
  CHECK(rig.hasEvent("container_recreated", "web"));
}

TEST_CASE("a failed pull leaves the running version untouched and reports Failed") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  std::string web = rig.service("shop", "web").container_id;
  rig.docker.setPullFailure("127.0.0.1:5000/web:3",
                            Status::notFound("manifest for 127.0.0.1:5000/web:3 not found"));
  rig.docker.resetCounters();
  rig.apply({desired(replaceAll(kShop, "web:1", "web:3"), 3)});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("manifest") != std::string::npos);
  CHECK(rig.service("shop", "web").container_id == web);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
  CHECK(rig.docker.calls(DockerOp::kStopContainer) == 0);
  CHECK(rig.docker.calls(DockerOp::kRemoveContainer) == 0);
  CHECK(rig.docker.calls(DockerOp::kCreateContainer) == 0);
}

TEST_CASE("pulls run at most two at a time") {
  Rig rig;
  rig.apply({desired(kShop)});
  CHECK(rig.docker.calls(DockerOp::kPullImage) == 3);  // all pulled eventually
  // The in-flight limit: count running pulls from the executor's point of view.
  Rig slow;
  slow.rec.reset();
  ReconcilerOptions o;
  o.node_id = "edge-1";
  o.pull_jitter = milliseconds(1000);
  o.seed = 42;
  o.create_app_dirs = false;
  slow.rec = std::make_unique<Reconciler>(
      slow.docker.api(), *slow.strand, slow.exec, slow.clock, o, [](NodeEvent) {}, [] {});
  slow.rec->setDesired({desired(kShop)}, true);
  slow.exec.runUntilIdle();  // schedules the pulls (delayed by the jitter)
  CHECK(slow.docker.calls(DockerOp::kPullImage) == 0);
  CHECK(slow.app("shop").phase == AppPhase::kPulling);
  slow.exec.advance(milliseconds(5000));
  CHECK(slow.docker.calls(DockerOp::kPullImage) == 3);
}

TEST_CASE("a refused create leaves the old container running") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  std::string web = rig.service("shop", "web").container_id;
  rig.docker.failNext(DockerOp::kCreateContainer, Status::invalidArgument("invalid mount"));
  rig.apply({desired(replaceAll(kShop, "web:1", "web:2"), 2)});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("invalid mount") != std::string::npos);
  CHECK(rig.service("shop", "web").container_id == web);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

TEST_CASE("an invalid compose is a bad document and changes nothing") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  rig.docker.resetCounters();
  rig.apply({desired("services: {web: {build: .}}", 2)});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("invalid compose") != std::string::npos);
  CHECK(rig.hasEvent("bad_document"));
  CHECK(rig.docker.mutatingCalls() == 0);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

TEST_CASE("a container removed behind the agent's back is recreated, with an event") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  std::string web = rig.service("shop", "web").container_id;
  REQUIRE(rig.docker.containers().removeBehindBack(web).isOk());
  rig.settle();
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
  CHECK(rig.service("shop", "web").container_id != web);
  CHECK(rig.hasEvent("container_recreated", "web"));
}

TEST_CASE("a deleted image is pulled again") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  int pulls = rig.docker.calls(DockerOp::kPullImage);
  rig.docker.deleteImageBehindBack("127.0.0.1:5000/web:1");
  rig.rec->reconcileAll("periodic");
  rig.settle();
  CHECK(rig.docker.calls(DockerOp::kPullImage) == pulls + 1);
  CHECK(rig.docker.images().inspectImage("127.0.0.1:5000/web:1").isOk());
}

TEST_CASE("a crash is reported; repeated deaths are a CrashLoop") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox, restart: always}}")});
  REQUIRE(rig.app("shop").phase == AppPhase::kRunning);
  std::string id = rig.service("shop", "web").container_id;
  REQUIRE(rig.docker.containers().crashContainer(id, 3).isOk());
  rig.settle();
  CHECK(rig.hasEvent("container_died", "web"));
  CHECK(rig.app("shop").phase == AppPhase::kRunning);  // Docker restarted it
  REQUIRE(rig.docker.containers().crashContainer(id, 3).isOk());
  REQUIRE(rig.docker.containers().crashContainer(id, 3).isOk());
  rig.settle();
  CHECK(rig.app("shop").phase == AppPhase::kCrashLoop);
  CHECK(rig.hasEvent("crash_loop"));
  rig.advance(milliseconds(61'000));
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
}

TEST_CASE("when Docker stops restarting, the agent restarts with backoff from 100 ms") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox, restart: 'on-failure:1'}}")});
  std::string id = rig.service("shop", "web").container_id;
  REQUIRE(rig.docker.containers().crashContainer(id, 1).isOk());  // Docker restarts (1 of 1)
  rig.settle();
  REQUIRE(rig.docker.containers().crashContainer(id, 1).isOk());  // Docker gives up
  rig.settle();
  CHECK(rig.service("shop", "web").state == ContainerState::kExited);
  rig.advance(milliseconds(50));
  CHECK(rig.service("shop", "web").state == ContainerState::kExited);
  rig.advance(milliseconds(60));
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
  CHECK(rig.hasEvent("container_restarted", "web"));
  // Next death: the agent waits 200 ms.
  REQUIRE(rig.docker.containers().crashContainer(id, 1).isOk());
  rig.settle();
  rig.advance(milliseconds(150));
  CHECK(rig.service("shop", "web").state == ContainerState::kExited);
  rig.advance(milliseconds(60));
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

TEST_CASE("restart: no is honoured: an exited container is reported, not restarted") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox, restart: 'no'}}")});
  std::string id = rig.service("shop", "web").container_id;
  REQUIRE(rig.docker.containers().crashContainer(id, 2).isOk());
  rig.settle();
  rig.advance(milliseconds(120'000));
  CHECK(rig.service("shop", "web").state == ContainerState::kExited);
  CHECK(rig.service("shop", "web").exit_code == 2);
  CHECK_FALSE(rig.hasEvent("container_restarted"));
  CHECK(rig.app("shop").phase == AppPhase::kDegraded);
}

TEST_CASE("a container stopped behind the agent's back while it should run is started") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}")});
  std::string id = rig.service("shop", "web").container_id;
  REQUIRE(rig.docker.containers()
              .stopContainer(id)
              .isOk());  // `docker stop`, unless-stopped: Docker waits
  rig.settle();
  rig.advance(milliseconds(200));
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

TEST_CASE("state stopped stops without removing; removed removes, volumes kept") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  std::string db = rig.service("shop", "db").container_id;
  rig.apply({desired(kShop, 1, DesiredState::kStopped)});
  CHECK(rig.app("shop").phase == AppPhase::kStopped);
  CHECK(rig.service("shop", "db").state == ContainerState::kExited);
  CHECK(rig.service("shop", "db").container_id == db);
  rig.advance(milliseconds(60'000));
  CHECK(rig.service("shop", "db").state ==
        ContainerState::kExited);  // not restarted by the supervisor

  rig.apply({desired(kShop, 1, DesiredState::kRunning)});
  rig.allHealthy();
  CHECK(rig.service("shop", "db").container_id == db);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);

  rig.apply({desired(kShop, 1, DesiredState::kRemoved)});
  CHECK(rig.docker.containerCount() == 0);
  CHECK(rig.rec->appStates().empty());
  CHECK(rig.hasEvent("app_removed"));
  CHECK_FALSE(rig.docker.networks().inspectNetwork("shop_default").isOk());
  CHECK(rig.docker.volumes().inspectVolume("shop_data").isOk());
}

TEST_CASE("removed with volumes: delete removes the named volumes") {
  Rig rig;
  rig.apply({desired(kShop)});
  DesiredApp gone = desired(kShop, 1, DesiredState::kRemoved);
  gone.spec.volumes = VolumePolicy::kDelete;
  rig.apply({gone});
  CHECK_FALSE(rig.docker.volumes().inspectVolume("shop_data").isOk());
}

TEST_CASE("apps no longer desired are removed; foreign containers are never touched") {
  Rig rig;
  // A container of another node and one nobody manages.
  rig.docker.addLocalImage("busybox:latest");
  Json other = {{"Image", "busybox"},
                {"Labels", {{"io.pharos.node", "edge-2"}, {"io.pharos.app", "old"}}}};
  auto foreign1 = rig.docker.containers().createContainer("other_node", other);
  auto foreign2 = rig.docker.containers().createContainer("hand_made", Json{{"Image", "busybox"}});
  REQUIRE(foreign1.isOk());
  REQUIRE(foreign2.isOk());
  rig.apply({desired("services: {web: {image: busybox}}", 1, DesiredState::kRunning, "old"),
             desired("services: {web: {image: busybox}}", 1, DesiredState::kRunning, "keep")});
  CHECK(rig.docker.containerCount() == 4);
  rig.apply({desired("services: {web: {image: busybox}}", 1, DesiredState::kRunning, "keep")});
  CHECK(rig.docker.containerCount() == 3);
  CHECK(rig.docker.containers().inspectContainer("other_node").isOk());
  CHECK(rig.docker.containers().inspectContainer("hand_made").isOk());
  CHECK_FALSE(rig.docker.containers().inspectContainer("old_web_1").isOk());
}

TEST_CASE("without a node document nothing is removed; frozen changes nothing") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}")});
  rig.docker.resetCounters();
  rig.rec->setDesired({}, false);  // not authoritative (no node document)
  rig.settle();
  rig.rec->setFrozen(true);
  rig.rec->reconcileAll("test");
  rig.settle();
  CHECK(rig.docker.mutatingCalls() == 0);
  CHECK(rig.docker.containerCount() == 1);
}

TEST_CASE("after an agent restart running containers are adopted, not restarted") {
  Rig rig;
  rig.apply({desired(kShop)});
  rig.allHealthy();
  rig.makeReconciler();  // a new agent process, same engine
  rig.docker.resetCounters();
  rig.apply({desired(kShop)});
  CHECK(rig.docker.mutatingCalls() == 0);
  rig.allHealthy();
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
}

TEST_CASE("a restart counter bump recreates the app's containers") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}")});
  std::string id = rig.service("shop", "web").container_id;
  DesiredApp again = desired("services: {web: {image: busybox}}");
  again.spec.restart = 1;
  rig.apply({again});
  CHECK(rig.service("shop", "web").container_id != id);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

TEST_CASE("a service_healthy dependency that never becomes healthy fails after the timeout") {
  Rig rig;
  rig.apply({desired(kShop)});
  CHECK(rig.app("shop").phase == AppPhase::kStarting);
  rig.advance(milliseconds(31'000));
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("timed out") != std::string::npos);
}

TEST_CASE("service_completed_successfully waits for exit 0") {
  const char* yaml = R"(
services:
  migrate: {image: busybox, restart: "no"}
  app: {image: busybox, depends_on: {migrate: {condition: service_completed_successfully}}}
)";
  Rig rig;
  rig.apply({desired(yaml)});
  CHECK(rig.service("shop", "app").container_id.empty());
  auto migrate = rig.docker.containers().inspectContainer("shop_migrate_1");
  REQUIRE(rig.docker.containers().crashContainer(migrate->id, 0).isOk());  // exits 0
  rig.settle();
  rig.advance(milliseconds(1100));
  CHECK(rig.service("shop", "app").state == ContainerState::kRunning);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

using namespace reconciler_testing;

TEST_CASE("images no longer used are pruned, except the previous revision's and local ones") {
  Rig rig;
  rig.docker.addLocalImage("local/tool:1");  // loaded by hand: never pruned
  const char* base = "services: {web: {image: 127.0.0.1:5000/web:1}, tool: {image: local/tool:1}}";
  rig.apply({desired(base, 1)});
  rig.apply({desired(replaceAll(base, "web:1", "web:2"), 2)});
  rig.advance(milliseconds(6000));
  CHECK(rig.docker.images().inspectImage("127.0.0.1:5000/web:1").isOk());  // previous revision
  rig.apply({desired("services: {web: {image: busybox}}", 3)});
  rig.advance(milliseconds(6000));
  CHECK_FALSE(rig.docker.images().inspectImage("127.0.0.1:5000/web:1").isOk());
  CHECK(rig.docker.images().inspectImage("127.0.0.1:5000/web:2").isOk());  // previous revision
  CHECK(rig.docker.images().inspectImage("local/tool:1").isOk());
  CHECK(rig.hasEvent("image_pruned"));
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

using namespace reconciler_testing;

TEST_CASE("pull_policy never: a missing image fails the app without pulling") {
  Rig rig;
  rig.apply({desired("services: {web: {image: 127.0.0.1:5000/web:1, pull_policy: never}}")});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("pull_policy") != std::string::npos);
  CHECK(rig.docker.calls(DockerOp::kPullImage) == 0);
  CHECK(rig.service("shop", "web").state == ContainerState::kMissing);
}

TEST_CASE("a tombstone for an app this node never ran is quietly dropped") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}", 3, DesiredState::kRemoved)});
  CHECK(rig.rec->appStates().empty());
  CHECK_FALSE(rig.hasEvent("app_removed"));
  CHECK(rig.docker.mutatingCalls() == 0);
}

}  // namespace
}  // namespace pharos::agent

namespace pharos::agent {
namespace {

using namespace reconciler_testing;

TEST_CASE("a failure retried by the periodic reconcile is one app_failed event, not one per pass") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}")});
  rig.docker.failNext(DockerOp::kCreateContainer, Status::invalidArgument("bad body"), 10);
  rig.apply({desired("services: {web: {image: busybox, user: nobody}}", 2)});
  for (int i = 0; i < 3; ++i) {
    rig.rec->reconcileAll("periodic");
    rig.settle();
  }
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(std::count_if(rig.events.begin(), rig.events.end(),
                      [](const NodeEvent& e) { return e.kind == "app_failed"; }) == 1);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);  // the old one still runs
}

}  // namespace
}  // namespace pharos::agent
