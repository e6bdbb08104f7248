// pharosctl argument parsing: every command's request (operation + JSON body built with
// the api.h encoders), the modes, and the command lines that must fail with a usage error.
#include "cli/command_line.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "pharos/api.h"

using pharos::Json;
using pharos::Result;
using pharos::Status;
using namespace pharos::cli;

namespace {

constexpr int64_t kNow = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

ParseInputs inputs(std::map<std::string, std::string> files = {}, std::string stdin_text = "") {
  ParseInputs in;
  in.read_file = [files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return Status::notFound("No such file or directory");
    return it->second;
  };
  in.read_stdin = [stdin_text]() -> Result<std::string> { return stdin_text; };
  in.now_ms = kNow;
  return in;
}

Invocation parse(std::vector<std::string> args, const ParseInputs& in = inputs()) {
  auto r = parseCommandLine(args, in);
  if (!r.isOk()) FAIL_CHECK(r.status().message());
  REQUIRE(r.isOk());
  return *r;
}

Status parseError(std::vector<std::string> args, const ParseInputs& in = inputs()) {
  auto r = parseCommandLine(args, in);
  REQUIRE_FALSE(r.isOk());
  return r.status();
}

const char* kCompose = "services:\n  web:\n    image: hello-web:1\n";

}  // namespace

