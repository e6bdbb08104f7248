// The documents the anchor publishes, rendered from the registry's records: each node's
// desired document (its labels, effective groups and apps, tombstones included), each
// group's desired document, each node's secrets document, and what a document's stored
// content hash is taken of. Reads the Registry through its public accessors only; holds no
// state of its own.
//
// Threading: owned by the Registry, on the anchor's strand; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "anchor/model.h"

namespace pharos::anchor {

class Registry;

class DocRenderer {
 public:
  explicit DocRenderer(const Registry& registry) : reg_(registry) {}
  DocRenderer(const DocRenderer&) = delete;
  DocRenderer& operator=(const DocRenderer&) = delete;

  // The document's content for `generation` (epoch included), or nullopt when the document
  // should not exist (unknown or pending node, unknown group).
  // A secrets document is published sealed to the node's public key (Anchor::publishDoc), or
  // withheld while the anchor knows none, so this plaintext never leaves the process.
  std::optional<Json> renderDoc(const std::string& doc_key, int64_t generation) const;
  std::optional<SecretsDoc> renderSecrets(const std::string& node, int64_t generation) const;
  // Every document that should exist now.
  std::vector<std::string> allDocKeys() const;
  // What a document's hash is taken of: `doc` (renderDoc at generation 0) without its epoch;
  // for a secrets document a digest (its plaintext is never stored). `doc` is left as it was.
  std::string contentOf(const std::string& doc_key, Json& doc) const;

 private:
  // The apps of a desired document: those targeting it, then its tombstones (a live app
  // wins over a tombstone of the same name), in name order.
  std::vector<AppSpec> desiredApps(const std::string& doc_key) const;

  const Registry& reg_;
};

}  // namespace pharos::anchor
