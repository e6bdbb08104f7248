// The session arithmetic (agent/session.h): max(last + 1, clock), whatever the clock does.
#include "agent/session.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <limits>

namespace pharos::agent {
namespace {

TEST_CASE("a new session is the clock, or one more than the last when the clock is not ahead") {
  struct Case {
    int64_t last, now, want;
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (const Case& c : {
           Case{0, 1'700'000'000'000, 1'700'000'000'000},                  // first boot, clock set
           Case{1'700'000'000'000, 1'700'000'005'000, 1'700'000'005'000},  // clock moved on
           Case{1'700'000'000'000, 1'700'000'000'000, 1'700'000'000'001},  // same millisecond
           Case{1'700'000'000'000, 1'600'000'000'000, 1'700'000'000'001},  // clock went back
           Case{1'700'000'000'000, 0, 1'700'000'000'001},                  // no clock at all
           Case{0, 0, 1},                                                  // neither
           Case{kMax, 1'700'000'000'000, kMax},                            // saturates
       }) {
    CAPTURE(c.last);
    CAPTURE(c.now);
    CHECK(nextSession(c.last, c.now) == c.want);
  }
}

}  // namespace
}  // namespace pharos::agent
