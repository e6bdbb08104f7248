// Broker accounts outside any one broker's protocol (broker_admin.h): agent passwords and
// config text, role names, and the one namespace every kind of account shares (AccountKind).
// Pure functions, thread-safe.
#include <fmt/format.h>

#include <random>

#include "anchor/broker_admin.h"
#include "pharos/agent_settings.h"

namespace pharos::anchor {

std::string generatePassword() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  std::string out;
  for (int i = 0; i < 32; ++i) out.push_back(kAlphabet[pick(rd)]);
  return out;
}

std::string agentConfigText(const AgentCredentials& creds) {
  // Spelled by the agent's own key table, so a renamed agent key cannot break node.add.
  AgentSettings agent;
  agent.node_id = creds.node;
  agent.connection.broker_url = creds.broker_url;
  agent.connection.username = creds.username;
  agent.connection.password = creds.password;
  // TLS sites: the device verifies the broker with the site CA (copy ca.crt to this path).
  agent.connection.tls_ca = creds.ca_file;
  return renderAgentConfig(agent);
}

std::string agentRoleName(const std::string& node) { return "agent-" + node; }

bool BrokerUser::isViewer() const {
  if (groups.count("viewers")) return true;
  for (const auto& r : roles) {
    if (r.rfind("viewer-", 0) == 0) return true;
  }
  return false;
}

const char* accountKindName(AccountKind kind) {
  switch (kind) {
    case AccountKind::kNone:
      return "none";
    case AccountKind::kNode:
      return "node";
    case AccountKind::kOperator:
      return "operator";
    case AccountKind::kViewer:
      return "viewer";
    case AccountKind::kBridge:
      return "bridge";
    case AccountKind::kSystem:
      return "system";
    case AccountKind::kUnknown:
      break;
  }
  return "unknown";
}

AccountKind reservedAccountKind(std::string_view name) {
  if (name == "anchor" || name == "admin") return AccountKind::kSystem;
  if (name.rfind("bridge-", 0) == 0) return AccountKind::kBridge;
  return AccountKind::kNone;
}

AccountKind accountKindOf(std::string_view name, const BrokerUser& user) {
  if (AccountKind reserved = reservedAccountKind(name); reserved != AccountKind::kNone) {
    return reserved;
  }
  if (!user.found) return AccountKind::kNone;
  auto hasRolePrefix = [&](std::string_view prefix) {
    for (const auto& r : user.roles) {
      if (r.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  if (user.roles.count("anchor") || user.roles.count("admin")) return AccountKind::kSystem;
  if (hasRolePrefix("bridge-")) return AccountKind::kBridge;
  if (user.groups.count("operators") || hasRolePrefix("operator-")) return AccountKind::kOperator;
  if (user.isViewer()) return AccountKind::kViewer;
  if (user.groups.count("agents") || user.roles.count(agentRoleName(std::string(name)))) {
    return AccountKind::kNode;
  }
  return AccountKind::kUnknown;
}

Status checkNodeName(std::string_view name, AccountKind existing) {
  AccountKind reserved = reservedAccountKind(name);
  AccountKind kind = reserved != AccountKind::kNone ? reserved : existing;
  if (kind == AccountKind::kNone || kind == AccountKind::kNode) return Status::ok();
  return Status::alreadyExists(
             fmt::format("name: '{}' is {} broker account of kind {}; nodes share one namespace "
                         "with every broker account and never replace one",
                         name, reserved != AccountKind::kNone ? "reserved for a" : "already a",
                         accountKindName(kind)))
      .withPath("name");
}

}  // namespace pharos::anchor
