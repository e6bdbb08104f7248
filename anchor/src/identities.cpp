// Keeps the broker's identities in line with the registry (BrokerAdmin::reconcileIdentities):
// once per process, after the first connection (so after an upgrade or a restore of the
// store or the dynamic-security file), every node, operator, viewer and bridge identity gets
// exactly the role and ACLs of this release, a node's identity lives only on the broker it
// connects through, and orphan roles go. Each change is logged and counted
// (securityCount("identity_changes")). A broker that did not answer is tried again later.
// Runs on the anchor's strand.
#include "anchor/anchor.h"
#include "pharos/log.h"

namespace pharos::anchor {

namespace {
constexpr std::chrono::seconds kIdentityRetry{30};
}  // namespace

IdentityPlan Anchor::identityPlan() const {
  IdentityPlan plan;
  for (const auto& [name, node] : reg_.nodes()) {
    // Only a line the configuration names (bridges) is sure: a node matched to an announced
    // bridge by host name keeps its site identity until the operator removes it.
    std::string line = lineOfNode(name);
    if (!line.empty() && config_.bridges.count("bridge-" + line) + config_.bridges.count(line)) {
      plan.line_nodes.insert(name);
      continue;
    }
    std::set<std::string> groups;
    if (node.registration != Registration::kPending) groups = reg_.effectiveGroups(name);
    plan.site_nodes.emplace(name, std::move(groups));
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
                               onIdentitiesReconciled(report);
                             });
}

void Anchor::onIdentitiesReconciled(const Result<IdentityReport>& report) {
  if (!report) {
    identities_ = IdentitySync::kNotYet;
    spdlog::warn("broker identities: cannot reconcile with the registry: {} (again in {} s)",
                 report.status().message(), kIdentityRetry.count());
    std::weak_ptr<bool> alive = alive_;
    strand_->postDelayed(kIdentityRetry, [this, alive] {
      if (!alive.expired() && publisher_.connected()) reconcileIdentities();
    });
    return;
  }
  identities_ = IdentitySync::kDone;
  for (const auto& line : report->changes) spdlog::info("broker identities: {}", line);
  guards_.count("identity_changes", report->changes.size());
  spdlog::info(
      "broker identities: {} roles checked against the registry; {} corrected ({} ACLs removed, "
      "{} added), {} created, {} memberships added, {} orphan roles and {} misplaced node "
      "identities removed",
      report->roles_checked, report->roles_changed, report->acls_removed, report->acls_added,
      report->roles_created, report->memberships_added, report->orphan_roles_removed,
      report->identities_removed);
}

}  // namespace pharos::anchor
