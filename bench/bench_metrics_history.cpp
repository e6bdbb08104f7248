// metrics.query cost with a fleet's history stored (docs/metrics.md, bench/RESULTS.md
// "## Metrics history"): fills a RocksDB store with the full default rings of --nodes nodes
// (240 fine + 2016 coarse points each, written as the anchor writes them: one unsynced batch
// per flush), then times MetricsHistory::query for random nodes: 7 days (coarse tier) and the
// last hour (fine tier). The same-run baseline is the same queries on a store holding one
// node. Prints the store's size on disk and the process's peak RSS.
//
//   bench_metrics_history [--nodes 10000] [--queries 2000] [--dir /tmp/pharos-mh]
//
// --now stamps the points back from the current time (floored to 5 min) instead of a fixed
// time, --register also writes each node's registry record (accepted) and --keep leaves the
// fleet's store in --dir: together they make a store a real pharos-anchor opens and answers
// metrics.query from (bench/console_bench.py).
//
// A plain program (no Google Benchmark loop): the figures are a latency distribution.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "anchor/metrics_history.h"
#include "anchor/model.h"
#include "anchor/store.h"
#include "pharos/json.h"

namespace {

using namespace pharos;          // NOLINT(google-build-using-namespace)
using namespace pharos::anchor;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

int64_t kNow = 1'765'000'000'000;  // a multiple of 5 min; --now: the current time, floored

std::string nodeName(int i) { return fmt::format("press-{:05}", i); }

// Writes every slot of both rings of nodes [0, n), one batch per 500 nodes x tier; with
// `register_nodes`, each node's registry record too.
void fill(Store& store, const MetricsHistory& h, int n, bool register_nodes) {
  const auto& o = h.options();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> cpu(0, 100);
  auto t0 = Clock::now();
  WriteBatch batch;
  for (int i = 0; i < n; ++i) {
    std::string node = nodeName(i);
    if (register_nodes) {
      NodeRecord rec;
      rec.name = node;
      rec.created = kNow;
      rec.added_by = "auto";
      batch.put(keys::node(node), dumpJson(toJson(rec)));
    }
    for (const auto* tier : {&o.fine, &o.coarse}) {
      bool fine = tier == &o.fine;
      int64_t step_ms = tier->step.count() * 1000;
      for (int64_t k = 0; k < tier->points(); ++k) {
        MetricsPoint p;
        p.ts = kNow - (k + 1) * step_ms;
        p.samples = fine ? 1 : 20;
        p.cpu = p.cpu_max = cpu(rng);
        p.mem_used = 2.1e9f;
        p.mem_total = 4.0e9f;
        p.disk_used = 1.2e10f;
        p.disk_total = 3.2e10f;
        p.load1 = 0.7f;
        batch.put(h.slotKey(node, fine, p.ts), MetricsHistory::encodePoint(p));
      }
    }
    if ((i + 1) % 500 == 0 || i + 1 == n) {
      Status s = store.write(batch, false);
      if (!s.isOk()) {
        std::fprintf(stderr, "write: %s\n", s.message().c_str());
        std::exit(1);
      }
      batch.clear();
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("filled %d nodes (%lld keys) in %.1f s\n", n,
              static_cast<long long>(n * (o.fine.points() + o.coarse.points())), secs);
}

struct Stats {
  double p50, p99, max;
};

Stats timeQueries(MetricsHistory& h, int nodes, int queries, int64_t range_ms, int step) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(0, nodes - 1);
  std::vector<double> us;
  size_t points = 0;
  for (int q = 0; q < queries; ++q) {
    MetricsQueryRequest req;
    req.node = nodeName(pick(rng));
    req.from = kNow - range_ms;
    req.to = kNow;
    req.step = step;
    auto t0 = Clock::now();
    auto r = h.query(req, kNow);
    std::string wire = r.isOk() ? r->dump() : "";  // the answer as the API sends it
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!r.isOk()) {
      std::fprintf(stderr, "query: %s\n", r.status().message().c_str());
      std::exit(1);
    }
    points += (*r)["ts"].size();
  }
  std::sort(us.begin(), us.end());
  std::printf("  %zu points per answer\n", points / queries);
  return {us[us.size() / 2], us[us.size() * 99 / 100], us.back()};
}

uint64_t dirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

void run(const std::string& dir, int nodes, int queries, bool register_nodes) {
  std::filesystem::remove_all(dir);
  auto store = openRocksDbStore(dir);
  if (!store.isOk()) {
    std::fprintf(stderr, "open: %s\n", store.status().message().c_str());
    std::exit(1);
  }
  MetricsHistory h(**store, {});
  fill(**store, h, nodes, register_nodes);
  std::printf("store on disk after the fill: %.1f MB\n", dirBytes(dir) / 1e6);
  Stats week = timeQueries(h, nodes, queries, 7 * 86'400'000LL, 0);
  std::printf("  7 days (coarse) x %d: p50 %.0f us, p99 %.0f us, max %.0f us\n", queries, week.p50,
              week.p99, week.max);
  Stats hour = timeQueries(h, nodes, queries, 3'600'000, 0);
  std::printf("  1 hour (fine)   x %d: p50 %.0f us, p99 %.0f us, max %.0f us\n", queries, hour.p50,
              hour.p99, hour.max);
  store->reset();
  std::printf("store on disk after close: %.1f MB\n", dirBytes(dir) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 10'000, queries = 2000;
  bool register_nodes = false, keep = false;
  std::string dir = "/tmp/pharos-metrics-history-bench";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value = i + 1 < argc ? argv[i + 1] : "";
    if (flag == "--nodes") nodes = std::atoi(value.c_str()), ++i;
    if (flag == "--queries") queries = std::atoi(value.c_str()), ++i;
    if (flag == "--dir") dir = value, ++i;
    if (flag == "--register") register_nodes = true;
    if (flag == "--keep") keep = true;
    if (flag == "--now") {
      int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      kNow = now - now % 300'000;
    }
  }
  std::printf("baseline: 1 node\n");
  run(dir + "-baseline", 1, queries, register_nodes);
  std::printf("fleet: %d nodes\n", nodes);
  run(dir, nodes, queries, register_nodes);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS: %.0f MB\n", usage.ru_maxrss / 1024.0);
  if (!keep) std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir + "-baseline");
  return 0;
}