TEST_CASE("each command builds its operation and request body") {
  struct Row {
    std::vector<std::string> args;
    const char* operation;
    Json body;
  };
  const std::vector<Row> rows = {
      {{"nodes", "ls"}, "node.list", {{"v", 1}, {"limit", 100}}},
      {{"nodes"}, "node.list", {{"v", 1}, {"limit", 100}}},
      {{"nodes", "ls", "--label", "site=north", "--group", "line1", "--health", "NotReady"},
       "node.list",
       {{"v", 1},
        {"label", "site=north"},
        {"group", "line1"},
        {"health", "NotReady"},
        {"limit", 100}}},
      {{"node", "get", "press-01"}, "node.get", {{"v", 1}, {"name", "press-01"}}},
      {{"node", "add", "press-07", "--label", "line=1", "-l", "site=north"},
       "node.add",
       {{"v", 1}, {"name", "press-07"}, {"labels", {{"line", "1"}, {"site", "north"}}}}},
      {{"node", "rm", "press-07", "--purge"},
       "node.remove",
       {{"v", 1}, {"name", "press-07"}, {"purge", true}}},
      {{"node", "approve", "press-07"}, "node.approve", {{"v", 1}, {"name", "press-07"}}},
      {{"node", "label", "press-01", "site=north", "old-", "--rm", "line"},
       "node.label",
       {{"v", 1}, {"name", "press-01"}, {"set", {{"site", "north"}}}, {"remove", {"old", "line"}}}},
      {{"groups", "ls"}, "group.list", {{"v", 1}, {"limit", 100}}},
      {{"group", "create", "line1", "--parent", "site"},
       "group.create",
       {{"v", 1}, {"name", "line1"}, {"parent", "site"}}},
      {{"group", "rm", "line1", "--force"},
       "group.delete",
       {{"v", 1}, {"name", "line1"}, {"force", true}}},
      {{"group", "get", "line1"}, "group.get", {{"v", 1}, {"name", "line1"}}},
      {{"group", "get", "line1", "--depth", "2"},
       "group.get",
       {{"v", 1}, {"name", "line1"}, {"depth", 2}}},
      {{"group", "add", "line1", "n1", "n2", "--group", "sub"},
       "group.add",
       {{"v", 1}, {"group", "line1"}, {"nodes", {"n1", "n2"}}, {"groups", {"sub"}}}},
      {{"group", "remove", "line1", "n1"},
       "group.remove",
       {{"v", 1}, {"group", "line1"}, {"nodes", {"n1"}}}},
      {{"apps", "ls"}, "app.list", {{"v", 1}, {"limit", 100}}},
      {{"app", "get", "web"}, "app.get", {{"v", 1}, {"name", "web"}}},
      {{"app", "start", "web"}, "app.start", {{"v", 1}, {"name", "web"}}},
      {{"app", "stop", "web"}, "app.stop", {{"v", 1}, {"name", "web"}}},
      {{"app", "restart", "web"}, "app.restart", {{"v", 1}, {"name", "web"}}},
      {{"app", "history", "web"}, "app.history", {{"v", 1}, {"name", "web"}}},
      {{"app", "rm", "web", "--delete-volumes"},
       "app.remove",
       {{"v", 1}, {"name", "web"}, {"volumes", "delete"}}},
      {{"app", "rollback", "web", "--to", "3"},
       "app.rollback",
       {{"v", 1}, {"name", "web"}, {"revision", 3}}},
      {{"events", "--node", "n1", "--app", "web", "--kind", "container_died", "--limit", "5"},
       "events.query",
       {{"v", 1}, {"node", "n1"}, {"app", "web"}, {"kind", "container_died"}, {"limit", 5}}},
      {{"registry", "ls"}, "registry.list", {{"v", 1}}},
      {{"registry", "ls", "--group", "line1"},
       "registry.list",
       {{"v", 1}, {"target", {{"group", "line1"}}}}},
      {{"registry", "rm", "registry.local:5000", "--node", "n1"},
       "registry.remove",
       {{"v", 1}, {"host", "registry.local:5000"}, {"target", {{"node", "n1"}}}}},
      {{"events", "--since", "1764000000000", "--until", "2025-11-24T17:00:00Z"},
       "events.query",
       {{"v", 1}, {"since", 1764000000000}, {"until", 1764003600000}, {"limit", 100}}},
      {{"metrics", "n1", "--step", "60"},
       "metrics.query",
       {{"v", 1}, {"node", "n1"}, {"step", 60}}},
      {{"metrics", "n1", "--app", "web"},
       "metrics.query",
       {{"v", 1}, {"node", "n1"}, {"app", "web"}}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.args);
    Invocation inv = parse(row.args);
    CHECK(inv.mode == Mode::kRequest);
    CHECK(inv.operation == row.operation);
    // Compare on the fields the row names, plus no unexpected ones.
    for (auto it = row.body.begin(); it != row.body.end(); ++it) {
      CAPTURE(it.key());
      REQUIRE(inv.body.contains(it.key()));
      CHECK(inv.body[it.key()] == *it);
    }
    for (auto it = inv.body.begin(); it != inv.body.end(); ++it) {
      CAPTURE(it.key());
      bool empty = (it->is_string() && it->get<std::string>().empty()) ||
                   ((it->is_object() || it->is_array()) && it->empty()) ||
                   (it->is_boolean() && !it->get<bool>()) ||
                   (it->is_number() && it.key() != "limit" && it->get<int64_t>() == 0) ||
                   (it.key() == "volumes" && *it == "keep");
      CHECK((row.body.contains(it.key()) || empty));
    }
  }
}

TEST_CASE("deploy reads the compose file and builds the target, variables and secrets") {
  auto in = inputs({{"examples/hello/compose.yml", kCompose}});
  Invocation inv =
      parse({"deploy", "-f", "examples/hello/compose.yml", "--group", "line1", "--var", "TAG=1.4",
             "--var", "MODE=fast", "--secret", "DB_PASSWORD=s3cret", "--wait", "--timeout", "90s"},
            in);
  CHECK(inv.operation == "app.deploy");
  CHECK(inv.body["name"] == "hello");  // the directory name
  CHECK(inv.body["target"] == Json{{"group", "line1"}});
  CHECK(inv.body["compose"] == kCompose);
  CHECK(inv.body["variables"] == Json{{"MODE", "fast"}, {"TAG", "1.4"}});
  CHECK(inv.body["secrets"] == Json{{"DB_PASSWORD", "s3cret"}});
  CHECK(inv.wait);
  CHECK(inv.wait_timeout == std::chrono::seconds(90));
  CHECK(inv.source_name == "examples/hello/compose.yml");

  Invocation named =
      parse({"deploy", "-f", "-", "--node", "press-01", "--name", "web"}, inputs({}, kCompose));
  CHECK(named.body["name"] == "web");
  CHECK(named.body["target"] == Json{{"node", "press-01"}});
  CHECK_FALSE(named.wait);
  CHECK(named.wait_timeout == std::chrono::minutes(5));
}

