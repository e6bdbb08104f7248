// libFuzzer target for the topic parser and filter matcher (topics.h). The input's first
// line is used as a filter and the rest as a topic; every topic that parses must be rebuilt
// identically by the builders and must match its own subscription filters.
// Seeds: fuzz/corpus/topics. Single-threaded, as libFuzzer runs it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pharos/ids.h"
#include "pharos/topics.h"

namespace {

using namespace pharos;  // NOLINT(google-build-using-namespace)

// Rebuilds a parsed topic with the builders.
std::string rebuild(const topics::Parsed& p) {
  switch (p.kind) {
    case topics::Kind::kNode:
      return topics::node(p.node, p.node_kind);
    case topics::Kind::kNodeCmd:
      return p.user.empty() ? topics::nodeCmd(p.node, p.name)
                            : topics::nodeCmd(p.node, p.name, p.user);
    case topics::Kind::kGroupDesired:
      return topics::groupDesired(p.group);
    case topics::Kind::kAppRollout:
      return topics::appRollout(p.app);
    case topics::Kind::kAnchorStatus:
      return topics::anchorStatus();
    case topics::Kind::kApi:
      return topics::apiRequest(p.user, p.name);
    case topics::Kind::kReplies:
      return topics::replies(p.user, p.name);
    case topics::Kind::kNodeCmdReplies:
      return topics::nodeCmdReplies(p.node, p.user, p.name);
  }
  return {};
}

void check(std::string_view topic) {
  auto parsed = topics::parse(topic);
  if (!parsed) return;
  if (rebuild(*parsed) != topic) __builtin_trap();
  if (!topics::matches("#", topic)) __builtin_trap();
  if (!topics::matches(topic, topic) && topic.find_first_of("+#") == std::string_view::npos) {
    __builtin_trap();
  }
  const auto& p = *parsed;
  if (p.kind == topics::Kind::kNode && !topics::matches(topics::allNodes(p.node_kind), topic)) {
    __builtin_trap();
  }
  if (p.kind == topics::Kind::kReplies && !topics::matches(topics::allReplies(p.user), topic)) {
    __builtin_trap();
  }
  if (p.kind == topics::Kind::kNodeCmdReplies &&
      !topics::matches(topics::allNodeCmdReplies(p.node, p.user), topic)) {
    __builtin_trap();
  }
  if (p.kind == topics::Kind::kApi && !topics::matches(topics::allApiRequests(), topic)) {
    __builtin_trap();
  }
  if (!p.node.empty() && !isValidId(IdKind::kNode, p.node)) __builtin_trap();
  if (!p.user.empty() && !isValidId(IdKind::kUser, p.user)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input);
  size_t nl = input.find('\n');
  if (nl != std::string_view::npos) {
    std::string_view filter = input.substr(0, nl);
    std::string_view topic = input.substr(nl + 1);
    (void)topics::matches(filter, topic);
    check(topic);
  }
  return 0;
}
