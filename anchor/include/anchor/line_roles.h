// LineRoles: the anchor's administration of the agent identities that live on line brokers
// (docs/levels.md "Group rights on line brokers"), through each line's control topic
// (topics::lineControl), which the line's bridge imports as that broker's own $CONTROL topic.
// It grants and revokes a node's group read rights (the change at once, then a round that
// reads the role and sends only what is still missing), removes the identity of a node that
// now connects elsewhere, and reconciles the whole line with the registry
// (IdentityReconciler). Per line, one round at a time: a round always reads the result of the
// previous one, and a reconciliation waits for the round in progress.
//
// Threading: every method and callback runs on the anchor's strand.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "anchor/dynsec_channel.h"
#include "anchor/identity_reconciler.h"

namespace pharos::anchor {

class LineRoles {
 public:
  // `channel` and `strand` must outlive this object.
  LineRoles(DynsecChannel& channel, Executor& strand, std::chrono::milliseconds batch_delay)
      : channel_(channel), strand_(strand), reconciler_(channel), batch_delay_(batch_delay) {}

  // BrokerAdmin::syncLineNodeGroups.
  void syncNodeGroups(const std::string& line, const std::string& node,
                      const std::set<std::string>& groups);
  // BrokerAdmin::removeLineNode.
  void removeNode(const std::string& line, const std::string& node);
  // BrokerAdmin::reconcileLineIdentities: after the round in progress on that line.
  void reconcile(const std::string& line, std::function<IdentityPlan()> plan,
                 IdentityReconciler::Done done);

 private:
  struct Line {
    std::map<std::string, std::set<std::string>> wanted;  // node -> groups
    std::set<std::string> pending;                        // nodes to (re)check
    bool busy = false;                                    // a round is scheduled or running
    // A reconciliation waiting for its turn.
    std::function<IdentityPlan()> reconcile_plan;
    IdentityReconciler::Done reconcile_done;
  };

  void scheduleRound(const std::string& line);
  void finishRound(const std::string& line);
  void round(const std::string& line);
  void reconcileNow(const std::string& line);
  void sendDelta(const std::string& line, const std::string& node, const std::set<std::string>& add,
                 const std::set<std::string>& remove);
  void applyDiff(const std::string& line, const std::vector<std::string>& nodes,
                 const std::map<std::string, std::map<std::string, int>>& current);

  DynsecChannel& channel_;
  Executor& strand_;
  IdentityReconciler reconciler_;
  std::chrono::milliseconds batch_delay_;
  std::map<std::string, Line> lines_;  // by line name
};

}  // namespace pharos::anchor
