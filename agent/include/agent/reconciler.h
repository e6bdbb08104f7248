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
// blocking executor. All bookkeeping is guarded by one mutex (mu_), which a pass releases
// around every engine call (as leveldb's DBImpl does around I/O). Events and change
// notifications are delivered on the core strand.
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
  Reconciler(DockerClient& docker, Executor& strand, Executor& blocking, const Clock& clock,
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
  struct ServiceRun;
  struct AppRun;
  struct PullJob;
  struct Life;
  using Lock = std::unique_lock<std::mutex>;

  // Infrastructure (reconciler_lanes.cpp). Callers hold mu_ unless said.
  Task guarded(Task task) const;  // runs only while alive; shutdown() waits for it
  std::shared_ptr<Strand> lane(const std::string& app);
  void schedule(const std::string& app, std::chrono::milliseconds delay);
  void runScheduled(const std::string& app);  // on the lane, mu_ not held
  // Runs an engine call with mu_ released; re-locks before returning.
  template <class F>
  auto engine(F&& call) -> decltype(call());
  // Stops `candidates` (running containers of `app`; "" = orphans of `orphan_app`) in reverse
  // depends_on order of `deps` (service -> its dependencies): every candidate no other
  // candidate depends on is stopped now, on the stop executor, unless already in flight.
  // Returns true while any candidate still runs (the pass must wait; a finished stop
  // schedules the next pass).
  bool stopInOrder(const std::string& lane_key, std::set<std::string>& in_flight,
                   const std::vector<ContainerSummary>& candidates,
                   const std::map<std::string, std::set<std::string>>& deps, bool app_stopped);
  void onStopDone(const std::string& lane_key, const std::string& app_name, ContainerSummary c,
                  bool app_stopped, Status status);

  // Passes (reconciler_pass.cpp, reconciler_remove.cpp). mu_ held, released around engine calls.
  void runPass(const std::string& app);
  void runOrphanPass();
  void adopt(AppRun& app);
  void reconcileRunning(AppRun& app, std::vector<ContainerSummary>& containers);
  bool replaceChanged(AppRun& app, std::vector<ContainerSummary>& containers);
  void reconcileStopped(AppRun& app, std::vector<ContainerSummary>& containers);
  void reconcileRemoved(AppRun& app, std::vector<ContainerSummary>& containers);
  bool ensureImages(AppRun& app);
  bool ensureNetworksAndVolumes(AppRun& app);
  Status createAndStart(AppRun& app, const Service& service, const std::string& hash,
                        const std::map<std::string, std::string>& carried_volumes);
  Status probeCreate(AppRun& app, const Service& service, const std::string& hash);
  bool dependenciesMet(AppRun& app, const Service& service, std::string& waiting_for, bool& failed);
  void superviseExisting(AppRun& app, const Service& service, ServiceRun& run,
                         const ContainerInfo& info);
  bool stoppedByEngine(const ContainerInfo& info) const;
  void computePhase(AppRun& app);
  void reportFailure(AppRun& app, const std::string& service, const std::string& reason,
                     const std::string& message);
  void requestPull(const std::string& image);
  void pumpPulls();
  void onPullDone(const std::string& image, Status status);
  std::optional<RegistryAuth> authFor(const std::string& image) const;
  std::set<std::string> appsUsing(const std::string& image) const;
  void emit(const std::string& kind, const std::string& app, const std::string& service,
            const std::string& reason, const std::string& message = "");
  void noteCreated(AppRun& app, const std::string& kind, const std::string& service,
                   const std::string& what, const std::string& reason);
  static std::string takeCreated(AppRun& app);
  void changed();
  std::string appDir(const std::string& app) const;
  void pruneImages();

  DockerClient& docker_;
  Executor& strand_;
  Executor& blocking_;
  Executor& stops_;
  const Clock& clock_;
  const ReconcilerOptions options_;
  EventSink events_;
  std::function<void()> on_change_;
  std::shared_ptr<Life> life_;

  // Everything below is guarded by mu_ (the pass of each app holds it except during engine
  // calls; the core strand's methods take it).
  mutable std::mutex mu_;
  bool frozen_ = false;
  bool authoritative_ = false;
  bool change_posted_ = false;  // an on_change_ call is queued on the core strand
  int passes_running_ = 0;
  std::vector<pharos::RegistryAuth> registries_;
  std::map<std::string, std::shared_ptr<AppRun>> apps_;
  // app ("" = orphan pass) -> lane; kept when an app is dropped, so that a pass still running
  // for it and one for the same name desired again never run at once.
  std::map<std::string, std::shared_ptr<Strand>> lanes_;
  std::map<std::string, uint64_t> timers_;  // app ("" = orphan pass) -> timer id
  std::map<std::string, std::chrono::steady_clock::time_point> timer_due_;
  std::map<std::string, std::unique_ptr<PullJob>> pulls_;
  int pulls_running_ = 0;
  uint64_t pull_order_ = 0;
  // Containers the reconciler itself stops (until their die event) and removes (until their
  // destroy event): their events are not reported as failures.
  std::set<std::string> expected_stops_;
  std::set<std::string> expected_exits_;
  // Orphan containers whose stop is in flight, and the compose files of apps dropped from the
  // desired set (their stop order).
  std::set<std::string> orphan_stopping_;
  std::map<std::string, std::shared_ptr<const ComposeFile>> dropped_files_;
  // Images this agent pulled (prune candidates), with the apps that needed them. Images it
  // found already present (loaded by hand, pulled by someone else, pulled before a restart)
  // are never pruned: they might not be pullable again.
  std::map<std::string, std::set<std::string>> known_images_;
  // Wall-clock ms: when the engine was lost (0: reachable), and the window of exit times
  // that the last engine outage explains (engineLost/engineBack).
  int64_t engine_lost_ms_ = 0;
  std::optional<std::pair<int64_t, int64_t>> engine_outage_;
  std::chrono::steady_clock::time_point engine_back_at_{};
  Jitter jitter_;
};

}  // namespace pharos::agent
