// The per-container part of the nodes' metrics history (docs/metrics.md): the `containers`
// of every nodes/{node}/metrics sample, kept per node in two rings of store keys like the
// node's own figures (metrics_ring.h) — a fine ring (the nodes' fine step and retention,
// the last sample of each step) and a coarse ring (the nodes' coarse step, a shorter
// retention: by default 24 h, the mean of each step per container). One slot holds every
// container of the node at that step, `metrics/<node>/<cf|cc>/<%04x slot>`, so a node
// costs two puts per sample whatever its number of containers (at most kMaxContainers per
// point). metrics.query with `app` reads one app's containers on one node from it.
//
// Threading: used on the anchor's strand only (through MetricsHistory).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "anchor/metrics_ring.h"
#include "anchor/store.h"
#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/messages.h"

namespace pharos::anchor {

// One container's figures at one point: the sample (fine) or the mean of the step's
// samples that listed it (coarse; cpu_max is their maximum). mem is bytes.
struct ContainerFigures {
  std::string app;
  std::string service;
  uint32_t samples = 0;
  float cpu = 0;
  float cpu_max = 0;
  float mem = 0;
};

// Every container of a node at one step; `ts` is the step's start (Unix ms, anchor clock).
struct ContainersPoint {
  int64_t ts = 0;
  std::vector<ContainerFigures> containers;  // sorted by app, then service
};

class ContainerHistory {
 public:
  static constexpr size_t kMaxContainers = 64;  // per node and point; the rest are not kept

  ContainerHistory(Store& store, MetricsTier fine, MetricsTier coarse, int64_t max_points);

  // Records a sample's containers, received at `now_ms`.
  void record(const std::string& node, int64_t now_ms, const std::vector<ContainerMetrics>& list);
  // Moves the points recorded since the last call into `batch`.
  void stage(WriteBatch& batch);
  // Drops the node's pending and building points (its store keys go with the node's
  // metrics/<node>/ prefix, MetricsHistory::forget).
  void forget(const std::string& node);
  size_t pendingPoints() const { return pending_.size(); }

  // metrics.query with `app`: {node, app, tier, step, from, to, ts: [...], containers:
  // [{service, cpu: [...], cpu_max: [...], mem: [...]}]}, one entry per step in which the
  // app had a container, null where a service had no figures.
  Result<Json> query(const MetricsQueryRequest& request, int64_t now_ms);

  // The store key of the slot holding the point of `ts` in the fine or coarse ring.
  std::string slotKey(const std::string& node, bool fine, int64_t ts) const;

  // Value encoding (little-endian): ts int64, count uint16, then per container app and
  // service (uint8 length + bytes), samples uint32, cpu, cpu_max, mem float32.
  static std::string encodePoint(const ContainersPoint& point);
  static bool decodePoint(std::string_view bytes, ContainersPoint* point);

 private:
  std::string prefix(const std::string& node, bool fine) const;
  // The points of `node` in one ring whose ts lies in [from, to], oldest first.
  Result<std::vector<ContainersPoint>> read(const std::string& node, bool fine, int64_t from,
                                            int64_t to);
  // The coarse point being built for `node` (from the store after a restart).
  ContainersPoint& coarse(const std::string& node, int64_t bucket);

  Store& store_;
  MetricsTier fine_;
  MetricsTier coarse_;
  int64_t max_points_;
  std::map<std::string, ContainersPoint> building_;  // node -> current coarse point
  std::map<std::string, std::string> pending_;       // key -> encoded point
};

}  // namespace pharos::anchor
