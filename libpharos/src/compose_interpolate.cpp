// Variable interpolation as docker-compose does it, applied to every scalar value of the
// YAML tree before validation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?message}, ${VAR?message}, ${VAR:+replacement}, ${VAR+replacement}; defaults may
// nest (${A:-${B}}). Output size is bounded. Pure functions: thread-safe.
#include <cctype>
#include <set>

#include "compose_internal.h"

namespace pharos {
namespace compose_detail {
namespace {

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Interpolator {
 public:
  Interpolator(const Variables& vars, std::vector<std::string>* missing, size_t max_output)
      : vars_(vars), missing_(missing), max_output_(max_output) {}

  // Interpolates `text`, appending to `out`. `depth` bounds nesting of defaults.
  Status run(std::string_view text, std::string& out, int depth) {
    if (depth > 8) return Status::invalidArgument("interpolation nested too deeply");
    size_t i = 0;
    while (i < text.size()) {
      const size_t dollar = text.find('$', i);
      if (dollar == std::string_view::npos) {
        PHAROS_RETURN_IF_ERROR(append(out, text.substr(i)));
        break;
      }
      PHAROS_RETURN_IF_ERROR(append(out, text.substr(i, dollar - i)));
      i = dollar + 1;
      if (i >= text.size()) return invalid(text, "a lone '$' at the end");
      const char next = text[i];
      if (next == '$') {
        PHAROS_RETURN_IF_ERROR(append(out, "$"));
        ++i;
      } else if (isNameStart(next)) {
        size_t end = i;
        while (end < text.size() && isNameChar(text[end])) ++end;
        PHAROS_RETURN_IF_ERROR(substitute(text.substr(i, end - i), out));
        i = end;
      } else if (next == '{') {
        const size_t close = matchingBrace(text, i);
        if (close == std::string_view::npos) return invalid(text, "missing '}'");
        PHAROS_RETURN_IF_ERROR(braced(text, text.substr(i + 1, close - i - 1), out, depth));
        i = close + 1;
      } else {
        return invalid(text, "'$' must be followed by a name, '{' or '$' (write $$ for a '$')");
      }
    }
    return Status::ok();
  }

 private:
  static size_t matchingBrace(std::string_view text, size_t open) {
    int level = 0;
    for (size_t i = open; i < text.size(); ++i) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
        ++i;
      } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
        ++level;
        ++i;
      } else if (text[i] == '{' && i == open) {
        ++level;
      } else if (text[i] == '}') {
        if (--level == 0) return i;
      }
    }
    return std::string_view::npos;
  }

  Status invalid(std::string_view text, const std::string& reason) const {
    std::string shown(text.substr(0, 80));
    return Status::invalidArgument("invalid interpolation in \"" + shown + "\": " + reason);
  }

  Status append(std::string& out, std::string_view piece) const {
    if (out.size() + piece.size() > max_output_) {
      return Status::tooLarge("interpolation expands beyond " + std::to_string(max_output_) +
                              " bytes");
    }
    out.append(piece);
    return Status::ok();
  }

  const std::string* lookup(std::string_view name) const {
    auto it = vars_.find(std::string(name));
    return it == vars_.end() ? nullptr : &it->second;
  }

  Status substitute(std::string_view name, std::string& out) {
    const std::string* value = lookup(name);
    if (value == nullptr) {
      noteMissing(name);
      return Status::ok();
    }
    return append(out, *value);
  }

  void noteMissing(std::string_view name) {
    if (missing_ != nullptr) missing_->emplace_back(name);
  }

