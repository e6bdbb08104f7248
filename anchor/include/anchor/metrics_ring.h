// What the two metrics histories share (docs/metrics.md): a node's own figures
// (metrics_history.h) and its containers' (container_history.h) are both kept in rings of
// store keys, one slot per step, `<prefix><%04x slot>` with slot = (ts / step) mod points,
// so a newer point overwrites the one a whole ring older; and a metrics.query is answered
// from the ring and at the step planQuery() picks.
//
// Threading: pure functions (the store's own rules apply to scanRing).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "anchor/store.h"
#include "pharos/api.h"
#include "pharos/status.h"

namespace pharos::anchor {

struct MetricsTier {
  std::chrono::seconds step;
  std::chrono::seconds keep;
  int64_t points() const { return keep.count() / step.count(); }
};

inline constexpr int64_t kMaxRingPoints = 65536;  // slots are 4 hex digits

// `v` rounded down to a multiple of `step` (also for negative values).
inline int64_t floorTo(int64_t v, int64_t step) { return v - (((v % step) + step) % step); }

// Figures as answers carry them: CPU and load to 0.01, bytes whole.
inline double hundredths(float v) { return std::round(static_cast<double>(v) * 100) / 100; }
inline int64_t whole(float v) { return std::llround(static_cast<double>(v)); }
// A figure from an agent as stored: NaN, infinite or negative become 0.
inline float storedFigure(double v) {
  return std::isfinite(v) ? static_cast<float>(std::max(0.0, v)) : 0.0f;
}

// invalid_argument naming `name` unless the tier's retention is a whole number of its steps
// and at most kMaxRingPoints of them.
Status checkTier(const MetricsTier& tier, const char* name);

// The key of the slot that holds the point of `ts` (Unix ms) in `tier`'s ring under `prefix`.
std::string ringKey(const std::string& prefix, const MetricsTier& tier, int64_t ts);

// Visits the stored values of the slots that cover [from, to] (Unix ms) in `tier`'s ring
// under `prefix`: one or two contiguous key runs, or the whole ring when the range spans it.
// Slot values are not checked: a caller drops points whose time lies outside the range.
Status scanRing(Store& store, const std::string& prefix, const MetricsTier& tier, int64_t from,
                int64_t to, const Store::Visitor& visit);

// How a metrics.query is answered: from the fine ring when it holds the whole range and the
// step asked for is finer than the coarse one, else the coarse ring; over [from, to] (`from`
// raised to the ring's oldest held step), at `step` seconds (the request's rounded up to the
// ring's, or the finest that gives at most `max_points`).
struct QueryPlan {
  bool fine = true;
  int64_t from = 0;
  int64_t to = 0;
  int64_t step = 0;       // seconds
  int64_t scan_from = 0;  // Unix ms: the first step to read
  bool none = false;      // the ring holds nothing of the range
};
Result<QueryPlan> planQuery(const MetricsQueryRequest& request, int64_t now_ms,
                            const MetricsTier& fine, const MetricsTier& coarse, int64_t max_points);

}  // namespace pharos::anchor
