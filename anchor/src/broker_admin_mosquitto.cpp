// Mosquitto dynamic-security implementation of BrokerAdmin (broker_admin.h). Commands go
// out as {"commands": [...]} on $CONTROL/dynamic-security/v1; the broker answers on
// .../response with {"responses": [{command, error?, correlationData?}]}. Every command
// carries correlationData "<message id>:<index>" so answers are matched to their request.
// Runs on the anchor's strand.
#include <fmt/format.h>

#include <map>
#include <random>

#include "anchor/broker_acls.h"
#include "anchor/broker_admin.h"
#include "pharos/json.h"
#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {
namespace {

Json acl(const char* type, const std::string& topic, bool allow = true) {
  return Json{{"acltype", type}, {"topic", topic}, {"priority", 0}, {"allow", allow}};
}

class MosquittoBrokerAdmin final : public BrokerAdmin {
 public:
  MosquittoBrokerAdmin(MqttLink& link, Executor& strand, MosquittoAdminOptions options)
      : link_(link), strand_(strand), options_(std::move(options)) {}

  void createNode(const std::string& node, const std::set<std::string>& groups,
                  CreateDone done) override {
    if (Status s = checkNodeName(node, AccountKind::kNone); !s.isOk()) return done(s);
    // The name's current holder decides (one namespace for every kind of account).
    lookupUser(node, [this, node, groups, done](Result<BrokerUser> user) {
      if (!user) return done(user.status());
      AccountKind kind = accountKindOf(node, *user);
      if (Status s = checkNodeName(node, kind); !s.isOk()) {
        spdlog::warn("node.add {}: refused: {}", node, s.message());
        return done(s);
      }
      createNodeNow(node, groups, kind == AccountKind::kNode, done);
    });
  }

  void deleteNode(const std::string& node, Done done) override {
    lookupUser(node, [this, node, done](Result<BrokerUser> user) {
      if (!user) return done(user.status());
      AccountKind kind = accountKindOf(node, *user);
      if (kind != AccountKind::kNone && kind != AccountKind::kNode) {
        spdlog::warn("node {}: the broker account of that name is a {}, left alone", node,
                     accountKindName(kind));
        return done(Status::conflict(
            fmt::format("name: '{}' is a broker account of kind {}, not a node; left alone", node,
                        accountKindName(kind))));
      }
      Json commands = Json::array();
      if (kind == AccountKind::kNode) {
        commands.push_back(Json{{"command", "deleteClient"}, {"username", node}});
      }
      commands.push_back(Json{{"command", "deleteRole"}, {"rolename", agentRoleName(node)}});
      // A missing client or role is fine (the identity may have been made outside the anchor).
      send(std::move(commands), {}, done);
    });
  }

