// Shared codec helpers (see messages_util.h) and the identifier-like validators of api.h.
#include "messages_util.h"

#include <cmath>
#include <set>

#include "pharos/api.h"
#include "pharos/messages.h"

namespace pharos {

bool isValidVariableName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool isValidLabelKey(std::string_view key) { return isValidId(IdKind::kNode, key); }

bool isValidRegistryHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == ':' || c == '-' || c == '_' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

namespace codec {

namespace {
std::string rangeText(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
}
}  // namespace

const Json* Reader::raw(const char* key) const {
  if (!json_.is_object() || !has(key)) return nullptr;
  return &json_.at(key);
}

std::string indexPath(const JsonReader& r, const char* key, size_t index) {
  return r.path(key) + "[" + std::to_string(index) + "]";
}

int64_t i64In(Reader& r, const char* key, int64_t lo, int64_t hi) {
  // Screen values JsonReader::i64 cannot convert safely: floats outside the int64 range
  // (converting them is undefined behaviour) and integers above INT64_MAX (stored unsigned).
  if (const Json* v = r.raw(key)) {
    bool out_of_range = false;
    if (v->is_number_float()) {
      double d = v->get<double>();
      out_of_range = !(d >= -9.2e18 && d <= 9.2e18);
    } else if (v->is_number_unsigned()) {
      out_of_range = v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
    }
    if (out_of_range) {
      r.fail(Status::invalidArgument(r.path(key) + ": " + rangeText(lo, hi)));
      return lo;
    }
  }
  int64_t v = r.i64(key);
  if (r.ok() && (v < lo || v > hi)) {
    r.fail(Status::invalidArgument(r.path(key) + ": " + rangeText(lo, hi)));
    return lo;
  }
  return v;
}

int64_t i64In(Reader& r, const char* key, int64_t lo, int64_t hi, int64_t fallback) {
  if (!r.has(key)) return fallback;
  return i64In(r, key, lo, hi);
}

int i32In(Reader& r, const char* key, int lo, int hi) {
  return static_cast<int>(i64In(r, key, lo, hi));
}

int i32In(Reader& r, const char* key, int lo, int hi, int fallback) {
  return static_cast<int>(i64In(r, key, lo, hi, fallback));
}

double number(Reader& r, const char* key, bool required) {
  const Json* raw = r.raw(key);
  if (raw == nullptr) {
    if (required && r.ok()) r.fail(Status::invalidArgument(r.path(key) + ": is required"));
    return 0;
  }
  const Json& v = *raw;
  if (!v.is_number()) {
    r.fail(Status::invalidArgument(r.path(key) + ": must be a number"));
    return 0;
  }
  double d = v.get<double>();
  if (!std::isfinite(d)) {
    r.fail(Status::invalidArgument(r.path(key) + ": must be a finite number"));
    return 0;
  }
  return d;
}

std::string boundedStr(JsonReader& r, const char* key, size_t max_bytes) {
  std::string v = r.str(key);
  if (r.ok() && v.size() > max_bytes) {
    r.fail(Status::invalidArgument(r.path(key) + ": must be at most " + std::to_string(max_bytes) +
                                   " bytes"));
    return {};
  }
  return v;
}

std::string boundedStr(JsonReader& r, const char* key, size_t max_bytes,
                       const std::string& fallback) {
  if (!r.has(key)) return fallback;
  return boundedStr(r, key, max_bytes);
}

std::string id(JsonReader& r, const char* key, IdKind kind) {
  std::string v = r.str(key);
  if (r.ok()) r.fail(validateId(kind, v, r.path(key)));
  return r.ok() ? v : std::string();
}

std::string optId(JsonReader& r, const char* key, IdKind kind) {
  if (!r.has(key)) return {};
  return id(r, key, kind);
}

std::vector<std::string> idArray(JsonReader& r, const char* key, IdKind kind, size_t max_items,
                                 bool required) {
  std::vector<std::string> out;
  const Json& arr = required ? r.array(key) : r.arrayOr(key);
  if (!r.ok()) return out;
  if (arr.size() > max_items) {
    r.fail(Status::tooLarge(r.path(key) + ": at most " + std::to_string(max_items) +
                            " entries per message, got " + std::to_string(arr.size())));
    return out;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string path = indexPath(r, key, i);
    if (!arr[i].is_string()) {
      r.fail(Status::invalidArgument(path + ": must be a string"));
      return {};
    }
    std::string v = arr[i].get<std::string>();
    Status s = validateId(kind, v, path);
    if (!s.isOk()) {
      r.fail(s);
      return {};
    }
    if (!seen.insert(v).second) {
      r.fail(Status::invalidArgument(path + ": duplicate " + idKindName(kind) + " '" + v + "'"));
      return {};
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::string> strArray(JsonReader& r, const char* key, size_t max_bytes, bool required) {
  std::vector<std::string> out;
  const Json& arr = required ? r.array(key) : r.arrayOr(key);
  if (!r.ok()) return out;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) {
      r.fail(Status::invalidArgument(indexPath(r, key, i) + ": must be a string"));
      return {};
    }
    if (arr[i].get_ref<const std::string&>().size() > max_bytes) {
      r.fail(Status::invalidArgument(indexPath(r, key, i) + ": must be at most " +
                                     std::to_string(max_bytes) + " bytes"));
      return {};
    }
    out.push_back(arr[i].get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> stringMap(JsonReader& r, const char* key, MapKeys keys,
                                             size_t max_value_bytes) {
  std::map<std::string, std::string> out;
  auto pairs = r.stringMap(key);
  if (!r.ok()) return out;
  for (auto& [k, v] : pairs) {
    std::string path = r.path(key) + "." + k.substr(0, 130);
    if (keys == MapKeys::kVariable && !isValidVariableName(k)) {
      r.fail(Status::invalidArgument(path + ": variable names must match " +
                                     "[A-Za-z_][A-Za-z0-9_]{0,127}"));
      return {};
    }
    if (keys == MapKeys::kLabel && !isValidLabelKey(k)) {
      r.fail(Status::invalidArgument(path + ": label keys must match [a-z0-9][a-z0-9_.-]{0,62}"));
      return {};
    }
    if (v.size() > max_value_bytes) {
      r.fail(Status::invalidArgument(path + ": must be at most " + std::to_string(max_value_bytes) +
                                     " bytes"));
      return {};
    }
    out.emplace(std::move(k), std::move(v));
  }
  return out;
}

std::string epoch(JsonReader& r, const char* key) {
  std::string v = r.str(key);
  if (!r.ok()) return v;
  bool ok = !v.empty() && v.size() <= 64;
  for (char c : v) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (!ok) {
    r.fail(Status::invalidArgument(r.path(key) + ": must be 1 to 64 of [A-Za-z0-9_-]"));
    return {};
  }
  return v;
}

Json mapToJson(const std::map<std::string, std::string>& map) {
  Json out = Json::object();
  for (const auto& [k, v] : map) out[k] = v;
  return out;
}

Json versioned() {
  Json out = Json::object();
  out["v"] = kMessageVersion;
  return out;
}

Target decodeTarget(codec::Reader& r) {
  Target out;
  codec::Reader t(r.object("target"), r.path("target"));
  if (!r.ok()) return out;
  bool has_node = t.has("node");
  bool has_group = t.has("group");
  if (has_node == has_group) {
    r.fail(Status::invalidArgument(r.path("target") +
                                   ": must name exactly one of {\"node\": …} or {\"group\": …}"));
    return out;
  }
  out.kind = has_node ? Target::Kind::kNode : Target::Kind::kGroup;
  out.name = has_node ? codec::id(t, "node", IdKind::kNode) : codec::id(t, "group", IdKind::kGroup);
  if (!t.ok()) r.fail(t.status());
  return out;
}

Json encodeTarget(const Target& t) { return Json{{targetKindName(t.kind), t.name}}; }

}  // namespace codec
}  // namespace pharos
