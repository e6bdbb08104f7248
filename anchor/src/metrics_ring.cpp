// Rings of store keys and the plan of a metrics.query (metrics_ring.h).
#include "anchor/metrics_ring.h"

#include <fmt/format.h>

#include <algorithm>

namespace pharos::anchor {

Status checkTier(const MetricsTier& t, const char* name) {
  if (t.step.count() < 1 || t.keep.count() < t.step.count() ||
      t.keep.count() % t.step.count() != 0) {
    return Status::invalidArgument(
        fmt::format("{}: the retention ({} s) must be a whole number of steps ({} s)", name,
                    t.keep.count(), t.step.count()));
  }
  if (t.points() > kMaxRingPoints) {
    return Status::invalidArgument(
        fmt::format("{}: {} points per node, at most {}", name, t.points(), kMaxRingPoints));
  }
  return Status::ok();
}

std::string ringKey(const std::string& prefix, const MetricsTier& tier, int64_t ts) {
  int64_t step_ms = tier.step.count() * 1000;
  int64_t slot = (floorTo(std::max<int64_t>(ts, 0), step_ms) / step_ms) % tier.points();
  return fmt::format("{}{:04x}", prefix, slot);
}

Status scanRing(Store& store, const std::string& prefix, const MetricsTier& tier, int64_t from,
                int64_t to, const Store::Visitor& visit) {
  int64_t step_ms = tier.step.count() * 1000;
  int64_t first = floorTo(from, step_ms) / step_ms;
  int64_t last = floorTo(to, step_ms) / step_ms;
  if (last - first + 1 >= tier.points()) return store.scan(prefix, visit);
  auto run = [&](int64_t lo, int64_t hi) {
    std::string end = prefix + fmt::format("{:04x}", hi);
    return store.scan(prefix, prefix + fmt::format("{:04x}", lo),
                      [&](std::string_view k, std::string_view v) {
                        if (k > end) return false;
                        return visit(k, v);
                      });
  };
  int64_t s0 = first % tier.points(), s1 = last % tier.points();
  if (s0 <= s1) return run(s0, s1);
  PHAROS_RETURN_IF_ERROR(run(s0, tier.points() - 1));
  return run(0, s1);
}

Result<QueryPlan> planQuery(const MetricsQueryRequest& req, int64_t now_ms, const MetricsTier& fine,
                            const MetricsTier& coarse, int64_t max_points) {
  QueryPlan plan;
  plan.to = req.to > 0 ? std::min(req.to, now_ms) : now_ms;
  plan.from = req.from > 0 ? req.from : plan.to - 3'600'000;
  if (plan.from > plan.to) {
    return Status::invalidArgument("from: later than to (or than now)").withPath("from");
  }
  // The fine ring when it holds the whole range (give or take one of its steps, for a
  // caller's "the last hour" computed a moment earlier) and the step asked for is finer than
  // the coarse one.
  const int64_t fine_since = now_ms - (fine.keep.count() + fine.step.count()) * 1000;
  plan.fine = plan.from >= fine_since && req.step < coarse.step.count();
  const MetricsTier& tier = plan.fine ? fine : coarse;
  // A point is held while its step is among the ring's last `points` steps; an older slot
  // value is stale (a node that stopped reporting) and never answered.
  const int64_t oldest = floorTo(now_ms, tier.step.count() * 1000) - tier.keep.count() * 1000;
  plan.from = std::max(plan.from, oldest);
  plan.none = plan.from > plan.to;
  plan.from = std::clamp<int64_t>(plan.from, 0, plan.to);
  int64_t range_s = (plan.to - plan.from) / 1000 + 1;
  int64_t tier_step = tier.step.count();
  auto roundUp = [tier_step](int64_t s) { return (s + tier_step - 1) / tier_step * tier_step; };
  plan.step = roundUp(req.step > 0 ? req.step : tier_step);
  if (req.step == 0) {
    plan.step = std::max(plan.step, roundUp((range_s + max_points - 1) / max_points));
  } else if (range_s / plan.step > max_points) {
    return Status::invalidArgument(fmt::format("step: {} s over {} s gives more than {} points",
                                               req.step, range_s, max_points))
        .withPath("step");
  }
  plan.scan_from = std::max(floorTo(plan.from, tier_step * 1000), oldest);
  return plan;
}

}  // namespace pharos::anchor