  void updateNodeGroups(const std::string& node, const std::set<std::string>& added,
                        const std::set<std::string>& removed) override {
    std::string role = agentRoleName(node);
    for (const auto& g : added) {
      for (const char* type : {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
        Json c = acl(type, topics::groupDesired(g));
        c["command"] = "addRoleACL";
        c["rolename"] = role;
        queued_.push_back(std::move(c));
      }
    }
    for (const auto& g : removed) {
      for (const char* type : {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
        queued_.push_back(Json{{"command", "removeRoleACL"},
                               {"rolename", role},
                               {"acltype", type},
                               {"topic", topics::groupDesired(g)}});
      }
    }
    if (!queued_.empty() && !flush_scheduled_) {
      flush_scheduled_ = true;
      strand_.postDelayed(options_.batch_delay, [this] { flushQueued(); });
    }
  }

  void flushNodeGroups() override {
    if (!queued_.empty()) flushQueued();  // a still scheduled flush then finds nothing
  }

  void syncLineNodeGroups(const std::string& line, const std::string& node,
                          const std::set<std::string>& groups) override {
    LineSync& l = lines_[line];
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
    if (!add.empty() || !remove.empty()) sendLineDelta(line, node, add, remove);
    l.pending.insert(node);
    scheduleLineRound(line);
  }

  void reconcileIdentities(std::function<IdentityPlan()> plan, IdentityDone done) override {
    auto sync = std::make_shared<IdentitySync>();
    sync->plan = std::move(plan);
    sync->done = std::move(done);
    readIdentities(sync);
  }

  void removeLineNode(const std::string& line, const std::string& node) override {
    LineSync& l = lines_[line];
    l.wanted.erase(node);
    l.pending.erase(node);
    Json commands = Json::array();
    commands.push_back(Json{{"command", "deleteClient"}, {"username", node}});
    commands.push_back(Json{{"command", "deleteRole"}, {"rolename", agentRoleName(node)}});
    spdlog::info("line {}: removing the identity of node {} (it connects elsewhere now)", line,
                 node);
    send(
        std::move(commands), {0},
        [line, node](Status s) {
          if (!s.isOk()) spdlog::warn("line {}: removing node {}: {}", line, node, s.message());
        },
        nullptr, topics::lineControl(line));
  }

  void lookupUser(const std::string& user, UserDone done) override {
    Json commands = Json::array({Json{{"command", "getClient"}, {"username", user}}});
    auto result = std::make_shared<BrokerUser>();
    send(
        std::move(commands), {},
        [result, done](Status status) {
          if (!status.isOk()) return done(status);
          done(*result);
        },
        [result](const Json& response) {
          if (!response.contains("data") || !response["data"].is_object()) return;
          const Json& data = response["data"];
          if (!data.contains("client") || !data["client"].is_object()) return;
          const Json& client = data["client"];
          result->found = true;
          for (const char* list : {"roles", "groups"}) {
            if (!client.contains(list) || !client[list].is_array()) continue;
            for (const auto& item : client[list]) {
              const char* key = std::string_view(list) == "roles" ? "rolename" : "groupname";
              if (item.is_object() && item.contains(key) && item[key].is_string()) {
                (std::string_view(list) == "roles" ? result->roles : result->groups)
                    .insert(item[key].get<std::string>());
              }
            }
          }
        });
  }

  std::vector<std::string> subscriptions() const override {
    return {kDynsecResponseTopic, topics::allLineControlResponses()};
  }

  void onMessage(const MqttMessage& message) override {
    if (message.topic != kDynsecResponseTopic &&
        topics::lineOfControlResponse(message.topic).empty()) {
      return;
    }
    auto json = parseJson(message.payload, size_t{4} << 20);
    if (!json || !json->is_object() || !json->contains("responses") ||
        !(*json)["responses"].is_array()) {
      spdlog::warn("dynamic-security: malformed response dropped");
      return;
    }
    for (const auto& r : (*json)["responses"]) {
      if (!r.is_object() || !r.contains("correlationData") || !r["correlationData"].is_string()) {
        continue;
      }
      std::string corr = r["correlationData"].get<std::string>();
      auto colon = corr.find(':');
      if (colon == std::string::npos) continue;
      uint64_t id = std::strtoull(corr.substr(0, colon).c_str(), nullptr, 10);
      int index = std::atoi(corr.c_str() + colon + 1);
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;
      Pending& p = it->second;
      std::string command = r.value("command", "");
      if (p.on_response) p.on_response(r);
      if (r.contains("error") && r["error"].is_string() && p.checked.count(index) &&
          p.status.isOk()) {
        p.status = Status::unavailable(
            fmt::format("broker {}: {}", command, r["error"].get<std::string>()));
      }
      if (--p.remaining > 0) continue;
      Done done = std::move(p.done);
      Status status = p.status;
      strand_.cancel(p.timer);
      pending_.erase(it);
      if (done) done(status);
    }
  }

 private:
  struct Pending {
    size_t remaining = 0;
    std::set<int> checked;  // indexes whose errors fail the request
    Status status;
    Done done;
    std::function<void(const Json&)> on_response;
    uint64_t timer = 0;
  };

  // ---- reconcileIdentities: list clients, then roles (paged), then send the difference. ----
  struct IdentitySync {
    std::function<IdentityPlan()> plan;
    IdentityDone done;
    std::vector<DynsecClient> clients;
    std::map<std::string, Json> roles;
  };
  static constexpr int kListPage = 100;

  // Reads every entry of a dynamic-security list (listClients, listRoles), kListPage at a
  // time: `item` sees each entry of data.<key>, then `next` runs (or `sync->done` fails).
  void readList(std::shared_ptr<IdentitySync> sync, const char* command, const char* key,
                std::function<void(const Json&)> item, std::function<void()> next, int offset = 0) {
    auto got = std::make_shared<int>(0);
    Json commands = Json::array(
        {Json{{"command", command}, {"verbose", true}, {"count", kListPage}, {"offset", offset}}});
    send(
        std::move(commands), {0},
        [this, sync, command, key, item, next, offset, got](Status status) {
          if (!status.isOk()) return sync->done(status);
          if (*got < kListPage) return next();
          readList(sync, command, key, item, next, offset + kListPage);
        },
        [key, item, got](const Json& r) {
          const Json* list = dataList(r, key);
          if (!list) return;
          for (const auto& entry : *list) {
            ++*got;
            if (entry.is_object()) item(entry);
          }
        });
  }

  void readIdentities(std::shared_ptr<IdentitySync> sync) {
    auto client = [sync](const Json& c) {
      if (!c.contains("username") || !c["username"].is_string()) return;
      sync->clients.push_back(DynsecClient{c["username"].get<std::string>(),
                                           names(c, "roles", "rolename"),
                                           names(c, "groups", "groupname")});
    };
    auto role = [sync](const Json& r) {
      if (!r.contains("rolename") || !r["rolename"].is_string()) return;
      sync->roles[r["rolename"].get<std::string>()] =
          r.contains("acls") ? r["acls"] : Json::array();
    };
    readList(sync, "listClients", "clients", client, [this, sync, role] {
      readList(sync, "listRoles", "roles", role, [this, sync] { applyIdentities(sync); });
    });
  }

  void applyIdentities(std::shared_ptr<IdentitySync> sync) {
    IdentityReport report;
    std::vector<Json> commands =
        identityCommands(sync->clients, sync->roles, sync->plan(), &report);
    if (commands.empty()) return sync->done(report);
    std::vector<Json> parts = batches(std::move(commands));
    auto left = std::make_shared<size_t>(parts.size());
    auto failed = std::make_shared<Status>();
    for (Json& batch : parts) {
      std::set<int> checked;
      for (size_t j = 0; j < batch.size(); ++j) {
        // A duplicate or missing ACL is harmless; a role or membership that fails is not.
        std::string c = batch[j]["command"];
        if (c == "createRole" || c == "addClientRole") checked.insert(static_cast<int>(j));
      }
      send(std::move(batch), std::move(checked), [sync, left, failed, report](Status status) {
        if (!status.isOk() && failed->isOk()) *failed = status;
        if (--*left > 0) return;
        if (!failed->isOk()) return sync->done(*failed);
        sync->done(report);
      });
    }
  }

  // `commands` as command messages of at most max_commands_per_message each.
  std::vector<Json> batches(std::vector<Json> commands) const {
    std::vector<Json> out;
    for (size_t i = 0; i < commands.size(); i += options_.max_commands_per_message) {
      Json batch = Json::array();
      for (size_t j = i; j < std::min(commands.size(), i + options_.max_commands_per_message);
           ++j) {
        batch.push_back(std::move(commands[j]));
      }
      out.push_back(std::move(batch));
    }
    return out;
  }

  // data.<key> of a list response (an array), or nullptr.
  static const Json* dataList(const Json& response, const char* key) {
    if (!response.contains("data") || !response["data"].is_object()) return nullptr;
    const Json& data = response["data"];
    if (!data.contains(key) || !data[key].is_array()) return nullptr;
    return &data[key];
  }

  // The `field` of each object in object[list] ({"roles": [{"rolename": ...}]}).
  static std::set<std::string> names(const Json& object, const char* list, const char* field) {
    std::set<std::string> out;
    if (!object.contains(list) || !object[list].is_array()) return out;
    for (const auto& item : object[list]) {
      if (item.is_object() && item.contains(field) && item[field].is_string()) {
        out.insert(item[field].get<std::string>());
      }
    }
    return out;
  }

  // Makes the identity; `replace`: the broker holds an older identity of this node (a store
  // restored from an older backup, or one made by tools/dynsec.py), deleted first.
  void createNodeNow(const std::string& node, const std::set<std::string>& groups, bool replace,
                     const CreateDone& done) {
    AgentCredentials creds;
    creds.node = node;
    creds.username = node;
    creds.password = generatePassword();
    creds.broker_url = options_.agent_broker_url;
    creds.ca_file = options_.agent_ca_file;
    creds.config_text = agentConfigText(creds);
    std::string role = agentRoleName(node);
    Json acls = agentRoleAcls(node, groups);
    Json commands = Json::array();
    if (replace) commands.push_back(Json{{"command", "deleteClient"}, {"username", node}});
    // An orphan role of that name is replaced (its delete error is ignored).
    commands.push_back(Json{{"command", "deleteRole"}, {"rolename", role}});
    commands.push_back(Json{{"command", "createRole"},
                            {"rolename", role},
                            {"textname", "agent of node " + node},
                            {"acls", acls}});
    commands.push_back(Json{{"command", "createClient"},
                            {"username", node},
                            {"password", creds.password},
                            {"clientid", node},
                            {"roles", Json::array({Json{{"rolename", role}, {"priority", 0}}})}});
    int first_checked = replace ? 2 : 1;
    send(std::move(commands), {first_checked, first_checked + 1},
         [creds, done](Status status) mutable {
           if (!status.isOk()) return done(status);
           done(std::move(creds));
         });
  }

  void send(Json commands, std::set<int> checked, Done done,
            std::function<void(const Json&)> on_response = nullptr,
            const std::string& topic = kDynsecTopic) {
    uint64_t id = next_id_++;
    for (size_t i = 0; i < commands.size(); ++i) {
      commands[i]["correlationData"] = fmt::format("{}:{}", id, i);
    }
    MqttMessage msg;
    msg.topic = topic;
    msg.payload = dumpJson(Json{{"commands", commands}});
    msg.qos = 1;
    Status status = link_.publish(msg);
    if (!status.isOk()) {
      if (done) done(Status::unavailable("broker admin: " + status.message()));
      return;
    }
    Pending p;
    p.remaining = commands.size();
    p.checked = std::move(checked);
    p.done = std::move(done);
    p.on_response = std::move(on_response);
    p.timer = strand_.postDelayed(options_.timeout, [this, id] {
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      Done d = std::move(it->second.done);
      pending_.erase(it);
      if (d) d(Status::unavailable("broker did not answer the dynamic-security command"));
    });
    pending_.emplace(id, std::move(p));
  }

  // ---- line brokers: one round at a time per line (read roles, then send the difference),
  // so a round always reads the result of the previous one. ----
  struct LineSync {
    std::map<std::string, std::set<std::string>> wanted;  // node -> groups
    std::set<std::string> pending;                        // nodes to (re)check
    bool busy = false;                                    // a round is scheduled or running
  };

  void scheduleLineRound(const std::string& line) {
    LineSync& l = lines_[line];
    if (l.busy || l.pending.empty()) return;
    l.busy = true;
    strand_.postDelayed(options_.batch_delay, [this, line] { lineRound(line); });
  }

  void sendLineDelta(const std::string& line, const std::string& node,
                     const std::set<std::string>& add, const std::set<std::string>& remove) {
    Json commands = Json::array();
    for (const auto& g : add) appendReadAcls(commands, "addRoleACL", node, topics::groupDesired(g));
    for (const auto& g : remove) {
      appendReadAcls(commands, "removeRoleACL", node, topics::groupDesired(g));
    }
    send(std::move(commands), {}, nullptr, nullptr, topics::lineControl(line));
  }

  // The three read ACLs of `topic` for agent-<node>, as add or remove commands.
  static void appendReadAcls(Json& commands, const char* command, const std::string& node,
                             const std::string& topic) {
    for (const char* type : {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
      Json c = std::string_view(command) == "addRoleACL"
                   ? acl(type, topic)
                   : Json{{"acltype", type}, {"topic", topic}};
      c["command"] = command;
      c["rolename"] = agentRoleName(node);
      commands.push_back(std::move(c));
    }
  }

  void finishLineRound(const std::string& line) {
    lines_[line].busy = false;
    scheduleLineRound(line);
  }

  void lineRound(const std::string& line) {
    LineSync& l = lines_[line];
    std::vector<std::string> nodes;
    while (!l.pending.empty() && nodes.size() < options_.max_commands_per_message) {
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
    send(
        std::move(commands), {},
        [this, line, nodes, current](Status status) {
          if (!status.isOk()) {
            // A cut bridge (the site queues the commands for it, and the anchor syncs the line
            // again when it connects) or a line broker too busy to answer in time. Retry the
            // nodes after a pause of three timeouts: one message per pause, so a long cut does
            // not pile up commands.
            spdlog::warn(
                "line {}: reading agent roles: {} (retrying in {} s)", line, status.message(),
                std::chrono::duration_cast<std::chrono::seconds>(3 * options_.timeout).count());
            for (const auto& n : nodes) lines_[line].pending.insert(n);
            strand_.postDelayed(3 * options_.timeout, [this, line] {
              lines_[line].busy = false;
              scheduleLineRound(line);
            });
            return;
          }
          applyLineDiff(line, nodes, *current);
        },
        on_response, topics::lineControl(line));
  }

  void applyLineDiff(const std::string& line, const std::vector<std::string>& nodes,
                     const std::map<std::string, std::map<std::string, int>>& current) {
    LineSync& l = lines_[line];
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
      // A topic with all three read ACLs is granted; a partial grant is completed (the
      // broker refuses the duplicates, harmlessly) and a revoked one removed entirely.
      for (const auto& topic : want) {
        auto held = have->second.find(topic);
        if (held != have->second.end() && held->second >= 3) continue;
        for (const char* type :
             {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
          Json c = acl(type, topic);
          c["command"] = "addRoleACL";
          c["rolename"] = role;
          commands.push_back(std::move(c));
        }
      }
      for (const auto& [topic, count] : have->second) {
        // Only group documents are the anchor's to remove; the role's other ACLs stay.
        auto parsed = topics::parse(topic);
        if (!parsed || parsed->kind != topics::Kind::kGroupDesired || want.count(topic)) continue;
        for (const char* type :
             {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}) {
          commands.push_back(Json{{"command", "removeRoleACL"},
                                  {"rolename", role},
                                  {"acltype", type},
                                  {"topic", topic}});
        }
      }
    }
    if (commands.empty()) return finishLineRound(line);
    spdlog::info("line {}: {} group ACL changes for {} nodes", line, commands.size() / 3,
                 nodes.size());
    std::vector<Json> parts = batches(std::move(commands));
    auto left = std::make_shared<size_t>(parts.size());
    for (Json& batch : parts) {
      send(
          std::move(batch), {},
          [this, line, left](Status status) {
            if (!status.isOk()) {
              spdlog::warn("line {}: group ACL changes: {}", line, status.message());
            }
            if (--*left == 0) finishLineRound(line);
          },
          nullptr, topics::lineControl(line));
    }
  }

  void flushQueued() {
    flush_scheduled_ = false;
    while (!queued_.empty()) {
      size_t n = std::min(queued_.size(), options_.max_commands_per_message);
      Json commands = Json::array();
      for (size_t i = 0; i < n; ++i) commands.push_back(std::move(queued_[i]));
      queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
      size_t count = commands.size();
      send(std::move(commands), {}, [count](Status s) {
        if (!s.isOk())
          spdlog::warn("dynamic-security ACL batch ({} commands): {}", count, s.message());
      });
    }
  }

  MqttLink& link_;
  Executor& strand_;
  MosquittoAdminOptions options_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
  std::vector<Json> queued_;
  bool flush_scheduled_ = false;
  std::map<std::string, LineSync> lines_;  // by line name
};

}  // namespace

std::unique_ptr<BrokerAdmin> makeMosquittoBrokerAdmin(MqttLink& link, Executor& strand,
                                                      MosquittoAdminOptions options) {
  return std::make_unique<MosquittoBrokerAdmin>(link, strand, std::move(options));
}

}  // namespace pharos::anchor
