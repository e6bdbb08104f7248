// MetricsHistory (anchor/metrics_history.h): retention by rings, downsampling, bounds, and the
// metrics.query operation end to end through the anchor.
#include "anchor/metrics_history.h"

#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "anchor/memory_store.h"
#include "anchor_fixture.h"

namespace pharos::anchor {
namespace {

using namespace std::chrono_literals;
using testing::keysUnder;

constexpr int64_t kT0 = 1'699'999'800'000;  // a multiple of 5 min

NodeMetrics sample(double cpu, int64_t mem_used = 1000) {
  NodeMetrics m;
  m.cpu_percent = cpu;
  m.mem_used = mem_used;
  m.mem_total = 4000;
  m.disk_used = 10;
  m.disk_total = 100;
  m.load1 = cpu / 100;
  return m;
}

Json query(MetricsHistory& h, int64_t now, int64_t from, int64_t to, int step) {
  MetricsQueryRequest q;
  q.node = "n1";
  q.from = from;
  q.to = to;
  q.step = step;
  auto r = h.query(q, now);
  REQUIRE(r.isOk());
  return *r;
}

TEST_CASE("a point survives a round trip through its 40-byte encoding") {
  MetricsPoint p{kT0, 3, 12.5f, 80.0f, 1e9f, 4e9f, 2e10f, 6e10f, 0.75f};
  MetricsPoint back;
  REQUIRE(MetricsHistory::decodePoint(MetricsHistory::encodePoint(p), &back));
  CHECK(back.ts == p.ts);
  CHECK(back.samples == 3);
  CHECK(back.cpu == 12.5f);
  CHECK(back.mem_total == 4e9f);
  // Values that are not points are skipped, never trusted.
  CHECK_FALSE(MetricsHistory::decodePoint("", &back));
  CHECK_FALSE(MetricsHistory::decodePoint(std::string(39, 'x'), &back));
  CHECK_FALSE(MetricsHistory::decodePoint(std::string(40, '\0'), &back));  // 0 samples
}

TEST_CASE("the fine tier keeps the last sample of each step for its retention, no more") {
  MemoryStore store;
  MetricsHistory h(store, {});  // 15 s for 1 h, 5 min for 7 days
  // Two hours of samples every 15 s.
  for (int64_t t = kT0; t < kT0 + 2 * 3'600'000; t += 15'000) {
    h.record("n1", t, sample(static_cast<double>((t - kT0) / 15'000 % 100)));
    if ((t - kT0) % 60'000 == 0) REQUIRE(h.flush().isOk());
  }
  REQUIRE(h.flush().isOk());
  CHECK(keysUnder(store, "metrics/n1/f/") == 240);
  CHECK(keysUnder(store, "metrics/n1/c/") == 24);
  int64_t now = kT0 + 2 * 3'600'000 - 1;
  Json r = query(h, now, 0, 0, 0);  // the last hour
  CHECK(r["tier"] == "fine");
  CHECK(r["step"] == 15);
  REQUIRE(r["ts"].size() == 240);
  CHECK(r["ts"].front() == kT0 + 3'600'000);
  CHECK(r["ts"].back() == kT0 + 2 * 3'600'000 - 15'000);
  for (size_t i = 1; i < r["ts"].size(); ++i) CHECK(r["ts"][i] > r["ts"][i - 1]);
}

TEST_CASE("the last hour asked a moment earlier by another clock still reads the fine tier") {
  MemoryStore store;
  MetricsHistory h(store, {});
  h.record("n1", kT0, sample(5));
  int64_t now = kT0 + 60'000;
  CHECK(query(h, now, now - 3'600'000 - 800, 0, 0)["tier"] == "fine");
  CHECK(query(h, now, now - 3'600'000 - 16'000, 0, 0)["tier"] == "coarse");
}

TEST_CASE("the coarse tier holds the mean and maximum of each step, across a restart") {
  MemoryStore store;
  {
    MetricsHistory h(store, {});
    h.record("n1", kT0, sample(10));
    h.record("n1", kT0 + 15'000, sample(30));
    REQUIRE(h.flush().isOk());
  }
  MetricsHistory h(store, {});  // a restarted anchor carries on with the stored point
  h.record("n1", kT0 + 30'000, sample(50, 4000));
  REQUIRE(h.flush().isOk());
  Json r = query(h, kT0 + 60'000, kT0, kT0 + 60'000, 300);
  CHECK(r["tier"] == "coarse");
  REQUIRE(r["ts"].size() == 1);
  CHECK(r["ts"][0] == kT0);
  CHECK(r["cpu"][0] == 30.0);
  CHECK(r["cpu_max"][0] == 50.0);
  CHECK(r["mem_used"][0] == 2000);
}

TEST_CASE("a query downsamples to the step asked, rounded up to the tier's step") {
  MemoryStore store;
  MetricsHistory h(store, {});
  for (int i = 0; i < 8; ++i) h.record("n1", kT0 + i * 15'000, sample(i * 10));
  Json r = query(h, kT0 + 120'000, kT0, kT0 + 120'000, 50);  // 50 s -> 60 s
  CHECK(r["step"] == 60);
  REQUIRE(r["ts"] == Json::array({kT0, kT0 + 60'000}));
  CHECK(r["cpu"] == Json::array({15.0, 55.0}));
  CHECK(r["cpu_max"] == Json::array({30.0, 70.0}));
}

TEST_CASE("a seven-day query reads the coarse ring, bounded by its retention") {
  MemoryStore store;
  MetricsHistory h(store, {});
  // Eight days of one sample per 5 min.
  for (int64_t t = kT0; t < kT0 + 8 * 86'400'000LL; t += 300'000) h.record("n1", t, sample(1));
  REQUIRE(h.flush().isOk());
  CHECK(keysUnder(store, "metrics/n1/c/") == 2016);
  int64_t now = kT0 + 8 * 86'400'000LL;
  Json r = query(h, now, now - 30 * 86'400'000LL, now, 0);
  CHECK(r["tier"] == "coarse");
  CHECK(r["from"] == now - 7 * 86'400'000LL);
  CHECK(r["ts"].size() == 2016);
  CHECK(r["ts"].front() >= now - 7 * 86'400'000LL);
}

TEST_CASE("a node that stopped reporting shows no history once its retention has passed") {
  MemoryStore store;
  MetricsHistory h(store, {});
  h.record("n1", kT0, sample(5));
  REQUIRE(h.flush().isOk());
  CHECK(query(h, kT0 + 1000, 0, 0, 0)["ts"].size() == 1);
  CHECK(query(h, kT0 + 3'600'000 + 15'000, 0, 0, 0)["ts"].empty());
  CHECK(query(h, kT0 + 8 * 86'400'000LL, kT0 - 1, kT0 + 1, 300)["ts"].empty());
}

TEST_CASE("forget deletes a node's whole history and nobody else's") {
  MemoryStore store;
  MetricsHistory h(store, {});
  h.record("n1", kT0, sample(5));
  h.record("n10", kT0, sample(5));
  REQUIRE(h.flush().isOk());
  h.record("n1", kT0 + 15'000, sample(5));  // still pending
  WriteBatch batch;
  REQUIRE(h.forget("n1", batch).isOk());
  REQUIRE(store.write(batch).isOk());
  REQUIRE(h.flush().isOk());
  CHECK(keysUnder(store, "metrics/n1/") == 0);
  CHECK(keysUnder(store, "metrics/n10/") == 2);
}

TEST_CASE("a step too fine for the range is refused, naming the step") {
  MemoryStore store;
  MetricsHistoryOptions o;
  o.max_points = 100;
  MetricsHistory h(store, o);
  MetricsQueryRequest q;
  q.node = "n1";
  q.step = 15;  // 240 points in the last hour
  auto r = h.query(q, kT0);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().path() == "step");
  q.step = 0;  // without a step, the finest that fits: 45 s (80 points)
  auto fit = h.query(q, kT0);
  REQUIRE(fit.isOk());
  CHECK((*fit)["step"] == 45);
}

TEST_CASE("hostile figures are stored as zero, not as NaN or negative") {
  MemoryStore store;
  MetricsHistory h(store, {});
  NodeMetrics m = sample(0);
  m.cpu_percent = std::numeric_limits<double>::quiet_NaN();
  m.mem_used = -5;
  m.load1 = std::numeric_limits<double>::infinity();
  h.record("n1", kT0, m);
  Json r = query(h, kT0 + 1, 0, 0, 0);
  CHECK(r["cpu"] == Json::array({0.0}));
  CHECK(r["mem_used"] == Json::array({0}));
  CHECK(r["load1"] == Json::array({0.0}));
}

TEST_CASE("tier settings that do not make a ring are refused, naming the setting") {
  // Valid first, then the list that must fail.
  CHECK(MetricsHistory::check({}).isOk());
  MetricsHistoryOptions o;
  o.fine = {1s, 60s};
  o.coarse = {10s, 600s};
  CHECK(MetricsHistory::check(o).isOk());
  struct Bad {
    MetricsTier fine, coarse;
    const char* names;
  };
  for (const Bad& bad : {
           Bad{{15s, 100s}, {300s, 3600s}, "metrics_fine"},         // not a whole number of steps
           Bad{{15s, 3600s}, {300s, 100s}, "metrics_coarse"},       // retention below one step
           Bad{{1s, 86400s}, {300s, 3600s}, "metrics_fine"},        // 86400 points > 65536
           Bad{{15s, 3600s}, {20s, 3600s}, "metrics_coarse_step"},  // not a multiple of fine
       }) {
    MetricsHistoryOptions b;
    b.fine = bad.fine;
    b.coarse = bad.coarse;
    Status s = MetricsHistory::check(b);
    CHECK_FALSE(s.isOk());
    CHECK(s.message().find(bad.names) != std::string::npos);
  }
}

TEST_CASE("metrics.query answers the history a node reported, to viewers too") {
  testing::AnchorFixture f;
  f.nodeOnline("n1", 1000);
  for (int i = 0; i < 4; ++i) {
    f.publishAs("n1", topics::NodeTopic::kMetrics, dumpJson(encode(sample(10 + i))));
    f.advance(15s);
  }
  Json r = f.ok("metrics.query", {{"node", "n1"}});
  CHECK(r["node"] == "n1");
  CHECK(r["tier"] == "fine");
  CHECK(r["ts"].size() == 4);
  CHECK(r["cpu"] == Json::array({10.0, 11.0, 12.0, 13.0}));
  Json viewer = f.request("metrics.query", {{"node", "n1"}}, "viewer");
  CHECK(viewer["ok"] == true);
  // node.remove deletes the history with the node.
  f.ok("node.remove", {{"name", "n1"}});
  CHECK(keysUnder(f.store(), "metrics/n1/") == 0);
}

TEST_CASE("metrics.query refuses hostile requests, naming the field") {
  testing::AnchorFixture f;
  f.nodeOnline("n1", 1000);
  struct Case {
    Json body;
    const char* code;
    const char* path;
  };
  for (const Case& c : {
           Case{{{"node", "n2"}}, "not_found", "node"},
           Case{{{"node", "N1/#"}}, "invalid_argument", "node"},
           Case{{{"from", 1}}, "invalid_argument", "node"},
           Case{{{"node", "n1"}, {"from", 2}, {"to", 1}}, "invalid_argument", "from"},
           Case{{{"node", "n1"}, {"from", -1}}, "invalid_argument", "from"},
           Case{{{"node", "n1"}, {"step", 0}}, "invalid_argument", "step"},
           Case{{{"node", "n1"}, {"step", 86401}}, "invalid_argument", "step"},
           Case{{{"node", "n1"}, {"step", "15"}}, "invalid_argument", "step"},
           Case{{{"node", "n1"}, {"to", 1e300}}, "invalid_argument", "to"},
       }) {
    Json r = f.request("metrics.query", c.body);
    INFO(c.body.dump() << " -> " << r.dump());
    REQUIRE(r["ok"] == false);
    CHECK(r["error"]["code"] == c.code);
    // The message names the field first ("step: ...").
    CHECK(r["error"]["message"].get<std::string>().rfind(std::string(c.path) + ":", 0) == 0);
  }
}

}  // namespace
}  // namespace pharos::anchor
