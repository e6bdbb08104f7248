// MetricsReporter (metrics_reporter.h) on a ManualExecutor over FakeBroker and
// FakeDockerClient: a sample per interval while online, per running container, none offline.
#include "agent/metrics_reporter.h"

#include <doctest/doctest.h>

#include "agent/fake_docker.h"
#include "parts_rig.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::agent;
using namespace pharos::agent::testing;
using std::chrono::milliseconds;

namespace {

struct Rig : PartsBase {
  FakeDockerClient docker{&clock};
  Jitter jitter{7};
  std::vector<Reconciler::Observed> observed;
  MetricsReporter metrics{docker.containers(),
                          exec,
                          strand,
                          clock,
                          jitter,
                          MetricsReporter::Options{milliseconds(1000), 0.0, false, ""},
                          publisher,
                          [this] { return observed; }};

  Rig() {
    docker.addLocalImage("busybox:latest");
    auto id = docker.containers().createContainer("web_main_1", Json{{"Image", "busybox:latest"}});
    REQUIRE(id.isOk());
    REQUIRE(docker.containers().startContainer(*id).isOk());
    ContainerStats stats;
    stats.memory_usage = 4096;
    stats.cpu_percent = 12.5;
    docker.containers().setStats(*id, stats);
    observed.push_back({"web", "main", *docker.containers().inspectContainer(*id)});
  }
  std::vector<PublishRecord> samples() {
    return broker.published(topics::node("edge-1", topics::NodeTopic::kMetrics));
  }
};

}  // namespace

TEST_CASE("metrics are sampled every interval while online, with each running container") {
  Rig r;
  r.metrics.start();
  r.exec.advance(milliseconds(1000));
  CHECK(r.samples().empty());  // offline
  goOnline(r.broker, *r.link, r.publisher);
  r.exec.advance(milliseconds(1000));
  auto samples = r.samples();
  REQUIRE(samples.size() == 1);
  CHECK(samples[0].message.qos == 0);
  Json m = Json::parse(samples[0].message.payload);
  REQUIRE(m["containers"].size() == 1);
  CHECK(m["containers"][0]["app"] == "web");
  CHECK(m["containers"][0]["mem_bytes"] == 4096);
  r.exec.advance(milliseconds(1000));
  CHECK(r.samples().size() == 2);
  r.metrics.stop();
  r.exec.advance(milliseconds(5000));
  CHECK(r.samples().size() == 2);
}
