// The reconciler's container stops. A stop lasts up to the container's stop timeout, so it
// never runs on a lane: it runs on the stop executor, outside the life gate's wait (shutdown
// does not wait for it), and reports back to the lane that asked for it, whose pass runs
// again (docs/agent.md "Threads"). Stops go in reverse depends_on order: a container is
// stopped once no other candidate that depends on it still runs. Guarded by the reconciler's
// mutex.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "app_reporter.h"
#include "app_table.h"
#include "container_supervisor.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

class ContainerStopper {
 public:
  ContainerStopper(ReconcilerContext& ctx, Executor& stops, ReconcileLanes& lanes, AppTable& table,
                   AppReporter& reporter, ContainerSupervisor& supervisor);

  // Stops `candidates` (running containers of app `lane_key`, whose stops in flight are
  // `in_flight`) in reverse depends_on order of `deps` (service -> its dependencies): every
  // candidate no other candidate depends on is stopped now, unless already in flight.
  // `app_stopped`: the app's desired state is stopped (its containers start again when it
  // runs). Returns true while any candidate still runs (the pass must wait; a finished stop
  // schedules the next pass).
  bool stopInOrder(const std::string& lane_key, std::set<std::string>& in_flight,
                   const std::vector<ContainerSummary>& candidates,
                   const std::map<std::string, std::set<std::string>>& deps, bool app_stopped);
  // The same for containers of apps no longer desired, on the orphan pass's lane.
  bool stopOrphans(const std::vector<ContainerSummary>& candidates,
                   const std::map<std::string, std::set<std::string>>& deps);

 private:
  void onStopDone(const std::string& lane_key, const std::string& app_name, ContainerSummary c,
                  bool app_stopped, Status status);  // on the lane, mutex not held

  ReconcilerContext& ctx_;
  Executor& stops_;
  ReconcileLanes& lanes_;
  AppTable& table_;
  AppReporter& reporter_;
  ContainerSupervisor& supervisor_;
  std::set<std::string> orphan_stopping_;  // orphan containers whose stop is in flight
};

}  // namespace pharos::agent
