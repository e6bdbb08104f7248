// Debounced rollout summaries (rollout_tracker.h). Runs on the anchor's strand.
#include "anchor/rollout_tracker.h"

#include "anchor/rollout.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

RolloutTracker::RolloutTracker(const AnchorOptions& config, const Registry& reg,
                               const std::map<std::string, NodeState>& node_states,
                               DocPublisher& publisher, Strand& strand, Clock& clock)
    : config_(config),
      reg_(reg),
      node_states_(node_states),
      publisher_(publisher),
      strand_(strand),
      clock_(clock) {}

void RolloutTracker::mark(const std::string& app) { dirty_.insert(app); }

void RolloutTracker::markAll() {
  for (const auto& [name, app] : reg_.apps()) dirty_.insert(name);
  schedule();
}

void RolloutTracker::markAppsOfNode(const std::string& node) {
  for (const auto& a : reg_.relations().appsOn(docKey(DocKind::kNode, node))) dirty_.insert(a);
  for (const auto& g : reg_.relations().effectiveGroups(node)) {
    for (const auto& a : reg_.relations().appsOn(docKey(DocKind::kGroup, g))) dirty_.insert(a);
  }
  schedule();
}

void RolloutTracker::schedule() {
  if (scheduled_ || dirty_.empty()) return;
  scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto delay = rolloutDelay(cost_, config_.rollout_min_interval, config_.rollout_interval);
  strand_.postDelayed(delay, [this, alive] {
    if (alive.expired()) return;
    scheduled_ = false;
    auto start = std::chrono::steady_clock::now();
    publish();
    cost_ = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  });
}

RolloutSummary RolloutTracker::compute(const AppRecord& app) const {
  RolloutInputs in;
  in.state_of = [this](const std::string& n) -> const NodeState* {
    auto it = node_states_.find(n);
    return it == node_states_.end() ? nullptr : &it->second;
  };
  in.ready = [this](const std::string& n) {
    auto it = reg_.health().find(n);
    return it != reg_.health().end() && it->second.health.state == Readiness::kReady;
  };
  in.time_zone = config_.site_time_zone.name();
  return computeRollout(app, reg_.relations().targetNodes(app.target), in, clock_.nowMs());
}

RolloutSummary RolloutTracker::current(const AppRecord& app) const {
  if (!dirty_.count(app.name)) {
    auto it = last_.find(app.name);
    if (it != last_.end() && it->second.revision == app.revision &&
        it->second.target == app.target.name &&
        it->second.target_kind == targetKindName(app.target.kind)) {
      return it->second;
    }
  }
  return compute(app);
}

void RolloutTracker::publish() {
  if (!publisher_.connected()) return;  // republished on reconnect
  std::set<std::string> dirty;
  dirty.swap(dirty_);
  for (const auto& name : dirty) {
    const AppRecord* app = reg_.findApp(name);
    if (!app) {
      last_.erase(name);
      if (hashes_.erase(name)) publisher_.retained(topics::appRollout(name), "");
      continue;
    }
    RolloutSummary summary = compute(*app);
    Json json = encode(summary);
    json.erase("ts");  // a new timestamp alone is no news
    std::string hash = contentHash(dumpJson(json));
    json["ts"] = summary.ts;
    last_[name] = std::move(summary);  // current()'s answer until the app is dirty
    auto& last = hashes_[name];
    if (last == hash) continue;
    last = hash;
    publisher_.retained(topics::appRollout(name), dumpJson(json));
  }
}

}  // namespace pharos::anchor
