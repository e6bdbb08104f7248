// RestartTracker: backoff 100 ms doubling to 1 min, CrashLoop window, reset when stable.
#include "agent/restart_tracker.h"

#include <doctest/doctest.h>

#include <vector>

namespace pharos::agent {
namespace {

using std::chrono::milliseconds;
using TP = RestartTracker::TimePoint;

TEST_CASE("agent restarts back off from 100 ms doubling to one minute") {
  RestartTracker t;
  TP now{};
  std::vector<int64_t> waits;
  for (int i = 0; i < 14; ++i) {
    auto d = t.startDelay(now);
    waits.push_back(d.count());
    now += d;
    CHECK(t.startDelay(now).count() == 0);
    t.recordAgentStart(now);
  }
  std::vector<int64_t> expected = {100,   200,   400,   800,   1600,  3200,  6400,
                                   12800, 25600, 51200, 60000, 60000, 60000, 60000};
  CHECK(waits == expected);
}

TEST_CASE("three deaths within a minute are a crash loop; it clears as they age") {
  RestartTracker t;
  TP now{};
  t.recordDeath(now);
  t.recordDeath(now + milliseconds(100));
  CHECK_FALSE(t.crashLooping(now + milliseconds(200)));
  t.recordDeath(now + milliseconds(300));
  CHECK(t.crashLooping(now + milliseconds(400)));
  CHECK_FALSE(t.crashLooping(now + milliseconds(60'200)));
}

TEST_CASE("a container running for a minute after the agent's start resets the backoff") {
  RestartTracker t;
  TP now{};
  for (int i = 0; i < 4; ++i) {
    now += t.startDelay(now);
    t.recordAgentStart(now);
  }
  CHECK(t.currentDelay() == milliseconds(1600));
  t.observeRunning(now + milliseconds(30'000));
  CHECK(t.currentDelay() == milliseconds(1600));
  t.observeRunning(now + milliseconds(60'000));
  CHECK(t.currentDelay() == milliseconds(100));
}

TEST_CASE("a container that ran a minute since its own start resets the backoff at once") {
  RestartTracker t;
  TP now{};
  for (int i = 0; i < 3; ++i) {
    now += t.startDelay(now);
    t.recordAgentStart(now);
  }
  REQUIRE(t.currentDelay() == milliseconds(800));
  t.observeRunTime(milliseconds(59'999));  // died just short of a minute: still backing off
  CHECK(t.currentDelay() == milliseconds(800));
  t.observeRunTime(milliseconds(62'000));  // looked at only after its death, 62 s in
  CHECK(t.currentDelay() == milliseconds(100));
  CHECK(t.agentStarts() == 0);
}

}  // namespace
}  // namespace pharos::agent
