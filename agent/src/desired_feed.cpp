// The documents held -> the reconciler's desired set (see desired_feed.h). Strand only.
#include "agent/desired_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/desired_set.h"

namespace pharos::agent {

DesiredFeed::DesiredFeed(std::string node_id, std::map<std::string, std::string> config_labels,
                         DesiredDocs& docs, std::shared_ptr<Strand> strand, const Clock& clock,
                         Effects effects)
    : node_id_(std::move(node_id)),
      config_labels_(std::move(config_labels)),
      docs_(docs),
      strand_(std::move(strand)),
      clock_(clock),
      effects_(std::move(effects)) {}

DesiredFeed::~DesiredFeed() {
  *alive_ = false;
  stop();
}

void DesiredFeed::stop() {
  if (awaiting_timer_) strand_->cancel(awaiting_timer_);
  awaiting_timer_ = 0;
}

void DesiredFeed::recompute() {
  const auto& node_doc = docs_.node();
  const auto& secrets = docs_.secrets();
  bool secrets_blocked = !secrets && docs_.badDocuments().count("secrets") > 0;
  if (!node_doc || secrets_blocked) {
    effects_.freeze();
    effects_.report();
    return;
  }
  bool complete = awaitedGroupsArrived();
  EffectiveDesired eff = unionDesired(node_id_, *node_doc, docs_.groups());
  if (!complete) {
    // A tombstone may be the old place of an app whose new place has not arrived yet.
    std::erase_if(eff.apps, [](const EffectiveApp& e) {
      return e.spec.state == DesiredState::kRemoved && e.source != "node";
    });
  }
  reportConflicts(eff.conflicts);
  std::vector<DesiredApp> apps;
  const std::map<std::string, std::string> no_secrets;
  for (EffectiveApp& e : eff.apps) {
    DesiredApp d;
    d.variables = appVariables(node_id_, config_labels_, node_doc->labels, e.spec,
                               secrets ? secrets->variables : no_secrets);
    d.spec = std::move(e.spec);
    d.source = std::move(e.source);
    apps.push_back(std::move(d));
  }
  effects_.apply(std::move(apps), complete);
  effects_.report();
}

void DesiredFeed::reportConflicts(const std::vector<Conflict>& conflicts) {
  std::set<std::string> conflicts_now;
  for (const Conflict& c : conflicts) {
    std::string key = c.app + "|" + c.winner;
    for (const std::string& l : c.losers) key += "|" + l;
    conflicts_now.insert(key);
    if (reported_conflicts_.count(key)) continue;
    std::string losers;
    for (const std::string& l : c.losers) losers += (losers.empty() ? "" : ", ") + l;
    effects_.emit("conflict", c.app,
                  "app named by " + c.winner + " and " + losers + "; " + c.winner + " wins", "");
  }
  reported_conflicts_ = std::move(conflicts_now);
}

bool DesiredFeed::awaitedGroupsArrived() {
  stop();
  auto now = clock_.steadyNow();
  auto next = now + kGroupDocGrace;
  auto& awaiting_groups = docs_.awaiting();
  for (auto it = awaiting_groups.begin(); it != awaiting_groups.end();) {
    if (now - it->second >= kGroupDocGrace) {
      spdlog::warn("no document for group {} after {} s: applying without it", it->first,
                   std::chrono::duration_cast<std::chrono::seconds>(kGroupDocGrace).count());
      it = awaiting_groups.erase(it);
    } else {
      next = std::min(next, it->second + kGroupDocGrace);
      ++it;
    }
  }
  if (awaiting_groups.empty()) return true;
  std::weak_ptr<bool> alive = alive_;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
  awaiting_timer_ = strand_->postDelayed(delay, [this, alive] {
    if (auto a = alive.lock(); !a || !*a) return;
    awaiting_timer_ = 0;
    recompute();
  });
  return false;
}

}  // namespace pharos::agent
