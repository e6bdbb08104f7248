// RegistryOps (anchor/registry_ops.h) through the anchor: registry.list names hosts and
// usernames per target and never a password; registry.remove takes the credentials out of
// every target node's sealed secrets, in the store too (a restart keeps them removed), and
// is audited without the password; bad requests name their field.
#include <doctest/doctest.h>

#include "anchor_fixture.h"

namespace pharos::anchor {
namespace {

using testing::AnchorFixture;

Json setBody(const std::string& host, const std::string& user, const std::string& password,
             Json target) {
  return {{"host", host}, {"username", user}, {"password", password}, {"target", target}};
}

std::vector<std::string> hostsIn(const std::optional<Json>& secrets) {
  std::vector<std::string> out;
  REQUIRE(secrets);
  for (const auto& r : (*secrets)["registries"]) out.push_back(r["host"]);
  return out;
}

TEST_CASE("registry.list names hosts and usernames per target, never a password") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("registry.set", setBody("reg.b:5000", "bob", "pw-b-secret", {{"node", "n1"}}));
  f.ok("registry.set", setBody("reg.a:5000", "alice", "pw-a-secret", {{"node", "n1"}}));
  f.ok("registry.set", setBody("reg.g", "gina", "pw-g-secret", {{"group", "g"}}));

  Json viewed = f.request("registry.list", Json::object(), "viewer");  // a read operation
  REQUIRE(viewed["ok"] == true);
  Json all = viewed["result"];
  CHECK(all.dump().find("pw-") == std::string::npos);
  CHECK(all.dump().find("password") == std::string::npos);
  REQUIRE(all["registries"].size() == 3);
  CHECK(all["registries"][0] ==
        Json{{"target", {{"group", "g"}}}, {"host", "reg.g"}, {"username", "gina"}});
  Json n1 = f.ok("registry.list", {{"target", {{"node", "n1"}}}});
  REQUIRE(n1["registries"].size() == 2);
  CHECK(n1["registries"][0]["host"] == "reg.a:5000");  // by host
  CHECK(n1["registries"][0]["username"] == "alice");
  CHECK(n1["registries"][1]["host"] == "reg.b:5000");
  CHECK(f.ok("registry.list", {{"target", {{"group", "g"}}}})["registries"].size() == 1);
  CHECK(f.errorCode("registry.list", {{"target", {{"node", "ghost"}}}}) == "not_found");
  CHECK(f.errorCode("registry.list", {{"target", "n1"}}) == "invalid_argument");
}

TEST_CASE("registry.remove takes the credentials out of the node's secrets and the store") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("registry.set", setBody("reg.a:5000", "alice", "pw-a", {{"node", "n1"}}));
  f.ok("registry.set", setBody("reg.b:5000", "bob", "pw-b", {{"node", "n1"}}));
  CHECK(hostsIn(f.secretsOf("n1")) == std::vector<std::string>{"reg.a:5000", "reg.b:5000"});

  Json removed = f.ok("registry.remove", {{"host", "reg.a:5000"}, {"target", {{"node", "n1"}}}});
  CHECK(removed["host"] == "reg.a:5000");
  // The node's next secrets document holds the other credentials only.
  CHECK(hostsIn(f.secretsOf("n1")) == std::vector<std::string>{"reg.b:5000"});
  CHECK(f.ok("registry.list", Json::object())["registries"].size() == 1);
  // Audited with the host and target, never a password.
  Json audit = f.ok("events.query", {{"kind", "registry.remove"}})["events"];
  REQUIRE(audit.size() == 1);
  CHECK(audit[0]["user"] == "ops");
  CHECK(audit[0]["message"] == "reg.a:5000 on node n1");
  CHECK(audit.dump().find("pw-") == std::string::npos);
  // Gone from the store too: a restarted anchor does not bring it back.
  f.stopAnchor();
  f.startAnchor();
  CHECK(hostsIn(f.secretsOf("n1")) == std::vector<std::string>{"reg.b:5000"});
  f.ok("registry.remove", {{"host", "reg.b:5000"}, {"target", {{"node", "n1"}}}});
  CHECK(hostsIn(f.secretsOf("n1")).empty());
  CHECK(f.ok("registry.list", Json::object())["registries"].empty());
}

TEST_CASE("registry.remove on a group reaches every member and leaves node credentials") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.nodeOnline("n2", 1000);
  f.ok("group.create", {{"name", "g"}});
  f.ok("group.add", {{"group", "g"}, {"nodes", {"n1", "n2"}}});
  f.ok("registry.set", setBody("reg.g", "gina", "pw-g", {{"group", "g"}}));
  f.ok("registry.set", setBody("reg.n", "nora", "pw-n", {{"node", "n1"}}));
  CHECK(hostsIn(f.secretsOf("n2")) == std::vector<std::string>{"reg.g"});
  f.ok("registry.remove", {{"host", "reg.g"}, {"target", {{"group", "g"}}}});
  CHECK(hostsIn(f.secretsOf("n1")) == std::vector<std::string>{"reg.n"});
  CHECK(hostsIn(f.secretsOf("n2")).empty());
}

TEST_CASE("registry.remove refuses what it cannot remove, naming the field") {
  AnchorFixture f;
  f.nodeOnline("n1", 1000);
  f.ok("registry.set", setBody("reg.a", "alice", "pw-a", {{"node", "n1"}}));
  Json r = f.request("registry.remove", {{"host", "reg.other"}, {"target", {{"node", "n1"}}}});
  CHECK(r["error"]["code"] == "not_found");
  CHECK(r["error"]["path"] == "host");
  r = f.request("registry.remove", {{"host", "reg.a"}, {"target", {{"node", "ghost"}}}});
  CHECK(r["error"]["code"] == "not_found");
  CHECK(r["error"]["path"] == "target.node");
  r = f.request("registry.remove", {{"host", "a b"}, {"target", {{"node", "n1"}}}});
  CHECK(r["error"]["code"] == "invalid_argument");
  CHECK(r["error"]["path"] == "host");
  CHECK(f.errorCode("registry.remove", {{"target", {{"node", "n1"}}}}) == "invalid_argument");
  // Viewers may list but not remove.
  CHECK(f.errorCode("registry.remove", {{"host", "reg.a"}, {"target", {{"node", "n1"}}}},
                    "viewer") == "permission_denied");
  CHECK(hostsIn(f.secretsOf("n1")) == std::vector<std::string>{"reg.a"});
}

}  // namespace
}  // namespace pharos::anchor
