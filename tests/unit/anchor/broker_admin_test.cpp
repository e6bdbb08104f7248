// The Mosquitto dynamic-security BrokerAdmin against the FakeBroker: the commands it
// sends (one role + client per device, ACLs matching tools/dynsec.py), answers matched by
// correlation data, errors and timeouts, batched group memberships, user lookups.
#include "anchor/broker_admin.h"

#include <doctest/doctest.h>

#include "anchor/group_rights.h"
#include "pharos/agent_settings.h"
#include "pharos/fake_broker.h"
#include "pharos/json.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

struct AdminFixture {
  ManualClock clock;
  ManualExecutor executor{clock};
  FakeBroker broker;
  std::unique_ptr<MqttLink> link = makeFakeLink(broker, "pharos-anchor");
  std::unique_ptr<MqttLink> plugin = makeFakeLink(broker, "dynsec-plugin");
  std::shared_ptr<Strand> strand = Strand::create(executor);
  std::unique_ptr<BrokerAdmin> admin;
  std::vector<Json> received;                 // command messages seen by the "plugin"
  std::map<std::string, std::string> errors;  // command -> error to answer
  // getClient's answers: username -> {roles, groups}; others are "Client not found".
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> clients{
      {"viewer", {{"viewer-viewer"}, {"viewers"}}}};
  std::vector<std::string> listed;  // the node clients listClients answers (no groups, no roles)

  AdminFixture() {
    REQUIRE(link->connect().isOk());
    REQUIRE(plugin->connect().isOk());
    MosquittoAdminOptions options;
    options.agent_broker_url = "tcp://10.0.0.1:1883";
    admin = makeMosquittoBrokerAdmin(*link, *strand, clock, options);
    link->onMessage(
        [this](const MqttMessage& m) { strand->post([this, m] { admin->onMessage(m); }); });
    for (const auto& f : admin->subscriptions()) REQUIRE(link->subscribe(f).isOk());
    plugin->onMessage([this](const MqttMessage& m) { answer(m); });
    REQUIRE(plugin->subscribe(kDynsecTopic).isOk());
  }

  // Plays the dynamic-security plugin: answers every command, with configured errors.
  void answer(const MqttMessage& m) {
    auto json = parseJson(m.payload);
    REQUIRE(json.isOk());
    received.push_back(*json);
    Json responses = Json::array();
    for (const auto& c : (*json)["commands"]) {
      Json r{{"command", c["command"]}, {"correlationData", c["correlationData"]}};
      if (errors.count(c["command"])) r["error"] = errors[c["command"]];
      if (c["command"] == "listClients" && c.value("offset", 0) == 0) {
        Json list = Json::array();
        for (const auto& name : listed) list.push_back(Json{{"username", name}});
        r["data"] = Json{{"clients", list}};
      }
      if (c["command"] == "getClient" && !errors.count("getClient")) {
        std::string user = c["username"];
        auto known = clients.find(user);
        if (known == clients.end()) {
          r["error"] = "Client not found";
        } else {
          Json client = Json::object();
          client["username"] = user;
          client["roles"] = Json::array();
          client["groups"] = Json::array();
          for (const auto& role : known->second.first) {
            client["roles"].push_back(Json{{"rolename", role}});
          }
          for (const auto& group : known->second.second) {
            client["groups"].push_back(Json{{"groupname", group}});
          }
          Json data = Json::object();
          data["client"] = client;
          r["data"] = data;
        }
      }
      responses.push_back(r);
    }
    MqttMessage out;
    out.topic = kDynsecResponseTopic;
    out.payload = dumpJson(Json{{"responses", responses}});
    REQUIRE(plugin->publish(out).isOk());
  }

  void pump() {
    for (int i = 0; i < 100; ++i) {
      if (broker.deliverAll() + static_cast<size_t>(executor.runUntilIdle()) == 0) return;
    }
  }
};

}  // namespace

