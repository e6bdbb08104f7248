// The one adapter between yaml-cpp and the compose model: yaml-cpp exceptions stop here.
// yaml-cpp's parser feeds events to a TreeBuilder that builds the plain YamlNode tree
// directly, so every limit is checked while the document is read: nesting depth (before
// yaml-cpp recurses deeper), node count and scalar bytes with aliases expanded ("billion
// laughs"), duplicate and non-scalar keys; `<<` merge keys are resolved as each mapping
// closes. Only the first document is built; the parser is asked once more to detect a
// second one (yaml-cpp's LoadAll can loop forever on some malformed input).
// Pure function: thread-safe.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/null.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

// Thrown by the builder to stop the parser at the first error; caught in loadYaml.
struct BuildError {
  Status status;
};

// Ignores a document, remembering where it starts.
class NullHandler : public YAML::EventHandler {
 public:
  int line = 0;
  int column = 0;
  void OnDocumentStart(const YAML::Mark& mark) override {
    line = mark.line >= 0 ? mark.line + 1 : 0;
    column = mark.column >= 0 ? mark.column + 1 : 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(const ComposeLimits& limits) : limits_(limits) {}

  bool hasRoot() const { return has_root_; }
  YamlNode takeRoot() { return std::move(root_); }
  size_t expandedBytes() const { return bytes_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    YamlNode node;
    node.kind = YamlNode::Kind::kNull;
    place(mark, node);
    countNodes(1, node);
    finish(std::move(node), anchor, 1, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YamlNode node;
    place(mark, node);
    node.quoted = tag != "?";
    if (!node.quoted && YAML::IsNullString(value)) {
      node.kind = YamlNode::Kind::kNull;
    } else {
      node.kind = YamlNode::Kind::kScalar;
      node.text = value;
    }
    countNodes(1, node);
    countBytes(value.size(), node);
    finish(std::move(node), anchor, 1, value.size());
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    YamlNode at;
    place(mark, at);
    if (it == anchors_.end()) fail(errorAt(at, currentPath(), "unknown alias"));
    countNodes(it->second.nodes, at);
    countBytes(it->second.bytes, at);
    finish(YamlNode(it->second.node), 0, it->second.nodes, it->second.bytes);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, YamlNode::Kind::kSequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, YamlNode::Kind::kMap);
  }
  void OnMapEnd() override {
    resolveMerges(stack_.back());
    close();
  }

 private:
  struct Frame {
    YamlNode node;
    std::string path;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_open = 0;
    size_t bytes_at_open = 0;
    // Mappings: the key read and waiting for its value.
    bool have_key = false;
    YamlEntry key;
    bool key_is_merge = false;
    std::vector<YamlNode> merges;
  };
  struct Anchored {
    YamlNode node;
    size_t nodes = 0;
    size_t bytes = 0;
  };

  [[noreturn]] static void fail(Status status) { throw BuildError{std::move(status)}; }

  static void place(const YAML::Mark& mark, YamlNode& node) {
    node.line = mark.line >= 0 ? mark.line + 1 : 0;
    node.column = mark.column >= 0 ? mark.column + 1 : 0;
  }

  // The path of the node that the next event builds.
  std::string currentPath() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (top.node.isSequence()) return indexPath(top.path, top.node.items.size());
    if (top.have_key) return joinPath(top.path, top.key.key);
    return top.path;
  }

  void countNodes(size_t count, const YamlNode& at) {
    nodes_ += count;
    if (nodes_ > limits_.max_nodes) {
      fail(Status::tooLarge("compose file expands to more than " +
                            std::to_string(limits_.max_nodes) + " YAML nodes (aliases included)")
               .withPosition(at.line, at.column));
    }
  }

