// Audit events and app deletion shared by the operations (op_context.h). Runs on the anchor's
// strand.
#include "anchor/op_context.h"

#include "anchor/rollout_history.h"

namespace pharos::anchor {

Status checkTarget(const Registry& reg, const Target& target) {
  if (target.kind == Target::Kind::kNode) {
    if (!reg.findNode(target.name)) {
      return Status::notFound("target.node: no node named '" + target.name + "'")
          .withPath("target.node");
    }
  } else if (!reg.findGroup(target.name)) {
    return Status::notFound("target.group: no group named '" + target.name + "'")
        .withPath("target.group");
  }
  return Status::ok();
}

void OpContext::audit(WriteBatch& batch, const std::string& user, const std::string& operation,
                      const std::string& node, const std::string& app,
                      const std::string& message) const {
  EventRecord e;
  e.ts = clock.nowMs();
  e.source = "api";
  e.kind = operation;
  e.user = user;
  e.node = node;
  e.app = app;
  e.message = message;
  events.stage(std::move(e), batch);
}

Status OpContext::dropApp(Txn& txn, const std::string& app) const {
  const AppRecord* record = reg.findApp(app);
  if (!record) return Status::ok();
  Target target = record->target;
  txn.docs().touchAppTarget(target, app);
  std::vector<std::string> revs;
  PHAROS_RETURN_IF_ERROR(
      store.scan(keys::revPrefix(app), [&](std::string_view k, std::string_view) {
        revs.emplace_back(k);
        return true;
      }));
  for (auto& k : revs) txn.extra().del(std::move(k));
  PHAROS_RETURN_IF_ERROR(RolloutHistory(store, config.max_rollouts).drop(txn.extra(), app));
  txn.eraseSecrets(app);
  txn.eraseApp(app);
  return Status::ok();
}

}  // namespace pharos::anchor
