// secrets_at_rest.h: record sealing over pharos/sealed.h. A record that does not open is an
// error naming the key, never its content.
#include "anchor/secrets_at_rest.h"

#include <fmt/format.h>

#include <cstdlib>

#include "pharos/sealed.h"

namespace pharos::anchor {
namespace {
constexpr size_t kMaxRecordBytes = size_t{64} << 20;
}

SecretsAtRest::SecretsAtRest(std::string key) : key_(std::move(key)) {
  if (key_.size() != sealed::kStoreKeyBytes) std::abort();  // a wiring bug, not input
}

std::string SecretsAtRest::sealRecord(const std::string& plaintext) const {
  auto data = sealed::encrypt(plaintext, key_);
  if (!data) std::abort();  // only a wrong key size fails, checked at construction
  return dumpJson(Json{{"sealed", sealed::toBase64(*data)}});
}

Result<Json> SecretsAtRest::openRecord(std::string_view key, std::string_view value,
                                       bool* legacy) const {
  *legacy = false;
  auto outer = parseJson(value, kMaxRecordBytes, 128);
  if (!outer)
    return Status::internal(fmt::format("store record {}: {}", key, outer.status().message()));
  if (!outer->is_object() || !outer->contains("sealed")) {
    *legacy = true;
    return outer;
  }
  const Json& text = (*outer)["sealed"];
  if (!text.is_string()) {
    return Status::internal(fmt::format("store record {}: sealed must be a string", key));
  }
  auto data = sealed::fromBase64(text.get<std::string>());
  if (!data) return Status::internal(fmt::format("store record {}: sealed is not base64", key));
  auto plain = sealed::decrypt(*data, key_);
  if (!plain) {
    return Status::internal(fmt::format(
        "store record {} cannot be decrypted: the secrets key file is not the one this store "
        "was written with (restore it, e.g. from a backup made with --include-secrets-key)",
        key));
  }
  auto json = parseJson(*plain, kMaxRecordBytes, 128);
  std::fill(plain->begin(), plain->end(), '\0');
  if (!json)
    return Status::internal(fmt::format("store record {}: sealed content is not JSON", key));
  return json;
}

std::string SecretsAtRest::digest(std::string_view text) const {
  return sealed::keyedDigest(text, key_);
}

}  // namespace pharos::anchor
