// The metric trees (metric_tree.h).
#include "sparkplug/metric_tree.h"

#include <cmath>

namespace pharos::sparkplug {
namespace {

constexpr size_t kMaxText = 256;  // longer reasons and messages are cut

std::string cut(const std::string& text) {
  return text.size() <= kMaxText ? text : text.substr(0, kMaxText - 3) + "...";
}

// Resource figures are rounded so that noise below what an operator reads is no change.
double round(double value, double step) { return std::round(value / step) * step; }

void put(MetricTree& tree, std::string name, DataType type, Value value) {
  tree[std::move(name)] = TreeValue{type, std::move(value)};
}

template <typename T, typename F>
Value optional(const std::optional<T>& source, F get) {
  if (!source) return std::monostate{};
  return Value(get(*source));
}

struct ControlName {
  const char* suffix;
  const char* operation;
};
constexpr ControlName kControls[] = {
    {"Restart", "app.restart"}, {"Stop", "app.stop"}, {"Start", "app.start"}};

}  // namespace

std::optional<AppControl> parseAppControl(const std::string& name) {
  static const std::string kPrefix = "Apps/";
  static const std::string kMiddle = "/Control/";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  size_t middle = name.find(kMiddle, kPrefix.size());
  if (middle == std::string::npos || middle == kPrefix.size()) return std::nullopt;
  std::string app = name.substr(kPrefix.size(), middle - kPrefix.size());
  if (app.find('/') != std::string::npos) return std::nullopt;
  std::string suffix = name.substr(middle + kMiddle.size());
  for (const auto& c : kControls) {
    if (suffix == c.suffix) return AppControl{app, c.operation};
  }
  return std::nullopt;
}

MetricTree nodeTree(const FleetCounts& c) {
  MetricTree t;
  put(t, kRebirth, DataType::kBoolean, false);
  put(t, "Properties/Software", DataType::kString, std::string("Pharos"));
  put(t, "Properties/Version", DataType::kString, std::string(PHAROS_VERSION));
  put(t, "Anchor/Status", DataType::kString, c.anchor);
  put(t, "Fleet/Nodes", DataType::kInt32, int64_t{c.nodes});
  put(t, "Fleet/Nodes Ready", DataType::kInt32, int64_t{c.ready});
  put(t, "Fleet/Nodes NotReady", DataType::kInt32, int64_t{c.not_ready});
  put(t, "Fleet/Nodes Unreachable", DataType::kInt32, int64_t{c.unreachable});
  put(t, "Fleet/Nodes Pending", DataType::kInt32, int64_t{c.pending});
  put(t, "Fleet/Apps", DataType::kInt32, int64_t{c.apps});
  put(t, "Fleet/Rollouts In Progress", DataType::kInt32, int64_t{c.rollouts_in_progress});
  return t;
}

MetricTree deviceTree(const DeviceFacts& f, bool commands) {
  MetricTree t;
  const auto& h = f.health;
  put(t, "Health/State", DataType::kString,
      optional(h, [](auto& x) { return std::string(toWire(x.state)); }));
  put(t, "Health/Reason", DataType::kString, optional(h, [](auto& x) { return cut(x.reason); }));
  put(t, "Health/Since", DataType::kDateTime, optional(h, [](auto& x) { return x.since; }));
  const auto& i = f.info;
  using S = std::string;
  put(t, "Properties/Agent Version", DataType::kString,
      optional(i, [](auto& x) -> S { return x.agent_version; }));
  put(t, "Properties/Hostname", DataType::kString,
      optional(i, [](auto& x) -> S { return x.hostname; }));
  put(t, "Properties/OS", DataType::kString, optional(i, [](auto& x) -> S { return x.os; }));
  put(t, "Properties/Architecture", DataType::kString,
      optional(i, [](auto& x) -> S { return x.arch; }));
  put(t, "Properties/Kernel", DataType::kString,
      optional(i, [](auto& x) -> S { return x.kernel; }));
  put(t, "Properties/Docker Version", DataType::kString,
      optional(i, [](auto& x) -> S { return x.docker_version; }));
  put(t, "Properties/CPUs", DataType::kInt32, optional(i, [](auto& x) { return int64_t{x.cpus}; }));
  const auto& m = f.metrics;
  put(t, "Metrics/CPU Percent", DataType::kDouble,
      optional(m, [](auto& x) { return round(x.cpu_percent, 0.1); }));
  put(t, "Metrics/Load 1", DataType::kDouble,
      optional(m, [](auto& x) { return round(x.load1, 0.01); }));
  put(t, "Metrics/Memory Used", DataType::kUInt64,
      optional(m, [](auto& x) { return int64_t{x.mem_used}; }));
  put(t, "Metrics/Memory Total", DataType::kUInt64,
      optional(m, [](auto& x) { return int64_t{x.mem_total}; }));
  put(t, "Metrics/Disk Used", DataType::kUInt64,
      optional(m, [](auto& x) { return int64_t{x.disk_used}; }));
  put(t, "Metrics/Disk Total", DataType::kUInt64,
      optional(m, [](auto& x) { return int64_t{x.disk_total}; }));
  if (!f.state) return t;
  for (const auto& app : f.state->apps) {
    const std::string base = "Apps/" + app.name + "/";
    int64_t restarts = 0;
    int64_t running = 0;
    for (const auto& s : app.services) {
      restarts += s.restart_count;
      if (s.state == ContainerState::kRunning) ++running;
    }
    put(t, base + "Revision", DataType::kInt64, int64_t{app.revision});
    put(t, base + "Phase", DataType::kString, std::string(toWire(app.phase)));
    put(t, base + "Message", DataType::kString, cut(app.message));
    put(t, base + "Restart Count", DataType::kInt32, restarts);
    put(t, base + "Services Running", DataType::kInt32, running);
    put(t, base + "Services Desired", DataType::kInt32, static_cast<int64_t>(app.services.size()));
    if (commands) {
      for (const auto& c : kControls) {
        put(t, base + "Control/" + c.suffix, DataType::kBoolean, false);
      }
    }
  }
  return t;
}

std::vector<Metric> changedMetrics(const MetricTree& before, const MetricTree& after,
                                   uint64_t timestamp) {
  std::vector<Metric> out;
  for (const auto& [name, v] : after) {
    auto it = before.find(name);
    if (it != before.end() && it->second == v) continue;
    out.push_back(Metric{name, v.type, v.value, timestamp, true});
  }
  return out;
}

std::vector<Metric> allMetrics(const MetricTree& tree, uint64_t timestamp) {
  return changedMetrics(MetricTree{}, tree, timestamp);
}

bool sameShape(const MetricTree& a, const MetricTree& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.type != ib->second.type) return false;
  }
  return true;
}

}  // namespace pharos::sparkplug
