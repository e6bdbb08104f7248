// Secrets at rest in the anchor's store: the `secret/` and `registry/` records are kept as
// {"sealed": base64(nonce || secretbox(record JSON))} under the anchor's own key (a key file
// of its own, mode 0600, outside the store: docs/security.md "Sealed secrets"), so RocksDB,
// its WAL and SST files and every backup of it hold ciphertext only. The same key makes the
// digest that detects changes of secrets documents (a plain hash of them would let whoever
// reads the store test guesses of a secret offline).
//
// Threading: immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

class SecretsAtRest {
 public:
  // `key`: sealed::kStoreKeyBytes raw bytes.
  explicit SecretsAtRest(std::string key);

  // The stored form of a record's JSON text.
  std::string sealRecord(const std::string& plaintext) const;
  // The record's JSON. A record stored before sealing existed (plain JSON without "sealed")
  // is returned as it is with `*legacy` true, so the caller rewrites it sealed.
  Result<Json> openRecord(std::string_view key, std::string_view value, bool* legacy) const;
  // Keyed digest (hex) of a secrets document's content.
  std::string digest(std::string_view text) const;

 private:
  std::string key_;
};

}  // namespace pharos::anchor
