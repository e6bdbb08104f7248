// Nodes' metrics history in two rings of store keys per node (metrics_history.h).
#include "anchor/metrics_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pharos::anchor {
namespace {

constexpr size_t kPointBytes = 40;

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
  out.container_keep = o.metrics_container_keep;
  return out;
}

Status MetricsHistory::check(const MetricsHistoryOptions& o) {
  PHAROS_RETURN_IF_ERROR(checkTier(o.fine, "metrics_fine"));
  PHAROS_RETURN_IF_ERROR(checkTier(o.coarse, "metrics_coarse"));
  PHAROS_RETURN_IF_ERROR(
      checkTier({o.coarse.step, o.container_keep}, "metrics_container_keep (in coarse steps)"));
  if (o.coarse.step.count() % o.fine.step.count() != 0) {
    return Status::invalidArgument("metrics_coarse_step: must be a multiple of metrics_fine_step");
  }
  return Status::ok();
}

MetricsHistory::MetricsHistory(Store& store, MetricsHistoryOptions options)
    : store_(store),
      options_(options),
      containers_(store, options.fine, {options.coarse.step, options.container_keep},
                  options.max_points) {}

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
  return ringKey(fmt::format("metrics/{}/{}/", node, t == Tier::kFine ? 'f' : 'c'), tier(t), ts);
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
  auto clamp = storedFigure;
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
  containers_.record(node, now_ms, m.containers);
}

Status MetricsHistory::flush() {
  if (pending_.empty() && containers_.pendingPoints() == 0) return Status::ok();
  WriteBatch batch;
  for (auto& [k, v] : pending_) batch.put(k, std::move(v));
  pending_.clear();
  containers_.stage(batch);
  return store_.write(batch, false);
}

Status MetricsHistory::forget(const std::string& node, WriteBatch& batch) {
  std::string prefix = "metrics/" + node + "/";  // the container rings' keys too
  building_.erase(node);
  containers_.forget(node);
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
  std::string prefix = fmt::format("metrics/{}/{}/", node, t == Tier::kFine ? 'f' : 'c');
  std::vector<MetricsPoint> out;
  auto visit = [&](std::string_view, std::string_view v) {
    MetricsPoint p;
    if (decodePoint(v, &p) && p.ts >= from && p.ts <= to) out.push_back(p);
    return true;
  };
  // Scan only the slots the range covers (one or two runs of the ring).
  PHAROS_RETURN_IF_ERROR(scanRing(store_, prefix, tr, from, to, visit));
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
  if (!req.app.empty()) return containers_.query(req, now_ms);
  auto plan = planQuery(req, now_ms, options_.fine, options_.coarse, options_.max_points);
  if (!plan) return plan.status();
  const Tier t = plan->fine ? Tier::kFine : Tier::kCoarse;
  const int64_t from = plan->from, to = plan->to, step = plan->step;
  auto points = plan->none ? Result<std::vector<MetricsPoint>>(std::vector<MetricsPoint>{})
                           : read(req.node, t, plan->scan_from, to);
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