TEST_CASE("deploy and rollback build a staged rollout's strategy from options and a file") {
  auto in = inputs({{"app.yml", kCompose},
                    {"strategy.json", R"({"waves": ["p1", "100%"], "gate": {"soak": 30}})"}});
  Invocation inv = parse({"deploy", "-f", "app.yml", "--group", "line1", "--waves",
                          "press-07,10%,100%", "--soak", "2", "--max-failed", "1", "--gate-timeout",
                          "15m", "--on-failure", "rollback", "--window", "Mon-Fri 22:00-06:00"},
                         in);
  CHECK(inv.body["strategy"] == Json{{"waves", {"press-07", "10%", "100%"}},
                                     {"gate", {{"soak", 2}, {"max_failed", 1}, {"timeout", "15m"}}},
                                     {"on_failure", "rollback"},
                                     {"window", "Mon-Fri 22:00-06:00"}});
  // The file gives the strategy; options override its fields.
  Invocation file = parse(
      {"app", "rollback", "web", "--to", "2", "--strategy", "strategy.json", "--soak", "90s"}, in);
  CHECK(file.operation == "app.rollback");
  CHECK(file.body["strategy"] == Json{{"waves", {"p1", "100%"}}, {"gate", {{"soak", "90s"}}}});
  CHECK_FALSE(parse({"deploy", "-f", "app.yml", "--group", "g"}, in).body.contains("strategy"));
  for (const auto& [verb, op] :
       std::vector<std::pair<std::string, std::string>>{{"pause", "rollout.pause"},
                                                        {"resume", "rollout.resume"},
                                                        {"promote", "rollout.promote"},
                                                        {"abort", "rollout.abort"}}) {
    Invocation r = parse({"rollout", verb, "web"});
    CHECK(r.operation == op);
    CHECK(r.body == Json{{"v", 1}, {"name", "web"}});
  }
  // A gate without waves, a bad on-failure, a strategy file that is not an object.
  CHECK(parseError({"deploy", "-f", "app.yml", "--group", "g", "--soak", "2"}, in)
            .message()
            .find("--waves") != std::string::npos);
  (void)parseError(
      {"deploy", "-f", "app.yml", "--group", "g", "--waves", "a", "--on-failure", "explode"}, in);
  (void)parseError({"deploy", "-f", "app.yml", "--group", "g", "--strategy", "app.yml"}, in);
  (void)parseError({"rollout", "pause"}, in);
}

TEST_CASE("the app name defaults to compose's name, then the directory") {
  CHECK(defaultAppName("name: Web.App\nservices: {}\n", "x/y.yml") == "webapp");
  CHECK(defaultAppName(kCompose, "/srv/apps/line-monitor/compose.yml") == "line-monitor");
  CHECK(defaultAppName(kCompose, "web.yml") == "web");
  CHECK(defaultAppName(kCompose, "compose.yml") == "");
  CHECK(defaultAppName(kCompose, "") == "");
}

TEST_CASE("registry set reads the password from stdin and never from the command line log") {
  Invocation inv = parse({"registry", "set", "registry.local:5000", "--user", "puller",
                          "--password-stdin", "--group", "line1"},
                         inputs({}, "pw with spaces\n"));
  CHECK(inv.operation == "registry.set");
  CHECK(inv.body["host"] == "registry.local:5000");
  CHECK(inv.body["username"] == "puller");
  CHECK(inv.body["password"] == "pw with spaces");
  CHECK(inv.body["target"] == Json{{"group", "line1"}});
}

