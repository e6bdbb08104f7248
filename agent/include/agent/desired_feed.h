// What turns the documents an agent holds (DesiredDocs) into the reconciler's desired set
// (DESIGN.md section 2, "Effective desired state"): their union for this node
// (desired_set.h unionDesired), each app with its variables (node id, labels, deploy
// variables, opened secrets), one `conflict` event per new conflict, and the freeze while no
// node document is held or the secrets cannot be opened. Until every group the node document
// newly lists has answered (or kGroupDocGrace passed) the set is not authoritative and keeps
// no group's tombstone (it may be the old place of an app whose new place has not arrived);
// a timer recomputes when the earliest grace ends.
//
// Threading: the agent's strand, which its timer runs on too.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/desired_docs.h"
#include "agent/desired_set.h"
#include "agent/reconciler.h"
#include "pharos/clock.h"
#include "pharos/executor.h"

namespace pharos::agent {

// How long a newly listed group's document may take to arrive before the agent applies the
// rest without it (a group document normally arrives, retained, within milliseconds).
inline constexpr std::chrono::milliseconds kGroupDocGrace{10'000};

class DesiredFeed {
 public:
  struct Effects {
    // An event (kind, app, reason, message).
    std::function<void(const std::string&, const std::string&, const std::string&,
                       const std::string&)>
        emit;
    std::function<void()> freeze;  // no engine mutation until the next apply
    // The desired set; `authoritative`: every listed group has answered.
    std::function<void(std::vector<DesiredApp>, bool authoritative)> apply;
    std::function<void()> report;  // the reported state may have changed
  };

  DesiredFeed(std::string node_id, std::map<std::string, std::string> config_labels,
              DesiredDocs& docs, std::shared_ptr<Strand> strand, const Clock& clock,
              Effects effects);
  ~DesiredFeed();
  DesiredFeed(const DesiredFeed&) = delete;
  DesiredFeed& operator=(const DesiredFeed&) = delete;

  // The documents changed: freezes, or applies the union.
  void recompute();
  // Cancels the grace timer; a recompute() later still runs.
  void stop();

 private:
  // True when every group the node document lists has answered (or its grace passed);
  // otherwise arms the timer.
  bool awaitedGroupsArrived();
  void reportConflicts(const std::vector<Conflict>& conflicts);

  const std::string node_id_;
  const std::map<std::string, std::string> config_labels_;
  DesiredDocs& docs_;
  std::shared_ptr<Strand> strand_;
  const Clock& clock_;
  Effects effects_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  uint64_t awaiting_timer_ = 0;
  std::set<std::string> reported_conflicts_;
};

}  // namespace pharos::agent