TEST_CASE("createNode sends a role and a client and returns the agent config") {
  AdminFixture f;
  std::optional<Result<AgentCredentials>> got;
  f.strand->post([&] {
    f.admin->createNode("edge1", {"line1"}, [&](Result<AgentCredentials> r) { got = r; });
  });
  f.pump();
  REQUIRE(got);
  REQUIRE(got->isOk());
  CHECK((*got)->username == "edge1");
  CHECK((*got)->password.size() == 32);
  CHECK((*got)->config_text.find("broker_url = tcp://10.0.0.1:1883") != std::string::npos);
  REQUIRE(f.received.size() == 2);  // getClient (who holds the name), then the identity
  CHECK(f.received[0]["commands"][0]["command"] == "getClient");
  const Json& commands = f.received[1]["commands"];
  std::vector<std::string> names;
  for (const auto& c : commands) names.push_back(c["command"]);
  // The broker group of its group first (a client cannot join a missing group), then the
  // identity, a member of group-line1.
  CHECK(names == std::vector<std::string>{"createRole", "createGroup", "deleteRole", "createRole",
                                          "createClient"});
  CHECK(commands[0]["rolename"] == "group-line1");
  CHECK(commands[1]["groupname"] == "group-line1");
  CHECK(commands[4]["clientid"] == "edge1");
  CHECK(commands[4]["roles"][0]["rolename"] == "agent-edge1");
  CHECK(commands[4]["groups"] == Json::array({Json{{"groupname", "group-line1"}}}));
  std::set<std::string> topics;
  for (const auto& a : commands[3]["acls"])
    topics.insert(a["topic"].get<std::string>() + " " + a["acltype"].get<std::string>());
  CHECK(topics.count("pharos/v1/nodes/edge1/status publishClientSend"));
  CHECK(topics.count("pharos/v1/nodes/edge1/secrets subscribeLiteral"));
  CHECK_FALSE(topics.count("pharos/v1/groups/line1/desired subscribeLiteral"));  // the group's
  CHECK_FALSE(topics.count("pharos/v1/nodes/edge1/desired publishClientSend"));
  // Jailed in its own subtree: no right to publish anywhere else.
  for (const auto& a : commands[3]["acls"]) {
    if (a["acltype"] != "publishClientSend") continue;
    CHECK(a["topic"].get<std::string>().rfind("pharos/v1/nodes/edge1/", 0) == 0);
  }
}

TEST_CASE("createNode replaces an older identity of the same node") {
  AdminFixture f;
  f.clients["edge1"] = {{"agent-edge1"}, {"agents"}};
  std::optional<Result<AgentCredentials>> got;
  f.strand->post([&] { f.admin->createNode("edge1", {}, [&](auto r) { got = r; }); });
  f.pump();
  REQUIRE(got);
  REQUIRE(got->isOk());
  REQUIRE(f.received.size() == 2);
  CHECK(f.received[1]["commands"][0]["command"] == "deleteClient");
}

