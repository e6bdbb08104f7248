// ContainerHistory (anchor/container_history.h): the containers' rings (two puts per node and
// sample, whatever its containers), their retention, means and restarts, hostile values, and
// metrics.query {app} end to end through the anchor.
#include "anchor/container_history.h"

#include <doctest/doctest.h>

#include <string>

#include "anchor/memory_store.h"
#include "anchor/metrics_history.h"
#include "anchor_fixture.h"

namespace pharos::anchor {
namespace {

using namespace std::chrono_literals;
using testing::keysUnder;

constexpr int64_t kT0 = 1'699'999'800'000;  // a multiple of 5 min

ContainerMetrics container(const std::string& app, const std::string& service, double cpu,
                           int64_t mem) {
  ContainerMetrics c;
  c.app = app;
  c.service = service;
  c.container_id = "c-" + service;
  c.cpu_percent = cpu;
  c.mem_bytes = mem;
  return c;
}

NodeMetrics sample(std::vector<ContainerMetrics> containers) {
  NodeMetrics m;
  m.cpu_percent = 5;
  m.mem_used = 1000;
  m.mem_total = 4000;
  m.containers = std::move(containers);
  return m;
}

Json query(MetricsHistory& h, int64_t now, const std::string& app, int64_t from = 0, int step = 0) {
  MetricsQueryRequest q;
  q.node = "n1";
  q.app = app;
  q.from = from;
  q.step = step;
  auto r = h.query(q, now);
  REQUIRE(r.isOk());
  return *r;
}

TEST_CASE("a containers point survives a round trip, and what is not one is skipped") {
  ContainersPoint p{kT0,
                    {{"db", "pg", 3, 1.5f, 4.0f, 2e8f}, {"web", "api", 1, 12.5f, 12.5f, 1e6f}}};
  ContainersPoint back;
  std::string bytes = ContainerHistory::encodePoint(p);
  REQUIRE(ContainerHistory::decodePoint(bytes, &back));
  CHECK(back.ts == kT0);
  REQUIRE(back.containers.size() == 2);
  CHECK(back.containers[1].service == "api");
  CHECK(back.containers[0].samples == 3);
  CHECK(back.containers[0].cpu_max == 4.0f);
  CHECK(back.containers[1].mem == 1e6f);
  // Cut short, a trailing byte, no samples, not finite, a count above the bound: skipped.
  CHECK_FALSE(ContainerHistory::decodePoint("", &back));
  CHECK_FALSE(ContainerHistory::decodePoint(bytes.substr(0, bytes.size() - 1), &back));
  CHECK_FALSE(ContainerHistory::decodePoint(bytes + "x", &back));
  ContainersPoint zero{kT0, {{"web", "api", 0, 1, 1, 1}}};
  CHECK_FALSE(ContainerHistory::decodePoint(ContainerHistory::encodePoint(zero), &back));
  ContainersPoint nan{kT0, {{"web", "api", 1, std::nanf(""), 1, 1}}};
  CHECK_FALSE(ContainerHistory::decodePoint(ContainerHistory::encodePoint(nan), &back));
  std::string many = bytes;
  many[8] = static_cast<char>(0xff);  // count 0xff02 > kMaxContainers
  CHECK_FALSE(ContainerHistory::decodePoint(many, &back));
}

TEST_CASE("two keys per sample hold every container; rings bound the history") {
  MemoryStore store;
  MetricsHistory h(store, {});  // 15 s for 1 h; containers' 5 min for 24 h
  // 26 hours of samples every 15 s, three containers of two apps.
  for (int64_t t = kT0; t < kT0 + 26 * 3'600'000; t += 15'000) {
    h.record("n1", t,
             sample({container("web", "api", 10, 100), container("web", "nginx", 20, 200),
                     container("db", "pg", 30, 300)}));
    if ((t - kT0) % 600'000 == 0) REQUIRE(h.flush().isOk());
  }
  REQUIRE(h.flush().isOk());
  CHECK(keysUnder(store, "metrics/n1/cf/") == 240);  // 1 h of 15-s points
  CHECK(keysUnder(store, "metrics/n1/cc/") == 288);  // 24 h of 5-min points
  int64_t now = kT0 + 26 * 3'600'000 - 1;
  Json r = query(h, now, "web");
  CHECK(r["app"] == "web");
  CHECK(r["tier"] == "fine");
  CHECK(r["step"] == 15);
  REQUIRE(r["ts"].size() == 240);
  REQUIRE(r["containers"].size() == 2);  // web's own: api and nginx, by name
  CHECK(r["containers"][0]["service"] == "api");
  CHECK(r["containers"][1]["service"] == "nginx");
  CHECK(r["containers"][1]["cpu"].size() == 240);
  CHECK(r["containers"][1]["mem"][0] == 200);
  // A day reads the coarse ring; beyond its 24 h nothing older is answered.
  Json day = query(h, now, "web", now - 7 * 86'400'000LL);
  CHECK(day["tier"] == "coarse");
  CHECK(day["step"] == 300);
  CHECK(day["ts"].size() == 288);
  CHECK(day["ts"][0].get<int64_t>() >= now - 86'400'000 - 300'000);
  // Another app, or none on the node: no points.
  CHECK(query(h, now, "other")["ts"].empty());
}

TEST_CASE("the coarse ring holds each container's mean and maximum, across a restart") {
  MemoryStore store;
  {
    MetricsHistory h(store, {});
    h.record("n1", kT0, sample({container("web", "api", 10, 100)}));
    h.record("n1", kT0 + 15'000, sample({container("web", "api", 30, 300)}));
    REQUIRE(h.flush().isOk());
  }
  // A restart inside the step carries on with the stored point; a container seen only in
  // some samples is the mean of those.
  MetricsHistory h(store, {});
  h.record("n1", kT0 + 30'000,
           sample({container("web", "api", 50, 500), container("web", "worker", 8, 80)}));
  REQUIRE(h.flush().isOk());
  Json r = query(h, kT0 + 60'000, "web", kT0 - 86'400'000);  // a day: the coarse ring
  REQUIRE(r["tier"] == "coarse");
  REQUIRE(r["ts"] == Json::array({kT0}));
  CHECK(r["containers"][0]["cpu"][0] == 30.0);
  CHECK(r["containers"][0]["cpu_max"][0] == 50.0);
  CHECK(r["containers"][0]["mem"][0] == 300);
  CHECK(r["containers"][1]["service"] == "worker");
  CHECK(r["containers"][1]["cpu"][0] == 8.0);
}

TEST_CASE("a service missing from some steps is null there, and steps are averaged") {
  MemoryStore store;
  MetricsHistory h(store, {});
  h.record("n1", kT0, sample({container("web", "api", 10, 100)}));
  h.record("n1", kT0 + 15'000,
           sample({container("web", "api", 20, 100), container("web", "job", 4, 8)}));
  h.record("n1", kT0 + 30'000, sample({container("db", "pg", 1, 1)}));  // no web container
  h.record("n1", kT0 + 45'000, sample({container("web", "api", 40, 300)}));
  Json r = query(h, kT0 + 50'000, "web");  // pending points are answered too
  CHECK(r["ts"] == Json::array({kT0, kT0 + 15'000, kT0 + 45'000}));
  CHECK(r["containers"][0]["cpu"] == Json::array({10.0, 20.0, 40.0}));
  CHECK(r["containers"][1]["cpu"] == Json::array({nullptr, 4.0, nullptr}));
  // At 30 s: the mean of each step's points.
  Json s = query(h, kT0 + 50'000, "web", 0, 30);
  CHECK(s["step"] == 30);
  CHECK(s["ts"] == Json::array({kT0, kT0 + 30'000}));
  CHECK(s["containers"][0]["cpu"] == Json::array({15.0, 40.0}));
  CHECK(s["containers"][0]["mem"] == Json::array({100, 300}));
}

TEST_CASE("hostile container lists are bounded and cleaned, never trusted") {
  MemoryStore store;
  MetricsHistory h(store, {});
  std::vector<ContainerMetrics> list{container("web", "bad", std::nan(""), -5),
                                     container("web", "s1000", 1, 1),
                                     container("web", "s1000", 99, 99),  // the first one counts
                                     container("", "nameless", 1, 1)};
  for (int i = 1; i < 100; ++i)
    list.push_back(container("web", "s" + std::to_string(1000 + i), 1, 1));
  h.record("n1", kT0, sample(list));
  REQUIRE(h.flush().isOk());
  Json r = query(h, kT0 + 1000, "web");
  REQUIRE(r["containers"].size() == ContainerHistory::kMaxContainers);
  CHECK(r["containers"][0]["service"] == "bad");  // sorted; its figures stored as 0
  CHECK(r["containers"][0]["cpu"][0] == 0.0);
  CHECK(r["containers"][0]["mem"][0] == 0);
  CHECK(r["containers"][1]["service"] == "s1000");
  CHECK(r["containers"][1]["cpu"][0] == 1.0);
  // A node that reports no containers costs no container keys.
  h.record("n2", kT0, sample({}));
  REQUIRE(h.flush().isOk());
  CHECK(keysUnder(store, "metrics/n2/c") == 1);  // its node-level coarse point only
}

TEST_CASE("metrics.query {app} answers an app's containers on a node; node.remove drops them") {
  testing::AnchorFixture f;
  f.nodeOnline("n1", 1000);
  for (int i = 0; i < 4; ++i) {
    f.publishAs("n1", topics::NodeTopic::kMetrics,
                dumpJson(encode(sample({container("web", "api", 10 + i, 1000 * (i + 1))}))));
    f.advance(15s);
  }
  Json viewed = f.request("metrics.query", {{"node", "n1"}, {"app", "web"}}, "viewer");
  REQUIRE(viewed["ok"] == true);
  Json r = viewed["result"];
  CHECK(r["node"] == "n1");
  CHECK(r["app"] == "web");
  CHECK(r["ts"].size() == 4);
  REQUIRE(r["containers"].size() == 1);
  CHECK(r["containers"][0]["cpu"] == Json::array({10.0, 11.0, 12.0, 13.0}));
  CHECK(r["containers"][0]["mem"] == Json::array({1000, 2000, 3000, 4000}));
  Json bad = f.request("metrics.query", {{"node", "n1"}, {"app", "Web!"}});
  CHECK(bad["error"]["code"] == "invalid_argument");
  CHECK(bad["error"]["message"].get<std::string>().rfind("app:", 0) == 0);
  f.ok("node.remove", {{"name", "n1"}});
  CHECK(keysUnder(f.store(), "metrics/n1/") == 0);
}

TEST_CASE("a containers' retention that is not a whole number of coarse steps is refused") {
  MetricsHistoryOptions o;
  o.container_keep = 1000s;  // not a multiple of 300 s
  Status s = MetricsHistory::check(o);
  CHECK_FALSE(s.isOk());
  CHECK(s.message().find("metrics_container_keep") != std::string::npos);
}

}  // namespace
}  // namespace pharos::anchor
