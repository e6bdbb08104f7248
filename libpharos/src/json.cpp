// JSON adapter (see json.h): the only place nlohmann-json exceptions are caught.
#include "pharos/json.h"

#include <cmath>
#include <cstdint>

namespace pharos {

namespace {
const Json& emptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}
const Json& emptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

// Cheap pre-scan for nesting depth so a "[[[[[..." bomb never reaches the recursive parser.
bool depthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}
}  // namespace

Result<Json> parseJson(std::string_view text, size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return Status::tooLarge("payload is " + std::to_string(text.size()) + " bytes, the limit is " +
                            std::to_string(max_bytes));
  }
  if (!depthWithin(text, max_depth)) {
    return Status::invalidArgument("payload nests deeper than " + std::to_string(max_depth) +
                                   " levels");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> keep the tail.
    auto pos = what.find("] ");
    return Status::invalidArgument("not valid JSON: " +
                                   (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
}

std::string dumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

JsonReader::JsonReader(const Json& object, std::string path)
    : json_(object), path_(std::move(path)) {
  if (!json_.is_object()) {
    status_ = Status::invalidArgument((path_.empty() ? std::string("payload") : path_) +
                                      ": must be a JSON object");
  }
}

std::string JsonReader::path(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

const Json* JsonReader::find(const char* key) const {
  if (!json_.is_object()) return nullptr;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonReader::has(const char* key) const { return find(key) != nullptr; }

namespace {
// "apps[2].compose: must be a string" -> "apps[2].compose"; "" when the message does not start
// with a field path.
std::string leadingPath(const std::string& message) {
  size_t colon = message.find(": ");
  if (colon == 0 || colon == std::string::npos) return {};
  for (size_t i = 0; i < colon; ++i) {
    char c = message[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '[' || c == ']' || c == '-';
    if (!ok) return {};
  }
  return message.substr(0, colon);
}
}  // namespace

void JsonReader::fail(Status status) {
  if (!status_.isOk()) return;
  // Every request-field error names its field in the error's `path` too (docs/protocol.md
  // "Responses").
  if (status.path().empty()) {
    if (std::string p = leadingPath(status.message()); !p.empty()) status.withPath(p);
  }
  status_ = std::move(status);
}

void JsonReader::typeError(const char* key, const char* want) {
  fail(Status::invalidArgument(path(key) + ": " + want));
}

std::string JsonReader::str(const char* key) {
  const Json* v = find(key);
  if (v == nullptr) {
    typeError(key, "is required");
    return {};
  }
  if (!v->is_string()) {
    typeError(key, "must be a string");
    return {};
  }
  return v->get<std::string>();
}

std::string JsonReader::str(const char* key, const std::string& fallback) {
  if (find(key) == nullptr) return fallback;
  return str(key);
}

std::optional<std::string> JsonReader::optStr(const char* key) {
  if (find(key) == nullptr) return std::nullopt;
  return str(key);
}

int64_t JsonReader::i64(const char* key) {
  const Json* v = find(key);
  if (v == nullptr) {
    typeError(key, "is required");
    return 0;
  }
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    typeError(key, "is out of range");
    return 0;
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    // Range check before the cast: converting an out-of-range double is undefined.
    double d = v->get<double>();
    if (d >= -9.2e18 && d <= 9.2e18 && d == std::floor(d)) return static_cast<int64_t>(d);
  }
  typeError(key, "must be an integer");
  return 0;
}

int64_t JsonReader::i64(const char* key, int64_t fallback) {
  if (find(key) == nullptr) return fallback;
  return i64(key);
}

bool JsonReader::boolean(const char* key) {
  const Json* v = find(key);
  if (v == nullptr) {
    typeError(key, "is required");
    return false;
  }
  if (!v->is_boolean()) {
    typeError(key, "must be true or false");
    return false;
  }
  return v->get<bool>();
}

bool JsonReader::boolean(const char* key, bool fallback) {
  if (find(key) == nullptr) return fallback;
  return boolean(key);
}

const Json& JsonReader::object(const char* key) {
  const Json* v = find(key);
  if (v == nullptr) {
    typeError(key, "is required");
    return emptyObject();
  }
  if (!v->is_object()) {
    typeError(key, "must be an object");
    return emptyObject();
  }
  return *v;
}

const Json& JsonReader::objectOr(const char* key) {
  if (find(key) == nullptr) return emptyObject();
  return object(key);
}

const Json& JsonReader::array(const char* key) {
  const Json* v = find(key);
  if (v == nullptr) {
    typeError(key, "is required");
    return emptyArray();
  }
  if (!v->is_array()) {
    typeError(key, "must be an array");
    return emptyArray();
  }
  return *v;
}

const Json& JsonReader::arrayOr(const char* key) {
  if (find(key) == nullptr) return emptyArray();
  return array(key);
}

std::vector<std::pair<std::string, std::string>> JsonReader::stringMap(const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  const Json& obj = objectOr(key);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!it.value().is_string()) {
      fail(Status::invalidArgument(path(key) + "." + it.key() + ": must be a string"));
      return {};
    }
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

void JsonReader::version() {
  const Json* v = find("v");
  if (v == nullptr) {
    typeError("v", "is required (the message version, 1)");
    return;
  }
  if (!v->is_number_integer() || v->get<int64_t>() != 1) {
    typeError("v", "unsupported message version (this reader understands 1)");
  }
}

std::string JsonReader::oneOf(const char* key, std::initializer_list<const char*> allowed) {
  std::string value = str(key);
  if (!ok()) return value;
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  typeError(key, ("must be one of " + list).c_str());
  return {};
}

std::string JsonReader::oneOf(const char* key, std::initializer_list<const char*> allowed,
                              const std::string& fallback) {
  if (find(key) == nullptr) return fallback;
  return oneOf(key, allowed);
}

}  // namespace pharos
