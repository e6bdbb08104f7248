// DocRenderer: the published documents rendered from the registry (doc_renderer.h). Runs on
// the anchor's strand.
#include "anchor/doc_renderer.h"

#include <set>

#include "anchor/registry.h"

namespace pharos::anchor {

std::vector<AppSpec> DocRenderer::desiredApps(const std::string& doc_key) const {
  std::map<std::string, AppSpec> apps;
  for (const auto& a : reg_.relations().appsOn(doc_key)) apps[a] = toAppSpec(reg_.apps().at(a));
  if (auto t = reg_.tombs().find(doc_key); t != reg_.tombs().end()) {
    for (const auto& [a, spec] : t->second) apps.emplace(a, spec);
  }
  std::vector<AppSpec> out;
  out.reserve(apps.size());
  for (auto& [a, spec] : apps) out.push_back(std::move(spec));
  return out;
}

std::optional<Json> DocRenderer::renderDoc(const std::string& doc_key, int64_t generation) const {
  DocKind kind;
  std::string name;
  if (!parseDocKey(doc_key, kind, name)) return std::nullopt;
  if (kind == DocKind::kGroup) {
    if (!reg_.findGroup(name)) return std::nullopt;
    DesiredDoc doc;
    doc.epoch = reg_.epoch();
    doc.generation = generation;
    doc.apps = desiredApps(doc_key);
    return encodeGroupDesired(doc);
  }
  const NodeRecord* node = reg_.findNode(name);
  if (!node || node->registration == Registration::kPending) return std::nullopt;
  if (kind == DocKind::kNode) {
    std::set<std::string> groups = reg_.relations().effectiveGroups(name);
    DesiredDoc doc;
    doc.epoch = reg_.epoch();
    doc.generation = generation;
    doc.labels = node->labels;
    doc.groups.assign(groups.begin(), groups.end());
    doc.apps = desiredApps(doc_key);
    return encode(doc);
  }
  auto secrets = renderSecrets(name, generation);
  if (!secrets) return std::nullopt;
  return encode(*secrets);
}

std::optional<SecretsDoc> DocRenderer::renderSecrets(const std::string& name,
                                                     int64_t generation) const {
  const NodeRecord* node = reg_.findNode(name);
  if (!node || node->registration == Registration::kPending) return std::nullopt;
  // Secrets: of every live app that reaches the node (node apps first, then groups in
  // name order; the first definition of a name wins), and the registry credentials of the
  // node and its groups (node credentials win over group ones for the same host).
  SecretsDoc doc;
  doc.node = name;
  doc.epoch = reg_.epoch();
  doc.generation = generation;
  std::vector<std::string> sources{docKey(DocKind::kNode, name)};
  for (const auto& g : reg_.relations().effectiveGroups(name)) {
    sources.push_back(docKey(DocKind::kGroup, g));
  }
  std::map<std::string, RegistryAuth> registries;
  for (const auto& source : sources) {
    for (const auto& a : reg_.relations().appsOn(source)) {
      if (reg_.apps().at(a).state == DesiredState::kRemoved) continue;
      const auto* secrets = reg_.findSecrets(a);
      if (!secrets) continue;
      for (const auto& [k, v] : *secrets) doc.variables.emplace(k, v);
    }
    auto r = reg_.registries().find(source);
    if (r == reg_.registries().end()) continue;
    for (const auto& [host, rec] : r->second) {
      registries.emplace(host, RegistryAuth{rec.host, rec.username, rec.password});
    }
  }
  for (auto& [host, auth] : registries) doc.registries.push_back(std::move(auth));
  return doc;
}

std::string DocRenderer::contentOf(const std::string& doc_key, Json& doc) const {
  // The epoch is taken out for the dump and put back (the object's keys are sorted, so the
  // document dumps as before): no copy of the document.
  auto epoch = doc.find("epoch");
  Json held = epoch != doc.end() ? std::move(*epoch) : Json();
  if (epoch != doc.end()) doc.erase(epoch);
  std::string content;
  DocKind kind;
  std::string name;
  if (parseDocKey(doc_key, kind, name) && kind == DocKind::kSecrets) {
    // The stored hash of a secrets document reveals nothing without the at-rest key, and a
    // new public key is a new document (sealed again, next generation).
    const std::string& key = reg_.nodes().at(name).public_key;
    content =
        key.empty() ? std::string("withheld") : reg_.atRest().digest(dumpJson(doc)) + "/" + key;
  } else {
    content = dumpJson(doc);
  }
  if (!held.is_null()) doc["epoch"] = std::move(held);
  return content;
}

std::vector<std::string> DocRenderer::allDocKeys() const {
  std::vector<std::string> out;
  out.reserve(reg_.nodes().size() * 2 + reg_.groups().size());
  for (const auto& [name, n] : reg_.nodes()) {
    if (n.registration == Registration::kPending) continue;
    out.push_back(docKey(DocKind::kNode, name));
    out.push_back(docKey(DocKind::kSecrets, name));
  }
  for (const auto& [name, g] : reg_.groups()) out.push_back(docKey(DocKind::kGroup, name));
  return out;
}

}  // namespace pharos::anchor