  Status braced(std::string_view text, std::string_view inner, std::string& out, int depth) {
    size_t end = 0;
    if (inner.empty() || !isNameStart(inner[0])) return invalid(text, "expected a variable name");
    while (end < inner.size() && isNameChar(inner[end])) ++end;
    const std::string_view name = inner.substr(0, end);
    const std::string_view rest = inner.substr(end);
    const std::string* value = lookup(name);
    if (rest.empty()) return substitute(name, out);
    const bool colon = rest[0] == ':';
    const std::string_view op_and_arg = colon ? rest.substr(1) : rest;
    if (op_and_arg.empty()) return invalid(text, "expected ':-', '-', ':?', '?', ':+' or '+'");
    const char op = op_and_arg[0];
    const std::string_view argument = op_and_arg.substr(1);
    // "set" per the operator: with ':' an empty value counts as unset.
    const bool set = value != nullptr && (!colon || !value->empty());
    switch (op) {
      case '-':
        if (set) return append(out, *value);
        return run(argument, out, depth + 1);
      case '?':
        if (set) return append(out, *value);
        {
          std::string message;
          PHAROS_RETURN_IF_ERROR(run(argument, message, depth + 1));
          return Status::invalidArgument("required variable " + std::string(name) +
                                         " is missing a value" +
                                         (message.empty() ? "" : ": " + message));
        }
      case '+':
        if (set) return run(argument, out, depth + 1);
        return Status::ok();
      default:
        return invalid(text, "expected ':-', '-', ':?', '?', ':+' or '+' after the name");
    }
  }

  const Variables& vars_;
  std::vector<std::string>* missing_;
  size_t max_output_;
};

// `depth` is the nesting of `node`: 0 for the root, 1 for `services`, 2 for one service.
// Extension fields (`x-` keys) are skipped where compose allows them: at the top level, as
// entries of services/networks/volumes and inside a service, network or volume.
Status interpolateNode(YamlNode& node, const std::string& path, int depth, const Variables& vars,
                       size_t& budget, std::set<std::string>& missing_seen,
                       std::vector<std::string>& warnings) {
  switch (node.kind) {
    case YamlNode::Kind::kNull:
      return Status::ok();
    case YamlNode::Kind::kScalar: {
      if (node.text.find('$') == std::string::npos) return Status::ok();
      std::vector<std::string> missing;
      const size_t before = node.text.size();
      Result<std::string> value = interpolateBounded(node.text, vars, &missing, budget + before);
      if (!value) {
        Status status = value.status();
        if (status.code() == Code::kTooLarge) return status.withPosition(node.line, node.column);
        return errorAt(node, path, status.message());
      }
      budget = budget + before - value->size();
      node.text = std::move(*value);
      node.quoted = true;  // an interpolated value is a string, as in compose 1.29
      for (const std::string& name : missing) {
        if (missing_seen.insert(name).second) {
          warnings.push_back("variable " + name + " is not set; substituting an empty string (" +
                             path + ")");
        }
      }
      return Status::ok();
    }
    case YamlNode::Kind::kSequence:
      for (size_t i = 0; i < node.items.size(); ++i) {
        PHAROS_RETURN_IF_ERROR(interpolateNode(node.items[i], indexPath(path, i), depth + 1, vars,
                                               budget, missing_seen, warnings));
      }
      return Status::ok();
    case YamlNode::Kind::kMap:
      for (YamlEntry& entry : node.entries) {
        if (depth <= 2 && entry.key.rfind("x-", 0) == 0) continue;
        PHAROS_RETURN_IF_ERROR(interpolateNode(entry.value, joinPath(path, entry.key), depth + 1,
                                               vars, budget, missing_seen, warnings));
      }
      return Status::ok();
  }
  return Status::ok();
}

}  // namespace

Result<std::string> interpolateBounded(std::string_view text, const Variables& vars,
                                       std::vector<std::string>* missing, size_t max_output) {
  std::string out;
  Interpolator interpolator(vars, missing, max_output);
  PHAROS_RETURN_IF_ERROR(interpolator.run(text, out, 0));
  return out;
}

Status interpolateTree(YamlNode& root, const Variables& vars, const ComposeLimits& limits,
                       size_t expanded_bytes, std::vector<std::string>& warnings) {
  size_t budget =
      limits.max_expanded_bytes > expanded_bytes ? limits.max_expanded_bytes - expanded_bytes : 0;
  std::set<std::string> missing_seen;
  return interpolateNode(root, "", 0, vars, budget, missing_seen, warnings);
}

}  // namespace compose_detail

Result<std::string> interpolateVariables(std::string_view text, const Variables& vars,
                                         std::vector<std::string>* missing) {
  return compose_detail::interpolateBounded(text, vars, missing, 4 * 1024 * 1024);
}

}  // namespace pharos
