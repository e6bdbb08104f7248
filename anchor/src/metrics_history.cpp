// Nodes' metrics history in two rings of store keys per node (metrics_history.h).
#include "anchor/metrics_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pharos::anchor {
namespace {

constexpr size_t kPointBytes = 40;
constexpr int64_t kMaxRingPoints = 65536;  // slots are 4 hex digits

int64_t floorTo(int64_t v, int64_t step) { return v - (((v % step) + step) % step); }

// Keeps figures readable on the wire: CPU to 0.01 %, load to 0.01, bytes whole.
double hundredths(float v) { return std::round(static_cast<double>(v) * 100) / 100; }
int64_t whole(float v) { return std::llround(static_cast<double>(v)); }

// Folds `p` into the running mean `acc` (weighted by samples); cpu_max is the maximum.
void fold(MetricsPoint& acc, const MetricsPoint& p) {
  uint32_t n = acc.samples + p.samples;
  if (n == 0) return;
  float w = static_cast<float>(p.samples) / static_cast<float>(n);
  auto mix = [w](float& a, float b) { a += (b - a) * w; };
  mix(acc.cpu, p.cpu);
  mix(acc.mem_used, p.mem_used);
  mix(acc.mem_total, p.mem_total);
  mix(acc.disk_used, p.disk_used);
  mix(acc.disk_total, p.disk_total);
  mix(acc.load1, p.load1);
  acc.cpu_max = acc.samples == 0 ? p.cpu_max : std::max(acc.cpu_max, p.cpu_max);
  acc.samples = n;
}

}  // namespace

MetricsHistoryOptions metricsHistoryOptions(const AnchorOptions& o) {
  MetricsHistoryOptions out;
  out.fine = {o.metrics_fine_step, o.metrics_fine_keep};
  out.coarse = {o.metrics_coarse_step, o.metrics_coarse_keep};
  return out;
}

Status MetricsHistory::check(const MetricsHistoryOptions& o) {
  for (const auto* t : {&o.fine, &o.coarse}) {
    const char* name = t == &o.fine ? "metrics_fine" : "metrics_coarse";
    if (t->step.count() < 1 || t->keep.count() < t->step.count() ||
        t->keep.count() % t->step.count() != 0) {
      return Status::invalidArgument(
          fmt::format("{}: the retention ({} s) must be a whole number of steps ({} s)", name,
                      t->keep.count(), t->step.count()));
    }
    if (t->points() > kMaxRingPoints) {
      return Status::invalidArgument(
          fmt::format("{}: {} points per node, at most {}", name, t->points(), kMaxRingPoints));
    }
  }
  if (o.coarse.step.count() % o.fine.step.count() != 0) {
    return Status::invalidArgument("metrics_coarse_step: must be a multiple of metrics_fine_step");
  }
  return Status::ok();
}

MetricsHistory::MetricsHistory(Store& store, MetricsHistoryOptions options)
    : store_(store), options_(options) {}

std::string MetricsHistory::encodePoint(const MetricsPoint& p) {
  std::string out(kPointBytes, '\0');
  char* at = out.data();
  auto put = [&at](const void* v, size_t n) {
    std::memcpy(at, v, n);  // the anchor's platforms are little-endian (docs/metrics.md)
    at += n;
  };
  put(&p.ts, 8);
  put(&p.samples, 4);
  for (float v : {p.cpu, p.cpu_max, p.mem_used, p.mem_total, p.disk_used, p.disk_total, p.load1})
    put(&v, 4);
  return out;
}

bool MetricsHistory::decodePoint(std::string_view bytes, MetricsPoint* p) {
  if (bytes.size() != kPointBytes) return false;
  const char* at = bytes.data();
  auto get = [&at](void* v, size_t n) {
    std::memcpy(v, at, n);
    at += n;
  };
  get(&p->ts, 8);
  get(&p->samples, 4);
  for (float* v : {&p->cpu, &p->cpu_max, &p->mem_used, &p->mem_total, &p->disk_used, &p->disk_total,
                   &p->load1})
    get(v, 4);
  for (float v :
       {p->cpu, p->cpu_max, p->mem_used, p->mem_total, p->disk_used, p->disk_total, p->load1}) {
    if (!std::isfinite(v)) return false;
  }
  return p->samples > 0;
}

