// The reconciler's scheduling (see reconciler.h, docs/agent.md "Threads"): one lane (a strand
// over the blocking executor) per app and one for the orphan pass, their timers, the life
// gate that shutdown() closes, and stops, which run on the stop executor in reverse
// depends_on order and report back to the app's lane.
#include <spdlog/spdlog.h>

#include "agent/engine_spec.h"
#include "reconciler_internal.h"

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

Task Reconciler::guarded(Task task) const {
  return [life = life_, task = std::move(task)] {
    {
      std::lock_guard<std::mutex> lock(life->mu);
      if (!life->open) return;
      ++life->running;
    }
    task();
    {
      std::lock_guard<std::mutex> lock(life->mu);
      --life->running;
    }
    life->idle.notify_all();
  };
}

void Reconciler::shutdown() {
  {
    std::unique_lock<std::mutex> lock(life_->mu);
    life_->open = false;
    life_->idle.wait(lock, [&] { return life_->running == 0; });
  }
  Lock lock(mu_);
  for (auto& [app, id] : timers_) lane(app)->cancel(id);
  timers_.clear();
  timer_due_.clear();
}

std::shared_ptr<Strand> Reconciler::lane(const std::string& app) {
  auto& l = lanes_[app];
  if (!l) l = Strand::create(blocking_);
  return l;
}

void Reconciler::schedule(const std::string& app, std::chrono::milliseconds delay) {
  auto due = clock_.steadyNow() + delay;
  auto existing = timer_due_.find(app);
  if (existing != timer_due_.end()) {
    if (existing->second <= due) return;
    lane(app)->cancel(timers_[app]);
  }
  timers_[app] = lane(app)->postDelayed(delay, guarded([this, app] { runScheduled(app); }));
  timer_due_[app] = due;
}

void Reconciler::runScheduled(const std::string& app) {
  {
    Lock lock(mu_);
    timers_.erase(app);
    timer_due_.erase(app);
  }
  if (app.empty()) {
    runOrphanPass();
  } else {
    runPass(app);
  }
}

bool Reconciler::stopInOrder(const std::string& lane_key, std::set<std::string>& in_flight,
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
    expected_stops_.insert(c.id);
    std::string app_name = label(c.labels, kLabelApp);
    if (app_name.empty()) app_name = label(c.labels, kLabelProject);
    spdlog::debug("stopping {} ({})", c.name, app_name);
    // The stop holds a thread of the stop executor for up to the container's stop timeout,
    // outside the life gate (shutdown does not wait for it); its result goes to the lane.
    auto result = std::make_shared<Status>();
    Task done = guarded([this, lane_key, app_name, c, app_stopped, result] {
      onStopDone(lane_key, app_name, c, app_stopped, *result);
    });
    std::weak_ptr<Life> life = life_;
    stops_.post([life, back = lane(lane_key), docker = &docker_, id = c.id, result, done] {
      if (auto l = life.lock(); !l || !l->open) return;
      *result = docker->stopContainer(id);
      back->post(done);
    });
  }
  return true;
}

void Reconciler::onStopDone(const std::string& lane_key, const std::string& app_name,
                            ContainerSummary c, bool app_stopped, Status status) {
  Lock lock(mu_);
  std::string service = label(c.labels, kLabelService);
  if (lane_key.empty()) {
    orphan_stopping_.erase(c.id);
  } else if (auto it = apps_.find(lane_key); it != apps_.end()) {
    AppRun& app = *it->second;
    app.stopping.erase(c.id);
    if (status.isOk() && app_stopped) {
      app.service(service, options_.backoff).stopped_by_agent = true;
      emit("container_stopped", app_name, service, "app state is stopped");
    }
    if (!status.isOk() && status.code() != Code::kNotFound) {
      reportFailure(app, service, "stop failed", "stop " + c.name + ": " + status.message());
    }
  }
  if (status.isOk()) {
    schedule(lane_key, std::chrono::milliseconds(0));
    return;
  }
  spdlog::warn("stop {}: {}", c.name, status.message());
  expected_stops_.erase(c.id);
  schedule(lane_key, kStopRetry);
}

}  // namespace pharos::agent
