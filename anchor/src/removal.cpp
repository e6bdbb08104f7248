// Removal bookkeeping (DESIGN.md section 2, "Apps"): a removed app stays in its target's
// document as a tombstone (state removed) and a moved app leaves a tombstone on its old
// target, until every node of that target reported state without the app; then it is
// dropped in the next generation. Nodes being purged are removed once they report no apps.
// A periodic sweep checks all of it. Runs on the anchor's strand.
#include "anchor/anchor.h"
#include "pharos/log.h"

namespace pharos::anchor {

void Anchor::scheduleSweep() {
  if (sweep_scheduled_) return;
  sweep_scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  strand_->postDelayed(config_.sweep_interval, [this, alive] {
    if (alive.expired()) return;
    sweep_scheduled_ = false;
    sweep();
    scheduleSweep();
  });
}

bool Anchor::allGone(const std::set<std::string>& nodes, const std::string& app) const {
  for (const auto& n : nodes) {
    auto it = node_states_.find(n);
    if (it == node_states_.end()) return false;
    for (const auto& a : it->second.apps) {
      if (a.name == app) return false;
    }
  }
  return true;
}

std::set<std::string> Anchor::nodesOfDoc(const std::string& doc_key) const {
  DocKind kind;
  std::string name;
  if (!parseDocKey(doc_key, kind, name)) return {};
  Target t;
  t.kind = kind == DocKind::kGroup ? Target::Kind::kGroup : Target::Kind::kNode;
  t.name = name;
  return reg_.targetNodes(t);
}

void Anchor::sweep() {
  if (!started_) return;
  Txn txn(reg_);
  std::vector<std::string> dropped_apps;
  size_t dropped_tombs = 0;
  for (const auto& [name, app] : reg_.apps()) {
    if (app.state != "removed") continue;
    if (allGone(reg_.targetNodes(app.target), name)) dropped_apps.push_back(name);
  }
  for (const auto& name : dropped_apps) {
    Status s = ops_.dropApp(txn, name);
    if (!s.isOk()) {
      spdlog::warn("sweep: {}", s.message());
      return;
    }
    rollouts_.mark(name);
  }
  std::vector<std::pair<std::string, std::string>> tombs;
  for (const auto& [doc, apps] : reg_.tombs()) {
    std::set<std::string> nodes = nodesOfDoc(doc);
    for (const auto& [app, spec] : apps) {
      // A tombstone left by a move does not wait for the nodes the app lives on now (a node
      // in both the old and the new group keeps running it).
      std::set<std::string> waiting = nodes;
      if (const AppRecord* live = reg_.findApp(app); live && live->state != "removed") {
        for (const auto& n : reg_.targetNodes(live->target)) waiting.erase(n);
      }
      if (allGone(waiting, app)) tombs.emplace_back(doc, app);
    }
  }
  for (const auto& [doc, app] : tombs) {
    txn.eraseTomb(doc, app);
    txn.touch(doc);
    ++dropped_tombs;
  }
  if (!dropped_apps.empty() || dropped_tombs > 0) {
    Status s = publisher_.commit(txn);
    if (!s.isOk()) {
      spdlog::warn("sweep: store: {}", s.message());
    } else {
      spdlog::info("sweep: dropped {} removed apps and {} tombstones", dropped_apps.size(),
                   dropped_tombs);
      rollouts_.schedule();
    }
  } else {
    txn.rollback();
  }
  // Purges: finish once the node reports no apps.
  std::vector<std::string> purged;
  for (const auto& [name, node] : reg_.nodes()) {
    if (node.registration != Registration::kRemoving || removing_.count(name)) continue;
    auto it = node_states_.find(name);
    if (it != node_states_.end() && it->second.apps.empty()) purged.push_back(name);
  }
  for (const auto& name : purged) {
    finishNodeRemoval(name, "anchor", [name](Result<Json> r) {
      if (!r) spdlog::warn("node {}: finishing purge: {}", name, r.status().message());
    });
  }
}

}  // namespace pharos::anchor
