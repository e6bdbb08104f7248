// An app's phase (see app_reporter.h, docs/agent.md "Phases"): its phase and message from what
// its pass saw, the failure episode it opens or ends (Failed kept while the agent retries),
// and the app_applied / crash_loop / app_stopped events. Mutex held.
#include "agent/engine_spec.h"
#include "app_reporter.h"

namespace pharos::agent {

namespace {

bool isOneShot(const Service& s) {
  RestartPolicy p = effectiveRestartPolicy(s);
  return p.name == "no" || p.name == "on-failure";
}

}  // namespace

void AppReporter::computePhase(AppRun& app) {
  const std::string& name = app.desired.spec.name;
  DesiredState state = app.desired.spec.state;
  auto now = ctx_.clock.steadyNow();
  AppPhase phase = AppPhase::kPending;
  std::string message;
  if (state == DesiredState::kRemoved) {
    phase = AppPhase::kRemoving;
    message = app.failure;
  } else if (!app.parse_error.empty()) {
    phase = AppPhase::kFailed;
    message = app.parse_error;
  } else if (state == DesiredState::kStopped) {
    phase = AppPhase::kStopped;
    message = app.failure;
  } else if (!app.failure.empty()) {
    phase = AppPhase::kFailed;
    message = app.failure;
  } else if (app.pulling) {
    phase = AppPhase::kPulling;
    message = "pulling images";
  } else if (!app.file) {
    phase = AppPhase::kPending;
  } else {
    bool degraded = false;
    bool starting = app.waiting;
    std::string crash;
    for (const Service& s : app.file->services) {
      auto it = app.services.find(s.name);
      if (it == app.services.end() || !it->second.info) {
        starting = true;
        continue;
      }
      const ServiceRun& run = it->second;
      const ContainerInfo& info = *run.info;
      if (run.tracker.crashLooping(now)) {
        crash = s.name + " died " + std::to_string(run.tracker.deathsInWindow(now)) +
                " times within a minute";
        continue;
      }
      if (info.running) {
        if (info.health == "starting") starting = true;
        if (info.health == "unhealthy") {
          degraded = true;
          message = s.name + " is unhealthy";
        }
      } else if (info.restarting) {
        degraded = true;
        message = s.name + " is restarting";
      } else if (info.state == ContainerState::kCreated) {
        starting = true;
      } else if (!(isOneShot(s) && info.exit_code == 0)) {
        degraded = true;
        message = s.name + " exited with code " + std::to_string(info.exit_code);
      }
    }
    if (!crash.empty()) {
      phase = AppPhase::kCrashLoop;
      message = crash;
      // Re-evaluate when the window may have passed.
      lanes_.schedule(name, std::chrono::seconds(15));
    } else if (degraded) {
      phase = AppPhase::kDegraded;
    } else if (starting) {
      phase = AppPhase::kStarting;
      if (app.waiting && message.empty()) message = app.waiting_message;
    } else {
      phase = AppPhase::kRunning;
    }
  }
  if (app.stops_pending && state == DesiredState::kRunning &&
      (phase == AppPhase::kRunning || phase == AppPhase::kDegraded)) {
    // Replacing services: not Running (nor applied) until the new containers run.
    phase = AppPhase::kStarting;
    message = app.stops_message;
  }
  if (app.stops_pending && state == DesiredState::kStopped) {
    // Stopped once nothing runs; until then the phase it had, saying what it waits for.
    phase = app.phase == AppPhase::kFailed ? AppPhase::kPending : app.phase;
    message = app.stops_message;
  } else if (phase == AppPhase::kFailed) {
    if (!app.failing) {
      app.failing = true;
      emit("app_failed", name, "", message);
    }
    app.failing_message = message;
  } else if (app.failing && (phase == AppPhase::kPending || phase == AppPhase::kPulling ||
                             phase == AppPhase::kStarting)) {
    // The agent retries (a backoff, a pull again, a start again): the failure stands until
    // the app runs.
    phase = AppPhase::kFailed;
    message = app.failing_message;
  } else if (phase == AppPhase::kRunning || phase == AppPhase::kStopped) {
    app.failing = false;  // the episode is over
    app.failing_message.clear();
  }
  if (phase != app.phase) {
    if (phase == AppPhase::kCrashLoop) emit("crash_loop", name, "", message);
    if (phase == AppPhase::kStopped) emit("app_stopped", name, "", "app state is stopped");
  }
  if (phase == AppPhase::kRunning && app.applied_revision != app.desired.spec.revision) {
    app.applied_revision = app.desired.spec.revision;
    emit("app_applied", name, "",
         "revision " + std::to_string(app.desired.spec.revision) + " running", takeCreated(app));
  }
  app.phase = phase;
  app.message = phase == AppPhase::kRunning && !app.stops_pending ? std::string() : message;
}

}  // namespace pharos::agent
