// No app waits for another: a reconciler on a real thread pool, over a FakeDockerClient whose
// stops block until the test releases them (a long stop_grace_period), repairs and deploys
// other apps meanwhile; stops follow reverse depends_on order, concurrently within a level.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "agent/fake_docker.h"
#include "agent/reconciler.h"
#include "reconciler_rig.h"

namespace pharos::agent {
namespace {

using namespace reconciler_testing;
using std::chrono::milliseconds;

// Waits (real time) until `done` holds, calling `pump` between looks.
bool eventually(
    const std::function<bool()>& done, milliseconds timeout,
    const std::function<void()>& pump = [] {}) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    pump();
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  pump();
  return done();
}

// The reconciler on a ThreadPoolExecutor with the system clock: the core strand, the apps'
// work and the stops share the pool, as in pharos-agent.
struct ThreadedRig {
  SystemClock clock;
  ThreadPoolExecutor pool{"test", 4};
  std::shared_ptr<Strand> strand = Strand::create(pool);
  FakeDockerClient docker{&clock};
  std::unique_ptr<Reconciler> rec;
  std::unique_ptr<EventStream> stream;

  ThreadedRig() {
    docker.addRegistryImage("busybox:latest");
    ReconcilerOptions o;
    o.node_id = "edge-1";
    o.pull_jitter = milliseconds(0);
    o.create_app_dirs = false;
    rec = std::make_unique<Reconciler>(
        docker.api(), *strand, pool, clock, o, [](NodeEvent) {}, [] {});
    stream = docker.system().watchEvents({}, [this](const DockerEvent& e) {
      strand->post([this, e] { rec->onContainerEvent(e); });
    });
  }
  ~ThreadedRig() {
    docker.containers().holdStops(false);
    stream.reset();
    onStrand([this] { rec->shutdown(); });
    pool.shutdown();
  }
  // Runs `f` on the reconciler's strand and waits for it.
  void onStrand(std::function<void()> f) {
    std::promise<void> done;
    strand->post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  bool running(const std::string& container) {
    auto c = docker.containers().inspectContainer(container);
    return c.isOk() && c->running;
  }
};

TEST_CASE("an app's failover and another app's deploy proceed while an app's stop is held") {
  ThreadedRig rig;
  const char* one = "services: {main: {image: busybox}}";
  rig.onStrand([&] {
    rig.rec->setDesired({desired(one, 1, DesiredState::kRunning, "a"),
                         desired(one, 1, DesiredState::kRunning, "b")},
                        true);
  });
  REQUIRE(eventually([&] { return rig.running("a_main_1") && rig.running("b_main_1"); },
                     milliseconds(10'000)));

  // b is removed; its stop (a long stop_grace_period) blocks in the engine.
  rig.docker.containers().holdStops(true);
  rig.onStrand([&] {
    rig.rec->setDesired({desired(one, 1, DesiredState::kRunning, "a"),
                         desired(one, 1, DesiredState::kRemoved, "b")},
                        true);
  });
  REQUIRE(rig.docker.containers().waitForHeldStops(1, milliseconds(10'000)));

  // Meanwhile a's container is killed (Docker does not restart it: the agent must) and a new
  // app c is deployed.
  auto a = rig.docker.containers().inspectContainer("a_main_1");
  REQUIRE(a.isOk());
  REQUIRE(rig.docker.containers().killContainer(a->id, "SIGKILL").isOk());
  rig.strand->post([&] {  // not waited for: the strand must not be what waits
    rig.rec->setDesired(
        {desired(one, 1, DesiredState::kRunning, "a"), desired(one, 1, DesiredState::kRemoved, "b"),
         desired(one, 1, DesiredState::kRunning, "c")},
        true);
  });
  bool served = eventually([&] { return rig.running("a_main_1") && rig.running("c_main_1"); },
                           milliseconds(10'000));
  bool b_still_stopping =
      rig.docker.containers().heldStops() == std::vector<std::string>{"b_main_1"};
  CHECK(served);
  CHECK(b_still_stopping);

  rig.docker.containers().releaseStops();
  CHECK(eventually([&] { return !rig.docker.containers().inspectContainer("b_main_1").isOk(); },
                   milliseconds(10'000)));
}

const char* kLayers = R"(
services:
  db: {image: busybox}
  cache: {image: busybox}
  web: {image: busybox, depends_on: [db, cache]}
  worker: {image: busybox, depends_on: [db]}
  proxy: {image: busybox, depends_on: [web]}
)";

std::set<std::string> held(FakeDockerClient& docker) {
  auto v = docker.containers().heldStops();
  return {v.begin(), v.end()};
}

TEST_CASE("stops go in reverse depends_on order, a level at once") {
  // Stopping the app, removing it, and replacing every service (a restart) alike.
  for (const char* change : {"stopped", "removed", "restart"}) {
    CAPTURE(change);
    Rig rig;
    ThreadPoolExecutor stops("stops", 4);
    rig.stops = &stops;
    rig.makeReconciler();
    rig.apply({desired(kLayers)});
    REQUIRE(rig.app("shop").phase == AppPhase::kRunning);
    std::string old_db = rig.service("shop", "db").container_id;
    rig.docker.containers().holdStops(true);
    DesiredApp next = desired(kLayers, 1,
                              std::string(change) == "stopped"   ? DesiredState::kStopped
                              : std::string(change) == "removed" ? DesiredState::kRemoved
                                                                 : DesiredState::kRunning);
    if (std::string(change) == "restart") next.spec.restart = 1;
    rig.rec->setDesired({next}, true);
    auto settle = [&] { rig.settle(); };
    auto waveIs = [&](std::set<std::string> want) {
      return eventually([&] { return held(rig.docker) == want; }, milliseconds(10'000), settle);
    };
    // Nothing depends on proxy and worker: both stop at once, the rest keeps running.
    CHECK(waveIs({"shop_proxy_1", "shop_worker_1"}));
    CHECK(rig.docker.containers().inspectContainer("shop_web_1")->running);
    CHECK(rig.docker.containers().inspectContainer("shop_db_1")->running);
    rig.docker.containers().releaseStops();
    CHECK(waveIs({"shop_web_1"}));  // once proxy is down
    CHECK(rig.docker.containers().inspectContainer("shop_db_1")->running);
    rig.docker.containers().releaseStops();
    CHECK(waveIs({"shop_cache_1", "shop_db_1"}));  // once web and worker are down
    rig.docker.containers().holdStops(false);
    if (std::string(change) == "stopped") {
      CHECK(eventually([&] { return rig.app("shop").phase == AppPhase::kStopped; },
                       milliseconds(10'000), settle));
    } else if (std::string(change) == "removed") {
      CHECK(eventually([&] { return rig.rec->appStates().empty(); }, milliseconds(10'000), settle));
      CHECK(rig.docker.containerCount() == 0);
    } else {
      CHECK(eventually([&] { return rig.app("shop").phase == AppPhase::kRunning; },
                       milliseconds(10'000), settle));
      CHECK(rig.service("shop", "db").container_id != old_db);
      CHECK(rig.docker.containerCount() == 5);
    }
    stops.shutdown();
  }
}

}  // namespace
}  // namespace pharos::agent
