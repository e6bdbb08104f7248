// Topic builders and parser (see topics.h).
#include "pharos/topics.h"

#include <array>
#include <vector>

#include "pharos/ids.h"

namespace pharos::topics {

namespace {
constexpr std::array<std::pair<NodeTopic, const char*>, 9> kNodeTopics = {{
    {NodeTopic::kStatus, "status"},
    {NodeTopic::kInfo, "info"},
    {NodeTopic::kState, "state"},
    {NodeTopic::kEvents, "events"},
    {NodeTopic::kMetrics, "metrics"},
    {NodeTopic::kHeartbeat, "heartbeat"},
    {NodeTopic::kHealth, "health"},
    {NodeTopic::kDesired, "desired"},
    {NodeTopic::kSecrets, "secrets"},
}};

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out(kRoot);
  for (auto part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find('/', start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool isOperation(std::string_view op) {
  size_t dot = op.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == op.size()) return false;
  if (op.size() > 64) return false;
  for (size_t i = 0; i < op.size(); ++i) {
    char c = op[i];
    if (i == dot) continue;
    if (!(c >= 'a' && c <= 'z')) return false;
  }
  return true;
}

Status bad(std::string_view topic, const std::string& why) {
  std::string shown(topic.substr(0, 200));
  return Status::invalidArgument("topic '" + shown + "': " + why);
}
}  // namespace

const char* nodeTopicName(NodeTopic kind) {
  for (const auto& [k, name] : kNodeTopics) {
    if (k == kind) return name;
  }
  return "status";
}

std::string node(std::string_view n, NodeTopic kind) {
  return join({"nodes", n, nodeTopicName(kind)});
}
std::string nodeCmd(std::string_view n, std::string_view command) {
  return join({"nodes", n, "cmd", command});
}
std::string nodeCmd(std::string_view n, std::string_view command, std::string_view user) {
  return join({"nodes", n, "cmd", command, user});
}
std::string groupDesired(std::string_view group) { return join({"groups", group, "desired"}); }
std::string appRollout(std::string_view app) { return join({"apps", app, "rollout"}); }
std::string anchorStatus() { return join({"anchor", "status"}); }
std::string lineControl(std::string_view line) {
  return join({"lines", line, "control", "dynamic-security", "v1"});
}
std::string lineControlResponse(std::string_view line) { return lineControl(line) + "/response"; }
std::string allLineControlResponses() { return lineControlResponse("+"); }
std::string lineHeartbeat(std::string_view line) {
  return join({"lines", line, "sys", "broker", "uptime"});
}
std::string allLineHeartbeats() { return lineHeartbeat("+"); }

namespace {
// The <line> of pharos/v1/lines/<line>/<rest...> when the rest is exactly `rest`.
std::string lineUnder(std::string_view topic, std::initializer_list<std::string_view> rest) {
  if (topic.size() <= kRoot.size() || topic.substr(0, kRoot.size()) != kRoot) return {};
  std::vector<std::string_view> parts = split(topic.substr(kRoot.size()));
  // "" lines <line> rest...
  if (parts.size() != 3 + rest.size() || !parts[0].empty() || parts[1] != "lines" ||
      !isValidId(IdKind::kNode, parts[2])) {
    return {};
  }
  size_t i = 3;
  for (std::string_view r : rest) {
    if (parts[i++] != r) return {};
  }
  return std::string(parts[2]);
}
}  // namespace

std::string lineOfControlResponse(std::string_view topic) {
  return lineUnder(topic, {"control", "dynamic-security", "v1", "response"});
}
std::string lineOfHeartbeat(std::string_view topic) {
  return lineUnder(topic, {"sys", "broker", "uptime"});
}
std::string apiRequest(std::string_view user, std::string_view operation) {
  return join({"api", user, operation});
}
std::string replies(std::string_view user, std::string_view suffix) {
  return join({"replies", user, suffix});
}
std::string allNodes(NodeTopic kind) { return join({"nodes", "+", nodeTopicName(kind)}); }
std::string allGroupsDesired() { return join({"groups", "+", "desired"}); }
std::string allApiRequests() { return join({"api", "+", "+"}); }
std::string allReplies(std::string_view user) { return join({"replies", user, "#"}); }
std::string nodeCmdReplies(std::string_view n, std::string_view user, std::string_view suffix) {
  return join({"nodes", n, "cmd-replies", user, suffix});
}
std::string allNodeCmdReplies(std::string_view n, std::string_view user) {
  return join({"nodes", n, "cmd-replies", user, "#"});
}
std::string allRollouts() { return join({"apps", "+", "rollout"}); }

Result<Parsed> parse(std::string_view topic) {
  if (topic.size() > 512) return bad(topic, "longer than 512 bytes");
  std::string prefix = std::string(kRoot) + "/";
  if (topic.substr(0, prefix.size()) != prefix) return bad(topic, "not under pharos/v1/");
  auto parts = split(topic.substr(prefix.size()));
  Parsed out;
  const auto& head = parts[0];
  if (head == "nodes" && parts.size() >= 3) {
    if (!isValidId(IdKind::kNode, parts[1])) return bad(topic, "invalid node name");
    out.node = std::string(parts[1]);
    if ((parts.size() == 4 || parts.size() == 5) && parts[2] == "cmd") {
      if (!isValidId(IdKind::kService, parts[3])) return bad(topic, "invalid command name");
      if (parts.size() == 5 && !isValidId(IdKind::kUser, parts[4])) {
        return bad(topic, "invalid user name");
      }
      out.kind = Kind::kNodeCmd;
      out.name = std::string(parts[3]);
      if (parts.size() == 5) out.user = std::string(parts[4]);
      return out;
    }
    if (parts.size() >= 5 && parts[2] == "cmd-replies") {
      if (!isValidId(IdKind::kUser, parts[3])) return bad(topic, "invalid user name");
      out.kind = Kind::kNodeCmdReplies;
      out.user = std::string(parts[3]);
      size_t skip = prefix.size() + head.size() + 1 + parts[1].size() + 1 + parts[2].size() + 1 +
                    parts[3].size() + 1;
      out.name = std::string(topic.substr(skip));
      if (out.name.empty()) return bad(topic, "empty reply suffix");
      return out;
    }
    if (parts.size() != 3) return bad(topic, "unknown node topic");
    for (const auto& [k, name] : kNodeTopics) {
      if (parts[2] == name) {
        out.kind = Kind::kNode;
        out.node_kind = k;
        return out;
      }
    }
    return bad(topic, "unknown node topic '" + std::string(parts[2].substr(0, 32)) + "'");
  }
  if (head == "groups" && parts.size() == 3 && parts[2] == "desired") {
    if (!isValidId(IdKind::kGroup, parts[1])) return bad(topic, "invalid group name");
    out.kind = Kind::kGroupDesired;
    out.group = std::string(parts[1]);
    return out;
  }
  if (head == "apps" && parts.size() == 3 && parts[2] == "rollout") {
    if (!isValidId(IdKind::kApp, parts[1])) return bad(topic, "invalid app name");
    out.kind = Kind::kAppRollout;
    out.app = std::string(parts[1]);
    return out;
  }
  if (head == "anchor" && parts.size() == 2 && parts[1] == "status") {
    out.kind = Kind::kAnchorStatus;
    return out;
  }
  if (head == "api" && parts.size() == 3) {
    if (!isValidId(IdKind::kUser, parts[1])) return bad(topic, "invalid user name");
    if (!isOperation(parts[2])) return bad(topic, "invalid operation name");
    out.kind = Kind::kApi;
    out.user = std::string(parts[1]);
    out.name = std::string(parts[2]);
    return out;
  }
  if (head == "replies" && parts.size() >= 3) {
    if (!isValidId(IdKind::kUser, parts[1])) return bad(topic, "invalid user name");
    out.kind = Kind::kReplies;
    out.user = std::string(parts[1]);
    size_t skip = prefix.size() + head.size() + 1 + parts[1].size() + 1;
    out.name = std::string(topic.substr(skip));
    if (out.name.empty()) return bad(topic, "empty reply suffix");
    return out;
  }
  return bad(topic, "unknown topic");
}

std::string apiUserOfMalformed(std::string_view topic) {
  std::string prefix = std::string(kRoot) + "/api/";
  if (topic.size() > 65536 || topic.substr(0, prefix.size()) != prefix) return {};
  std::string_view rest = topic.substr(prefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) return {};
  std::string_view user = rest.substr(0, slash);
  std::string_view op = rest.substr(slash + 1);
  if (!isValidId(IdKind::kUser, user)) return {};
  if (op.find('/') == std::string_view::npos && isOperation(op)) return {};
  return std::string(user);
}

bool matches(std::string_view filter, std::string_view topic) {
  auto f = split(filter);
  auto t = split(topic);
  size_t i = 0;
  for (; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= t.size()) return false;
    if (f[i] == "+") continue;
    if (f[i] != t[i]) return false;
  }
  return i == t.size();
}

}  // namespace pharos::topics
