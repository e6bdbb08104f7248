// Registry credentials of nodes and groups (registry_ops.h). Runs on the anchor's strand.
#include "anchor/registry_ops.h"

#include <fmt/format.h>

#include "pharos/api.h"

namespace pharos::anchor {

namespace {

std::string targetText(const Target& t) {
  return fmt::format("{} {}", targetKindName(t.kind), t.name);
}

}  // namespace

Result<Json> RegistryOps::set(const std::string& user, const Json& body) {
  auto req = decodeRegistrySet(body);
  if (!req) return req.status();
  PHAROS_RETURN_IF_ERROR(checkTarget(ctx_.reg, req->target));
  Txn txn(ctx_.reg);
  RegistryRecord rec;
  rec.target = req->target;
  rec.host = req->host;
  rec.username = req->username;
  rec.password = req->password;
  txn.putRegistry(std::move(rec));
  txn.docs().touchTarget(req->target);
  ctx_.audit(txn.extra(), user, "registry.set", "", "", req->host);  // never the password
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  return Json{{"host", req->host}, {"username", req->username}, {"target", toJson(req->target)}};
}

Result<Json> RegistryOps::list(const Json& body) {
  auto req = decodeRegistryList(body);
  if (!req) return req.status();
  if (req->target) PHAROS_RETURN_IF_ERROR(checkTarget(ctx_.reg, *req->target));
  const std::string only = req->target ? targetDocKey(*req->target) : std::string();
  Json out = Json::array();
  for (const auto& [doc_key, by_host] : ctx_.reg.registries()) {
    if (!only.empty() && doc_key != only) continue;
    for (const auto& [host, rec] : by_host) {
      out.push_back(
          Json{{"target", toJson(rec.target)}, {"host", host}, {"username", rec.username}});
    }
  }
  return Json{{"registries", std::move(out)}};
}

Result<Json> RegistryOps::remove(const std::string& user, const Json& body) {
  auto req = decodeRegistryRemove(body);
  if (!req) return req.status();
  PHAROS_RETURN_IF_ERROR(checkTarget(ctx_.reg, req->target));
  const auto& all = ctx_.reg.registries();
  auto held = all.find(targetDocKey(req->target));
  if (held == all.end() || !held->second.count(req->host)) {
    return Status::notFound(fmt::format("host: no credentials for '{}' on {}", req->host,
                                        targetText(req->target)))
        .withPath("host");
  }
  Txn txn(ctx_.reg);
  txn.eraseRegistry(req->target, req->host);
  txn.docs().touchTarget(req->target);
  ctx_.audit(txn.extra(), user, "registry.remove",
             req->target.kind == Target::Kind::kNode ? req->target.name : "", "",
             fmt::format("{} on {}", req->host, targetText(req->target)));
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  return Json{{"host", req->host}, {"target", toJson(req->target)}};
}

}  // namespace pharos::anchor
