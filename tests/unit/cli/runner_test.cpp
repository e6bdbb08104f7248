// Whole pharosctl command lines against FakeBroker with a scripted anchor: the request on
// the wire (topic, MQTT 5 response topic, correlation data), outputs, and the exit codes
// scripts rely on (0, 2, 3, 4, 5, 6, 1).
#include "cli/runner.h"

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <sstream>

#include "cli/exit_codes.h"
#include "pharos/fake_broker.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

using pharos::FakeBroker;
using pharos::Json;
using pharos::MqttMessage;
using pharos::MqttOptions;
using pharos::Result;
using pharos::Status;
using namespace pharos::cli;

namespace {

constexpr int64_t kNow = 1'764'000'000'000;

// A scripted anchor: answers api/+/+ with handler(user, operation, body).
struct FakeAnchor {
  using Handler = std::function<Json(const std::string& op, const Json& body)>;
  FakeBroker& broker;
  std::unique_ptr<pharos::MqttLink> link;
  Handler handler;
  std::vector<MqttMessage> requests;

  FakeAnchor(FakeBroker& b, Handler h) : broker(b), handler(std::move(h)) {
    link = pharos::makeFakeLink(broker, "anchor");
    link->onMessage([this](const MqttMessage& m) {
      requests.push_back(m);
      auto parsed = pharos::topics::parse(m.topic);
      Json body = pharos::parseJson(m.payload).value();
      MqttMessage reply;
      reply.topic = m.response_topic;
      reply.correlation_data = m.correlation_data;
      reply.payload = pharos::dumpJson(handler(parsed->name, body));
      (void)link->publish(reply);
    });
    REQUIRE(link->connect().isOk());
    REQUIRE(link->subscribe(pharos::topics::allApiRequests()).isOk());
  }
};

struct Harness {
  FakeBroker broker{FakeBroker::Delivery::kSynchronous};
  std::map<std::string, std::string> env = {{"PHAROS_USER", "ops"}, {"PHAROS_PASSWORD", "pw"}};
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> written;
  std::ostringstream out, err;
  std::optional<Status> refuse;
  std::function<bool()> interrupted;
  std::vector<MqttOptions> links;

  RunEnv runEnv() {
    RunEnv e;
    e.getenv = [this](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    e.read_file = [this](const std::string& path) -> Result<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return Status::notFound("No such file or directory");
      return it->second;
    };
    e.read_stdin = []() -> Result<std::string> { return std::string(); };
    e.write_private_file = [this](const std::string& path, const std::string& text) {
      written[path] = text;
      return Status::ok();
    };
    e.make_link = [this](MqttOptions o) {
      links.push_back(o);
      if (refuse) broker.refuseConnect(o.client_id, *refuse);
      return pharos::makeFakeLink(broker, o);
    };
    e.now_ms = [] { return kNow; };
    e.interrupted = [this] { return interrupted ? interrupted() : false; };
    e.out = &out;
    e.err = &err;
    return e;
  }

  int run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    return runPharosctl(args, runEnv());
  }
};

Json ok(const Json& result) { return pharos::okResponse(result); }

}  // namespace

TEST_CASE("a request goes to api/{user}/{op} with an MQTT 5 response topic and correlation") {
  Harness h;
  FakeAnchor anchor(h.broker, [](const std::string& op, const Json&) {
    CHECK(op == "group.create");
    return ok(Json{{"name", "line1"}});
  });
  CHECK(h.run({"group", "create", "line1"}) == 0);
  CHECK(h.out.str() == "ok: group line1 created\n");
  REQUIRE(anchor.requests.size() == 1);
  const auto& req = anchor.requests[0];
  CHECK(req.topic == "pharos/v1/api/ops/group.create");
  CHECK(req.response_topic.rfind("pharos/v1/replies/ops/pharosctl-", 0) == 0);
  CHECK(req.correlation_data.size() == 16);
  CHECK(pharos::parseJson(req.payload).value() == Json{{"v", 1}, {"name", "line1"}});
  REQUIRE(h.links.size() == 1);
  CHECK(h.links[0].username == "ops");
  CHECK(h.links[0].password == "pw");
  CHECK_FALSE(h.links[0].auto_reconnect);
}

