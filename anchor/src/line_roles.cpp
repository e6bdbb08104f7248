// Agent identities on line brokers (line_roles.h). Runs on the anchor's strand.
#include "anchor/line_roles.h"

#include <memory>

#include "anchor/broker_admin.h"
#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {

void LineRoles::syncNodeGroups(const std::string& line, const std::string& node,
                               const std::set<std::string>& groups) {
  Line& l = lines_[line];
  // The change itself goes out at once: published before the node document that lists the
  // new groups, it reaches the line first (one anchor connection, one bridge session, in
  // order), so the agent's subscription is not refused. The round then checks the role
  // (duplicates and missing ACLs are refused by the broker, harmlessly).
  std::set<std::string> add = groups, remove;
  if (auto prev = l.wanted.find(node); prev != l.wanted.end()) {
    for (const auto& g : prev->second) {
      if (!groups.count(g)) remove.insert(g);
      add.erase(g);
    }
  }
  l.wanted[node] = groups;
  if (!add.empty() || !remove.empty()) sendDelta(line, node, add, remove);
  l.pending.insert(node);
  scheduleRound(line);
}

void LineRoles::removeNode(const std::string& line, const std::string& node) {
  Line& l = lines_[line];
  l.wanted.erase(node);
  l.pending.erase(node);
  Json commands = Json::array();
  commands.push_back(Json{{"command", "deleteClient"}, {"username", node}});
  commands.push_back(Json{{"command", "deleteRole"}, {"rolename", agentRoleName(node)}});
  spdlog::info("line {}: removing the identity of node {} (it connects elsewhere now)", line, node);
  channel_.send(
      std::move(commands), {0},
      [line, node](Status s) {
        if (!s.isOk()) spdlog::warn("line {}: removing node {}: {}", line, node, s.message());
      },
      nullptr, topics::lineControl(line));
}

void LineRoles::reconcile(const std::string& line, std::function<IdentityPlan()> plan,
                          IdentityReconciler::Done done) {
  Line& l = lines_[line];
  if (l.reconcile_done) {
    // One at a time: the waiting one is superseded (it would read the same broker).
    l.reconcile_done(Status::unavailable("superseded by a newer reconciliation"));
  }
  l.reconcile_plan = std::move(plan);
  l.reconcile_done = std::move(done);
  if (l.busy) return;  // finishRound starts it
  l.busy = true;
  reconcileNow(line);
}

void LineRoles::reconcileNow(const std::string& line) {
  Line& l = lines_[line];
  auto plan = std::move(l.reconcile_plan);
  auto done = std::move(l.reconcile_done);
  l.reconcile_plan = nullptr;
  l.reconcile_done = nullptr;
  reconciler_.run(topics::lineControl(line), std::move(plan),
                  [this, line, done](Result<IdentityReport> report) {
                    done(std::move(report));
                    finishRound(line);
                  });
}

void LineRoles::scheduleRound(const std::string& line) {
  Line& l = lines_[line];
  if (l.busy || l.pending.empty()) return;
  l.busy = true;
  strand_.postDelayed(batch_delay_, [this, line] { round(line); });
}

void LineRoles::finishRound(const std::string& line) {
  Line& l = lines_[line];
  if (l.reconcile_done) return reconcileNow(line);  // stays busy
  l.busy = false;
  scheduleRound(line);
}

void LineRoles::sendDelta(const std::string& line, const std::string& node,
                          const std::set<std::string>& add, const std::set<std::string>& remove) {
  Json commands = Json::array();
  for (const auto& g : add) {
    appendReadAclCommands(commands, "addRoleACL", agentRoleName(node), topics::groupDesired(g));
  }
  for (const auto& g : remove) {
    appendReadAclCommands(commands, "removeRoleACL", agentRoleName(node), topics::groupDesired(g));
  }
  channel_.send(std::move(commands), {}, nullptr, nullptr, topics::lineControl(line));
}