  void countBytes(size_t count, const YamlNode& at) {
    bytes_ += count;
    if (bytes_ > limits_.max_expanded_bytes) {
      fail(Status::tooLarge("compose file expands to more than " +
                            std::to_string(limits_.max_expanded_bytes) +
                            " bytes of text (aliases included)")
               .withPosition(at.line, at.column));
    }
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, YamlNode::Kind kind) {
    Frame frame;
    frame.path = currentPath();
    place(mark, frame.node);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      fail(errorAt(frame.node, frame.path,
                   "nesting deeper than " + std::to_string(limits_.max_depth) + " levels"));
    }
    if (!stack_.empty() && stack_.back().node.isMap() && !stack_.back().have_key) {
      fail(errorAt(frame.node, stack_.back().path, "mapping keys must be strings"));
    }
    frame.node.kind = kind;
    frame.anchor = anchor;
    countNodes(1, frame.node);
    frame.nodes_at_open = nodes_;
    frame.bytes_at_open = bytes_;
    stack_.push_back(std::move(frame));
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    // The subtree's size, for aliases that copy it (the container itself included).
    const size_t nodes = nodes_ - frame.nodes_at_open + 1;
    const size_t bytes = bytes_ - frame.bytes_at_open;
    finish(std::move(frame.node), frame.anchor, nodes, bytes);
  }

  // Registers an anchor and hands a complete node to its parent (or makes it the root).
  void finish(YamlNode node, YAML::anchor_t anchor, size_t nodes, size_t bytes) {
    if (anchor != 0) {
      // Keeping a copy for later aliases costs like the aliases themselves.
      countNodes(nodes, node);
      countBytes(bytes, node);
      anchors_[anchor] = Anchored{node, nodes, bytes};
    }
    if (stack_.empty()) {
      root_ = std::move(node);
      has_root_ = true;
      return;
    }
    Frame& top = stack_.back();
    if (top.node.isSequence()) {
      top.node.items.push_back(std::move(node));
      return;
    }
    if (!top.have_key) {
      takeKey(top, std::move(node));
      return;
    }
    if (node.line == 0) {  // an empty value: point at its key
      node.line = top.key.line;
      node.column = top.key.column;
    }
    top.have_key = false;
    if (top.key_is_merge) {
      top.merges.push_back(std::move(node));
      return;
    }
    top.key.value = std::move(node);
    top.node.entries.push_back(std::move(top.key));
    top.key = YamlEntry{};
  }

  void takeKey(Frame& top, YamlNode key) {
    if (!key.isScalar()) fail(errorAt(key, top.path, "mapping keys must be strings"));
    top.key_is_merge = key.text == "<<" && !key.quoted;
    if (!top.key_is_merge) {
      for (const YamlEntry& seen : top.node.entries) {
        if (seen.key == key.text) fail(errorAt(key, joinPath(top.path, key.text), "duplicate key"));
      }
    }
    top.key.key = std::move(key.text);
    top.key.line = key.line;
    top.key.column = key.column;
    top.have_key = true;
  }

  // Merge keys: explicit keys win, then earlier sources win over later ones.
  void resolveMerges(Frame& frame) {
    for (YamlNode& merge : frame.merges) {
      std::vector<YamlNode*> sources;
      if (merge.isMap()) {
        sources.push_back(&merge);
      } else if (merge.isSequence()) {
        for (YamlNode& item : merge.items) sources.push_back(&item);
      }
      if (sources.empty()) {
        fail(errorAt(merge, joinPath(frame.path, "<<"), "a merge key must refer to a mapping"));
      }
      for (YamlNode* source : sources) {
        if (!source->isMap()) {
          fail(errorAt(*source, joinPath(frame.path, "<<"), "a merge key must refer to a mapping"));
        }
        for (YamlEntry& entry : source->entries) {
          if (frame.node.find(entry.key) == nullptr) frame.node.entries.push_back(std::move(entry));
        }
      }
    }
    frame.merges.clear();
  }

  const ComposeLimits& limits_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  YamlNode root_;
  bool has_root_ = false;
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
  std::istringstream stream{std::string(text)};
  TreeBuilder builder(limits);
  try {
    YAML::Parser parser(stream);
    if (!parser.HandleNextDocument(builder) || !builder.hasRoot()) {
      return Status::invalidArgument("the compose file is empty").withPosition(1, 1);
    }
    NullHandler rest;
    if (parser.HandleNextDocument(rest)) {
      return Status::invalidArgument("the compose file holds more than one YAML document")
          .withPosition(rest.line, rest.column);
    }
  } catch (const BuildError& error) {
    return error.status;
  } catch (const YAML::Exception& error) {
    return yamlError(error);
  } catch (const std::exception& error) {
    return Status::invalidArgument(std::string("invalid YAML: ") + error.what());
  }
  if (expanded_bytes != nullptr) *expanded_bytes = builder.expandedBytes();
  return builder.takeRoot();
}

}  // namespace pharos::compose_detail
