// The session arithmetic (agent/session.h): max(last + 1, clock), whatever the clock does;
// the SessionStore writing it with the documents.
#include "agent/session.h"

#include <doctest/doctest.h>

#include <initializer_list>
#include <limits>

#include "pharos/manual_clock.h"

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

TEST_CASE("the session store keeps the documents and the session in one file") {
  ManualClock clock(1000);
  StateFile file("");  // in memory
  SessionStore store(file, clock);
  CHECK(store.load().status().code() == Code::kNotFound);
  PersistedState docs;
  docs.node_desired = "{\"v\":1}";
  docs.last_session = 99;  // ignored: the store's session is written
  REQUIRE(store.saveDocuments(docs).isOk());
  CHECK(file.load()->last_session == 0);
  CHECK(store.takeSession() == 1000);
  auto saved = file.load();
  REQUIRE(saved.isOk());
  CHECK(saved->last_session == 1000);
  CHECK(saved->node_desired == docs.node_desired);  // a new session keeps the documents
  CHECK(store.takeSession() == 1001);               // the clock has not moved on

  SessionStore restarted(file, clock);
  REQUIRE(restarted.load().isOk());
  CHECK(restarted.session() == 1001);
}

}  // namespace
}  // namespace pharos::agent