TEST_CASE("logs and inspect are agent commands addressed to one node") {
  Invocation logs = parse({"logs", "press-01", "web", "nginx", "--tail", "50"});
  CHECK(logs.mode == Mode::kAgentCommand);
  CHECK(logs.operation == "logs");
  CHECK(logs.node == "press-01");
  CHECK(logs.body["app"] == "web");
  CHECK(logs.body["service"] == "nginx");
  CHECK(logs.body["tail"] == 50);
  Invocation inspect = parse({"inspect", "press-01", "web"});
  CHECK(inspect.mode == Mode::kAgentCommand);
  CHECK(inspect.operation == "inspect");
  CHECK(inspect.body["app"] == "web");
}

TEST_CASE("logs -f follows a log stream of the node's agent") {
  Invocation follow = parse({"logs", "-f", "-t", "press-01", "web", "nginx", "--tail", "5"});
  CHECK(follow.mode == Mode::kFollowLogs);
  CHECK(follow.operation == "logs");
  CHECK(follow.node == "press-01");
  CHECK(follow.follow_timestamps);
  CHECK(follow.body["follow"] == true);
  CHECK(follow.body["tail"] == 5);
  CHECK(follow.body["lease"] == 30);
}

TEST_CASE("watch, follow, output and connection flags") {
  Invocation watch = parse({"nodes", "ls", "--watch", "-o", "json"});
  CHECK(watch.mode == Mode::kWatchNodes);
  CHECK(watch.output == OutputFormat::kJson);
  CHECK(watch.paginate);

  Invocation follow = parse({"events", "--app", "web", "-f", "--since", "10m"});
  CHECK(follow.mode == Mode::kFollowEvents);
  CHECK(follow.follow_app == "web");
  CHECK(follow.body["since"] == kNow - 600'000);

  Invocation conn = parse({"--broker", "tcp://127.0.0.1:1999", "--user", "ops", "--password-file",
                           "/tmp/pw", "apps", "ls", "--no-color", "--config", "/tmp/c.conf"});
  CHECK(conn.connection.broker == std::optional<std::string>("tcp://127.0.0.1:1999"));
  CHECK(conn.connection.user == std::optional<std::string>("ops"));
  CHECK(conn.connection.password_file == std::optional<std::string>("/tmp/pw"));
  CHECK_FALSE(conn.connection.password.has_value());
  CHECK_FALSE(conn.connection.ca_file.has_value());
  CHECK(conn.config_path == std::optional<std::string>("/tmp/c.conf"));
  CHECK_FALSE(conn.color_allowed);

  Invocation paged = parse({"groups", "ls", "--limit", "10"});
  CHECK_FALSE(paged.paginate);
  CHECK(paged.body["limit"] == 10);
}

TEST_CASE("node add -o FILE writes the agent configuration, -o json prints JSON") {
  CHECK(parse({"node", "add", "n7", "-o", "n7.conf"}).agent_config_out == "n7.conf");
  Invocation json = parse({"node", "add", "n7", "-o", "json"});
  CHECK(json.agent_config_out.empty());
  CHECK(json.output == OutputFormat::kJson);
}

TEST_CASE("help and version print text and exit 0") {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"deploy", "--help"},
                                        {"node", "add", "--help"},
                                        {"--version"}}) {
    Invocation inv = parse(args);
    CHECK(inv.mode == Mode::kExit);
    CHECK(inv.exit_code == 0);
    CHECK_FALSE(inv.text.empty());
  }
  CHECK(parse({"--help"}).text.find("Exit codes:") != std::string::npos);
  CHECK(parse({"deploy", "--help"}).text.find("Examples:") != std::string::npos);
}

