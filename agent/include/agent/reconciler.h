// The reconciler: makes the containers this node manages match the effective desired apps,
// acting only on the difference (DESIGN.md section 3, "Reconcile" and "Failover"). It finds
// what it manages by labels (io.pharos.node=<node>) and never touches anything else.
//
// A pass is level-triggered and idempotent: applying the same desired set twice performs no
// engine mutation. Images are pulled first (at most `max_concurrent_pulls` at a time, each
// after a small random delay, on the blocking executor) and nothing of an app is stopped
// before every image it needs is present. Services whose config hash (or restart counter)
// changed are recreated, in depends_on order; a new container is created under a probe name
// first so a refused create leaves the running one untouched. Stops (app stopped, removed,
// services replaced or dropped) go in reverse depends_on order, every container whose
// dependents have stopped at once. Waits for dependencies (service_healthy,
// service_completed_successfully) and for stops re-run the pass later instead of blocking.
//
// Threading (docs/agent.md "Threads"): the public methods run on the core strand given at
// construction. Each app's passes run on a strand of its own ("lane") over the blocking
// executor, so a slow engine call of one app never delays another app; the orphan pass has
// a lane too. Stops, which last up to the container's stop timeout, run on the stop executor
// and report back to the app's lane: a lane never waits for a stop. Pulls run on the
// blocking executor. All bookkeeping is guarded by one mutex, which a pass releases around
// every engine call (as leveldb's DBImpl does around I/O). Events and change notifications
// are delivered on the core strand.
//
// The Reconciler is the composition root of its parts (agent/src/): ReconcileLanes (lanes,
// timers, the shutdown gate), AppTable (desired entries), AppReporter (events, phases, the
// reported state), AppImages (pulls, pruning), ContainerSupervisor (Docker events, engine
// outages, restarts of existing containers), ContainerStopper (stops in reverse depends_on
// order), AppRemover (stopped and removed apps, orphans) and ApplyPass (an app's pass, the
// running state in depth). They share the engine, the clock, the options and the mutex
// through a ReconcilerContext.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/docker_client.h"
#include "agent/restart_tracker.h"
#include "pharos/clock.h"
#include "pharos/compose.h"
#include "pharos/executor.h"
#include "pharos/jitter.h"
#include "pharos/messages.h"

namespace pharos::agent {

// One app of the effective desired state, with everything needed to parse its compose.
struct DesiredApp {
  AppSpec spec;
  std::string source;   // "node" | "group:<name>"
  Variables variables;  // node variables, deploy variables and secrets, resolved
};

struct ReconcilerOptions {
  std::string node_id;
  std::string data_dir = "/var/lib/pharos-agent";  // app folders: <data_dir>/apps/<app>
  int max_concurrent_pulls = 2;
  std::chrono::milliseconds pull_jitter{2000};        // max random delay before a pull
  std::chrono::milliseconds health_timeout{300'000};  // service_healthy / completed waits
  std::chrono::milliseconds dependency_poll{1000};    // re-check of an unmet dependency
  std::chrono::milliseconds pull_retry{10'000};       // first retry of a failed pull
  RestartBackoff backoff;
  uint64_t seed = 0;  // jitter PRNG seed (0 = entropySeed(node_id))
  bool create_app_dirs = true;
};

using EventSink = std::function<void(NodeEvent)>;

class Reconciler {
 public:
  // `strand` is the core strand (public methods, events); `blocking` runs the apps' lanes and
  // pulls (the strand's base executor will do); `stops` runs container stops (null: blocking).
  Reconciler(DockerApi docker, Executor& strand, Executor& blocking, const Clock& clock,
             ReconcilerOptions options, EventSink events, std::function<void()> on_change,
             Executor* stops = nullptr);
  ~Reconciler();

  // Replaces the desired set and reconciles what changed. `authoritative` = a node document
  // is held: only then are managed containers of apps absent from the set removed.
  void setDesired(std::vector<DesiredApp> apps, bool authoritative);
  // Frozen: no engine mutation at all (node document deleted); state is still observed.
  void setFrozen(bool frozen);
  bool frozen() const;
  void setRegistries(std::vector<pharos::RegistryAuth> registries);

  // Schedules a pass over every app (coalesced) / one app.
  void reconcileAll(const std::string& reason);
  void reconcileApp(const std::string& app, const std::string& reason);
  // A Docker event for a managed container (supervisor): records deaths, reports them and
  // schedules the app's pass.
  void onContainerEvent(const DockerEvent& event);
  // The container engine became unreachable / reachable again (the agent's engine state).
  // A managed container that exited from shortly before the loss (kEngineStopWindow: the
  // engine stops its containers before it closes its API) until the return was stopped by
  // the engine going down, not by its app: the passes after the return start it again
  // whatever its restart policy (restart: "no" included), with an event saying so — those
  // the engine restarts itself (always, unless-stopped) after a grace period only. While
  // the engine is lost, exited containers are left alone (it may be restoring them).
  void engineLost();
  void engineBack();

  // At work on a change: an app's pass is due or running, or a pull is queued or running.
  // Passes scheduled for later (dependency polls, crash-loop re-checks) and stops in flight
  // do not count.
  bool working() const;

  // Reported state, in app-name order (apps fully removed are absent).
  std::vector<AppState> appStates() const;
  // Containers of an app as last observed (for cmd/inspect and metrics).
  struct Observed {
    std::string app;
    std::string service;
    ContainerInfo info;
  };
  std::vector<Observed> observedContainers() const;

  // Stops timers and waits for the passes running on lanes; later callbacks do nothing (a stop
  // in flight finishes in the engine, unobserved).
  void shutdown();

 private:
  // The parts named above, in the order they are built (agent/src/reconciler.cpp).
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace pharos::agent
