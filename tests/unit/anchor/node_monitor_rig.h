// The anchor's node-watching parts with no MQTT at all (node_health_monitor.h,
// node_monitor.h): OpsFixture's store, registry, publisher, ManualClock and strand, plus the
// guards, a line monitor, the metrics history, a NodeHealthMonitor and the NodeMonitor that
// feeds it, wired as the anchor wires them.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "anchor/guards.h"
#include "anchor/line_monitor.h"
#include "anchor/metrics_history.h"
#include "anchor/node_health_monitor.h"
#include "anchor/node_monitor.h"
#include "anchor_fixture.h"

namespace pharos::anchor::testing {

struct MonitorRig : OpsFixture {
  Guards guards{config, clock};
  MetricsHistory history{store, metricsHistoryOptions(config)};
  LineMonitor lines{
      config,
      reg,
      admin,
      guards,
      events,
      publisher,
      *strand,
      clock,
      LineMonitor::Hooks{[this](const std::string& node, bool restart_beat) {
                           if (restart_beat) health.restartHeartbeat(node);
                           health.applyHealth(node, nullptr);
                         },
                         [this] { health.scheduleFlush(); }, [](const std::string&) {}}};
  NodeHealthMonitor health{config,   reg,   store,   events,  publisher, guards,
                           rollouts, lines, history, *strand, clock};
  NodeMonitor monitor{config,   reg,         store, events, publisher, guards,
                      rollouts, node_states, lines, health, history,   clock};

  // Runs what falls due within `by` on the strand.
  void advance(std::chrono::milliseconds by) { executor.advance(by); }

  // The node's published health state, or nullopt when it has no health record.
  std::optional<Readiness> healthOf(const std::string& node) const {
    auto it = reg.health().find(node);
    if (it == reg.health().end()) return std::nullopt;
    return it->second.health.state;
  }

  bool storedHealth(const std::string& node) {
    auto value = store.get(keys::health(node));
    return value.isOk() && value->has_value();
  }
};

// The session the tests' agents report.
inline constexpr int64_t kSession = 10;

inline std::string beatPayload(int64_t session, int64_t keep_alive = 2) {
  return dumpJson(encode(NodeHeartbeat{session, keep_alive, 0}));
}

}  // namespace pharos::anchor::testing
