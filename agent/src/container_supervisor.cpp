// The reconciler's supervision of its containers (see container_supervisor.h, docs/agent.md
// "Failover"). Mutex held, released around engine calls.
#include "container_supervisor.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdio>
#include <ctime>

#include "agent/engine_spec.h"

namespace pharos::agent {

std::optional<int64_t> parseRfc3339Ms(const std::string& text) {
  std::tm tm{};
  int frac_pos = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac_pos) != 6 ||
      tm.tm_year < 1970) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  size_t i = static_cast<size_t>(frac_pos);
  if (i < text.size() && text[i] == '.') {
    int64_t scale = 100;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      ms += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i >= text.size() || text[i] != 'Z') return std::nullopt;
  return ms;
}

ContainerSupervisor::ContainerSupervisor(ReconcilerContext& ctx, ReconcileLanes& lanes,
                                         AppTable& table, AppReporter& reporter)
    : ctx_(ctx), lanes_(lanes), table_(table), reporter_(reporter) {}

void ContainerSupervisor::onContainerEvent(const DockerEvent& event) {
  if (event.type != "container") return;
  auto attr = [&](const char* key) -> std::string {
    auto it = event.attributes.find(key);
    return it == event.attributes.end() ? std::string() : it->second;
  };
  if (attr(kLabelNode) != ctx_.options.node_id) return;
  std::string app_name = attr(kLabelApp);
  if (app_name.empty()) app_name = attr(kLabelProject);
  std::string service = attr(kLabelService);
  const std::string& action = event.action;
  auto reconcileApp = [&](const std::string& app, const std::string& reason) {
    spdlog::debug("reconcile {}: {}", app, reason);
    lanes_.schedule(table_.has(app) ? app : std::string(), std::chrono::milliseconds(0));
  };
  bool expected = expected_exits_.count(event.id) > 0 || expected_stops_.count(event.id) > 0;

  std::shared_ptr<AppRun> app_run = table_.find(app_name);
  if (action == "oom") {
    if (app_run && !expected) {
      app_run->service(service, ctx_.options.backoff).oom_pending = true;
    }
    return;
  }
  if (action == "die") {
    expected_stops_.erase(event.id);
    if (!expected && app_run) {
      ServiceRun& run = app_run->service(service, ctx_.options.backoff);
      run.tracker.recordDeath(ctx_.clock.steadyNow());
      std::string code = attr("exitCode");
      std::string reason = "exit code " + (code.empty() ? std::string("?") : code);
      if (run.oom_pending) reason += " (out of memory)";
      run.oom_pending = false;
      reporter_.emit("container_died", app_name, service, reason);
    }
    reconcileApp(app_name, "container died");
    return;
  }
  if (action == "destroy") {
    if (expected) {
      expected_exits_.erase(event.id);
      return;
    }
    reconcileApp(app_name, "container removed");
    return;
  }
  if (action == "start" || action == "stop" || action == "kill" || action == "restart" ||
      action.rfind("health_status", 0) == 0 || action == "create") {
    if (!expected) reconcileApp(app_name, "container " + action);
  }
}

void ContainerSupervisor::engineLost() {
  if (engine_lost_ms_ == 0) engine_lost_ms_ = ctx_.clock.nowMs();
}

void ContainerSupervisor::engineBack() {
  if (engine_lost_ms_ == 0) return;
  engine_outage_ = std::make_pair(engine_lost_ms_ - kEngineStopWindow.count(),
                                  ctx_.clock.nowMs() + kEngineBackSlack.count());
  engine_back_at_ = ctx_.clock.steadyNow();
  engine_lost_ms_ = 0;
}

bool ContainerSupervisor::stoppedByEngine(const ContainerInfo& info) const {
  if (!engine_outage_) return false;
  std::optional<int64_t> finished = parseRfc3339Ms(info.finished_at);
  return finished && *finished >= engine_outage_->first && *finished <= engine_outage_->second;
}

void ContainerSupervisor::supervise(AppRun& app, const Service& service, ServiceRun& run,
                                    const ContainerInfo& info) {
  const std::string& name = app.desired.spec.name;
  auto now = ctx_.clock.steadyNow();
  run.container_id = info.id;
  run.ever_seen = true;
  // The backoff returns to its start once the container ran for a minute, measured from its
  // own start (StartedAt): when it runs now, or from start to exit when it has exited — not
  // when the next pass happens to look (two deaths 62 s apart are not a crash loop).
  std::optional<int64_t> started = parseRfc3339Ms(info.started_at);
  if (info.running || info.restarting || info.state == ContainerState::kRemoving ||
      info.state == ContainerState::kPaused) {
    if (info.running) {
      run.tracker.observeRunning(now);
      if (started)
        run.tracker.observeRunTime(std::chrono::milliseconds(ctx_.clock.nowMs() - *started));
    }
    return;
  }
  std::optional<int64_t> finished = parseRfc3339Ms(info.finished_at);
  if (started && finished && *finished >= *started) {
    run.tracker.observeRunTime(std::chrono::milliseconds(*finished - *started));
  }
  if (run.stopped_by_agent) {
    run.stopped_by_agent = false;
    Status st = ctx_.engine([&] { return ctx_.docker.containers.startContainer(info.id); });
    if (!st.isOk()) {
      app.failure = "start " + service.name + ": " + st.message();
      return;
    }
    reporter_.emit("container_started", name, service.name, "app state is running");
    return;
  }
  RestartPolicy policy = effectiveRestartPolicy(service);
  // While the engine is lost (its events stream not back yet) it may be restoring its
  // containers: leave them to it; engineBack() runs a pass over everything.
  if (engine_lost_ms_ != 0) return;
  std::string reason;
  if (info.state == ContainerState::kCreated) {
    reason = "container was never started";
  } else if (stoppedByEngine(info)) {  // whatever the policy: the app did not exit by itself
    if (policy.name == "always" || policy.name == "unless-stopped") {
      // The engine restarts these itself after its restart: give it time to.
      auto grace = engine_back_at_ + kEngineRestoreGrace;
      if (now < grace) {
        lanes_.schedule(name, std::chrono::duration_cast<std::chrono::milliseconds>(grace - now));
        return;
      }
    }
    reason = "stopped by the container engine's restart (exit code " +
             std::to_string(info.exit_code) + ")";
  } else {
    if (policy.name == "no") return;  // honoured: reported exited, not restarted
    if (policy.name == "on-failure" && info.exit_code == 0) return;  // completed
    reason = "Docker stopped restarting it (exit code " + std::to_string(info.exit_code) + ")";
  }
  auto delay = run.tracker.startDelay(now);
  if (delay.count() > 0) {
    lanes_.schedule(name, delay);
    return;
  }
  Status st = ctx_.engine([&] { return ctx_.docker.containers.startContainer(info.id); });
  run.tracker.recordAgentStart(now);
  if (!st.isOk()) {
    app.failure = "start " + service.name + ": " + st.message();
    reporter_.reportFailure(app, service.name, "start failed", st.message());
    lanes_.schedule(name, run.tracker.currentDelay());
    return;
  }
  reporter_.emit("container_restarted", name, service.name, reason);
}

}  // namespace pharos::agent
