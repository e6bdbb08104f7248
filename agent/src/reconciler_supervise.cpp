// The reconciler's supervision of existing containers (see reconciler.h, docs/agent.md
// "Failover"): restart policy honoured, the agent's own restarts with their backoff (reset
// from the container's own start), and containers the engine's restart stopped. Run with
// mu_ held, released around engine calls.
#include <cctype>
#include <cstdio>
#include <ctime>

#include "agent/engine_spec.h"
#include "reconciler_internal.h"

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

void Reconciler::engineLost() {
  Lock lock(mu_);
  if (engine_lost_ms_ == 0) engine_lost_ms_ = clock_.nowMs();
}

void Reconciler::engineBack() {
  Lock lock(mu_);
  if (engine_lost_ms_ == 0) return;
  engine_outage_ = std::make_pair(engine_lost_ms_ - kEngineStopWindow.count(),
                                  clock_.nowMs() + kEngineBackSlack.count());
  engine_back_at_ = clock_.steadyNow();
  engine_lost_ms_ = 0;
}

bool Reconciler::stoppedByEngine(const ContainerInfo& info) const {
  if (!engine_outage_) return false;
  std::optional<int64_t> finished = parseRfc3339Ms(info.finished_at);
  return finished && *finished >= engine_outage_->first && *finished <= engine_outage_->second;
}

void Reconciler::superviseExisting(AppRun& app, const Service& service, ServiceRun& run,
                                   const ContainerInfo& info) {
  const std::string& name = app.desired.spec.name;
  auto now = clock_.steadyNow();
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
      if (started) run.tracker.observeRunTime(std::chrono::milliseconds(clock_.nowMs() - *started));
    }
    return;
  }
  std::optional<int64_t> finished = parseRfc3339Ms(info.finished_at);
  if (started && finished && *finished >= *started) {
    run.tracker.observeRunTime(std::chrono::milliseconds(*finished - *started));
  }
  if (run.stopped_by_agent) {
    run.stopped_by_agent = false;
    Status st = engine([&] { return docker_.startContainer(info.id); });
    if (!st.isOk()) {
      app.failure = "start " + service.name + ": " + st.message();
      return;
    }
    emit("container_started", name, service.name, "app state is running");
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
        schedule(name, std::chrono::duration_cast<std::chrono::milliseconds>(grace - now));
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
    schedule(name, delay);
    return;
  }
  Status st = engine([&] { return docker_.startContainer(info.id); });
  run.tracker.recordAgentStart(now);
  if (!st.isOk()) {
    app.failure = "start " + service.name + ": " + st.message();
    reportFailure(app, service.name, "start failed", st.message());
    schedule(name, run.tracker.currentDelay());
    return;
  }
  emit("container_restarted", name, service.name, reason);
}

}  // namespace pharos::agent
