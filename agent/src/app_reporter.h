// What the reconciler says about the apps (docs/agent.md "Phases", "Events"): the events it
// emits and the change notifications, both delivered on the core strand in the order emitted;
// an app's phase and message from what its pass saw (app_reporter_phase.cpp); failure
// episodes (one app_failed each); what a rollout created, listed in its app_applied event;
// and the reported state of every app. Guarded by the reconciler's mutex.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/reconciler.h"
#include "app_run.h"
#include "app_table.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

class AppReporter {
 public:
  // `strand` is the core strand: events and change notifications are delivered on it.
  AppReporter(ReconcilerContext& ctx, ReconcileLanes& lanes, Executor& strand, EventSink events,
              std::function<void()> on_change);

  void emit(const std::string& kind, const std::string& app, const std::string& service,
            const std::string& reason, const std::string& message = "");
  // Posts one change notification (coalesced until it runs).
  void changed();
  // A failure of `service` ("" = the app): opens the app's failure episode (one app_failed
  // event) or updates its message.
  void reportFailure(AppRun& app, const std::string& service, const std::string& reason,
                     const std::string& message);
  // Something a pass created: listed in the app_applied event during a rollout, an event of
  // `kind` at once otherwise.
  void noteCreated(AppRun& app, const std::string& kind, const std::string& service,
                   const std::string& what, const std::string& reason);
  // The app's phase and message from what its pass saw, with the events of a change.
  void computePhase(AppRun& app);
  // Reported state, in app-name order (apps fully removed are absent).
  std::vector<AppState> appStates(const AppTable& table) const;

 private:
  static std::string takeCreated(AppRun& app);

  ReconcilerContext& ctx_;
  ReconcileLanes& lanes_;
  Executor& strand_;
  EventSink events_;
  std::function<void()> on_change_;
  bool change_posted_ = false;  // an on_change_ call is queued on the core strand
};

}  // namespace pharos::agent