TEST_CASE("command lines that are usage errors") {
  auto in = inputs({{"app.yml", kCompose}});
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"node"},
      {"node", "get"},
      {"node", "get", "Bad!"},
      {"node", "get", "a", "b"},
      {"node", "label", "n1"},
      {"node", "label", "n1", "novalue"},
      {"node", "add", "n1", "--label", "=x"},
      {"nodes", "ls", "--health", "Sick"},
      {"nodes", "ls", "--limit", "0"},
      {"group", "add", "line1"},
      {"group", "create", "UPPER"},
      {"group", "get", "line1", "--depth", "0"},
      {"group", "get", "line1", "--depth", "17"},
      {"deploy", "-f", "app.yml"},
      {"deploy", "-f", "app.yml", "--node", "n1", "--group", "g1"},
      {"deploy", "-f", "missing.yml", "--node", "n1"},
      {"deploy", "-f", "app.yml", "--node", "n1", "--var", "1BAD=x"},
      {"deploy", "-f", "app.yml", "--node", "n1", "--name", "has.dot"},
      {"deploy", "-f", "app.yml", "--node", "n1", "--timeout", "soon"},
      {"app", "rollback", "web"},
      {"app", "rollback", "web", "--to", "0"},
      {"registry", "set", "host", "--group", "g1"},
      {"registry", "set", "host", "--user", "u", "--group", "g1"},
      {"registry", "rm", "host"},
      {"registry", "rm", "host", "--node", "n1", "--group", "g1"},
      {"registry", "ls", "--node", "n1", "--group", "g1"},
      {"events", "--since", "yesterday"},
      {"events", "--until", "tomorrow"},
      {"events", "--since", "10m", "--until", "1h"},
      {"events", "--until", "10m", "--follow"},
      {"logs", "n1", "web"},
      {"-o", "yaml", "apps", "ls"},
  };
  for (const auto& args : bad) {
    CAPTURE(args);
    Status s = parseError(args, in);
    CHECK(s.code() == pharos::Code::kInvalidArgument);
    CHECK_FALSE(s.message().empty());
  }
  CHECK(parseError({"deploy", "-f", "missing.yml", "--node", "n1"}, in)
            .message()
            .find("missing.yml") != std::string::npos);
  CHECK(parseError({"events", "--until", "tomorrow"}, in).message().rfind("--until:", 0) == 0);
}

TEST_CASE("--since accepts durations, Unix milliseconds and ISO times") {
  CHECK(*parseSince("10m", kNow) == kNow - 600'000);
  CHECK(*parseSince("2h", kNow) == kNow - 7'200'000);
  CHECK(*parseSince("1764000000000", kNow) == 1'764'000'000'000);
  CHECK(*parseSince("2025-11-24T16:00:00Z", kNow) == 1'764'000'000'000);
  CHECK(*parseSince("2025-11-24 16:00", kNow) == 1'764'000'000'000);
  CHECK_FALSE(parseSince("", kNow).isOk());
  CHECK_FALSE(parseSince("2025-13-01", kNow).isOk());
  CHECK_FALSE(parseSince("soon", kNow).isOk());
}

TEST_CASE("metrics asks for a node's history and prints one row per point") {
  Invocation inv = parse({"metrics", "press-01", "--since", "2h"});
  CHECK(inv.operation == "metrics.query");
  CHECK(inv.body["node"] == "press-01");
  CHECK(inv.body.contains("from"));
  CHECK_FALSE(inv.body.contains("step"));
  REQUIRE((inv.render != nullptr));
  Json result = {{"node", "press-01"},
                 {"tier", "fine"},
                 {"step", 15},
                 {"ts", {1'700'000'000'000, 1'700'000'015'000}},
                 {"cpu", {12.5, nullptr}},
                 {"cpu_max", {20.0, nullptr}},
                 {"mem_used", {1048576 * 300, nullptr}},
                 {"disk_used", {0, nullptr}},
                 {"load1", {0.5, nullptr}}};
  std::string out = inv.render(inv.body, result, Style{false, 0});
  CHECK(out.find("node press-01: 2 points, 15 s apart (fine tier)") == 0);
  CHECK(out.find("12.5") != std::string::npos);
  CHECK(out.find("300") != std::string::npos);
  // A gap (no sample in that step) prints as "-".
  CHECK(out.find("2023-11-14T22:13:35Z   -") != std::string::npos);
}
