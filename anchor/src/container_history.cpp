// Per-container metrics history in two rings of store keys per node (container_history.h).
#include "anchor/container_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pharos::anchor {
namespace {

constexpr size_t kHeaderBytes = 10;   // ts, count
constexpr size_t kFiguresBytes = 16;  // samples, cpu, cpu_max, mem
constexpr size_t kMaxIdBytes = 255;   // a uint8 length

bool before(const ContainerFigures& a, const ContainerFigures& b) {
  return a.app != b.app ? a.app < b.app : a.service < b.service;
}

// Folds `p` into the running mean `acc` (weighted by samples); cpu_max is the maximum.
void fold(ContainerFigures& acc, const ContainerFigures& p) {
  uint32_t n = acc.samples + p.samples;
  if (n == 0) return;
  float w = static_cast<float>(p.samples) / static_cast<float>(n);
  acc.cpu += (p.cpu - acc.cpu) * w;
  acc.mem += (p.mem - acc.mem) * w;
  acc.cpu_max = acc.samples == 0 ? p.cpu_max : std::max(acc.cpu_max, p.cpu_max);
  acc.samples = n;
}

// `list` as one point's containers: sorted, one entry per app and service (the first one
// listed), at most kMaxContainers, without entries that name no app or service.
std::vector<ContainerFigures> figuresOf(const std::vector<ContainerMetrics>& list) {
  std::vector<ContainerFigures> out;
  for (const auto& c : list) {
    if (c.app.empty() || c.service.empty() || c.app.size() > kMaxIdBytes ||
        c.service.size() > kMaxIdBytes) {
      continue;
    }
    ContainerFigures f{c.app, c.service,
                       1,     storedFigure(c.cpu_percent),
                       0,     storedFigure(static_cast<double>(c.mem_bytes))};
    f.cpu_max = f.cpu;
    auto at = std::lower_bound(out.begin(), out.end(), f, before);
    if (at != out.end() && at->app == f.app && at->service == f.service) continue;
    if (out.size() >= ContainerHistory::kMaxContainers) break;
    out.insert(at, std::move(f));
  }
  return out;
}

}  // namespace

ContainerHistory::ContainerHistory(Store& store, MetricsTier fine, MetricsTier coarse,
                                   int64_t max_points)
    : store_(store), fine_(fine), coarse_(coarse), max_points_(max_points) {}

std::string ContainerHistory::prefix(const std::string& node, bool fine) const {
  return fmt::format("metrics/{}/{}/", node, fine ? "cf" : "cc");
}

std::string ContainerHistory::slotKey(const std::string& node, bool fine, int64_t ts) const {
  return ringKey(prefix(node, fine), fine ? fine_ : coarse_, ts);
}

std::string ContainerHistory::encodePoint(const ContainersPoint& p) {
  std::string out;
  auto put = [&out](const void* v, size_t n) {
    out.append(static_cast<const char*>(v), n);  // little-endian platforms (docs/metrics.md)
  };
  auto putId = [&](const std::string& id) {
    auto n = static_cast<uint8_t>(std::min(id.size(), kMaxIdBytes));
    put(&n, 1);
    put(id.data(), n);
  };
  uint16_t count = static_cast<uint16_t>(std::min(p.containers.size(), kMaxContainers));
  put(&p.ts, 8);
  put(&count, 2);
  for (size_t i = 0; i < count; ++i) {
    const ContainerFigures& c = p.containers[i];
    putId(c.app);
    putId(c.service);
    put(&c.samples, 4);
    for (float v : {c.cpu, c.cpu_max, c.mem}) put(&v, 4);
  }
  return out;
}

bool ContainerHistory::decodePoint(std::string_view bytes, ContainersPoint* p) {
  size_t at = 0;
  auto get = [&](void* v, size_t n) {
    if (bytes.size() - at < n) return false;
    std::memcpy(v, bytes.data() + at, n);
    at += n;
    return true;
  };
  auto getId = [&](std::string* id) {
    uint8_t n = 0;
    if (!get(&n, 1) || n == 0 || bytes.size() - at < n) return false;
    id->assign(bytes.data() + at, n);
    at += n;
    return true;
  };
  uint16_t count = 0;
  if (bytes.size() < kHeaderBytes || !get(&p->ts, 8) || !get(&count, 2)) return false;
  if (count > kMaxContainers) return false;
  p->containers.clear();
  for (uint16_t i = 0; i < count; ++i) {
    ContainerFigures c;
    if (!getId(&c.app) || !getId(&c.service) || bytes.size() - at < kFiguresBytes) return false;
    get(&c.samples, 4);
    for (float* v : {&c.cpu, &c.cpu_max, &c.mem}) get(v, 4);
    if (c.samples == 0 || !std::isfinite(c.cpu) || !std::isfinite(c.cpu_max) ||
        !std::isfinite(c.mem)) {
      return false;
    }
    p->containers.push_back(std::move(c));
  }
  return at == bytes.size();
}

