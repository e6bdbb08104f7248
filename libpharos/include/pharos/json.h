// The one adapter between nlohmann-json's exceptions and Status. Decoders read fields
// through JsonReader so every error names the full field path ("apps[2].compose: must be
// a string"). Thread-compatible: a JsonReader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/status.h"

namespace pharos {

using Json = nlohmann::json;

// Parses untrusted text. Refuses more than `max_bytes` (too_large) and more than
// `max_depth` levels of nesting (invalid_argument) before building anything deep.
Result<Json> parseJson(std::string_view text, size_t max_bytes = 1 << 20, int max_depth = 64);

// Serialises compactly; invalid UTF-8 is replaced, never thrown.
std::string dumpJson(const Json& value);

// Reads typed fields from an object, accumulating the first error with its path.
// Holds a reference to `object`: the Json must outlive the reader.
class JsonReader {
 public:
  JsonReader(const Json& object, std::string path);

  // Ok when the reader holds an object (set by the constructor) and no read failed.
  const Status& status() const { return status_; }
  bool ok() const { return status_.isOk(); }

  bool has(const char* key) const;
  std::string path(const char* key) const;

  // Required fields: record an error naming the path when missing or of another type.
  std::string str(const char* key);
  int64_t i64(const char* key);
  bool boolean(const char* key);
  const Json& object(const char* key);
  const Json& array(const char* key);

  // Optional fields: the fallback when missing or null; an error when of another type.
  std::string str(const char* key, const std::string& fallback);
  int64_t i64(const char* key, int64_t fallback);
  bool boolean(const char* key, bool fallback);
  std::optional<std::string> optStr(const char* key);
  // Optional object/array: an empty one when missing.
  const Json& objectOr(const char* key);
  const Json& arrayOr(const char* key);
  // Optional map of string -> string.
  std::vector<std::pair<std::string, std::string>> stringMap(const char* key);

  // Checks "v": 1 (missing or other values are errors).
  void version();
  // One of the allowed strings.
  std::string oneOf(const char* key, std::initializer_list<const char*> allowed);
  std::string oneOf(const char* key, std::initializer_list<const char*> allowed,
                    const std::string& fallback);

  void fail(Status status);

 private:
  const Json* find(const char* key) const;
  void typeError(const char* key, const char* want);

  const Json& json_;
  std::string path_;
  Status status_;
};

}  // namespace pharos
