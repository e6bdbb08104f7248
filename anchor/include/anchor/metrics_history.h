// Nodes' metrics history (docs/metrics.md): every nodes/{node}/metrics sample is kept in two
// tiers of fixed-size rings in the store — a fine tier (default one point per 15 s for an
// hour) and a coarse tier (default the mean of each 5 min for 7 days). A point's key is its
// slot in its ring, metrics/<node>/<f|c>/<%04x slot> (metrics_ring.h), so a newer point
// overwrites the one a whole ring older: the history is bounded by construction (no trimming
// pass), at (fine points + coarse points) keys per node. The sample's per-container figures
// go to the node's container rings (container_history.h, a shorter coarse retention), written
// in the same batches. Points are written unsynced with the next flush (losing the last half
// second on power failure is harmless); the coarse point being built is written at every
// flush too, and picked up again from the store after a restart.
//
// Threading: used on the anchor's strand only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anchor/anchor_config.h"
#include "anchor/container_history.h"
#include "anchor/metrics_ring.h"
#include "anchor/store.h"
#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/messages.h"

namespace pharos::anchor {

struct MetricsHistoryOptions {
  MetricsTier fine{std::chrono::seconds(15), std::chrono::seconds(3600)};
  MetricsTier coarse{std::chrono::seconds(300), std::chrono::seconds(7 * 24 * 3600)};
  // The containers' coarse retention (their coarse step is the nodes'; their fine ring too).
  std::chrono::seconds container_keep{24 * 3600};
  // A query answers at most this many points (a smaller step over a longer range is refused).
  int64_t max_points = 10'000;
};

// One point: a sample (fine tier) or the mean of the samples of one step (coarse tier;
// cpu_max is their maximum). `ts` is the start of its step, Unix ms by the anchor's clock.
struct MetricsPoint {
  int64_t ts = 0;
  uint32_t samples = 0;
  float cpu = 0;
  float cpu_max = 0;
  float mem_used = 0;
  float mem_total = 0;
  float disk_used = 0;
  float disk_total = 0;
  float load1 = 0;
};

MetricsHistoryOptions metricsHistoryOptions(const AnchorOptions& options);

class MetricsHistory {
 public:
  // Refuses (invalid_argument) a tier whose step does not divide its retention, a ring
  // above 65536 points, or a coarse step that is not a multiple of the fine one (the
  // containers' coarse ring included).
  static Status check(const MetricsHistoryOptions& options);

  MetricsHistory(Store& store, MetricsHistoryOptions options);

  // Records a sample received at `now_ms` (the anchor's clock; a device clock may be wrong),
  // its containers' figures too.
  void record(const std::string& node, int64_t now_ms, const NodeMetrics& sample);
  // Writes the points recorded since the last flush in one unsynced batch.
  Status flush();
  // Deletes the node's history (node.remove) in `batch`, and its pending points.
  Status forget(const std::string& node, WriteBatch& batch);

  // The metrics.query answer: {node, tier, step, from, to, ts: [...], cpu: [...], ...}; with
  // the request's `app`, its containers' (ContainerHistory::query).
  Result<Json> query(const MetricsQueryRequest& request, int64_t now_ms);

  const MetricsHistoryOptions& options() const { return options_; }
  // The store key of the slot holding the point of `ts` in the fine or coarse ring.
  std::string slotKey(const std::string& node, bool fine, int64_t ts) const {
    return key(node, fine ? Tier::kFine : Tier::kCoarse, ts);
  }
  size_t pendingPoints() const { return pending_.size() + containers_.pendingPoints(); }
  ContainerHistory& containers() { return containers_; }

  // Value encoding of a point (fixed 40 bytes, little-endian); exposed for tests.
  static std::string encodePoint(const MetricsPoint& point);
  static bool decodePoint(std::string_view bytes, MetricsPoint* point);

 private:
  enum class Tier { kFine, kCoarse };
  const MetricsTier& tier(Tier t) const {
    return t == Tier::kFine ? options_.fine : options_.coarse;
  }
  std::string key(const std::string& node, Tier t, int64_t ts) const;
  // The points of `node` in tier `t` whose ts lies in [from, to], oldest first.
  Result<std::vector<MetricsPoint>> read(const std::string& node, Tier t, int64_t from, int64_t to);
  // The coarse point being built for `node` (from the store after a restart).
  MetricsPoint& coarse(const std::string& node, int64_t bucket);

  Store& store_;
  MetricsHistoryOptions options_;
  std::map<std::string, MetricsPoint> building_;  // node -> current coarse point
  std::map<std::string, std::string> pending_;    // key -> encoded point
  ContainerHistory containers_;
};

}  // namespace pharos::anchor