std::string MetricsHistory::key(const std::string& node, Tier t, int64_t ts) const {
  int64_t step_ms = tier(t).step.count() * 1000;
  int64_t slot = (floorTo(std::max<int64_t>(ts, 0), step_ms) / step_ms) % tier(t).points();
  return fmt::format("metrics/{}/{}/{:04x}", node, t == Tier::kFine ? 'f' : 'c', slot);
}

MetricsPoint& MetricsHistory::coarse(const std::string& node, int64_t bucket) {
  auto [it, inserted] = building_.try_emplace(node);
  MetricsPoint& point = it->second;
  if (inserted) {
    // After a restart, carry on with the point stored for this step, if any.
    auto stored = store_.get(key(node, Tier::kCoarse, bucket));
    MetricsPoint old;
    if (stored.isOk() && stored->has_value() && decodePoint(**stored, &old) && old.ts == bucket)
      point = old;
  }
  if (point.ts != bucket) point = MetricsPoint{};
  point.ts = bucket;
  return point;
}

void MetricsHistory::record(const std::string& node, int64_t now_ms, const NodeMetrics& m) {
  auto clamp = [](double v) {
    return std::isfinite(v) ? static_cast<float>(std::max(0.0, v)) : 0.0f;
  };
  MetricsPoint sample;
  sample.samples = 1;
  sample.cpu = sample.cpu_max = clamp(m.cpu_percent);
  sample.mem_used = clamp(static_cast<double>(m.mem_used));
  sample.mem_total = clamp(static_cast<double>(m.mem_total));
  sample.disk_used = clamp(static_cast<double>(m.disk_used));
  sample.disk_total = clamp(static_cast<double>(m.disk_total));
  sample.load1 = clamp(m.load1);

  // Fine tier: the last sample of each step.
  sample.ts = floorTo(now_ms, options_.fine.step.count() * 1000);
  pending_[key(node, Tier::kFine, sample.ts)] = encodePoint(sample);
  // Coarse tier: the running mean of the step's samples, rewritten at every flush.
  int64_t bucket = floorTo(now_ms, options_.coarse.step.count() * 1000);
  MetricsPoint& building = coarse(node, bucket);
  fold(building, sample);
  pending_[key(node, Tier::kCoarse, bucket)] = encodePoint(building);
}

Status MetricsHistory::flush() {
  if (pending_.empty()) return Status::ok();
  WriteBatch batch;
  for (auto& [k, v] : pending_) batch.put(k, std::move(v));
  pending_.clear();
  return store_.write(batch, false);
}

