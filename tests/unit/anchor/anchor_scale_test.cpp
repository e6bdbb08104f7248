// Scale: 10,000 nodes registering, one group holding all of them, a group deployment
// (one publish), a restart from the same store and a reconnect republishing every document.
// The times are printed, not asserted: they belong to the benchmarks (bench/RESULTS.md,
// scale), which measure them against a baseline in the same run.
#include <chrono>

#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {
double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

TEST_CASE("10,000 nodes register, join one group, get one group deployment and are republished") {
  constexpr int kNodes = 10'000;
  AnchorFixture f;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kNodes; ++i) {
    std::string n = "n" + std::to_string(i);
    f.broker().publish(message(topics::node(n, NodeTopic::kInfo), infoPayload(n), true));
    f.broker().publish(
        message(topics::node(n, NodeTopic::kStatus), statusPayload(Readiness::kReady, 1), true));
    if (i % 500 == 499) f.pump();
  }
  f.pump();
  double registered = secondsSince(start);
  MESSAGE("registered " << kNodes << " nodes in " << registered << " s");
  REQUIRE(f.anchor().registry().nodes().size() == static_cast<size_t>(kNodes));

  f.ok("group.create", {{"name", "all"}});
  start = std::chrono::steady_clock::now();
  for (int chunk = 0; chunk < kNodes / 1000; ++chunk) {
    Json nodes = Json::array();
    for (int i = chunk * 1000; i < (chunk + 1) * 1000; ++i)
      nodes.push_back("n" + std::to_string(i));
    f.ok("group.add", {{"group", "all"}, {"nodes", nodes}});
  }
  MESSAGE("group.add of " << kNodes << " nodes in " << secondsSince(start) << " s");
  CHECK(f.admin().acl.size() == static_cast<size_t>(kNodes));

  f.broker().clearLog();
  start = std::chrono::steady_clock::now();
  f.ok("app.deploy", {{"name", "web"}, {"target", {{"group", "all"}}}, {"compose", kCompose}});
  double deployed = secondsSince(start);
  MESSAGE("group deploy in " << deployed << " s");
  CHECK(f.broker().published(topics::groupDesired("all")).size() == 1);
  CHECK(f.broker().published(topics::allNodes(NodeTopic::kDesired)).empty());

  // Restart from the same store: everything loads and is republished.
  f.killAnchor();
  f.broker().restart(true);
  f.pump();
  start = std::chrono::steady_clock::now();
  f.startAnchor();
  double restarted = secondsSince(start);
  MESSAGE("restart + republish of " << 2 * kNodes + 1 << " documents in " << restarted << " s");
  CHECK(f.broker().retainedMatching("pharos/v1/nodes/+/desired").size() ==
        static_cast<size_t>(kNodes));
  CHECK(f.broker().retainedMatching("pharos/v1/nodes/+/secrets").size() ==
        static_cast<size_t>(kNodes));
  CHECK(f.groupDoc("all"));
  auto page = f.ok("node.list", {{"group", "all"}, {"limit", 1000}});
  CHECK(page["nodes"].size() == 1000);
}