TEST_CASE("-o json prints the raw result; tables otherwise") {
  Harness h;
  Json nodes = {{"nodes", {{{"name", "n1"}, {"health", {{"state", "Ready"}}}}}}};
  FakeAnchor anchor(h.broker, [&](const std::string&, const Json&) { return ok(nodes); });
  CHECK(h.run({"nodes", "ls", "-o", "json"}) == 0);
  CHECK(pharos::parseJson(h.out.str()).value() == nodes);
  CHECK(h.run({"nodes", "ls"}) == 0);
  CHECK(h.out.str().rfind("NAME   HEALTH", 0) == 0);
}

TEST_CASE("list commands follow the cursor and merge the pages") {
  Harness h;
  FakeAnchor anchor(h.broker, [](const std::string&, const Json& body) {
    if (!body.contains("cursor")) {
      return ok(Json{{"apps", {{{"name", "a"}}}}, {"next", "p2"}});
    }
    CHECK(body["cursor"] == "p2");
    return ok(Json{{"apps", {{{"name", "b"}}}}});
  });
  CHECK(h.run({"apps", "ls", "-o", "json"}) == 0);
  Json merged = pharos::parseJson(h.out.str()).value();
  CHECK(merged["apps"].size() == 2);
  CHECK_FALSE(merged.contains("next"));
}

TEST_CASE("exit codes: not found 3, other errors 1, usage 2") {
  Harness h;
  FakeAnchor anchor(h.broker, [](const std::string& op, const Json&) {
    if (op == "app.get") return pharos::errorResponse(Status::notFound("app 'web' not found"));
    return pharos::errorResponse(Status::conflict("group 'line1' holds apps"));
  });
  CHECK(h.run({"app", "get", "web"}) == 3);
  CHECK(h.err.str() == "error: app 'web' not found (not_found)\n");
  CHECK(h.run({"group", "rm", "line1"}) == 1);
  CHECK(h.run({"group", "rm"}) == 2);
  CHECK(anchor.requests.size() == 2);  // the usage error sent nothing
}

TEST_CASE("compose errors show file:line:column") {
  Harness h;
  h.files["app.yml"] = "services:\n  web:\n    image: 3\n";
  FakeAnchor anchor(h.broker, [](const std::string&, const Json&) {
    Status e = Status::invalidArgument("services.web.image: must be a string");
    e.withPosition(3, 12);
    return pharos::errorResponse(e);
  });
  CHECK(h.run({"deploy", "-f", "app.yml", "--node", "n1", "--name", "web"}) == 1);
  CHECK(h.err.str() ==
        "error: app.yml:3:12: services.web.image: must be a string (invalid_argument)\n");
}

TEST_CASE("exit code 5 when the broker is down or the anchor does not answer") {
  Harness h;
  h.broker.setUp(false);
  CHECK(h.run({"nodes", "ls"}) == 5);
  CHECK(h.err.str().find("cannot reach the broker at tcp://127.0.0.1:1883") != std::string::npos);
  h.broker.setUp(true);
  CHECK(h.run({"--request-timeout", "100ms", "nodes", "ls"}) == 5);
  CHECK(h.err.str().find("the anchor did not answer within 0.1 s (is pharos-anchor running?)") !=
        std::string::npos);
}

TEST_CASE("exit code 6 when the broker refuses the login") {
  Harness h;
  h.refuse = Status::permissionDenied("bad user name or password");
  CHECK(h.run({"nodes", "ls"}) == 6);
  CHECK(h.err.str().find("refused the login of user 'ops'") != std::string::npos);
}

