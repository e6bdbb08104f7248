// Private state of the Reconciler (reconciler.h), shared by reconciler.cpp (desired set,
// pulls, events, supervision, reporting), reconciler_lanes.cpp (lanes, timers, stops),
// reconciler_pass.cpp and reconciler_remove.cpp (the passes). Guarded by Reconciler::mu_.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/engine_spec.h"
#include "agent/reconciler.h"
#include "agent/restart_tracker.h"

namespace pharos::agent {

// A label's value, "" when absent.
inline std::string label(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// Removes a container (force) and then the anonymous volumes it used, where no other
// container uses them: those the engine made for it (rm -v) and those it had reused from an
// older container by name (which rm -v leaves). Returns the container removal's status.
Status removeWithAnonymousVolumes(DockerClient& docker, const std::string& id);

// Exits from this long before the engine was lost count as caused by its going down (a clean
// daemon stop gives each container 10 s before SIGKILL, then closes the API), and until this
// long after it was back (a restarted engine kills what still ran before its API answers).
constexpr std::chrono::milliseconds kEngineStopWindow{15'000};
constexpr std::chrono::milliseconds kEngineBackSlack{2'000};
// After the engine is back, how long containers it restarts itself (restart policy always,
// unless-stopped) are left to it before the agent starts them.
constexpr std::chrono::milliseconds kEngineRestoreGrace{10'000};

// Unix ms of an RFC 3339 UTC time as the engine writes it ("2026-11-26T02:41:09.123456789Z");
// nullopt for anything else.
std::optional<int64_t> parseRfc3339Ms(const std::string& text);

struct Reconciler::ServiceRun {
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

struct Reconciler::AppRun {
  // The desired entry and its parsed compose. Written only by the app's own pass (adopt(), at
  // its start), so a pass reads them without mu_ while an engine call runs; setDesired()
  // leaves a new entry in `next`.
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
  // event instead of one event each (see Reconciler::noteCreated).
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

// Keeps tasks from running after shutdown() and lets shutdown() wait for running ones.
struct Reconciler::Life {
  std::mutex mu;
  std::condition_variable idle;
  bool open = true;
  int running = 0;
};

template <class F>
auto Reconciler::engine(F&& call) -> decltype(call()) {
  mu_.unlock();
  struct Relock {
    std::mutex& mu;
    ~Relock() { mu.lock(); }
  } relock{mu_};
  return call();
}

// service -> the services it depends on (depends_on keys), from a compose file (null: none).
std::map<std::string, std::set<std::string>> dependencyGraph(const ComposeFile* file);

struct Reconciler::PullJob {
  enum class State { kQueued, kRunning, kFailed };
  State state = State::kQueued;
  std::string message;
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::milliseconds retry_delay{0};
  uint64_t order = 0;  // FIFO among queued jobs
};

}  // namespace pharos::agent
