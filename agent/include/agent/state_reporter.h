// The agent's debounced state report (DESIGN.md section 2, nodes/{node}/state): the
// {epoch, generation} of each document applied, the reconciler's app states, and two
// extension fields (refused documents, the freeze). The first change after a quiet period is
// published `settle` after it (changes of one reconcile step coalesce), later ones at most
// once per `debounce`; while the reconciler is at work on a change a report waits for it, at
// most `hold`, so a quick rollout is reported once (applied and running together). A report
// whose content (all but its ts) equals the last one published is not sent again; offline,
// nothing is sent (publish(true) on the next connection does).
//
// Threading: the agent's strand, which its timer runs on too.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/desired_docs.h"
#include "agent/node_publisher.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/messages.h"

namespace pharos::agent {

class StateReporter {
 public:
  struct Timing {
    std::chrono::milliseconds settle{20};
    std::chrono::milliseconds debounce{200};
    std::chrono::milliseconds hold{1000};
  };
  // What the reconciler tells the report: whether it is at work on a change, its app states.
  struct Reconciling {
    std::function<bool()> working;
    std::function<std::vector<AppState>()> apps;
  };

  StateReporter(std::shared_ptr<Strand> strand, const Clock& clock, Timing timing,
                const DesiredDocs& docs, NodePublisher& publisher, Reconciling reconciling);
  ~StateReporter();
  StateReporter(const StateReporter&) = delete;
  StateReporter& operator=(const StateReporter&) = delete;

  // Something reported changed: publishes after the settle / debounce / hold rules.
  void schedule();
  // Builds the report now and publishes it when it changed, or always with `force`.
  void publish(bool force);
  // Cancels the timer; schedule() does nothing afterwards.
  void stop();
  // The state last built.
  const NodeState& snapshot() const { return last_state_; }

 private:
  void arm(std::chrono::milliseconds delay);
  // True while the report waits for the reconciler (the timer is then armed again).
  bool hold();

  std::shared_ptr<Strand> strand_;
  const Clock& clock_;
  const Timing timing_;
  const DesiredDocs& docs_;
  NodePublisher& publisher_;
  Reconciling reconciling_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
  bool timer_armed_ = false;
  uint64_t timer_ = 0;
  // Set while a report waits for the reconciler (hold): when that wait began.
  std::optional<std::chrono::steady_clock::time_point> held_since_;
  std::optional<std::chrono::steady_clock::time_point> last_publish_;
  std::string last_json_;
  NodeState last_state_;
};

}  // namespace pharos::agent
