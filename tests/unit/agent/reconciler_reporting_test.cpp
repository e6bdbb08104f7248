// Honest reporting and backoff: one app_failed per failure episode whatever the engine's
// messages, Failed kept (with its message) while retries back off, image events naming the
// apps that need the image, and a restart backoff measured from the container's own start.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "agent/fake_docker.h"
#include "agent/reconciler.h"
#include "reconciler_rig.h"

namespace pharos::agent {
namespace {

using namespace reconciler_testing;

int countEvents(const Rig& rig, const std::string& kind) {
  return static_cast<int>(std::count_if(rig.events.begin(), rig.events.end(),
                                        [&](const NodeEvent& e) { return e.kind == kind; }));
}

// The engine names a random endpoint id in a port conflict, different on every attempt.
Status portTaken(int attempt) {
  return Status::internal(
      "driver failed programming external connectivity on endpoint shop_web_1 (" +
      std::to_string(1000003 * attempt) +
      "): Bind for 0.0.0.0:8080 failed: port is already allocated");
}

TEST_CASE("a failure whose engine message changes on every retry is one app_failed event") {
  Rig rig;
  for (int i = 1; i <= 6; ++i) rig.docker.failNext(DockerOp::kStartContainer, portTaken(i));
  rig.apply({desired("services: {web: {image: busybox}}")});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  // The agent retries the start with its backoff (100 ms doubling), and the periodic
  // reconcile looks too: five more refusals.
  for (int i = 0; i < 20; ++i) {
    rig.rec->reconcileAll("periodic");
    rig.advance(milliseconds(3000));
  }
  CHECK(rig.docker.calls(DockerOp::kStartContainer) >= 7);
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
  CHECK(countEvents(rig, "app_failed") == 1);

  SUBCASE("a new document starts a new episode") {
    rig.docker.failNext(DockerOp::kCreateContainer, Status::invalidArgument("bad body"));
    rig.apply({desired("services: {web: {image: busybox, user: nobody}}", 2)});
    CHECK(rig.app("shop").phase == AppPhase::kFailed);
    CHECK(countEvents(rig, "app_failed") == 2);
  }
}

TEST_CASE("the phase stays Failed with the engine's message while a start is retried") {
  Rig rig;
  for (int i = 1; i <= 8; ++i) rig.docker.failNext(DockerOp::kStartContainer, portTaken(i));
  rig.apply({desired("services: {web: {image: busybox}}")});
  int looks = 0;
  while (rig.docker.calls(DockerOp::kStartContainer) < 8 && looks < 2000) {
    if (++looks % 100 == 0) rig.rec->reconcileAll("periodic");
    rig.advance(milliseconds(10));
    AppState st = rig.app("shop");
    CHECK(st.phase == AppPhase::kFailed);
    CHECK(st.message.find("port is already allocated") != std::string::npos);
  }
  rig.rec->reconcileAll("periodic");
  rig.advance(milliseconds(60'000));
  CHECK(rig.app("shop").phase == AppPhase::kRunning);
}

TEST_CASE("image events name the apps that need the image") {
  Rig rig;
  rig.docker.setPullFailure("127.0.0.1:5000/web:9", Status::notFound("manifest unknown"));
  rig.apply({desired("services: {main: {image: busybox}}", 1, DesiredState::kRunning, "one"),
             desired("services: {main: {image: busybox}}", 1, DesiredState::kRunning, "two"),
             desired("services: {web: {image: 127.0.0.1:5000/web:9}}", 1, DesiredState::kRunning,
                     "three")});
  std::set<std::string> pulled_for;
  std::set<std::string> failed_for;
  for (const NodeEvent& e : rig.events) {
    if (e.kind == "image_pulled") pulled_for.insert(e.app);
    if (e.kind == "image_pull_failed") failed_for.insert(e.app);
  }
  CHECK(pulled_for == std::set<std::string>{"one", "two"});
  CHECK(failed_for == std::set<std::string>{"three"});
}

TEST_CASE("kills 62 s apart do not double the restart backoff") {
  Rig rig;
  rig.apply({desired("services: {web: {image: busybox}}")});
  std::string id = rig.service("shop", "web").container_id;
  // A kill through the API: Docker does not restart it, the agent does after 100 ms.
  REQUIRE(rig.docker.containers().killContainer(id, "SIGKILL").isOk());
  rig.settle();
  rig.advance(milliseconds(110));
  REQUIRE(rig.service("shop", "web").state == ContainerState::kRunning);
  // 62 s later (no pass of this app in between) the same kill: the container ran for over a
  // minute since its start, so the backoff is back at 100 ms, not 200 ms.
  rig.clock.advance(milliseconds(62'000));
  REQUIRE(rig.docker.containers().killContainer(id, "SIGKILL").isOk());
  rig.settle();
  rig.advance(milliseconds(110));
  CHECK(rig.service("shop", "web").state == ContainerState::kRunning);
}

}  // namespace
}  // namespace pharos::agent
