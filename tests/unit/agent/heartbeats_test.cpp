// Heartbeats (heartbeats.h) on a ManualExecutor: the interval rule, one beat at once then one
// per interval, and no beat after stop() or from a replaced chain.
#include "agent/heartbeats.h"

#include <doctest/doctest.h>

#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

using namespace pharos;
using namespace pharos::agent;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("the heartbeat interval is keep-alive / 2, or the configured one, never below 500 ms") {
  CHECK(heartbeatInterval(milliseconds(0), seconds(10)) == milliseconds(5000));
  CHECK(heartbeatInterval(milliseconds(0), seconds(1)) == milliseconds(500));
  CHECK(heartbeatInterval(milliseconds(0), seconds(7200)) == milliseconds(1'800'000));
  CHECK(heartbeatInterval(milliseconds(2000), seconds(10)) == milliseconds(2000));
  CHECK(heartbeatInterval(milliseconds(100), seconds(10)) == milliseconds(500));
}

TEST_CASE("heartbeats beat at once, then every interval, until stopped") {
  ManualClock clock;
  ManualExecutor exec{clock};
  int beats = 0;
  Heartbeats heartbeats(exec, [&] { ++beats; });
  heartbeats.start(milliseconds(1000));
  CHECK(beats == 1);
  exec.advance(milliseconds(999));
  CHECK(beats == 1);
  exec.advance(milliseconds(1));
  CHECK(beats == 2);
  exec.advance(milliseconds(3000));
  CHECK(beats == 5);
  heartbeats.stop();
  exec.advance(milliseconds(5000));
  CHECK(beats == 5);
  CHECK(exec.pendingTimers() == 0);
}

TEST_CASE("a restarted heartbeat replaces the running chain") {
  ManualClock clock;
  ManualExecutor exec{clock};
  int beats = 0;
  {
    Heartbeats heartbeats(exec, [&] { ++beats; });
    heartbeats.start(milliseconds(1000));
    exec.advance(milliseconds(500));
    heartbeats.start(milliseconds(1000));  // a reconnect
    CHECK(beats == 2);
    exec.advance(milliseconds(1000));
    CHECK(beats == 3);  // one chain, not two
  }
  exec.advance(milliseconds(5000));  // destroyed: stopped
  CHECK(beats == 3);
}
