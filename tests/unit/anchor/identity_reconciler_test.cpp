// IdentityReconciler and DynsecChannel against a FakeBroker playing a broker's
// dynamic-security plugin (behind topics::lineControl): the lists are read page by page, a
// broker already in line gets no write, only the differences go out, in messages of at most
// max_commands_per_message commands, group rights as broker-group memberships (the site) or
// role ACLs (a line broker), a node that connects through another broker loses its identity
// here, and a broker that does not answer fails the run.
#include "anchor/identity_reconciler.h"

#include <doctest/doctest.h>

#include <optional>

#include "anchor/broker_acls.h"
#include "anchor/broker_admin.h"
#include "anchor/dynsec_channel.h"
#include "anchor/group_rights.h"
#include "pharos/fake_broker.h"
#include "pharos/json.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

struct PluginFixture {
  ManualClock clock;
  ManualExecutor executor{clock};
  FakeBroker broker;
  std::unique_ptr<MqttLink> link = makeFakeLink(broker, "pharos-anchor");
  std::unique_ptr<MqttLink> plugin = makeFakeLink(broker, "bridge-line-a");
  std::shared_ptr<Strand> strand = Strand::create(executor);
  DynsecChannel channel{*link, *strand, std::chrono::milliseconds(1000), 100};
  IdentityReconciler reconciler{channel};
  // The plugin's state: username -> roles, rolename -> ACLs.
  std::map<std::string, std::set<std::string>> clients;
  std::map<std::string, Json> roles;
  DynsecGroups groups;
  std::vector<Json> messages;  // every command message received
  bool answering = true;

  PluginFixture() {
    REQUIRE(link->connect().isOk());
    REQUIRE(plugin->connect().isOk());
    link->onMessage(
        [this](const MqttMessage& m) { strand->post([this, m] { channel.onMessage(m); }); });
    for (const auto& f : channel.subscriptions()) REQUIRE(link->subscribe(f).isOk());
    plugin->onMessage([this](const MqttMessage& m) { answer(m); });
    REQUIRE(plugin->subscribe(topics::lineControl("line-a")).isOk());
  }

  void agent(const std::string& node, const std::set<std::string>& groups) {
    clients[node] = {agentRoleName(node)};
    roles[agentRoleName(node)] = agentRoleAcls(node, groups);
  }

  // The site's group rights of `group`, held by `members`.
  void groupRights(const std::string& group, const std::set<std::string>& members) {
    std::string name = groupRightsName(group);
    roles[name] = groupReadAcls(group);
    groups[name] = DynsecGroup{{name}, members};
  }

  // listClients/listRoles/listGroups answered a page at a time; every other command just
  // acknowledged.
  void answer(const MqttMessage& m) {
    auto json = parseJson(m.payload);
    REQUIRE(json.isOk());
    messages.push_back(*json);
    if (!answering) return;
    Json responses = Json::array();
    for (const auto& c : (*json)["commands"]) {
      Json r{{"command", c["command"]}, {"correlationData", c["correlationData"]}};
      size_t offset = c.value("offset", 0), count = c.value("count", 0);
      if (c["command"] == "listClients") {
        Json list = Json::array();
        size_t i = 0;
        for (const auto& [name, held] : clients) {
          if (i++ < offset || list.size() >= count) continue;
          Json rs = Json::array();
          for (const auto& role : held) rs.push_back(Json{{"rolename", role}});
          list.push_back(Json{{"username", name}, {"roles", rs}, {"groups", Json::array()}});
        }
        r["data"] = Json{{"clients", list}};
      } else if (c["command"] == "listRoles") {
        Json list = Json::array();
        size_t i = 0;
        for (const auto& [name, acls] : roles) {
          if (i++ < offset || list.size() >= count) continue;
          list.push_back(Json{{"rolename", name}, {"acls", acls}});
        }
        r["data"] = Json{{"roles", list}};
      } else if (c["command"] == "listGroups") {
        Json list = Json::array();
        size_t i = 0;
        for (const auto& [name, g] : groups) {
          if (i++ < offset || list.size() >= count) continue;
          Json rs = Json::array(), cs = Json::array();
          for (const auto& role : g.roles) rs.push_back(Json{{"rolename", role}});
          for (const auto& client : g.clients) cs.push_back(Json{{"username", client}});
          list.push_back(Json{{"groupname", name}, {"roles", rs}, {"clients", cs}});
        }
        r["data"] = Json{{"groups", list}};
      }
      responses.push_back(r);
    }
    MqttMessage out;
    out.topic = topics::lineControlResponse("line-a");
    out.payload = dumpJson(Json{{"responses", responses}});
    REQUIRE(plugin->publish(out).isOk());
  }

  Result<IdentityReport> run(IdentityPlan plan) {
    std::optional<Result<IdentityReport>> result;
    strand->post([&] {
      reconciler.run(
          topics::lineControl("line-a"), [plan] { return plan; },
          [&](Result<IdentityReport> r) { result = std::move(r); });
    });
    for (int i = 0; i < 100 && !result; ++i) {
      while (broker.deliverAll() + static_cast<size_t>(executor.runUntilIdle()) > 0) {
      }
      if (!result) executor.advance(std::chrono::milliseconds(100));
    }
    REQUIRE(result.has_value());
    return *result;
  }