Status MetricsHistory::forget(const std::string& node, WriteBatch& batch) {
  std::string prefix = "metrics/" + node + "/";
  building_.erase(node);
  for (auto it = pending_.lower_bound(prefix);
       it != pending_.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
    it = pending_.erase(it);
  return store_.scan(prefix, [&](std::string_view k, std::string_view) {
    batch.del(std::string(k));
    return true;
  });
}

Result<std::vector<MetricsPoint>> MetricsHistory::read(const std::string& node, Tier t,
                                                       int64_t from, int64_t to) {
  const MetricsTier& tr = tier(t);
  int64_t step_ms = tr.step.count() * 1000;
  std::string prefix = fmt::format("metrics/{}/{}/", node, t == Tier::kFine ? 'f' : 'c');
  std::vector<MetricsPoint> out;
  auto visit = [&](std::string_view, std::string_view v) {
    MetricsPoint p;
    if (decodePoint(v, &p) && p.ts >= from && p.ts <= to) out.push_back(p);
    return true;
  };
  // Scan only the slots the range covers (one or two runs of the ring).
  int64_t first = floorTo(from, step_ms) / step_ms;
  int64_t last = floorTo(to, step_ms) / step_ms;
  if (last - first + 1 >= tr.points()) {
    PHAROS_RETURN_IF_ERROR(store_.scan(prefix, visit));
  } else {
    auto run = [&](int64_t lo, int64_t hi) {
      std::string end = prefix + fmt::format("{:04x}", hi);
      return store_.scan(prefix, prefix + fmt::format("{:04x}", lo),
                         [&](std::string_view k, std::string_view v) {
                           if (k > end) return false;
                           return visit(k, v);
                         });
    };
    int64_t s0 = first % tr.points(), s1 = last % tr.points();
    if (s0 <= s1) {
      PHAROS_RETURN_IF_ERROR(run(s0, s1));
    } else {
      PHAROS_RETURN_IF_ERROR(run(s0, tr.points() - 1));
      PHAROS_RETURN_IF_ERROR(run(0, s1));
    }
  }
  // Points the flush has not written yet.
  for (auto it = pending_.lower_bound(prefix);
       it != pending_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    MetricsPoint p;
    if (!decodePoint(it->second, &p) || p.ts < from || p.ts > to) continue;
    auto same = std::find_if(out.begin(), out.end(), [&](const auto& q) { return q.ts == p.ts; });
    if (same != out.end()) {
      *same = p;
    } else {
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ts < b.ts; });
  return out;
}

Result<Json> MetricsHistory::query(const MetricsQueryRequest& req, int64_t now_ms) {
  int64_t to = req.to > 0 ? std::min(req.to, now_ms) : now_ms;
  int64_t from = req.from > 0 ? req.from : to - 3'600'000;
  if (from > to) {
    return Status::invalidArgument("from: later than to (or than now)").withPath("from");
  }
  // The fine tier when it holds the whole range (give or take one of its steps, for a
  // caller's "the last hour" computed a moment earlier) and the step asked for is finer than
  // the coarse one.
  const int64_t fine_since =
      now_ms - (options_.fine.keep.count() + options_.fine.step.count()) * 1000;
  Tier t =
      from >= fine_since && req.step < options_.coarse.step.count() ? Tier::kFine : Tier::kCoarse;
  const MetricsTier& tr = tier(t);
  // A point is held while its step is among the ring's last `points` steps; an older slot
  // value is stale (a node that stopped reporting) and never answered.
  const int64_t oldest = floorTo(now_ms, tr.step.count() * 1000) - tr.keep.count() * 1000;
  from = std::max(from, oldest);
  const bool none = from > to;
  from = std::clamp<int64_t>(from, 0, to);
  int64_t range_s = (to - from) / 1000 + 1;
  int64_t tier_step = tr.step.count();
  auto roundUp = [tier_step](int64_t s) { return (s + tier_step - 1) / tier_step * tier_step; };
  int64_t step = roundUp(req.step > 0 ? req.step : tier_step);
  if (req.step == 0) {
    step = std::max(step, roundUp((range_s + options_.max_points - 1) / options_.max_points));
  } else if (range_s / step > options_.max_points) {
    return Status::invalidArgument(fmt::format("step: {} s over {} s gives more than {} points",
                                               req.step, range_s, options_.max_points))
        .withPath("step");
  }
  auto points = none ? Result<std::vector<MetricsPoint>>(std::vector<MetricsPoint>{})
                     : read(req.node, t, std::max(floorTo(from, tier_step * 1000), oldest), to);
  if (!points) return points.status();
  // Downsample to `step`: the mean of the points of each step.
  std::vector<MetricsPoint> out;
  const int64_t step_ms = step * 1000;
  for (const auto& p : *points) {
    int64_t bucket = floorTo(p.ts, step_ms);
    if (out.empty() || out.back().ts != bucket) {
      out.push_back(p);
      out.back().ts = bucket;
    } else {
      fold(out.back(), p);
    }
  }
  Json result{{"node", req.node},
              {"tier", t == Tier::kFine ? "fine" : "coarse"},
              {"step", step},
              {"from", from},
              {"to", to}};
  Json ts = Json::array(), cpu = Json::array(), cpu_max = Json::array(), mem_used = Json::array(),
       mem_total = Json::array(), disk_used = Json::array(), disk_total = Json::array(),
       load1 = Json::array();
  for (const auto& p : out) {
    ts.push_back(p.ts);
    cpu.push_back(hundredths(p.cpu));
    cpu_max.push_back(hundredths(p.cpu_max));
    mem_used.push_back(whole(p.mem_used));
    mem_total.push_back(whole(p.mem_total));
    disk_used.push_back(whole(p.disk_used));
    disk_total.push_back(whole(p.disk_total));
    load1.push_back(hundredths(p.load1));
  }
  result["ts"] = std::move(ts);
  result["cpu"] = std::move(cpu);
  result["cpu_max"] = std::move(cpu_max);
  result["mem_used"] = std::move(mem_used);
  result["mem_total"] = std::move(mem_total);
  result["disk_used"] = std::move(disk_used);
  result["disk_total"] = std::move(disk_total);
  result["load1"] = std::move(load1);
  return result;
}

}  // namespace pharos::anchor
