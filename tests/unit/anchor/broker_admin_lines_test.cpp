// BrokerAdmin::syncLineNodeGroups against a FakeBroker playing a line broker's
// dynamic-security plugin behind its bridge (commands on topics::lineControl, answers on
// topics::lineControlResponse): it sends the change at once, then reads each role and sends
// only what is still missing, leaves the role's other ACLs alone, serialises rounds so a
// later request always wins, and asks a line that does not answer again after a pause.
#include <doctest/doctest.h>

#include <optional>

#include "anchor/broker_admin.h"
#include "pharos/fake_broker.h"
#include "pharos/json.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"
#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

const std::set<std::string> kRead = {"subscribeLiteral", "publishClientReceive",
                                     "unsubscribeLiteral"};

struct LineFixture {
  ManualClock clock;
  ManualExecutor executor{clock};
  FakeBroker broker;
  std::unique_ptr<MqttLink> link = makeFakeLink(broker, "pharos-anchor");
  std::unique_ptr<MqttLink> line = makeFakeLink(broker, "bridge-line-a");
  std::shared_ptr<Strand> strand = Strand::create(executor);
  std::unique_ptr<BrokerAdmin> admin;
  // The line's roles: role -> topic -> ACL types.
  std::map<std::string, std::map<std::string, std::set<std::string>>> roles;
  std::vector<Json> received;
  bool answering = true;

  LineFixture() {
    REQUIRE(link->connect().isOk());
    REQUIRE(line->connect().isOk());
    admin = makeMosquittoBrokerAdmin(*link, *strand, clock, MosquittoAdminOptions{});
    link->onMessage(
        [this](const MqttMessage& m) { strand->post([this, m] { admin->onMessage(m); }); });
    for (const auto& f : admin->subscriptions()) REQUIRE(link->subscribe(f).isOk());
    line->onMessage([this](const MqttMessage& m) { answer(m); });
    REQUIRE(line->subscribe(topics::lineControl("line-a")).isOk());
    roles["agent-a1"]["pharos/v1/nodes/a1/desired"] = kRead;
    roles["agent-a1"]["pharos/v1/groups/old/desired"] = kRead;
    roles["agent-a2"] = {};
  }

  void answer(const MqttMessage& m) {
    auto json = parseJson(m.payload);
    REQUIRE(json.isOk());
    received.push_back(*json);
    if (!answering) return;
    Json responses = Json::array();
    for (const auto& c : (*json)["commands"]) {
      Json r{{"command", c["command"]}, {"correlationData", c["correlationData"]}};
      std::string name = c.value("rolename", "");
      auto role = roles.find(name);
      if (c["command"] == "listClients") {
        r["data"] = Json{{"clients", Json::array()}};  // its identities: none the anchor knows
      } else if (c["command"] == "listRoles") {
        r["data"] = Json{{"roles", Json::array()}};
      } else if (c["command"] == "listGroups") {
        r["data"] = Json{{"groups", Json::array()}};
      } else if (role == roles.end()) {
        r["error"] = "Role not found";
      } else if (c["command"] == "getRole") {
        Json acls = Json::array();
        for (const auto& [topic, types] : role->second) {
          for (const auto& t : types) acls.push_back(Json{{"acltype", t}, {"topic", topic}});
        }
        r["data"] = Json{{"role", Json{{"rolename", name}, {"acls", acls}}}};
      } else if (c["command"] == "addRoleACL") {
        role->second[c["topic"]].insert(c["acltype"].get<std::string>());
      } else if (c["command"] == "removeRoleACL") {
        auto& types = role->second[c["topic"]];
        types.erase(c["acltype"].get<std::string>());
        if (types.empty()) role->second.erase(c["topic"].get<std::string>());
      }
      responses.push_back(r);
    }
    MqttMessage out;
    out.topic = topics::lineControlResponse("line-a");
    out.payload = dumpJson(Json{{"responses", responses}});
    REQUIRE(line->publish(out).isOk());
  }

  void sync(const std::string& node, std::set<std::string> groups) {
    strand->post([this, node, groups] { admin->syncLineNodeGroups("line-a", node, groups); });
  }

  void settle() {
    for (int i = 0; i < 50; ++i) {
      executor.advance(std::chrono::milliseconds(100));
      while (broker.deliverAll() + static_cast<size_t>(executor.runUntilIdle()) > 0) {
      }
    }
  }

  std::set<std::string> groupsOf(const std::string& role) {
    std::set<std::string> out;
    for (const auto& [topic, types] : roles[role]) {
      auto p = topics::parse(topic);
      if (p && p->kind == topics::Kind::kGroupDesired && types == kRead) out.insert(p->group);
    }
    return out;
  }
};

