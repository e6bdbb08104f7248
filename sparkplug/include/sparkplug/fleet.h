// The edge node's picture of the site, built only from Pharos' own topics: per node its
// health verdict (the anchor's), info, reported state and latest metrics; per app its rollout
// summary; the anchor's status. `apply` takes one received message and says what it changed;
// the metric trees (metric_tree.h) are computed from these facts.
//
// Not thread-safe: the EdgeNode owns one and guards it with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "pharos/messages.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::sparkplug {

struct DeviceFacts {
  std::optional<NodeHealth> health;
  std::optional<NodeInfo> info;
  std::optional<NodeState> state;
  std::optional<NodeMetrics> metrics;
  bool ready() const { return health && health->state == Readiness::kReady; }
};

struct FleetCounts {
  int nodes = 0;
  int ready = 0;
  int not_ready = 0;
  int unreachable = 0;
  int pending = 0;
  int apps = 0;
  int rollouts_in_progress = 0;
  std::string anchor = "unknown";  // online|offline|unknown
  bool operator==(const FleetCounts&) const = default;
};

struct FleetChange {
  enum class Kind { kNone, kDevice, kFleet };
  Kind kind = Kind::kNone;
  std::string node;             // kDevice
  bool health_changed = false;  // kDevice: the verdict's state changed (or appeared/vanished)
  bool removed = false;         // kDevice: the node's health document was deleted
};

class Fleet {
 public:
  // The Pharos subscriptions that feed apply() (read-only, QoS 1).
  static std::vector<std::string> subscriptions();

  // Decodes and applies one message of those subscriptions. A message that does not decode
  // is an error (the caller logs it) and changes nothing.
  Result<FleetChange> apply(const MqttMessage& message);

  const std::map<std::string, DeviceFacts>& devices() const { return devices_; }
  const DeviceFacts* device(const std::string& node) const;
  FleetCounts counts() const;

 private:
  std::map<std::string, DeviceFacts> devices_;
  std::map<std::string, RolloutSummary> rollouts_;
  std::string anchor_ = "unknown";
};

}  // namespace pharos::sparkplug
