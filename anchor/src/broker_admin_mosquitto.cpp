// Mosquitto dynamic-security implementation of BrokerAdmin (broker_admin.h): the site
// broker's device identities (create, delete, batched group memberships) and user lookups. It
// wires the pieces that own the rest: DynsecChannel (command messages and their answers),
// GroupMemberships (the broker groups group-<g> and the pace of their changes,
// group_memberships.h), IdentityReconciler (a
// broker's identities against the registry) and LineRoles (identities on line brokers). Runs
// on the anchor's strand.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <optional>

#include "anchor/broker_acls.h"
#include "anchor/broker_admin.h"
#include "anchor/dynsec_channel.h"
#include "anchor/group_memberships.h"
#include "anchor/group_rights.h"
#include "anchor/identity_reconciler.h"
#include "anchor/line_roles.h"
#include "pharos/clock.h"
#include "pharos/json.h"
#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {
namespace {

class MosquittoBrokerAdmin final : public BrokerAdmin {
 public:
  MosquittoBrokerAdmin(MqttLink& link, Executor& strand, const Clock& clock,
                       MosquittoAdminOptions options)
      : strand_(strand),
        clock_(clock),
        options_(std::move(options)),
        channel_(link, strand, options_.timeout, options_.max_commands_per_message),
        identities_(channel_),
        lines_(channel_, strand, options_.batch_delay),
        memberships_(options_.membership_pacing) {}

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
      memberships_.forgetNode(node);  // the broker drops the client's memberships with it
      // A missing client or role is fine (the identity may have been made outside the anchor).
      channel_.send(std::move(commands), {}, done);
    });
  }

  void updateNodeGroups(const std::string& node, const std::set<std::string>& added,
                        const std::set<std::string>& removed) override {
    memberships_.change(node, added, removed);
    if (memberships_.pending() && !flush_timer_) scheduleFlush(options_.batch_delay);
  }

  void flushNodeGroups() override {
    if (memberships_.pending()) flushQueued();
  }

  void syncLineNodeGroups(const std::string& line, const std::string& node,
                          const std::set<std::string>& groups) override {
    lines_.syncNodeGroups(line, node, groups);
  }

  void reconcileIdentities(std::function<IdentityPlan()> plan, IdentityDone done) override {
    last_plan_ = plan;
    // Membership changes wait while the broker's lists are read (so none is missing from
    // them); the broker holds the registry's memberships from the reconciliation's commands
    // on (later changes are sent after them, on the same connection).
    reconciling_ = true;
    auto placed = [this](Placements p) {
      memberships_.reset(std::move(p));
      reconciling_ = false;
      if (memberships_.pending()) flushQueued();
    };
    auto finished = [this, done = std::move(done)](Result<IdentityReport> report) {
      if (reconciling_) {  // failed before its commands: what waited goes out now
        reconciling_ = false;
        if (memberships_.pending()) flushQueued();
      }
      done(std::move(report));
    };
    identities_.run(kDynsecTopic, std::move(plan), std::move(finished), std::move(placed));
  }

  void reconcileLineIdentities(const std::string& line, std::function<IdentityPlan()> plan,
                               IdentityDone done) override {
    lines_.reconcile(line, std::move(plan), std::move(done));
  }

  void removeLineNode(const std::string& line, const std::string& node) override {
    lines_.removeNode(line, node);
  }

  void lookupUser(const std::string& user, UserDone done) override {
    Json commands = Json::array({Json{{"command", "getClient"}, {"username", user}}});
    auto result = std::make_shared<BrokerUser>();
    channel_.send(
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

  std::vector<std::string> subscriptions() const override { return channel_.subscriptions(); }

  void onMessage(const MqttMessage& message) override { channel_.onMessage(message); }

 private:
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
    Json acls = agentRoleAcls(node, {});
    Json commands = Json::array();
    // The broker groups of its groups first (harmless if they exist): a client cannot be
    // created into a missing group.
    for (auto& c : memberships_.created(node, groups)) commands.push_back(std::move(c));
    Json member_of = Json::array();
    for (const auto& g : groups) member_of.push_back(Json{{"groupname", groupRightsName(g)}});
    int first_checked = static_cast<int>(commands.size()) + (replace ? 2 : 1);
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
                            {"roles", Json::array({Json{{"rolename", role}, {"priority", 0}}})},
                            {"groups", member_of}});
    channel_.send(std::move(commands), {first_checked, first_checked + 1},
                  [creds, done](Status status) mutable {
                    if (!status.isOk()) return done(status);
                    done(std::move(creds));
                  });
  }

  // Sends the membership changes that may go now (GroupMemberships decides), then waits for
  // the next ones' time, or for the answer to a bulk step.
  void flushQueued() {
    if (flush_timer_) strand_.cancel(*flush_timer_);
    flush_timer_.reset();
    if (reconciling_) return;  // it flushes when its commands are out
    bool bulk = false;
    std::vector<Json> batches = channel_.batches(memberships_.take(clock_.steadyNow(), &bulk));
    auto left = std::make_shared<size_t>(batches.size());
    for (Json& batch : batches) {
      size_t count = batch.size();
      channel_.send(std::move(batch), {}, [this, count, bulk, left](Status s) {
        if (!s.isOk()) {
          spdlog::warn(
              "dynamic-security group membership batch ({} commands): {}; the "
              "memberships are reconciled again in {} s",
              count, s.message(), options_.membership_repair_delay.count());
          scheduleRepair();
        }
        if (--*left > 0 || !bulk) return;
        memberships_.stepAnswered(clock_.steadyNow());
        scheduleNext();
      });
    }
    scheduleNext();
  }

  // A membership batch got no answer (the broker was away or too slow): what it holds is
  // unknown, so the reconciliation reads it again and corrects it, until one succeeds.
  void scheduleRepair() {
    if (repair_timer_ || !last_plan_) return;
    repair_timer_ = strand_.postDelayed(options_.membership_repair_delay, [this] {
      repair_timer_.reset();
      reconcileIdentities(last_plan_, [this](Result<IdentityReport> report) {
        if (!report) {
          spdlog::warn("group rights: reconciliation after a lost batch failed: {}",
                       report.status().message());
          return scheduleRepair();
        }
        spdlog::info(
            "group rights reconciled after a lost batch: {} broker groups created, {} "
            "corrected, {} removed",
            report->groups_created, report->groups_changed, report->groups_removed);
      });
    });
  }

  void scheduleNext() {
    auto now = clock_.steadyNow();
    auto due = memberships_.nextDue(now);
    if (!due || flush_timer_) return;
    scheduleFlush(std::chrono::ceil<std::chrono::milliseconds>(*due - now));
  }

  void scheduleFlush(std::chrono::milliseconds delay) {
    flush_timer_ = strand_.postDelayed(delay, [this] {
      flush_timer_.reset();
      flushQueued();
    });
  }

  Executor& strand_;
  const Clock& clock_;
  MosquittoAdminOptions options_;
  DynsecChannel channel_;
  IdentityReconciler identities_;
  LineRoles lines_;
  GroupMemberships memberships_;  // the site's broker groups group-<g> and queued changes
  std::optional<uint64_t> flush_timer_;
  bool reconciling_ = false;                 // membership changes wait meanwhile
  std::function<IdentityPlan()> last_plan_;  // for a reconciliation after a lost batch
  std::optional<uint64_t> repair_timer_;
};

}  // namespace

std::unique_ptr<BrokerAdmin> makeMosquittoBrokerAdmin(MqttLink& link, Executor& strand,
                                                      const Clock& clock,
                                                      MosquittoAdminOptions options) {
  return std::make_unique<MosquittoBrokerAdmin>(link, strand, clock, std::move(options));
}

}  // namespace pharos::anchor
