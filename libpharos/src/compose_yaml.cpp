// The one adapter between yaml-cpp and the compose model: yaml-cpp exceptions stop here.
// yaml-cpp represents an alias as a shared node, so a "billion laughs" document is small in
// memory but huge to walk; the conversion counts every node it visits (and every scalar
// byte it copies) and stops at the limits. Merge keys (`<<`) are expanded here too.
// Pure function: thread-safe.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

class Converter {
 public:
  explicit Converter(const ComposeLimits& limits) : limits_(limits) {}

  size_t expandedBytes() const { return bytes_; }

  // Converts `in` (at `path`, for errors) into `out`. `parent_line`/`parent_column` stand in
  // for nodes without a position (empty values).
  Status convert(const YAML::Node& in, const std::string& path, int depth, int parent_line,
                 int parent_column, YamlNode& out) {
    if (++nodes_ > limits_.max_nodes) {
      return Status::tooLarge("compose file expands to more than " +
                              std::to_string(limits_.max_nodes) + " YAML nodes (aliases included)")
          .withPosition(parent_line, parent_column);
    }
    if (depth > limits_.max_depth) {
      return errorAt(out, path,
                     "nesting deeper than " + std::to_string(limits_.max_depth) + " levels")
          .withPosition(parent_line, parent_column);
    }
    const YAML::Mark mark = in.Mark();
    out.line = mark.line >= 0 ? mark.line + 1 : parent_line;
    out.column = mark.column >= 0 ? mark.column + 1 : parent_column;
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = YamlNode::Kind::kNull;
        return Status::ok();
      case YAML::NodeType::Scalar: {
        out.kind = YamlNode::Kind::kScalar;
        out.text = in.Scalar();
        out.quoted = in.Tag() != "?";
        bytes_ += out.text.size();
        if (bytes_ > limits_.max_expanded_bytes) return tooManyBytes(out);
        return Status::ok();
      }
      case YAML::NodeType::Sequence: {
        out.kind = YamlNode::Kind::kSequence;
        out.items.reserve(std::min<size_t>(in.size(), 1024));
        size_t index = 0;
        for (auto it = in.begin(); it != in.end(); ++it) {
          const YAML::Node item = *it;  // a copy: the iterator yields temporaries
          YamlNode& converted = out.items.emplace_back();
          PHAROS_RETURN_IF_ERROR(
              convert(item, indexPath(path, index++), depth + 1, out.line, out.column, converted));
        }
        return Status::ok();
      }
      case YAML::NodeType::Map:
        out.kind = YamlNode::Kind::kMap;
        return convertMap(in, path, depth, out);
    }
    return errorAt(out, path, "unsupported YAML node");
  }

 private:
  Status tooManyBytes(const YamlNode& at) const {
    return Status::tooLarge("compose file expands to more than " +
                            std::to_string(limits_.max_expanded_bytes) +
                            " bytes of text (aliases included)")
        .withPosition(at.line, at.column);
  }

  Status convertMap(const YAML::Node& in, const std::string& path, int depth, YamlNode& out) {
    std::vector<YAML::Node> merge_storage;
    merge_storage.reserve(in.size());
    for (auto it = in.begin(); it != in.end(); ++it) {
      // Copies: the iterator's proxy (and what it->first refers to) dies with the statement.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const YAML::Mark key_mark = key.Mark();
      const int key_line = key_mark.line >= 0 ? key_mark.line + 1 : out.line;
      const int key_column = key_mark.column >= 0 ? key_mark.column + 1 : out.column;
      if (!key.IsScalar()) {
        YamlNode at;
        at.line = key_line;
        at.column = key_column;
        return errorAt(at, path, "mapping keys must be strings");
      }
      const std::string& name = key.Scalar();
      if (name == "<<" && key.Tag() == "?") {
        merge_storage.push_back(value);
        continue;
      }
      for (const YamlEntry& seen : out.entries) {
        if (seen.key == name) {
          YamlNode at;
          at.line = key_line;
          at.column = key_column;
          return errorAt(at, joinPath(path, name), "duplicate key");
        }
      }
      YamlEntry& entry = out.entries.emplace_back();
      entry.key = name;
      entry.line = key_line;
      entry.column = key_column;
      bytes_ += name.size();
      if (bytes_ > limits_.max_expanded_bytes) return tooManyBytes(entry.value);
      PHAROS_RETURN_IF_ERROR(
          convert(value, joinPath(path, name), depth + 1, key_line, key_column, entry.value));
    }
    // Merge keys: explicit keys win, then earlier sources win over later ones.
    for (const YAML::Node& merge : merge_storage) {
      std::vector<YAML::Node> sources;
      if (merge.IsMap()) {
        sources.push_back(merge);
      } else if (merge.IsSequence()) {
        for (auto it = merge.begin(); it != merge.end(); ++it) sources.push_back(*it);
      }
      for (const YAML::Node& source : sources) {
        YamlNode converted;
        PHAROS_RETURN_IF_ERROR(convert(source, path, depth, out.line, out.column, converted));
        if (!converted.isMap()) {
          return errorAt(converted, joinPath(path, "<<"), "a merge key must refer to a mapping");
        }
        for (YamlEntry& entry : converted.entries) {
          const bool present =
              std::any_of(out.entries.begin(), out.entries.end(),
                          [&](const YamlEntry& existing) { return existing.key == entry.key; });
          if (!present) out.entries.push_back(std::move(entry));
        }
      }
      if (sources.empty()) {
        YamlNode at;
        at.line = out.line;
        at.column = out.column;
        return errorAt(at, joinPath(path, "<<"), "a merge key must refer to a mapping");
      }
    }
    return Status::ok();
  }

  const ComposeLimits& limits_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

Status yamlError(const YAML::Exception& error) {
  const int line = error.mark.line >= 0 ? error.mark.line + 1 : 0;
  const int column = error.mark.column >= 0 ? error.mark.column + 1 : 0;
  std::string message = "invalid YAML";
  if (line > 0) message += " at line " + std::to_string(line);
  message += ": " + error.msg;
  return Status::invalidArgument(std::move(message)).withPosition(line, column);
}

}  // namespace

Result<YamlNode> loadYaml(std::string_view text, const ComposeLimits& limits,
                          size_t* expanded_bytes) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    return yamlError(error);
  } catch (const std::exception& error) {
    return Status::invalidArgument(std::string("invalid YAML: ") + error.what());
  }
  if (documents.empty()) return Status::invalidArgument("the compose file is empty");
  if (documents.size() > 1) {
    return Status::invalidArgument("the compose file holds more than one YAML document");
  }
  Converter converter(limits);
  YamlNode root;
  try {
    PHAROS_RETURN_IF_ERROR(converter.convert(documents.front(), "", 0, 1, 1, root));
  } catch (const YAML::Exception& error) {
    return yamlError(error);
  } catch (const std::exception& error) {
    return Status::invalidArgument(std::string("invalid YAML: ") + error.what());
  }
  if (expanded_bytes != nullptr) *expanded_bytes = converter.expandedBytes();
  return root;
}

}  // namespace pharos::compose_detail
