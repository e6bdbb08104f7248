// Scalar syntaxes of the compose model (durations, byte sizes, ports, shell words) and the
// typed readers that turn YAML tree nodes into values or errors naming the node's path.
// Pure functions: thread-safe.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "compose_internal.h"

namespace pharos {
namespace compose_detail {

const YamlNode* YamlNode::find(std::string_view key) const {
  for (const YamlEntry& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

Status errorAt(const YamlNode& node, const std::string& path, std::string_view reason) {
  std::string message = path.empty() ? std::string(reason) : path + ": " + std::string(reason);
  return Status::invalidArgument(std::move(message))
      .withPath(path)
      .withPosition(node.line, node.column);
}

std::string joinPath(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

std::string indexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

namespace {

const char* kindName(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kNull:
      return "null";
    case YamlNode::Kind::kScalar:
      return "a scalar";
    case YamlNode::Kind::kSequence:
      return "a list";
    case YamlNode::Kind::kMap:
      return "a mapping";
  }
  return "?";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parseInt64(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Parses "[0-9]+(.[0-9]*)?" at the front of `text`; returns characters used (0 = none).
size_t parseDecimal(std::string_view text, long double& out) {
  size_t i = 0;
  long double value = 0;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value += (text[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) return 0;
  out = value;
  return i;
}

Result<uint16_t> parsePort(std::string_view text, bool allow_zero) {
  int64_t value = 0;
  if (!parseInt64(text, value) || value < (allow_zero ? 0 : 1) || value > 65535) {
    return Status::invalidArgument("invalid port '" + std::string(text) + "'");
  }
  return static_cast<uint16_t>(value);
}

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};

Result<PortRange> parsePortRange(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    Result<uint16_t> port = parsePort(text, false);
    if (!port) return port.status();
    return PortRange{*port, *port};
  }
  Result<uint16_t> first = parsePort(text.substr(0, dash), false);
  Result<uint16_t> last = parsePort(text.substr(dash + 1), false);
  if (!first) return first.status();
  if (!last) return last.status();
  if (*last < *first) {
    return Status::invalidArgument("invalid port range '" + std::string(text) + "'");
  }
  return PortRange{*first, *last};
}

}  // namespace

bool validResourceName(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool isValidIp(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  const std::string copy(text);
  unsigned char buffer[16];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

Result<std::string> readString(const YamlNode& node, const std::string& path) {
  if (!node.isScalar())
    return errorAt(node, path, std::string("must be a string, got ") + kindName(node));
  return node.text;
}

Result<bool> readBool(const YamlNode& node, const std::string& path) {
  if (node.isScalar()) {
    const std::string text = lower(node.text);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
  }
  return errorAt(node, path, "must be a boolean (true or false)");
}

Result<int64_t> readInt(const YamlNode& node, const std::string& path) {
  int64_t value = 0;
  if (node.isScalar() && parseInt64(node.text, value)) return value;
  return errorAt(node, path, "must be an integer");
}

Result<double> readDouble(const YamlNode& node, const std::string& path) {
  if (node.isScalar()) {
    long double value = 0;
    std::string_view text = node.text;
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    if (parseDecimal(text, value) == text.size() && !text.empty()) {
      return static_cast<double>(negative ? -value : value);
    }
  }
  return errorAt(node, path, "must be a number");
}

Result<Duration> readDuration(const YamlNode& node, const std::string& path) {
  if (!node.isScalar()) return errorAt(node, path, "must be a duration such as \"10s\"");
  Result<Duration> value = parseDuration(node.text);
  if (!value) return errorAt(node, path, value.status().message());
  return value;
}

Result<int64_t> readByteSize(const YamlNode& node, const std::string& path) {
  if (!node.isScalar()) return errorAt(node, path, "must be a byte size such as \"512m\"");
  Result<int64_t> value = parseByteSize(node.text);
  if (!value) return errorAt(node, path, value.status().message());
  return value;
}

Result<std::vector<std::string>> readStringList(const YamlNode& node, const std::string& path,
                                                bool allow_single) {
  std::vector<std::string> out;
  if (allow_single && node.isScalar()) {
    out.push_back(node.text);
    return out;
  }
  if (!node.isSequence()) {
    return errorAt(
        node, path,
        allow_single ? "must be a string or a list of strings" : "must be a list of strings");
  }
  for (size_t i = 0; i < node.items.size(); ++i) {
    Result<std::string> item = readString(node.items[i], indexPath(path, i));
    if (!item) return item.status();
    out.push_back(std::move(*item));
  }
  return out;
}

Result<std::vector<std::string>> readCommand(const YamlNode& node, const std::string& path) {
  if (node.isScalar()) {
    Result<std::vector<std::string>> words = shellSplit(node.text);
    if (!words) return errorAt(node, path, words.status().message());
    return words;
  }
  if (!node.isSequence()) return errorAt(node, path, "must be a string or a list of strings");
  return readStringList(node, path, false);
}

namespace {

bool matchesYaml11Int(std::string_view t) {
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
  if (t.empty()) return false;
  auto all = [](std::string_view digits, std::string_view allowed) {
    return !digits.empty() && digits.find_first_not_of(allowed) == std::string_view::npos;
  };
  if (t.rfind("0b", 0) == 0) return all(t.substr(2), "01_");
  if (t.rfind("0x", 0) == 0) return all(t.substr(2), "0123456789abcdefABCDEF_");
  if (t == "0") return true;
  if (t.front() == '0') return all(t.substr(1), "01234567_");
  if (!std::isdigit(static_cast<unsigned char>(t.front()))) return false;
  // Decimal, or base 60 ("1:30").
  return all(t, "0123456789_:") && t.back() != ':';
}

bool matchesYaml11Float(std::string_view t) {
  if (t == ".nan" || t == ".NaN" || t == ".NAN") return true;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
  if (t == ".inf" || t == ".Inf" || t == ".INF") return true;
  const size_t dot = t.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view whole = t.substr(0, dot);
  std::string_view rest = t.substr(dot + 1);
  if (!whole.empty() && (!std::isdigit(static_cast<unsigned char>(whole.front())) ||
                         whole.find_first_not_of("0123456789_:") != std::string_view::npos)) {
    return false;
  }
  const size_t exp = rest.find_first_of("eE");
  std::string_view fraction = rest.substr(0, exp);
  if (fraction.find_first_not_of("0123456789_") != std::string_view::npos) return false;
  if (whole.empty() && fraction.empty()) return false;
  if (exp == std::string_view::npos) return true;
  std::string_view exponent = rest.substr(exp + 1);
  if (exponent.empty() || (exponent.front() != '-' && exponent.front() != '+')) return false;
  exponent.remove_prefix(1);
  return !exponent.empty() && exponent.find_first_not_of("0123456789") == std::string_view::npos;
}

const char* pythonBool(const YamlNode& node) {
  const char c = node.text.empty() ? 'x' : static_cast<char>(std::tolower(node.text[0]));
  return c == 't' || c == 'y' || node.text == "on" || node.text == "On" || node.text == "ON"
             ? "true"
             : "false";
}

}  // namespace

PlainType plainType(const YamlNode& node) {
  if (!node.isScalar() || node.quoted) return PlainType::kString;
  static constexpr std::string_view kBools[] = {"yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                                "true", "True", "TRUE", "false", "False", "FALSE",
                                                "on",   "On",   "ON",   "off",   "Off",   "OFF"};
  const std::string& t = node.text;
  if (std::find(std::begin(kBools), std::end(kBools), t) != std::end(kBools)) {
    return PlainType::kBool;
  }
  if (matchesYaml11Int(t)) return PlainType::kInt;
  if (matchesYaml11Float(t)) return PlainType::kFloat;
  return PlainType::kString;
}

Status refuseBool(const YamlNode& node, const std::string& path) {
  if (plainType(node) != PlainType::kBool) return Status::ok();
  return errorAt(node, path,
                 std::string("contains ") + pythonBool(node) +
                     ", which is an invalid type, it should be a string, number, or a null "
                     "(quote it: \"" +
                     node.text + "\")");
}

Status requireStringItem(const YamlNode& node, const std::string& path) {
  const PlainType type = plainType(node);
  if (type == PlainType::kString) return Status::ok();
  const std::string shown = type == PlainType::kBool ? pythonBool(node) : node.text;
  return errorAt(node, path,
                 "contains " + shown +
                     ", which is an invalid type, it should be a string (quote "
                     "it: \"" +
                     node.text + "\")");
}

Result<std::map<std::string, std::string>> readKeyValues(const YamlNode& node,
                                                         const std::string& path, char separator,
                                                         const std::string& null_value,
                                                         MapValues values) {
  std::map<std::string, std::string> out;
  if (node.isMap()) {
    for (const YamlEntry& entry : node.entries) {
      if (entry.key.empty()) return errorAt(entry.value, path, "empty key");
      if (entry.value.isNull()) {
        out[entry.key] = null_value;
        continue;
      }
      const std::string entry_path = joinPath(path, entry.key);
      if (values == MapValues::kNoBool) PHAROS_RETURN_IF_ERROR(refuseBool(entry.value, entry_path));
      Result<std::string> value = readString(entry.value, entry_path);
      if (!value) return value.status();
      if (values == MapValues::kBoolAsPython && plainType(entry.value) == PlainType::kBool) {
        *value = std::string(pythonBool(entry.value)) == "true" ? "True" : "False";
      }
      out[entry.key] = std::move(*value);
    }
    return out;
  }
  if (!node.isSequence()) return errorAt(node, path, "must be a mapping or a list");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    PHAROS_RETURN_IF_ERROR(requireStringItem(node.items[i], item_path));
    Result<std::string> item = readString(node.items[i], item_path);
    if (!item) return item.status();
    const size_t at = item->find(separator);
    std::string key = item->substr(0, at);
    std::string value = at == std::string::npos ? null_value : item->substr(at + 1);
    if (key.empty()) return errorAt(node.items[i], item_path, "empty key");
    if (out.count(key) != 0) {
      return errorAt(node.items[i], item_path, "duplicate key '" + key + "'");
    }
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

Status requireMap(const YamlNode& node, const std::string& path) {
  if (node.isMap()) return Status::ok();
  return errorAt(node, path, std::string("must be a mapping, got ") + kindName(node));
}

Status checkKeys(const YamlNode& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  PHAROS_RETURN_IF_ERROR(requireMap(node, path));
  for (const YamlEntry& entry : node.entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), entry.key) == allowed.end()) {
      YamlNode at;
      at.line = entry.line;
      at.column = entry.column;
      return errorAt(at, joinPath(path, entry.key), "unknown key");
    }
  }
  return Status::ok();
}

}  // namespace compose_detail

Result<Duration> parseDuration(std::string_view text) {
  const std::string original(text);
  if (text == "0") return Duration(0);
  if (text.empty()) return Status::invalidArgument("empty duration");
  long double total_ns = 0;
  while (!text.empty()) {
    long double value = 0;
    const size_t used = compose_detail::parseDecimal(text, value);
    if (used == 0) {
      return Status::invalidArgument("invalid duration '" + original +
                                     "' (use a number and a unit: \"1m30s\", \"500ms\")");
    }
    text.remove_prefix(used);
    size_t unit_length = 0;
    while (unit_length < text.size() &&
           !std::isdigit(static_cast<unsigned char>(text[unit_length])) &&
           text[unit_length] != '.') {
      ++unit_length;
    }
    const std::string_view unit = text.substr(0, unit_length);
    text.remove_prefix(unit_length);
    long double scale = 0;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s") {
      scale = 1e3L;
    } else if (unit == "ms") {
      scale = 1e6L;
    } else if (unit == "s") {
      scale = 1e9L;
    } else if (unit == "m") {
      scale = 60e9L;
    } else if (unit == "h") {
      scale = 3600e9L;
    } else if (unit.empty()) {
      return Status::invalidArgument("invalid duration '" + original +
                                     "': missing unit (ns, us, ms, s, m, h), e.g. \"30s\"");
    } else {
      return Status::invalidArgument("invalid duration '" + original + "': unknown unit '" +
                                     std::string(unit) + "'");
    }
    total_ns += value * scale;
    if (total_ns > 9.2e18L)
      return Status::invalidArgument("duration '" + original + "' is too long");
  }
  return Duration(static_cast<int64_t>(std::llround(static_cast<double>(total_ns))));
}

Result<int64_t> parseByteSize(std::string_view text) {
  const std::string original(text);
  long double value = 0;
  const size_t used = compose_detail::parseDecimal(text, value);
  if (used == 0) {
    return Status::invalidArgument("invalid byte size '" + original + "' (e.g. \"512m\", \"1g\")");
  }
  text.remove_prefix(used);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  std::string unit = compose_detail::lower(text);
  if (unit.size() >= 2 && unit.back() == 'b' && unit[unit.size() - 2] == 'i') {
    unit.resize(unit.size() - 2);  // "mib" -> "m"
  } else if (unit.size() >= 2 && unit.back() == 'b') {
    unit.pop_back();  // "mb" -> "m"
  }
  long double scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k") {
    scale = 1024.0L;
  } else if (unit == "m") {
    scale = 1024.0L * 1024;
  } else if (unit == "g") {
    scale = 1024.0L * 1024 * 1024;
  } else if (unit == "t") {
    scale = 1024.0L * 1024 * 1024 * 1024;
  } else {
    return Status::invalidArgument("invalid byte size '" + original +
                                   "': unknown unit (use b, k, m, g or t)");
  }
  const long double bytes = value * scale;
  if (bytes > 9.2e18L) return Status::invalidArgument("byte size '" + original + "' is too large");
  return static_cast<int64_t>(bytes);
}

Result<std::vector<PortMapping>> parsePortSpec(std::string_view spec) {
  using compose_detail::parsePortRange;
  const std::string original(spec);
  auto bad = [&](const std::string& reason) {
    return Status::invalidArgument("invalid port '" + original + "': " + reason);
  };
  std::string protocol = "tcp";
  if (const size_t slash = spec.rfind('/'); slash != std::string_view::npos) {
    protocol = std::string(spec.substr(slash + 1));
    spec = spec.substr(0, slash);
    if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") {
      return bad("protocol must be tcp, udp or sctp");
    }
  }
  std::string_view ip;
  std::string_view host;
  std::string_view container;
  const size_t last = spec.rfind(':');
  if (last == std::string_view::npos) {
    container = spec;
  } else {
    container = spec.substr(last + 1);
    const std::string_view rest = spec.substr(0, last);
    const size_t second = rest.rfind(':');
    if (second == std::string_view::npos) {
      host = rest;
    } else {
      host = rest.substr(second + 1);
      ip = rest.substr(0, second);
      if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
        ip = ip.substr(1, ip.size() - 2);
      }
      if (!compose_detail::isValidIp(ip))
        return bad("'" + std::string(ip) + "' is not an IP address");
    }
  }
  if (container.empty()) return bad("missing container port");
  Result<compose_detail::PortRange> container_range = parsePortRange(container);
  if (!container_range) return bad(container_range.status().message());
  std::vector<PortMapping> out;
  const size_t count = size_t{container_range->last} - container_range->first + 1;
  if (host.empty()) {
    for (size_t i = 0; i < count; ++i) {
      out.push_back(
          {std::string(ip), "", static_cast<uint16_t>(container_range->first + i), protocol});
    }
    return out;
  }
  Result<compose_detail::PortRange> host_range = parsePortRange(host);
  if (!host_range) return bad(host_range.status().message());
  const size_t host_count = size_t{host_range->last} - host_range->first + 1;
  if (count == 1 && host_count > 1) {
    // A host range for one container port: Docker picks a free port in the range.
    out.push_back({std::string(ip),
                   std::to_string(host_range->first) + "-" + std::to_string(host_range->last),
                   container_range->first, protocol});
    return out;
  }
  if (host_count != count) return bad("host and container port ranges differ in length");
  for (size_t i = 0; i < count; ++i) {
    out.push_back({std::string(ip), std::to_string(host_range->first + i),
                   static_cast<uint16_t>(container_range->first + i), protocol});
  }
  return out;
}

Result<std::vector<std::string>> shellSplit(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      const size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos)
        return Status::invalidArgument("unterminated single quote");
      word.append(text.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size() &&
            (text[i + 1] == '"' || text[i + 1] == '\\' || text[i + 1] == '$' ||
             text[i + 1] == '`')) {
          word += text[i + 1];
          i += 2;
          continue;
        }
        word += d;
        ++i;
      }
      if (!closed) return Status::invalidArgument("unterminated double quote");
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Status::invalidArgument("trailing backslash");
      if (text[i + 1] != '\n') word += text[i + 1];
      in_word = true;
      i += 2;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace pharos
