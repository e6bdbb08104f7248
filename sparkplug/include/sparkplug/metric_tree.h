// The Sparkplug metric trees Pharos publishes (docs/scada.md lists them with an example):
// the edge node's (fleet counts, the anchor's status, Node Control/Rebirth) and each
// device's (health, properties, resource figures, one folder per app). A tree is a map from
// metric name to datatype and value; comparing two trees gives what a DDATA/NDATA carries
// (`changedMetrics`) and whether the metric set itself changed (a new DBIRTH is due).
// Pure functions: thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sparkplug/fleet.h"
#include "sparkplug/payload.h"

namespace pharos::sparkplug {

struct TreeValue {
  DataType type = DataType::kUnknown;
  Value value;
  bool operator==(const TreeValue&) const = default;
};
using MetricTree = std::map<std::string, TreeValue>;

// Metric names that are facts of the specification or fixed by Pharos.
inline constexpr const char* kBdSeq = "bdSeq";
inline constexpr const char* kRebirth = "Node Control/Rebirth";

// App command metrics: Apps/{app}/Control/{Restart|Stop|Start} (Boolean; write true).
struct AppControl {
  std::string app;
  std::string operation;  // app.restart | app.stop | app.start
};
// The command a metric name stands for; nullopt when the name is no app control.
std::optional<AppControl> parseAppControl(const std::string& metric_name);

// The edge node's tree, without bdSeq (which NBIRTH and NDEATH add).
MetricTree nodeTree(const FleetCounts& counts);
// A device's tree. With `commands`, each app also has its three Control metrics.
MetricTree deviceTree(const DeviceFacts& facts, bool commands);

// Metrics whose value differs, or that are new, in `after` (all of `after` when `before` is
// empty), stamped with `timestamp`.
std::vector<Metric> changedMetrics(const MetricTree& before, const MetricTree& after,
                                   uint64_t timestamp);
// Every metric of a tree, stamped with `timestamp` (births).
std::vector<Metric> allMetrics(const MetricTree& tree, uint64_t timestamp);
// True when both trees name the same metrics with the same datatypes.
bool sameShape(const MetricTree& a, const MetricTree& b);

}  // namespace pharos::sparkplug