TEST_CASE("createNode never replaces another kind of account") {
  struct Case {
    std::string name;
    std::vector<std::string> roles, groups;
    const char* kind;
  };
  const std::vector<Case> cases = {
      {"anchor", {}, {}, "system"},  // reserved even where the broker does not list it
      {"admin", {"admin"}, {}, "system"},
      {"bridge-l1", {"bridge-l1"}, {}, "bridge"},
      {"ops", {"operator-ops"}, {"operators"}, "operator"},
      {"viewer", {"viewer-viewer"}, {"viewers"}, "viewer"},
      {"sparkplug", {"sparkplug"}, {}, "unknown"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    AdminFixture f;
    if (!c.roles.empty() || !c.groups.empty()) f.clients[c.name] = {c.roles, c.groups};
    std::optional<Result<AgentCredentials>> got;
    f.strand->post([&] { f.admin->createNode(c.name, {}, [&](auto r) { got = r; }); });
    f.pump();
    REQUIRE(got);
    CHECK(got->status().code() == Code::kAlreadyExists);
    CHECK(got->status().message().find(std::string("kind ") + c.kind) != std::string::npos);
    CHECK(got->status().path() == "name");
    for (const auto& m : f.received) {
      for (const auto& cmd : m["commands"]) CHECK(cmd["command"] == "getClient");
    }
    std::optional<Status> deleted;
    f.strand->post([&] { f.admin->deleteNode(c.name, [&](Status s) { deleted = s; }); });
    f.pump();
    REQUIRE(deleted);
    CHECK(deleted->code() == Code::kConflict);
    for (const auto& m : f.received) {
      for (const auto& cmd : m["commands"]) CHECK(cmd["command"] == "getClient");
    }
  }
}

TEST_CASE("a refused createClient is an error; deleteClient of an unknown client is not") {
  AdminFixture f;
  f.errors["createClient"] = "Client already exists";
  f.errors["deleteClient"] = "Client not found";
  std::optional<Result<AgentCredentials>> got;
  f.strand->post([&] { f.admin->createNode("edge1", {}, [&](auto r) { got = r; }); });
  f.pump();
  REQUIRE(got);
  CHECK((*got).status().code() == Code::kUnavailable);
  CHECK((*got).status().message().find("Client already exists") != std::string::npos);
  std::optional<Status> deleted;
  f.errors.erase("createClient");
  f.strand->post([&] { f.admin->deleteNode("edge1", [&](Status s) { deleted = s; }); });
  f.pump();
  REQUIRE(deleted);
  CHECK(deleted->isOk());
}

TEST_CASE("an unanswered command times out as unavailable") {
  AdminFixture f;
  REQUIRE(f.plugin->unsubscribe(kDynsecTopic).isOk());
  std::optional<Status> deleted;
  f.strand->post([&] { f.admin->deleteNode("edge1", [&](Status s) { deleted = s; }); });
  f.pump();
  CHECK_FALSE(deleted);
  f.executor.advance(std::chrono::milliseconds(10'500));
  f.pump();
  REQUIRE(deleted);
  CHECK(deleted->code() == Code::kUnavailable);
}

namespace {
std::map<std::string, size_t> commandCounts(const std::vector<Json>& messages) {
  std::map<std::string, size_t> out;
  for (const auto& m : messages) {
    for (const auto& c : m["commands"]) ++out[c["command"].get<std::string>()];
  }
  return out;
}
}  // namespace

TEST_CASE("group membership changes are coalesced into one command message") {
  AdminFixture f;
  f.strand->post([&] {
    for (int i = 0; i < 10; ++i) {
      f.admin->updateNodeGroups("n" + std::to_string(i), {"line1"}, {"old"});
    }
  });
  f.pump();
  CHECK(f.received.empty());
  f.executor.advance(std::chrono::milliseconds(150));
  f.pump();
  REQUIRE(f.received.size() == 1);
  auto counts = commandCounts(f.received);
  CHECK(counts["createGroup"] == 2);  // line1 and old, once each in this process
  CHECK(counts["addGroupClient"] == 10);
  CHECK(counts["removeGroupClient"] == 10);
  CHECK(counts["addRoleACL"] == 0);
  for (const auto& c : f.received[0]["commands"]) {
    if (c["command"] == "addGroupClient") CHECK(c["groupname"] == "group-line1");
  }
}

TEST_CASE("bulk membership changes go out in paced steps, each joining set in its own group") {
  AdminFixture f;
  std::optional<Result<IdentityReport>> reconciled;
  IdentityPlan plan;
  plan.local_nodes["other"] = {"yard"};
  // The reconciliation tells the admin what the broker holds (the fake lists nothing).
  f.strand->post([&] {
    f.admin->reconcileIdentities([plan] { return plan; },
                                 [&](Result<IdentityReport> r) { reconciled = r; });
  });
  f.pump();
  REQUIRE(reconciled);
  f.received.clear();
  auto join = [&](const std::string& prefix) {
    f.strand->post([&f, prefix] {
      for (size_t i = 0; i < kBulkMembershipChanges + 1; ++i) {
        f.admin->updateNodeGroups(prefix + std::to_string(i), {"line1"}, {});
      }
      f.admin->flushNodeGroups();
    });
    f.pump();
  };
  join("a");
  auto counts = commandCounts(f.received);
  CHECK(counts["modifyGroup"] == 1);
  CHECK(counts["addGroupClient"] == 0);
  for (const auto& m : f.received) {
    for (const auto& c : m["commands"]) {
      if (c["command"] != "modifyGroup") continue;
      CHECK(c["groupname"] == "group-line1");
      CHECK(c["clients"].size() == kBulkMembershipChanges + 1);
    }
  }
  // The next bulk change waits for the step gap after the answer, then gets a shard of its own
  // (the broker disconnects only the nodes it lists).
  f.received.clear();
  join("b");
  CHECK(f.received.empty());
  f.executor.advance(MembershipPacing{}.step_gap + std::chrono::milliseconds(10));
  f.pump();
  REQUIRE(f.received.size() == 1);
  counts = commandCounts(f.received);
  CHECK(counts["createGroup"] == 1);
  CHECK(counts["modifyGroup"] == 1);
  for (const auto& c : f.received[0]["commands"]) {
    if (c["command"] == "modifyGroup") {
      CHECK(c["groupname"] == "group-line1~1");
      CHECK(c["clients"].size() == kBulkMembershipChanges + 1);
    }
  }
  // A few changes after it are member by member, at once.
  f.received.clear();
  f.strand->post([&] {
    f.admin->updateNodeGroups("a1", {}, {"line1"});
    f.admin->flushNodeGroups();
  });
  f.pump();
  counts = commandCounts(f.received);
  CHECK(counts["removeGroupClient"] == 1);
  CHECK(counts["modifyGroup"] == 0);
}

TEST_CASE("membership changes wait while the reconciliation reads the broker's lists") {
  AdminFixture f;
  f.listed = {"n1"};
  IdentityPlan plan;
  plan.local_nodes["n1"] = {"yard"};  // the registry already holds the change below
  std::optional<Result<IdentityReport>> reconciled;
  f.strand->post([&] {
    f.admin->reconcileIdentities([plan] { return plan; },
                                 [&](Result<IdentityReport> r) { reconciled = r; });
    f.admin->updateNodeGroups("n1", {"yard"}, {});
    f.admin->flushNodeGroups();
  });
  f.pump();
  REQUIRE(reconciled);
  // Sent before the lists were read, n1's membership would be missing from them and the
  // reconciliation would add it a second time.
  CHECK(commandCounts(f.received)["addGroupClient"] == 1);
  // After it, changes go out as before.
  f.received.clear();
  f.strand->post([&] {
    f.admin->updateNodeGroups("n1", {}, {"yard"});
    f.admin->flushNodeGroups();
  });
  f.pump();
  CHECK(commandCounts(f.received)["removeGroupClient"] == 1);
}

TEST_CASE("a membership batch lost on the way brings a reconciliation of the memberships") {
  AdminFixture f;
  f.listed = {"n1", "n2"};
  IdentityPlan plan;
  plan.local_nodes["n1"] = {"yard"};
  f.strand->post([&] {
    f.admin->reconcileIdentities([&plan] { return plan; }, [](Result<IdentityReport>) {});
  });
  f.pump();
  REQUIRE(commandCounts(f.received)["listGroups"] == 1);
  // The broker does not answer a change (away, or too slow): the admin cannot know what the
  // broker holds.
  REQUIRE(f.plugin->unsubscribe(kDynsecTopic).isOk());
  plan.local_nodes["n2"] = {"yard"};
  f.strand->post([&] {
    f.admin->updateNodeGroups("n2", {"yard"}, {});
    f.admin->flushNodeGroups();
  });
  f.pump();
  f.executor.advance(std::chrono::milliseconds(10'500));  // the batch times out
  f.pump();
  REQUIRE(f.plugin->subscribe(kDynsecTopic).isOk());
  f.received.clear();
  f.executor.advance(MosquittoAdminOptions{}.membership_repair_delay);
  f.pump();
  auto counts = commandCounts(f.received);
  CHECK(counts["listGroups"] == 1);      // read again
  CHECK(counts["addGroupClient"] == 2);  // both members placed (the fake lists none)
}

TEST_CASE("flushNodeGroups sends the queued membership changes at once, the timer nothing") {
  AdminFixture f;
  f.strand->post([&] {
    f.admin->updateNodeGroups("n1", {"line1"}, {});
    f.admin->flushNodeGroups();
  });
  f.pump();
  REQUIRE(f.received.size() == 1);
  CHECK(f.received[0]["commands"].size() == 3);  // the group made, then the membership
  f.executor.advance(std::chrono::milliseconds(150));
  f.pump();
  CHECK(f.received.size() == 1);
  f.strand->post([&] { f.admin->flushNodeGroups(); });  // nothing queued: nothing sent
  f.pump();
  CHECK(f.received.size() == 1);
}

TEST_CASE("lookupUser reports a viewer's groups and roles") {
  AdminFixture f;
  std::optional<Result<BrokerUser>> got;
  f.strand->post([&] { f.admin->lookupUser("viewer", [&](auto r) { got = r; }); });
  f.pump();
  REQUIRE(got);
  REQUIRE(got->isOk());
  CHECK((*got)->found);
  CHECK((*got)->isViewer());
  got.reset();
  f.strand->post([&] { f.admin->lookupUser("ghost", [&](auto r) { got = r; }); });
  f.pump();
  REQUIRE(got);
  REQUIRE(got->isOk());
  CHECK_FALSE((*got)->found);
  CHECK_FALSE((*got)->isViewer());
}

TEST_CASE("the agent config node.add writes is read back by the agent's own key table") {
  AgentCredentials creds;
  creds.node = "edge1";
  creds.username = "edge1";
  creds.password = "pw-123";
  creds.broker_url = "ssl://site:8883";
  creds.ca_file = "/etc/pharos/ca.crt";
  std::string text = agentConfigText(creds);
  AgentSettings read;
  ConfigTable table;
  addAgentKeys(table, &read);
  Status st = table.applyText(text, "node-add.conf");
  REQUIRE_MESSAGE(st.isOk(), st.toString());
  CHECK(table.deprecatedUsed().empty());  // written with the current spellings
  CHECK(read.node_id == "edge1");
  CHECK(read.connection.broker_url == "ssl://site:8883");
  CHECK(read.connection.username == "edge1");
  CHECK(read.connection.password == "pw-123");
  CHECK(read.connection.tls_ca == "/etc/pharos/ca.crt");
  CHECK(finishConnection(read.connection).isOk());
}
