// The records of the apps the reconciler manages (reconciler.h): an app's desired entry, what
// its last pass saw and concluded, and per service the supervision state. Owned by the
// AppTable (app_table.h); read and written by the parts under the reconciler's mutex, except
// that an app's desired entry and parsed compose are written only by the app's own pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/engine_spec.h"
#include "agent/reconciler.h"
#include "agent/restart_tracker.h"

namespace pharos::agent {

struct ServiceRun {
  explicit ServiceRun(RestartBackoff backoff) : tracker(backoff) {}
  RestartTracker tracker;
  std::string container_id;           // last container seen for this service
  std::optional<ContainerInfo> info;  // last inspect: its typed fields (raw is dropped)
  bool ever_seen = false;
  bool oom_pending = false;       // an oom event precedes the die event
  bool stopped_by_agent = false;  // stopped for state: stopped; started again at once
  std::optional<std::chrono::steady_clock::time_point> waiting_since;
  std::string probed_hash;  // the config hash whose create the engine accepted (probe)
  // The body that probe created and its context: the create that follows reuses it.
  struct Probed {
    EngineContext context;
    ContainerSpec spec;
  };
  std::optional<Probed> probed;
};

struct AppRun {
  // The desired entry and its parsed compose. Written only by the app's own pass
  // (AppTable::adopt, at its start), so a pass reads them without the mutex while an engine
  // call runs; AppTable::offer leaves a new entry in `next`.
  DesiredApp desired;
  std::shared_ptr<const ComposeFile> file;
  std::string parse_error;
  struct Next {
    DesiredApp desired;
    std::shared_ptr<const ComposeFile> file;  // null: unchanged compose, or a parse error
    std::string parse_error;
    bool compose_changed = false;
  };
  std::optional<Next> next;
  bool detached = false;  // dropped from the desired set while its pass ran

  AppPhase phase = AppPhase::kPending;
  std::string message;
  std::string failure;  // this pass's pull/create/start failure ("" = none)
  bool pulling = false;
  bool waiting = false;
  std::string waiting_message;
  // Stops in flight (container ids), and whether this pass waits for stops (with what).
  std::set<std::string> stopping;
  bool stops_pending = false;
  std::string stops_message;
  std::set<std::string> refused;  // services whose new body the engine refused this pass
  bool gone = false;
  bool removal_reported = false;
  std::map<std::string, ServiceRun> services;
  std::set<std::string> current_images;
  std::set<std::string> previous_images;
  int64_t applied_revision = 0;  // revision last reported with app_applied
  // What a rollout created (networks, volumes, first containers), reported in its app_applied
  // event instead of one event each (see AppReporter::noteCreated).
  std::vector<std::string> created;
  size_t created_more = 0;
  // A failure episode (docs/agent.md "Phases"): from the first failure after the app was
  // last Running or Stopped, or after its desired entry changed, until it is Running or
  // Stopped again or its entry changes. One app_failed event per episode; while it lasts the
  // phase stays Failed with the last failure's message, also while the agent retries.
  bool failing = false;
  std::string failing_message;

  ServiceRun& service(const std::string& name, RestartBackoff backoff) {
    auto it = services.find(name);
    if (it == services.end()) it = services.emplace(name, ServiceRun(backoff)).first;
    return it->second;
  }
};

}  // namespace pharos::agent
