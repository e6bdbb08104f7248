// StateReporter (state_reporter.h) on a ManualExecutor over FakeBroker: settle, debounce, the
// hold while the reconciler works, the unchanged report not sent again, nothing offline.
#include "agent/state_reporter.h"

#include <doctest/doctest.h>

#include <functional>

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
  DesiredDocs docs{clock, quietEffects([] {})};
  bool working = false;
  AppPhase phase = AppPhase::kRunning;
  StateReporter reporter{
      strand,
      clock,
      StateReporter::Timing{milliseconds(20), milliseconds(200), milliseconds(1000)},
      docs,
      publisher,
      StateReporter::Reconciling{[this] { return working; },
                                 [this] {
                                   AppState a;
                                   a.name = "web";
                                   a.phase = phase;
                                   return std::vector<AppState>{a};
                                 }}};

  void connect() { goOnline(broker, *link, publisher); }
  size_t states() {
    return broker.published(topics::node("edge-1", topics::NodeTopic::kState)).size();
  }
};

}  // namespace

TEST_CASE("a change is reported after the settle time, the next ones once per debounce window") {
  Rig r;
  r.connect();
  r.reporter.schedule();
  r.exec.advance(milliseconds(19));
  CHECK(r.states() == 0);
  r.exec.advance(milliseconds(1));
  CHECK(r.states() == 1);
  r.phase = AppPhase::kDegraded;
  r.reporter.schedule();
  r.exec.advance(milliseconds(100));
  CHECK(r.states() == 1);  // within the debounce window
  r.exec.advance(milliseconds(100));
  CHECK(r.states() == 2);
  CHECK(r.reporter.snapshot().apps.at(0).phase == AppPhase::kDegraded);
}

TEST_CASE("an unchanged report is not sent again unless forced") {
  Rig r;
  r.connect();
  r.reporter.publish(false);
  r.reporter.publish(false);
  CHECK(r.states() == 1);
  r.reporter.publish(true);
  CHECK(r.states() == 2);
}

TEST_CASE("a report waits while the reconciler works, at most the hold") {
  Rig r;
  r.connect();
  r.working = true;
  r.reporter.schedule();
  r.exec.advance(milliseconds(500));
  CHECK(r.states() == 0);
  r.exec.advance(milliseconds(600));
  CHECK(r.states() == 1);  // the hold ran out
}

TEST_CASE("offline nothing is sent, and a stopped reporter schedules nothing") {
  Rig r;
  r.reporter.schedule();
  r.exec.advance(milliseconds(100));
  CHECK(r.states() == 0);
  CHECK(r.reporter.snapshot().apps.size() == 1);  // built all the same
  r.connect();
  r.reporter.stop();
  r.reporter.schedule();
  r.exec.advance(milliseconds(1000));
  CHECK(r.states() == 0);
}
