// Keeps the brokers' identities in line with the registry (BrokerAdmin::reconcileIdentities
// and reconcileLineIdentities): once per process, after the first connection (so after an
// upgrade or a restore of the store or the dynamic-security file), every node, operator,
// viewer and bridge identity of the site broker gets exactly the role and ACLs of this
// release, a node's identity lives only on the broker it connects through, and orphan roles
// go. Each configured line broker gets the same once per process, when its bridge is first
// seen connected (its control topic crosses that bridge): its agents' roles get the release's
// ACLs and their registry groups, and the identity of a node that now connects elsewhere (it
// moved while the anchor was down) is removed. Each change is logged and counted
// (securityCount("identity_changes"), and "line_identity_removed" for removals on a line). A
// broker that did not answer is tried again later (a line also whenever its bridge connects).
// Runs on the anchor's strand.
#include <fmt/format.h>

#include "anchor/anchor.h"
#include "pharos/log.h"

namespace pharos::anchor {

namespace {
constexpr std::chrono::seconds kIdentityRetry{30};

// The node reported the broker it connects through (info.broker).
bool hasBroker(const NodeRecord& node) {
  if (!node.info.is_object()) return false;
  auto field = node.info.find("broker");
  return field != node.info.end() && field->is_string() && !field->get<std::string>().empty();
}
}  // namespace

IdentityPlan Anchor::identityPlan() const {
  IdentityPlan plan;
  for (const auto& [name, node] : reg_.nodes()) {
    // Only a line the configuration names (bridges) is sure: a node matched to an announced
    // bridge by host name keeps its site identity until the operator removes it.
    std::string line = lines_.lineOfNode(name);
    if (!line.empty() && config_.bridges.count("bridge-" + line) + config_.bridges.count(line)) {
      plan.remote_nodes.insert(name);
      continue;
    }
    std::set<std::string> groups;
    if (node.registration != Registration::kPending)
      groups = reg_.relations().effectiveGroups(name);
    plan.local_nodes.emplace(name, std::move(groups));
  }
  return plan;
}

IdentityPlan Anchor::lineIdentityPlan(const std::string& line) const {
  IdentityPlan plan;
  plan.broker = "line broker " + line;
  plan.group_rights = GroupRights::kAgentRole;  // docs/levels.md "Group rights on line brokers"
  for (const auto& [name, node] : reg_.nodes()) {
    std::string on = lines_.lineOfNode(name);
    if (on == line) {
      std::set<std::string> groups;
      if (node.registration != Registration::kPending)
        groups = reg_.relations().effectiveGroups(name);
      plan.local_nodes.emplace(name, std::move(groups));
    } else if (hasBroker(node)) {
      // It reports another broker (the site's or another line's): no identity here. A node
      // that never reported one keeps its identity, with no group rights.
      plan.remote_nodes.insert(name);
    }
  }
  return plan;
}

void Anchor::reconcileIdentities() {
  if (identities_ != IdentitySync::kNotYet) return;
  identities_ = IdentitySync::kRunning;
  std::weak_ptr<bool> alive = alive_;
  admin_.reconcileIdentities([this] { return identityPlan(); },
                             [this, alive](Result<IdentityReport> report) {
                               if (alive.expired()) return;
                               if (onIdentitiesReconciled("", report)) return;
                               identities_ = IdentitySync::kNotYet;
                               strand_->postDelayed(kIdentityRetry, [this, alive] {
                                 if (!alive.expired() && publisher_.connected())
                                   reconcileIdentities();
                               });
                             });
}

void Anchor::reconcileLineIdentities(const std::string& line) {
  if (!config_.bridges.count(line) && !config_.bridges.count("bridge-" + line)) return;
  IdentitySync& sync = line_identities_[line];
  if (sync != IdentitySync::kNotYet) return;
  sync = IdentitySync::kRunning;
  std::weak_ptr<bool> alive = alive_;
  admin_.reconcileLineIdentities(
      line, [this, line] { return lineIdentityPlan(line); },
      [this, alive, line](Result<IdentityReport> report) {
        if (alive.expired()) return;
        if (onIdentitiesReconciled(line, report)) return;
        line_identities_[line] = IdentitySync::kNotYet;
        // Again after a pause, or as soon as the bridge connects again.
        strand_->postDelayed(kIdentityRetry, [this, alive, line] {
          if (alive.expired() || !publisher_.connected()) return;
          if (lines_.bridgeUp(line)) reconcileLineIdentities(line);
        });
      });
}

bool Anchor::onIdentitiesReconciled(const std::string& line, const Result<IdentityReport>& report) {
  const std::string where = line.empty() ? "broker identities" : "line " + line + " identities";
  if (!report) {
    spdlog::warn("{}: cannot reconcile with the registry: {} (again in {} s)", where,
                 report.status().message(), kIdentityRetry.count());
    return false;
  }
  if (line.empty()) {
    identities_ = IdentitySync::kDone;
  } else {
    line_identities_[line] = IdentitySync::kDone;
    guards_.count("line_identity_removed", report->identities_removed);
  }
  for (const auto& change : report->changes) spdlog::info("{}: {}", where, change);
  guards_.count("identity_changes", report->changes.size());
  spdlog::info(
      "{}: {} roles checked against the registry; {} corrected ({} ACLs removed, {} added), {} "
      "created, {} memberships added, {} orphan roles and {} misplaced node identities removed; "
      "group rights: {} broker groups created, {} corrected, {} removed",
      where, report->roles_checked, report->roles_changed, report->acls_removed, report->acls_added,
      report->roles_created, report->memberships_added, report->orphan_roles_removed,
      report->identities_removed, report->groups_created, report->groups_changed,
      report->groups_removed);
  return true;
}

}  // namespace pharos::anchor
