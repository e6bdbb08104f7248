// IdentityReconciler and DynsecChannel against a FakeBroker playing a broker's
// dynamic-security plugin (a line broker's, behind topics::lineControl): the lists are read
// page by page, a broker already in line gets no write, only the differences go out, in
// messages of at most max_commands_per_message commands, a node that connects through
// another broker loses its identity here, and a broker that does not answer fails the run.
#include "anchor/identity_reconciler.h"

#include <doctest/doctest.h>

#include <optional>

#include "anchor/broker_acls.h"
#include "anchor/broker_admin.h"
#include "anchor/dynsec_channel.h"
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

  // listClients/listRoles answered a page at a time; every other command just acknowledged.
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

TEST_CASE("a broker already in line costs two reads and no write") {
  PluginFixture f;
  f.agent("a1", {"hall"});
  f.clients["ops"] = {"operator-ops"};
  f.roles["operator-ops"] = operatorRoleAcls("ops");
  IdentityPlan plan;
  plan.local_nodes["a1"] = {"hall"};
  auto report = f.run(plan);
  REQUIRE(report.isOk());
  CHECK(report->roles_checked == 2);
  CHECK_FALSE(report->changed());
  CHECK(f.messages.size() == 2);
  CHECK(f.count("listClients") == 1);
  CHECK(f.count("listRoles") == 1);
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
}

TEST_CASE("only the differences go out, in batches of at most max_commands_per_message") {
  PluginFixture f;
  // 150 agents of registered nodes lack their group rights: 3 addRoleACL each.
  IdentityPlan plan;
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
  CHECK(f.count("addRoleACL") == 450);
  CHECK(f.count("removeRoleACL") == 0);
  REQUIRE(f.messages.size() == 4 + 5);  // two pages of each list, then 450 commands by 100
  for (size_t i = 4; i < f.messages.size(); ++i) {
    CHECK(f.messages[i]["commands"].size() <= 100);
  }
}

TEST_CASE("a node that connects through another broker loses its identity here") {
  PluginFixture f;
  f.agent("moved", {"hall"});
  f.agent("stays", {});
  f.clients["admin"] = {"admin"};
  IdentityPlan plan;
  plan.broker = "line broker line-a";
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
