// Internal helpers shared by the message and API request codecs (messages_*.cpp,
// api_*.cpp): typed reads on top of JsonReader that keep the field path in every error.
// Not installed; pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pharos/api.h"
#include "pharos/ids.h"
#include "pharos/json.h"
#include "pharos/status.h"

// Defines the std::string_view overload of a decoder from its Json overload.
#define PHAROS_DEFINE_PAYLOAD_DECODER(Type, name, limit)                                      \
  Result<Type> name(std::string_view payload) {                                               \
    return codec::decodePayload<Type>(payload, limit, [](const Json& j) { return name(j); }); \
  }

namespace pharos::codec {

// A JsonReader that also gives access to the raw values it reads, for the checks JsonReader
// does not make itself (finite numbers, integers beyond int64).
class Reader : public JsonReader {
 public:
  Reader(const Json& object, std::string path)
      : JsonReader(object, std::move(path)), json_(object) {}
  // The value under `key`, or nullptr when missing, null or not an object.
  const Json* raw(const char* key) const;

 private:
  const Json& json_;
};

// "apps" + 2 -> "apps[2]" under the reader's own path.
std::string indexPath(const JsonReader& r, const char* key, size_t index);

// Parses a payload with the size limit and hands the object to `decode`.
template <typename T, typename F>
Result<T> decodePayload(std::string_view payload, size_t max_bytes, F decode) {
  auto json = parseJson(payload, max_bytes);
  if (!json) return json.status();
  return decode(*json);
}

// Returns the value or the reader's first error.
template <typename T>
Result<T> finish(const JsonReader& r, T value) {
  if (!r.ok()) return r.status();
  return value;
}

// Integers with a range check ("restart_count: must be between 0 and 2147483647").
int64_t i64In(Reader& r, const char* key, int64_t lo, int64_t hi);
int64_t i64In(Reader& r, const char* key, int64_t lo, int64_t hi, int64_t fallback);
int i32In(Reader& r, const char* key, int lo, int hi);
int i32In(Reader& r, const char* key, int lo, int hi, int fallback);
// A finite number (integer or float); `required` false gives 0 when absent.
double number(Reader& r, const char* key, bool required);
// A string at most `max_bytes` long.
std::string boundedStr(JsonReader& r, const char* key, size_t max_bytes);
std::string boundedStr(JsonReader& r, const char* key, size_t max_bytes,
                       const std::string& fallback);

// Identifier fields (ids.h): required, or optional ("" when absent).
std::string id(JsonReader& r, const char* key, IdKind kind);
std::string optId(JsonReader& r, const char* key, IdKind kind);
// An array of identifiers, no duplicates, at most `max_items` (too_large beyond).
std::vector<std::string> idArray(JsonReader& r, const char* key, IdKind kind, size_t max_items,
                                 bool required);
// An array of strings, each at most `max_bytes`.
std::vector<std::string> strArray(JsonReader& r, const char* key, size_t max_bytes, bool required);

// `target`: exactly one of {"node": id} or {"group": id}.
Target decodeTarget(Reader& r);
Json encodeTarget(const Target& t);

enum class MapKeys { kVariable, kLabel };
// An optional string->string map whose keys follow `keys` (isValidVariableName or
// isValidLabelKey) and whose values are at most `max_value_bytes`.
std::map<std::string, std::string> stringMap(JsonReader& r, const char* key, MapKeys keys,
                                             size_t max_value_bytes);

// Document epoch: 1..64 of [A-Za-z0-9_-].
std::string epoch(JsonReader& r, const char* key);

// Json helpers for encoders.
Json mapToJson(const std::map<std::string, std::string>& map);
Json versioned();  // {"v": 1}

}  // namespace pharos::codec
