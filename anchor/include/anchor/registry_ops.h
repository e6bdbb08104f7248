// registry.set, registry.list and registry.remove (docs/protocol.md 5.2) over an OpContext:
// the credentials a node or group's nodes pull private images with. They reach the nodes only
// inside their sealed secrets documents (DocRenderer::renderSecrets), so a change re-renders
// the secrets of every node the target reaches; a listing names hosts and usernames, never
// a password; every change is audited with the host, never the password.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <string>

#include "anchor/op_context.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

class RegistryOps {
 public:
  explicit RegistryOps(const OpContext& ctx) : ctx_(ctx) {}

  Result<Json> set(const std::string& user, const Json& body);
  // {registries: [{target, host, username}]}, by target then host.
  Result<Json> list(const Json& body);
  Result<Json> remove(const std::string& user, const Json& body);

 private:
  OpContext ctx_;
};

}  // namespace pharos::anchor
