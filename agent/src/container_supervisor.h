// The reconciler's supervision of its containers (docs/agent.md "Failover"): the Docker
// events of managed containers (deaths recorded and reported, the app's pass scheduled), the
// containers the reconciler stops or removes itself (their events are no failures), the
// container engine's outages, and an existing container's restart: restart policy honoured,
// the agent's own restarts with their backoff (reset from the container's own start), and
// containers the engine's restart stopped started again. Guarded by the reconciler's mutex,
// released around engine calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "app_reporter.h"
#include "app_run.h"
#include "app_table.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

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

class ContainerSupervisor {
 public:
  ContainerSupervisor(ReconcilerContext& ctx, ReconcileLanes& lanes, AppTable& table,
                      AppReporter& reporter);

  // A Docker event of a container: for one of this node's, records deaths, reports them and
  // schedules the app's pass (reconciler.h).
  void onContainerEvent(const DockerEvent& event);
  // The container engine became unreachable / reachable again (reconciler.h).
  void engineLost();
  void engineBack();

  // The existing, up-to-date container of `service` as inspected: started again when it
  // stopped and should run (after the restart backoff), left alone otherwise.
  void supervise(AppRun& app, const Service& service, ServiceRun& run, const ContainerInfo& info);

  // The reconciler stops `id` (until its die event) / removes it (until its destroy event).
  void expectStop(const std::string& id) { expected_stops_.insert(id); }
  void expectExit(const std::string& id) { expected_exits_.insert(id); }
  // The stop of `id` failed: a die event of it is news again.
  void stopFailed(const std::string& id) { expected_stops_.erase(id); }

 private:
  bool stoppedByEngine(const ContainerInfo& info) const;

  ReconcilerContext& ctx_;
  ReconcileLanes& lanes_;
  AppTable& table_;
  AppReporter& reporter_;
  std::set<std::string> expected_stops_;
  std::set<std::string> expected_exits_;
  // Wall-clock ms: when the engine was lost (0: reachable), and the window of exit times
  // that the last engine outage explains (engineLost/engineBack).
  int64_t engine_lost_ms_ = 0;
  std::optional<std::pair<int64_t, int64_t>> engine_outage_;
  std::chrono::steady_clock::time_point engine_back_at_{};
};

}  // namespace pharos::agent