  size_t count(const std::string& command) const {
    size_t n = 0;
    for (const auto& m : messages) {
      for (const auto& c : m["commands"]) n += c["command"] == command ? 1 : 0;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("a broker already in line costs three reads and no write") {
  PluginFixture f;
  f.clients["ops"] = {"operator-ops"};
  f.roles["operator-ops"] = operatorRoleAcls("ops");
  IdentityPlan plan;
  plan.local_nodes["a1"] = {"hall"};
  SUBCASE("the site: group rights are memberships") {
    f.agent("a1", {});
    f.groupRights("hall", {"a1"});
  }
  SUBCASE("a line broker: group rights are role ACLs") {
    plan.group_rights = GroupRights::kAgentRole;
    f.agent("a1", {"hall"});
  }
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->roles_checked == 2);
  CHECK_FALSE(report->changed());
  CHECK(f.messages.size() == 3);
  CHECK(f.count("listClients") == 1);
  CHECK(f.count("listRoles") == 1);
  CHECK(f.count("listGroups") == 1);
}

TEST_CASE("the lists are read page by page, every identity is seen") {
  PluginFixture f;
  for (int i = 0; i < 250; ++i) f.agent("n" + std::to_string(i), {});
  auto report = f.run(IdentityPlan{});
  REQUIRE(report.isOk());
  CHECK(report->roles_checked == 250);
  CHECK_FALSE(report->changed());
  CHECK(f.count("listClients") == 3);
  CHECK(f.count("listRoles") == 3);
  CHECK(f.count("listGroups") == 1);
}

TEST_CASE("only the differences go out, in batches of at most max_commands_per_message") {
  PluginFixture f;
  // On a line broker, 150 agents of registered nodes lack their group rights: their roles
  // are corrected, one modifyRole each.
  IdentityPlan plan;
  plan.group_rights = GroupRights::kAgentRole;
  for (int i = 0; i < 150; ++i) {
    std::string n = "n" + std::to_string(i);
    f.agent(n, {});
    plan.local_nodes[n] = {"hall"};
  }
  f.agent("quiet", {});  // in line already
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->roles_changed == 150);
  CHECK(report->acls_added == 450);
  CHECK(f.count("modifyRole") == 150);
  CHECK(f.count("addRoleACL") == 0);
  // Two pages of clients and of roles, one of groups, then 150 commands by 100.
  REQUIRE(f.messages.size() == 5 + 2);
  for (size_t i = 5; i < f.messages.size(); ++i) {
    CHECK(f.messages[i]["commands"].size() <= 100);
  }
}

TEST_CASE("the site's group rights: a missing broker group is made with its members at once") {
  PluginFixture f;
  IdentityPlan plan;
  for (int i = 0; i < 150; ++i) {
    std::string n = "n" + std::to_string(i);
    f.agent(n, {"hall"});  // group rights of an earlier release, in the role
    plan.local_nodes[n] = {"hall"};
  }
  plan.local_nodes["not-enrolled"] = {"hall"};  // no client on this broker: not listed
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->roles_changed == 150);  // the group ACLs leave the roles
  CHECK(report->acls_removed == 450);
  CHECK(report->groups_created == 1);
  CHECK(f.count("createGroup") == 1);
  CHECK(f.count("addGroupClient") == 0);
  REQUIRE(f.count("modifyGroup") == 1);
  for (const auto& m : f.messages) {
    for (const auto& c : m["commands"]) {
      if (c["command"] != "modifyGroup") continue;
      CHECK(c["groupname"] == "group-hall");
      CHECK(c["clients"].size() == 150);
    }
  }
}

TEST_CASE("the site's group rights: a few members are changed one by one, stale groups go") {
  PluginFixture f;
  IdentityPlan plan;
  for (const char* n : {"a", "b", "c"}) {
    f.agent(n, {});
    plan.local_nodes[n] = {"hall"};
  }
  f.groupRights("hall", {"a", "gone"});
  f.groupRights("old", {"a"});
  f.roles["group-hall"] = agentRoleAcls("x", {});  // drifted
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->groups_changed == 1);
  CHECK(report->groups_removed == 1);
  CHECK(f.count("addGroupClient") == 2);     // b, c
  CHECK(f.count("removeGroupClient") == 1);  // gone
  CHECK(f.count("modifyGroup") == 0);
  CHECK(f.count("modifyRole") == 1);
  CHECK(f.count("deleteGroup") == 1);
  CHECK(f.count("deleteRole") == 1);  // group-old
}

TEST_CASE("a node that connects through another broker loses its identity here") {
  PluginFixture f;
  f.agent("moved", {"hall"});
  f.agent("stays", {});
  f.clients["admin"] = {"admin"};
  IdentityPlan plan;
  plan.broker = "line broker line-a";
  plan.group_rights = GroupRights::kAgentRole;
  plan.remote_nodes = {"moved"};
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->identities_removed == 1);
  REQUIRE(report->changes.size() == 1);
  CHECK(report->changes[0].find("line broker line-a") != std::string::npos);
  CHECK(f.count("deleteClient") == 1);
  CHECK(f.count("deleteRole") == 1);
  CHECK(f.messages.back()["commands"][0]["username"] == "moved");
}

TEST_CASE("a broker that does not answer fails the run as unavailable") {
  PluginFixture f;
  f.answering = false;
  auto report = f.run(IdentityPlan{});
  REQUIRE_FALSE(report.isOk());
  CHECK(report.status().code() == Code::kUnavailable);
}
