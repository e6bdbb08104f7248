// Removal bookkeeping (DESIGN.md section 2, "Apps"): a removed app stays in its target's
// document as a tombstone (state removed) and a moved app leaves a tombstone on its old
// target, until every node of that target reported state without the app; then it is
// dropped in the next generation. Nodes being purged are removed (NodeOps::finishRemoval)
// once they report no apps. A periodic sweep checks all of it.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "anchor/node_ops.h"
#include "anchor/op_context.h"
#include "pharos/executor.h"
#include "pharos/messages.h"

namespace pharos::anchor {

class RemovalSweep {
 public:
  RemovalSweep(const OpContext& ctx, const std::map<std::string, NodeState>& node_states,
               NodeOps& nodes, Strand& strand)
      : ctx_(ctx), node_states_(node_states), nodes_(nodes), strand_(strand) {}

  // Sweeps every sweep_interval from now on (the store is loaded).
  void start();
  void sweep();

 private:
  void schedule();
  // True when every node of `nodes` reported state without `app`.
  bool allGone(const std::set<std::string>& nodes, const std::string& app) const;
  std::set<std::string> nodesOfDoc(const std::string& doc_key) const;

  OpContext ctx_;
  const std::map<std::string, NodeState>& node_states_;  // last reported, per node
  NodeOps& nodes_;
  Strand& strand_;
  bool started_ = false;
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
