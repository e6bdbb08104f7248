// IdentityReconciler: brings one broker's dynamic-security identities in line with the
// registry (identityCommands in broker_acls.h). It lists the broker's roles, groups and
// clients (paged), asks the plan for the registry's view at that moment, and sends the
// difference in batches, all on one control topic: the site broker's
// $CONTROL/dynamic-security/v1, or a line broker's topics::lineControl(line), which that line's
// bridge imports as its own $CONTROL topic. A broker already in line costs three reads and no
// write.
//
// Threading: runs on the anchor's strand, like the DynsecChannel it sends through.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "anchor/broker_acls.h"
#include "anchor/dynsec_channel.h"

namespace pharos::anchor {

class IdentityReconciler {
 public:
  using Done = std::function<void(Result<IdentityReport>)>;

  // `channel` must outlive the reconciler.
  explicit IdentityReconciler(DynsecChannel& channel) : channel_(channel) {}

  using Placed = std::function<void(Placements)>;

  // One reconciliation of the broker behind `topic`; `done` runs once. `placed` (site broker)
  // learns where the group memberships will be held, as the commands are rendered.
  void run(const std::string& topic, std::function<IdentityPlan()> plan, Done done,
           Placed placed = {});

 private:
  struct Run;
  void readList(std::shared_ptr<Run> run, const char* command, const char* key,
                std::function<void(const Json&)> item, std::function<void()> next, int offset);
  void apply(std::shared_ptr<Run> run);

  DynsecChannel& channel_;
};

}  // namespace pharos::anchor
