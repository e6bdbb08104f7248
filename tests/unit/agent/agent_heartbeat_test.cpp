// Agent heartbeats (docs/protocol.md "Health"): nodes/{node}/heartbeat, QoS 0 and not
// retained, with the current session and keep-alive, once at connect and then every
// keep-alive / 2 (at least 500 ms apart) while connected; none while cut off or stopped.
#include <doctest/doctest.h>

#include "agent_rig.h"

namespace pharos::agent {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the shared rig
using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<NodeHeartbeat> heartbeats(Rig& rig) {
  std::vector<NodeHeartbeat> out;
  for (const PublishRecord& r :
       rig.broker.published(topics::node(kNode, topics::NodeTopic::kHeartbeat))) {
    CHECK(r.message.qos == 0);
    CHECK_FALSE(r.message.retained);
    auto beat = decodeNodeHeartbeat(r.message.payload);
    REQUIRE(beat.isOk());
    out.push_back(*beat);
  }
  return out;
}

TEST_CASE("a connected agent sends a heartbeat at once and then every keep-alive / 2") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.boot();
  auto beats = heartbeats(rig);
  REQUIRE(beats.size() == 1);
  CHECK(beats[0].session == rig.agent->session());
  CHECK(beats[0].keep_alive == 2);
  CHECK(rig.status().state == "Ready");  // the status went first
  rig.advance(milliseconds(999));
  CHECK(heartbeats(rig).size() == 1);
  rig.advance(milliseconds(1));
  CHECK(heartbeats(rig).size() == 2);
  rig.advance(milliseconds(10'000));
  CHECK(heartbeats(rig).size() == 12);
  CHECK(rig.broker.retained(topics::node(kNode, topics::NodeTopic::kHeartbeat)) == std::nullopt);
}

TEST_CASE("the heartbeat period is never below 500 ms and follows an explicit interval") {
  Rig fast;
  fast.options.mqtt.keep_alive = seconds(1);
  fast.boot();
  fast.advance(milliseconds(2000));
  CHECK(heartbeats(fast).size() == 5);  // at 0, 500, 1000, 1500, 2000 ms

  Rig set;
  set.options.mqtt.keep_alive = seconds(10);
  set.options.heartbeat_interval = milliseconds(100);  // raised to the 500 ms floor
  set.boot();
  set.advance(milliseconds(1000));
  CHECK(heartbeats(set).size() == 3);
  CHECK(heartbeats(set).back().keep_alive == 10);
}

TEST_CASE("no heartbeat while the link is down, at once again on reconnect") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.options.mqtt.auto_reconnect = true;
  rig.boot();
  rig.broker.setOnline(kClient, false);
  rig.pump();
  size_t before = heartbeats(rig).size();
  rig.advance(milliseconds(5000));
  CHECK(heartbeats(rig).size() == before);
  rig.broker.setOnline(kClient, true);
  rig.pump();
  CHECK(heartbeats(rig).size() == before + 1);
  CHECK(heartbeats(rig).back().session == rig.agent->session());
  rig.advance(milliseconds(1000));
  CHECK(heartbeats(rig).size() == before + 2);
}

TEST_CASE("a stopped agent, or one without keep-alive, sends no heartbeat") {
  Rig rig;
  rig.options.mqtt.keep_alive = seconds(2);
  rig.boot();
  rig.agent->stop(false);
  rig.pump();
  size_t before = heartbeats(rig).size();
  rig.advance(milliseconds(5000));
  CHECK(heartbeats(rig).size() == before);

  Rig none;
  none.options.mqtt.keep_alive = seconds(0);
  none.boot();
  none.advance(milliseconds(5000));
  CHECK(heartbeats(none).empty());
  CHECK(none.status().state == "Ready");
}

}  // namespace
}  // namespace pharos::agent
