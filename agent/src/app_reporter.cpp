// The reconciler's events, change notifications, failure episodes and reported state (see
// app_reporter.h); the phase is computed in app_reporter_phase.cpp. Mutex held.
#include "app_reporter.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pharos::agent {

AppReporter::AppReporter(ReconcilerContext& ctx, ReconcileLanes& lanes, Executor& strand,
                         EventSink events, std::function<void()> on_change)
    : ctx_(ctx),
      lanes_(lanes),
      strand_(strand),
      events_(std::move(events)),
      on_change_(std::move(on_change)) {}

void AppReporter::emit(const std::string& kind, const std::string& app, const std::string& service,
                       const std::string& reason, const std::string& message) {
  NodeEvent e;
  e.kind = kind;
  e.app = app;
  e.service = service;
  e.reason = reason;
  e.message = message;
  e.ts = ctx_.clock.nowMs();
  spdlog::info("event {} app={} service={}: {} {}", kind, app, service, reason, message);
  // Delivered on the core strand, in the order emitted.
  if (events_)
    strand_.post(lanes_.guarded([this, e = std::move(e)]() mutable { events_(std::move(e)); }));
}

// One app_failed event per failure episode (AppRun::failing), whatever the engine's message
// says this time (it often names a random endpoint or container id).
void AppReporter::reportFailure(AppRun& app, const std::string& service, const std::string& reason,
                                const std::string& message) {
  app.failing_message = service.empty() ? message : service + ": " + message;
  if (app.failing) return;
  app.failing = true;
  emit("app_failed", app.desired.spec.name, service, reason, message);
}

// During a rollout (the app's desired revision not yet reported applied) what a pass creates
// is listed in the one app_applied event that ends it: a group deploy to 10,000 devices sends
// 10,000 events through the broker instead of 30,000 (docs/agent.md "Events"). Outside a
// rollout a creation is a repair (a network or container deleted behind the agent's back) and
// gets its own event at once.
void AppReporter::noteCreated(AppRun& app, const std::string& kind, const std::string& service,
                              const std::string& what, const std::string& reason) {
  constexpr size_t kMaxListed = 16;
  if (app.applied_revision != app.desired.spec.revision) {
    if (app.created.size() < kMaxListed) {
      app.created.push_back(what);
    } else {
      ++app.created_more;
    }
    return;
  }
  emit(kind, app.desired.spec.name, service, reason);
}

std::string AppReporter::takeCreated(AppRun& app) {
  if (app.created.empty()) return "";
  std::string out = "created ";
  for (size_t i = 0; i < app.created.size(); ++i) out += (i ? ", " : "") + app.created[i];
  if (app.created_more > 0) out += " and " + std::to_string(app.created_more) + " more";
  app.created.clear();
  app.created_more = 0;
  return out;
}

void AppReporter::changed() {
  if (!on_change_ || change_posted_) return;
  change_posted_ = true;
  strand_.post(lanes_.guarded([this] {
    {
      Lock lock(ctx_.mu);
      change_posted_ = false;
    }
    on_change_();
  }));
}

std::vector<AppState> AppReporter::appStates(const AppTable& table) const {
  std::vector<AppState> out;
  for (const auto& [name, app] : table.all()) {
    if (app->gone) continue;
    AppState st;
    st.name = name;
    st.revision = app->desired.spec.revision;
    st.phase = app->phase;
    st.message = app->message;
    std::vector<std::string> order;
    if (app->file) {
      for (const Service& s : app->file->services) order.push_back(s.name);
    }
    for (const auto& [svc, run] : app->services) {
      if (std::find(order.begin(), order.end(), svc) == order.end() && run.info) {
        order.push_back(svc);
      }
    }
    for (const std::string& svc : order) {
      ServiceState ss;
      ss.name = svc;
      auto it = app->services.find(svc);
      if (it != app->services.end() && it->second.info) {
        const ContainerInfo& info = *it->second.info;
        ss.container_id = info.id;
        ss.state = info.state;
        ss.health = info.health;
        ss.restart_count = info.restart_count;
        ss.exit_code = info.exit_code;
        ss.image = info.image;
        ss.image_id = info.image_id;
      } else if (app->desired.spec.state == DesiredState::kRunning &&
                 app->phase != AppPhase::kPulling && app->phase != AppPhase::kPending &&
                 !app->waiting) {
        ss.state = ContainerState::kMissing;  // should exist but does not
      }
      st.services.push_back(std::move(ss));
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace pharos::agent