size_t commandsNamed(const std::vector<Json>& messages, const std::string& name) {
  size_t n = 0;
  for (const auto& m : messages) {
    for (const auto& c : m["commands"]) n += c["command"] == name ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("a line role gets exactly its groups, and its other ACLs stay") {
  LineFixture f;
  f.sync("a1", {"plant", "line-a"});
  // The grant goes out at once, ahead of anything the anchor publishes after the call (the
  // node document), before the checking round.
  f.executor.runUntilIdle();
  f.broker.deliverAll();
  REQUIRE(f.received.size() == 1);
  CHECK(commandsNamed(f.received, "addRoleACL") == 6);
  CHECK(commandsNamed(f.received, "getRole") == 0);
  f.settle();
  CHECK(f.groupsOf("agent-a1") == std::set<std::string>{"line-a", "plant"});
  CHECK(f.roles["agent-a1"]["pharos/v1/nodes/a1/desired"] == kRead);
  // In step already: the next sync only reads.
  size_t before = f.received.size();
  f.sync("a1", {"plant", "line-a"});
  f.settle();
  REQUIRE(f.received.size() == before + 1);
  CHECK(commandsNamed({f.received.back()}, "getRole") == 1);
  CHECK(commandsNamed({f.received.back()}, "addRoleACL") == 0);
}

TEST_CASE("line syncs are batched per line and the latest request wins") {
  LineFixture f;
  f.sync("a1", {"x"});
  f.sync("a2", {"x"});
  f.sync("a1", {"y"});  // before the round runs: replaces {"x"}
  f.settle();
  CHECK(f.groupsOf("agent-a1") == std::set<std::string>{"y"});
  CHECK(f.groupsOf("agent-a2") == std::set<std::string>{"x"});
  CHECK(commandsNamed(f.received, "getRole") == 2);  // one round, both roles
  // A request during a round is served by the next one, which reads the first's result.
  f.sync("a1", {"z"});
  f.executor.advance(std::chrono::milliseconds(150));
  f.executor.runUntilIdle();  // the round has sent its getRole; nothing delivered yet
  f.sync("a1", {});
  f.executor.runUntilIdle();
  f.settle();
  CHECK(f.groupsOf("agent-a1").empty());
}

TEST_CASE("a node without a role on the line gets nothing created, only a warning") {
  LineFixture f;
  f.sync("ghost", {"plant"});
  f.settle();
  CHECK(commandsNamed(f.received, "getRole") == 1);
  CHECK(commandsNamed(f.received, "addRoleACL") == 3);  // the immediate attempt, refused
  CHECK(f.roles.count("agent-ghost") == 0);
}

TEST_CASE("a line that does not answer is asked again after three timeouts") {
  LineFixture f;
  f.answering = false;
  f.sync("a1", {"plant"});
  for (int i = 0; i < 3; ++i) f.settle();  // 15 s: past the 10 s timeout
  size_t sent = f.received.size();
  CHECK(sent == 2);  // the immediate grant and the round's getRole
  f.settle();        // 20 s: still pausing
  CHECK(f.received.size() == sent);
  f.answering = true;
  f.sync("a2", {"plant"});                 // a new request waits for the pause too
  for (int i = 0; i < 5; ++i) f.settle();  // 45 s: past the 30 s pause
  CHECK(f.groupsOf("agent-a1") == std::set<std::string>{"plant"});
  CHECK(f.groupsOf("agent-a2") == std::set<std::string>{"plant"});
}

TEST_CASE("a line's reconciliation waits for the group-rights round in progress") {
  LineFixture f;
  f.sync("a1", {"plant"});
  std::optional<Result<IdentityReport>> report;
  f.strand->post([&] {
    f.admin->reconcileLineIdentities(
        "line-a", [] { return IdentityPlan{}; },
        [&](Result<IdentityReport> r) { report = std::move(r); });
  });
  f.settle();
  REQUIRE(report.has_value());
  CHECK(report->isOk());
  CHECK(f.groupsOf("agent-a1") == std::set<std::string>{"plant"});
  // Through the line's control topic, once the round (its getRole) is done.
  size_t get_role = f.received.size(), list = f.received.size();
  for (size_t i = 0; i < f.received.size(); ++i) {
    if (commandsNamed({f.received[i]}, "getRole") && get_role == f.received.size()) get_role = i;
    if (commandsNamed({f.received[i]}, "listClients") && list == f.received.size()) list = i;
  }
  CHECK(get_role < list);
  CHECK(list < f.received.size());
  CHECK(commandsNamed(f.received, "listRoles") == 1);
}
