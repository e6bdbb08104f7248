// The reconciler's container stops (see container_stopper.h).
#include "container_stopper.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "agent/engine_spec.h"

namespace pharos::agent {

namespace {
// A stop the engine refused is tried again after this long (or at the app's next pass).
constexpr std::chrono::milliseconds kStopRetry{2000};
}  // namespace

std::map<std::string, std::set<std::string>> dependencyGraph(const ComposeFile* file) {
  std::map<std::string, std::set<std::string>> deps;
  if (file == nullptr) return deps;
  for (const Service& s : file->services) {
    auto& mine = deps[s.name];
    for (const auto& [dep, condition] : s.depends_on) mine.insert(dep);
  }
  return deps;
}

ContainerStopper::ContainerStopper(ReconcilerContext& ctx, Executor& stops, ReconcileLanes& lanes,
                                   AppTable& table, AppReporter& reporter,
                                   ContainerSupervisor& supervisor)
    : ctx_(ctx),
      stops_(stops),
      lanes_(lanes),
      table_(table),
      reporter_(reporter),
      supervisor_(supervisor) {}

bool ContainerStopper::stopOrphans(const std::vector<ContainerSummary>& candidates,
                                   const std::map<std::string, std::set<std::string>>& deps) {
  return stopInOrder("", orphan_stopping_, candidates, deps, false);
}

bool ContainerStopper::stopInOrder(const std::string& lane_key, std::set<std::string>& in_flight,
                                   const std::vector<ContainerSummary>& candidates,
                                   const std::map<std::string, std::set<std::string>>& deps,
                                   bool app_stopped) {
  if (candidates.empty()) return false;
  std::set<std::string> still_running;  // services with a candidate that runs
  for (const ContainerSummary& c : candidates) still_running.insert(label(c.labels, kLabelService));
  for (const ContainerSummary& c : candidates) {
    if (in_flight.count(c.id)) continue;
    std::string service = label(c.labels, kLabelService);
    bool dependent_runs = false;  // another running candidate depends on this one
    for (const std::string& other : still_running) {
      auto it = deps.find(other);
      dependent_runs =
          dependent_runs || (other != service && it != deps.end() && it->second.count(service) > 0);
    }
    if (dependent_runs) continue;
    in_flight.insert(c.id);
    supervisor_.expectStop(c.id);
    std::string app_name = label(c.labels, kLabelApp);
    if (app_name.empty()) app_name = label(c.labels, kLabelProject);
    spdlog::debug("stopping {} ({})", c.name, app_name);
    // The stop holds a thread of the stop executor for up to the container's stop timeout,
    // outside the life gate (shutdown does not wait for it); its result goes to the lane.
    auto result = std::make_shared<Status>();
    Task done = lanes_.guarded([this, lane_key, app_name, c, app_stopped, result] {
      onStopDone(lane_key, app_name, c, app_stopped, *result);
    });
    stops_.post(lanes_.whileOpen(
        [back = lanes_.lane(lane_key), docker = &ctx_.docker.containers, id = c.id, result, done] {
          *result = docker->stopContainer(id);
          back->post(done);
        }));
  }
  return true;
}

void ContainerStopper::onStopDone(const std::string& lane_key, const std::string& app_name,
                                  ContainerSummary c, bool app_stopped, Status status) {
  Lock lock(ctx_.mu);
  std::string service = label(c.labels, kLabelService);
  if (lane_key.empty()) {
    orphan_stopping_.erase(c.id);
  } else if (std::shared_ptr<AppRun> run = table_.find(lane_key)) {
    AppRun& app = *run;
    app.stopping.erase(c.id);
    if (status.isOk() && app_stopped) {
      app.service(service, ctx_.options.backoff).stopped_by_agent = true;
      reporter_.emit("container_stopped", app_name, service, "app state is stopped");
    }
    if (!status.isOk() && status.code() != Code::kNotFound) {
      reporter_.reportFailure(app, service, "stop failed",
                              "stop " + c.name + ": " + status.message());
    }
  }
  if (status.isOk()) {
    lanes_.schedule(lane_key, std::chrono::milliseconds(0));
    return;
  }
  spdlog::warn("stop {}: {}", c.name, status.message());
  supervisor_.stopFailed(c.id);
  lanes_.schedule(lane_key, kStopRetry);
}

}  // namespace pharos::agent