ContainersPoint& ContainerHistory::coarse(const std::string& node, int64_t bucket) {
  auto [it, inserted] = building_.try_emplace(node);
  ContainersPoint& point = it->second;
  if (inserted) {
    // After a restart, carry on with the point stored for this step, if any.
    auto stored = store_.get(slotKey(node, false, bucket));
    ContainersPoint old;
    if (stored.isOk() && stored->has_value() && decodePoint(**stored, &old) && old.ts == bucket)
      point = std::move(old);
  }
  if (point.ts != bucket) point = ContainersPoint{};
  point.ts = bucket;
  return point;
}

void ContainerHistory::record(const std::string& node, int64_t now_ms,
                              const std::vector<ContainerMetrics>& list) {
  ContainersPoint sample;
  sample.containers = figuresOf(list);
  if (sample.containers.empty() && !building_.count(node)) return;  // a node without any
  // Fine ring: the last sample of each step.
  sample.ts = floorTo(now_ms, fine_.step.count() * 1000);
  pending_[slotKey(node, true, sample.ts)] = encodePoint(sample);
  // Coarse ring: per container, the running mean of the step's samples that listed it.
  int64_t bucket = floorTo(now_ms, coarse_.step.count() * 1000);
  ContainersPoint& building = coarse(node, bucket);
  for (const auto& c : sample.containers) {
    auto at = std::lower_bound(building.containers.begin(), building.containers.end(), c, before);
    if (at != building.containers.end() && at->app == c.app && at->service == c.service) {
      fold(*at, c);
    } else if (building.containers.size() < kMaxContainers) {
      building.containers.insert(at, c);
    }
  }
  pending_[slotKey(node, false, bucket)] = encodePoint(building);
}

void ContainerHistory::stage(WriteBatch& batch) {
  for (auto& [k, v] : pending_) batch.put(k, std::move(v));
  pending_.clear();
}

void ContainerHistory::forget(const std::string& node) {
  building_.erase(node);
  const std::string under = "metrics/" + node + "/";
  for (auto it = pending_.lower_bound(under);
       it != pending_.end() && it->first.compare(0, under.size(), under) == 0;)
    it = pending_.erase(it);
}

Result<std::vector<ContainersPoint>> ContainerHistory::read(const std::string& node, bool fine,
                                                            int64_t from, int64_t to) {
  const std::string pre = prefix(node, fine);
  std::map<int64_t, ContainersPoint> by_ts;
  auto keep = [&](std::string_view v) {
    ContainersPoint p;
    if (decodePoint(v, &p) && p.ts >= from && p.ts <= to) by_ts[p.ts] = std::move(p);
  };
  PHAROS_RETURN_IF_ERROR(
      scanRing(store_, pre, fine ? fine_ : coarse_, from, to, [&](std::string_view, auto v) {
        keep(v);
        return true;
      }));
  // Points the flush has not written yet replace their stored slot.
  for (auto it = pending_.lower_bound(pre);
       it != pending_.end() && it->first.compare(0, pre.size(), pre) == 0; ++it) {
    keep(it->second);
  }
  std::vector<ContainersPoint> out;
  out.reserve(by_ts.size());
  for (auto& [ts, p] : by_ts) out.push_back(std::move(p));
  return out;
}

Result<Json> ContainerHistory::query(const MetricsQueryRequest& req, int64_t now_ms) {
  auto plan = planQuery(req, now_ms, fine_, coarse_, max_points_);
  if (!plan) return plan.status();
  auto points = plan->none ? Result<std::vector<ContainersPoint>>(std::vector<ContainersPoint>{})
                           : read(req.node, plan->fine, plan->scan_from, plan->to);
  if (!points) return points.status();
  // Downsample to the plan's step: per service, the mean of its figures in each step; only
  // the steps in which the app had a container.
  const int64_t step_ms = plan->step * 1000;
  std::vector<int64_t> ts;
  std::map<std::string, std::vector<ContainerFigures>> by_service;
  for (const auto& p : *points) {
    bool listed = false;
    for (const auto& c : p.containers) {
      if (c.app != req.app) continue;
      int64_t bucket = floorTo(p.ts, step_ms);
      if (!listed && (ts.empty() || ts.back() != bucket)) ts.push_back(bucket);
      listed = true;
      auto& series = by_service[c.service];
      series.resize(ts.size());
      fold(series.back(), c);
    }
  }
  Json containers = Json::array();
  for (auto& [service, series] : by_service) {
    series.resize(ts.size());
    Json cpu = Json::array(), cpu_max = Json::array(), mem = Json::array();
    for (const auto& f : series) {
      cpu.push_back(f.samples ? Json(hundredths(f.cpu)) : Json());
      cpu_max.push_back(f.samples ? Json(hundredths(f.cpu_max)) : Json());
      mem.push_back(f.samples ? Json(whole(f.mem)) : Json());
    }
    containers.push_back(Json{{"service", service},
                              {"cpu", std::move(cpu)},
                              {"cpu_max", std::move(cpu_max)},
                              {"mem", std::move(mem)}});
  }
  return Json{{"node", req.node},
              {"app", req.app},
              {"tier", plan->fine ? "fine" : "coarse"},
              {"step", plan->step},
              {"from", plan->from},
              {"to", plan->to},
              {"ts", std::move(ts)},
              {"containers", std::move(containers)}};
}

}  // namespace pharos::anchor
