// Removal bookkeeping (DESIGN.md section 2, "Apps"): a removed app stays in its target's
// document as a tombstone (state removed) and a moved app leaves a tombstone on its old
// target, until every node of that target reported state without the app; then it is
// dropped in the next generation. Nodes being purged are removed once they report no apps.
// A periodic sweep checks all of it (removal_sweep.h). Runs on the anchor's strand.
#include "anchor/removal_sweep.h"

#include "pharos/log.h"

namespace pharos::anchor {

void RemovalSweep::start() {
  started_ = true;
  schedule();
}

void RemovalSweep::schedule() {
  if (scheduled_) return;
  scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  strand_.postDelayed(ctx_.config.sweep_interval, [this, alive] {
    if (alive.expired()) return;
    scheduled_ = false;
    sweep();
    schedule();
  });
}

bool RemovalSweep::allGone(const std::set<std::string>& nodes, const std::string& app) const {
  for (const auto& n : nodes) {
    auto it = node_states_.find(n);
    if (it == node_states_.end()) return false;
    for (const auto& a : it->second.apps) {
      if (a.name == app) return false;
    }
  }
  return true;
}

std::set<std::string> RemovalSweep::nodesOfDoc(const std::string& doc_key) const {
  DocKind kind;
  std::string name;
  if (!parseDocKey(doc_key, kind, name)) return {};
  Target t;
  t.kind = kind == DocKind::kGroup ? Target::Kind::kGroup : Target::Kind::kNode;
  t.name = name;
  return ctx_.reg.relations().targetNodes(t);
}

void RemovalSweep::sweep() {
  if (!started_) return;
  Txn txn(ctx_.reg);
  std::vector<std::string> dropped_apps;
  size_t dropped_tombs = 0;
  for (const auto& [name, app] : ctx_.reg.apps()) {
    if (app.state != DesiredState::kRemoved) continue;
    if (allGone(ctx_.reg.relations().targetNodes(app.target), name)) dropped_apps.push_back(name);
  }
  for (const auto& name : dropped_apps) {
    Status s = ctx_.dropApp(txn, name);
    if (!s.isOk()) {
      spdlog::warn("sweep: {}", s.message());
      return;
    }
    ctx_.rollouts.mark(name);
  }
  std::vector<std::pair<std::string, std::string>> tombs;
  for (const auto& [doc, apps] : ctx_.reg.tombs()) {
    std::set<std::string> nodes = nodesOfDoc(doc);
    for (const auto& [app, spec] : apps) {
      // A tombstone left by a move does not wait for the nodes the app lives on now (a node
      // in both the old and the new group keeps running it).
      std::set<std::string> waiting = nodes;
      if (const AppRecord* live = ctx_.reg.findApp(app);
          live && live->state != DesiredState::kRemoved) {
        for (const auto& n : ctx_.reg.relations().targetNodes(live->target)) waiting.erase(n);
      }
      if (allGone(waiting, app)) tombs.emplace_back(doc, app);
    }
  }
  for (const auto& [doc, app] : tombs) {
    txn.eraseTomb(doc, app);
    txn.docs().touch(doc);
    ++dropped_tombs;
  }
  if (!dropped_apps.empty() || dropped_tombs > 0) {
    Status s = ctx_.publisher.commit(txn);
    if (!s.isOk()) {
      spdlog::warn("sweep: store: {}", s.message());
    } else {
      spdlog::info("sweep: dropped {} removed apps and {} tombstones", dropped_apps.size(),
                   dropped_tombs);
      ctx_.rollouts.schedule();
    }
  } else {
    txn.rollback();
  }
  // Purges: finish once the node reports no apps.
  std::vector<std::string> purged;
  for (const auto& [name, node] : ctx_.reg.nodes()) {
    if (node.registration != Registration::kRemoving || nodes_.removing(name)) continue;
    auto it = node_states_.find(name);
    if (it != node_states_.end() && it->second.apps.empty()) purged.push_back(name);
  }
  for (const auto& name : purged) {
    nodes_.finishRemoval(name, "anchor", [name](Result<Json> r) {
      if (!r) spdlog::warn("node {}: finishing purge: {}", name, r.status().message());
    });
  }
}

}  // namespace pharos::anchor
