// app.* and events.query operations (DESIGN.md section 4) over an OpContext:
// every change is validated (identifiers, target, compose through libpharos's parseCompose
// with the deploy variables), stored with its revision in one batch, numbered and then
// published; reads answer from the registry, the store and the rollout summaries.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <map>
#include <string>

#include "anchor/op_context.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

class AppOps {
 public:
  explicit AppOps(const OpContext& ctx) : ctx_(ctx) {}

  Result<Json> deploy(const std::string& user, const Json& body);
  Result<Json> remove(const std::string& user, const Json& body);
  // app.start, app.stop and app.restart (`operation`).
  Result<Json> setState(const std::string& user, const std::string& operation, const Json& body);
  Result<Json> list(const Json& body);
  Result<Json> get(const Json& body);
  Result<Json> history(const Json& body);
  Result<Json> rollback(const std::string& user, const Json& body);
  Result<Json> eventsQuery(const Json& body);

 private:
  Status validateCompose(const std::string& compose, const Target& target,
                         const std::map<std::string, std::string>& variables,
                         const std::map<std::string, std::string>& secrets);
  // Stores a new revision of `app` (already updated in `txn`) in the same batch, with the
  // record of its rollout (rollout_history.h) over `previous_revision` (0: none).
  Status stageRevision(Txn& txn, const AppRecord& app, const std::string& user,
                       const std::string& note, int64_t previous_revision);

  OpContext ctx_;
};

}  // namespace pharos::anchor