void LineRoles::round(const std::string& line) {
  Line& l = lines_[line];
  std::vector<std::string> nodes;
  while (!l.pending.empty() && nodes.size() < channel_.maxCommandsPerMessage()) {
    nodes.push_back(*l.pending.begin());
    l.pending.erase(l.pending.begin());
  }
  Json commands = Json::array();
  for (const auto& n : nodes) {
    commands.push_back(Json{{"command", "getRole"}, {"rolename", agentRoleName(n)}});
  }
  // role -> topic -> how many of its three read ACLs the role holds (absent: no such role).
  auto current = std::make_shared<std::map<std::string, std::map<std::string, int>>>();
  auto on_response = [current](const Json& r) {
    const Json* role = nullptr;
    if (r.contains("data") && r["data"].is_object() && r["data"].contains("role") &&
        r["data"]["role"].is_object()) {
      role = &r["data"]["role"];
    }
    if (!role || !role->contains("rolename") || !(*role)["rolename"].is_string()) return;
    std::string name = (*role)["rolename"].get<std::string>();
    std::map<std::string, int>& acls = (*current)[name];
    if (!role->contains("acls") || !(*role)["acls"].is_array()) return;
    for (const auto& a : (*role)["acls"]) {
      if (!a.is_object() || !a.contains("topic") || !a["topic"].is_string()) continue;
      std::string type = a.value("acltype", "");
      if (type == "subscribeLiteral" || type == "publishClientReceive" ||
          type == "unsubscribeLiteral") {
        ++acls[a["topic"].get<std::string>()];
      }
    }
  };
  channel_.send(
      std::move(commands), {},
      [this, line, nodes, current](Status status) {
        if (!status.isOk()) {
          // A cut bridge (the site queues the commands for it, and the anchor syncs the line
          // again when it connects) or a line broker too busy to answer in time. Retry the
          // nodes after a pause of three timeouts: one message per pause, so a long cut does
          // not pile up commands.
          auto pause = 3 * channel_.timeout();
          spdlog::warn("line {}: reading agent roles: {} (retrying in {} s)", line,
                       status.message(),
                       std::chrono::duration_cast<std::chrono::seconds>(pause).count());
          for (const auto& n : nodes) lines_[line].pending.insert(n);
          strand_.postDelayed(pause, [this, line] { finishRound(line); });
          return;
        }
        applyDiff(line, nodes, *current);
      },
      on_response, topics::lineControl(line));
}

void LineRoles::applyDiff(const std::string& line, const std::vector<std::string>& nodes,
                          const std::map<std::string, std::map<std::string, int>>& current) {
  Line& l = lines_[line];
  std::vector<Json> commands;
  for (const auto& n : nodes) {
    std::string role = agentRoleName(n);
    auto have = current.find(role);
    if (have == current.end()) {
      spdlog::warn(
          "line {}: no role {} on its broker (create the agent's identity there with "
          "tools/dynsec.py add-agent)",
          line, role);
      continue;
    }
    std::set<std::string> want;
    for (const auto& g : l.wanted[n]) want.insert(topics::groupDesired(g));
    // A topic with all three read ACLs is granted; a partial grant is completed (the broker
    // refuses the duplicates, harmlessly) and a revoked one removed entirely.
    Json changes = Json::array();
    for (const auto& topic : want) {
      auto held = have->second.find(topic);
      if (held != have->second.end() && held->second >= 3) continue;
      appendReadAclCommands(changes, "addRoleACL", role, topic);
    }
    for (const auto& [topic, count] : have->second) {
      // Only group documents are the anchor's to remove; the role's other ACLs stay.
      auto parsed = topics::parse(topic);
      if (!parsed || parsed->kind != topics::Kind::kGroupDesired || want.count(topic)) continue;
      appendReadAclCommands(changes, "removeRoleACL", role, topic);
    }
    for (auto& c : changes) commands.push_back(std::move(c));
  }
  if (commands.empty()) return finishRound(line);
  spdlog::info("line {}: {} group ACL changes for {} nodes", line, commands.size() / 3,
               nodes.size());
  std::vector<Json> parts = channel_.batches(std::move(commands));
  auto left = std::make_shared<size_t>(parts.size());
  for (Json& batch : parts) {
    channel_.send(
        std::move(batch), {},
        [this, line, left](Status status) {
          if (!status.isOk()) {
            spdlog::warn("line {}: group ACL changes: {}", line, status.message());
          }
          if (--*left == 0) finishRound(line);
        },
        nullptr, topics::lineControl(line));
  }
}

}  // namespace pharos::anchor