TEST_CASE("settings: a missing user is a usage error, a config file supplies one") {
  Harness h;
  h.env.clear();
  CHECK(h.run({"nodes", "ls"}) == 2);
  CHECK(h.err.str().find("no user name") != std::string::npos);
  h.env["HOME"] = "/home/op";
  h.files["/home/op/.config/pharos/pharosctl.conf"] =
      "user = file-user\npassword = file-pw\nbroker = tcp://127.0.0.1:1883\n";
  FakeAnchor anchor(h.broker, [](const std::string&, const Json&) { return ok(Json::object()); });
  CHECK(h.run({"--user", "flag-user", "groups", "ls"}) == 0);
  CHECK(h.links.back().username == "flag-user");
  CHECK(h.links.back().password == "file-pw");
  CHECK(anchor.requests.back().topic == "pharos/v1/api/flag-user/group.list");
  CHECK(h.run({"--config", "/missing.conf", "groups", "ls"}) == 2);
}

TEST_CASE("deploy --wait follows the retained rollout summary until it is running") {
  Harness h;
  h.files["app.yml"] = "services:\n  web:\n    image: x\n";
  FakeAnchor anchor(h.broker, [&](const std::string&, const Json&) {
    pharos::RolloutSummary s;
    s.app = "web";
    s.target_kind = "node";
    s.target = "n1";
    s.revision = 2;
    s.total = 1;
    s.running = 1;
    s.nodes = {{"n1", "running", ""}};
    MqttMessage m;
    m.topic = pharos::topics::appRollout("web");
    m.payload = pharos::dumpJson(pharos::encode(s));
    m.retained = true;
    h.broker.publish(m);
    return ok(Json{{"name", "web"}, {"revision", 2}});
  });
  CHECK(h.run({"deploy", "-f", "app.yml", "--node", "n1", "--name", "web", "--wait"}) == 0);
  CHECK(h.out.str().find("rolled out: app web revision 2 is running on 1 of 1 targets") !=
        std::string::npos);
}

TEST_CASE("deploy --wait exits 4 when a target fails, with the node's message") {
  Harness h;
  h.files["app.yml"] = "services:\n  web:\n    image: x\n";
  FakeAnchor anchor(h.broker, [&](const std::string&, const Json&) {
    pharos::RolloutSummary s;
    s.app = "web";
    s.target_kind = "group";
    s.target = "g";
    s.revision = 1;
    s.total = 2;
    s.running = 1;
    s.failed = 1;
    s.nodes = {{"n1", "running", ""}, {"n2", "failed", "pull access denied for x"}};
    MqttMessage m;
    m.topic = pharos::topics::appRollout("web");
    m.payload = pharos::dumpJson(pharos::encode(s));
    m.retained = true;
    h.broker.publish(m);
    return ok(Json{{"name", "web"}, {"revision", 1}});
  });
  CHECK(h.run({"deploy", "-f", "app.yml", "--group", "g", "--name", "web", "--wait"}) == 4);
  CHECK(h.out.str().find("n2: pull access denied for x") != std::string::npos);
}

TEST_CASE("deploy --wait exits 4 at its timeout") {
  Harness h;
  h.files["app.yml"] = "services:\n  web:\n    image: x\n";
  FakeAnchor anchor(h.broker, [](const std::string&, const Json&) {
    return ok(Json{{"name", "web"}, {"revision", 7}});
  });
  CHECK(h.run({"deploy", "-f", "app.yml", "--node", "n1", "--name", "web", "--wait", "--timeout",
               "300ms"}) == 4);
  CHECK(h.out.str().find("timeout: app web revision 7 not rolled out after 0.3 s") !=
        std::string::npos);
}

TEST_CASE("node add -o FILE writes the agent configuration") {
  Harness h;
  FakeAnchor anchor(h.broker, [](const std::string&, const Json&) {
    return ok(Json{{"name", "n7"}, {"config", "node_id = n7\npassword = x\n"}});
  });
  CHECK(h.run({"node", "add", "n7", "-o", "/tmp/n7.conf"}) == 0);
  CHECK(h.written["/tmp/n7.conf"] == "node_id = n7\npassword = x\n");
}

TEST_CASE("exit code mapping") {
  CHECK(exitCodeFor(Status::notFound("x")) == ExitCode::kNotFound);
  CHECK(exitCodeFor(Status::unavailable("x")) == ExitCode::kUnreachable);
  CHECK(exitCodeFor(Status::permissionDenied("x")) == ExitCode::kDenied);
  CHECK(exitCodeFor(Status::invalidArgument("x")) == ExitCode::kError);
  CHECK(exitCodeFor(Status::conflict("x")) == ExitCode::kError);
  CHECK(exitCodeFor(Status::internal("x")) == ExitCode::kError);
  CHECK(exitCodeFor(Status::ok()) == ExitCode::kError);
  CHECK(std::string(exitCodeHelp()).find("6  login refused") != std::string::npos);
}

TEST_CASE("nodes ls --watch prints the list, then only real health changes") {
  Harness h;
  auto health = [&](const std::string& node, pharos::Readiness state, int64_t since) {
    pharos::NodeHealth hl;
    hl.state = state;
    hl.since = since;
    hl.reason = state == pharos::Readiness::kReady ? "connected" : "connection lost";
    MqttMessage m;
    m.topic = pharos::topics::node(node, pharos::topics::NodeTopic::kHealth);
    m.payload = pharos::dumpJson(pharos::encode(hl));
    m.retained = true;
    h.broker.publish(m);
  };
  health("n1", pharos::Readiness::kReady, kNow - 5000);
  FakeAnchor anchor(h.broker, [](const std::string& op, const Json&) {
    CHECK(op == "node.list");
    return ok(Json{{"nodes", {{{"name", "n1"}, {"health", "Ready"}, {"since", kNow - 5000}}}}});
  });
  int polls = 0;
  h.interrupted = [&] {
    ++polls;
    if (polls == 2) health("n1", pharos::Readiness::kNotReady, kNow + 1000);
    if (polls == 3) health("n2", pharos::Readiness::kReady, kNow + 2000);
    return polls > 6;
  };
  CHECK(h.run({"nodes", "ls", "--watch"}) == 0);
  std::string out = h.out.str();
  CHECK(out.rfind("NAME   HEALTH", 0) == 0);
  CHECK(out.find("watching health changes") != std::string::npos);
  CHECK(out.find("16:00:01  n1  NotReady  connection lost\n") != std::string::npos);
  CHECK(out.find("16:00:02  n2  Ready  connected\n") != std::string::npos);
  // The retained Ready of n1 that matches the list is not printed again.
  CHECK(out.find("n1  Ready") == std::string::npos);
}

TEST_CASE("events --follow prints the query, then live agent events that match") {
  Harness h;
  FakeAnchor anchor(h.broker, [](const std::string&, const Json&) {
    return ok(Json{
        {"events", {{{"ts", kNow}, {"node", "n1"}, {"kind", "app_applied"}, {"app", "web"}}}}});
  });
  int polls = 0;
  h.interrupted = [&] {
    ++polls;
    if (polls == 2) {
      for (const char* app : {"web", "other"}) {
        pharos::NodeEvent e;
        e.kind = "container_died";
        e.app = app;
        e.service = "api";
        e.message = "exit 137";
        e.ts = kNow + 1000;
        MqttMessage m;
        m.topic = pharos::topics::node("n2", pharos::topics::NodeTopic::kEvents);
        m.payload = pharos::dumpJson(pharos::encode(e));
        h.broker.publish(m);
      }
    }
    return polls > 5;
  };
  CHECK(h.run({"events", "--app", "web", "--follow"}) == 0);
  CHECK(h.out.str() ==
        "2025-11-24T16:00:00Z  n1  app_applied  web\n"
        "2025-11-24T16:00:01Z  n2  container_died  web/api  exit 137\n");
}
