// Rendering: aligned tables, colours only when asked, and each result renderer on a decoded
// result (missing fields print as "-").
#include "cli/render.h"

#include <doctest/doctest.h>

#include "cli/table.h"

using pharos::Json;
using pharos::Status;
using namespace pharos::cli;

namespace {
constexpr int64_t kNow = 1'764'000'000'000;
Style plain() { return Style{false, kNow}; }
}  // namespace

TEST_CASE("tables align columns and do not pad the last one") {
  std::string t =
      renderTable(plain(), {"NAME", "HEALTH"}, {{"a", "Ready"}, {"longer-name", "NotReady"}});
  CHECK(t ==
        "NAME          HEALTH\n"
        "a             Ready\n"
        "longer-name   NotReady\n");
}

TEST_CASE("table widths count characters, not bytes, and ignore colour codes") {
  Style color{true, kNow};
  std::string t = renderTable(color, {"A", "B"}, {{Cell("ü", Color::kRed), "x"}, {"ab", "y"}});
  CHECK(t.find("\x1b[31mü\x1b[0m    x\n") != std::string::npos);  // 1 char + 2 pad + 3 gap
  CHECK(t.find("ab   y\n") != std::string::npos);
}

TEST_CASE("colours only on a terminal without NO_COLOR or TERM=dumb") {
  CHECK(wantColor(true, nullptr, "xterm"));
  CHECK_FALSE(wantColor(false, nullptr, "xterm"));
  CHECK_FALSE(wantColor(true, "1", "xterm"));
  CHECK(wantColor(true, "", "xterm"));  // NO_COLOR must be non-empty to count
  CHECK_FALSE(wantColor(true, nullptr, "dumb"));
  CHECK(paint(plain(), Color::kRed, "x") == "x");
  CHECK(paint(Style{true, 0}, Color::kRed, "x") == "\x1b[31mx\x1b[0m");
  CHECK(stateColor("Ready") == Color::kGreen);
  CHECK(stateColor("NotReady") == Color::kRed);
  CHECK(stateColor("pending") == Color::kYellow);
}

TEST_CASE("times and sizes") {
  CHECK(age(plain(), kNow - 30'000) == "30s");
  CHECK(age(plain(), kNow - 600'000) == "10m");
  CHECK(age(plain(), kNow - 5 * 3'600'000) == "5h");
  CHECK(age(plain(), kNow - 3 * 86'400'000LL) == "3d");
  CHECK(age(plain(), 0) == "-");
  CHECK(isoTime(kNow) == "2025-11-24T16:00:00Z");
  CHECK(clockTime(kNow + 61'000) == "16:01:01");
  CHECK(humanBytes(1536) == "1.5 KiB");
  CHECK(humanBytes(512) == "512 B");
  CHECK(humanBytes(0) == "-");
}

TEST_CASE("node list") {
  Json r = {{"nodes",
             {{{"name", "press-01"},
               {"health", {{"state", "Ready"}, {"since", kNow - 120'000}}},
               {"labels", {{"line", "1"}, {"site", "north"}}},
               {"groups", {"line1"}}},
              {{"name", "press-02"}, {"health", "NotReady"}}}}};
  CHECK(renderNodeList(r, plain()) ==
        "NAME       HEALTH     SINCE   LABELS              GROUPS\n"
        "press-01   Ready      2m      line=1,site=north   line1\n"
        "press-02   NotReady   -       -                   -\n");
  CHECK(renderNodeList(Json{{"nodes", Json::array()}}, plain()) == "No nodes.\n");
  CHECK(renderNodeList(Json{{"nodes", Json::array({{{"name", "a"}}})}, {"next", "c2"}}, plain())
            .find("--cursor c2") != std::string::npos);
}

TEST_CASE("node details, in the anchor's node.get shape") {
  Json n = {
      {"name", "press-01"},
      {"health", "Ready"},
      {"since", kNow - 60'000},
      {"health_detail", {{"state", "Ready"}, {"since", kNow - 60'000}, {"reason", "connected"}}},
      {"registration", "accepted"},
      {"labels", {{"site", "north"}}},
      {"groups", {"line1"}},
      {"effective_groups", {"line1", "site-north"}},
      {"info",
       {{"hostname", "press01"},
        {"agent_version", "0.1.0"},
        {"cpus", 4},
        {"memory_bytes", 4294967296LL}}},
      {"apps",
       {{{"name", "web"},
         {"target", {{"group", "line1"}}},
         {"revision", 3},
         {"state", "running"},
         {"reported", {{"revision", 3}, {"phase", "Running"}, {"message", ""}}}}}},
      {"history", {{{"state", "Ready"}, {"ts", kNow - 60'000}, {"reason", "connected"}}}}};
  std::string out = renderNode(n, plain());
  CHECK(out.find("Name:") != std::string::npos);
  CHECK(out.find("press-01") != std::string::npos);
  CHECK(out.find("(1m ago)") == std::string::npos);  // 60 s is still "60s"
  CHECK(out.find("(60s ago)") != std::string::npos);
  CHECK(out.find("Reason:") != std::string::npos);
  CHECK(out.find("line1,site-north") != std::string::npos);
  CHECK(out.find("4 / 4.0 GiB") != std::string::npos);
  CHECK(out.find("web   group/line1   3          Running") != std::string::npos);
  CHECK(out.find("Health history") != std::string::npos);
}

TEST_CASE("node add shows the agent configuration") {
  Json r = {{"name", "n7"}, {"username", "n7"}, {"config", "node_id = n7\n"}};
  std::string out = renderNodeAdded(r, plain());
  CHECK(out.rfind("ok: node n7 enrolled (broker user n7)\n", 0) == 0);
  CHECK(out.find("node_id = n7\n") != std::string::npos);
  CHECK(agentConfig(r) == "node_id = n7\n");
  CHECK(agentConfig(Json::object()).is_null());
}

TEST_CASE("groups, apps, history and events") {
  Json groups = {{"groups",
                  {{{"name", "line1"}, {"parents", {"site"}}, {"node_count", 2}, {"apps", {"web"}}},
                   {{"name", "site"}}}}};
  CHECK(renderGroupList(groups, plain()) ==
        "NAME    PARENT   NODES   GROUPS   APPS\n"
        "line1   site     2       0        1\n"
        "site    -        0       0        0\n");
  Json group = {{"name", "line1"},
                {"parents", {"site"}},
                {"nodes", {"a", "b"}},
                {"groups", Json::array()},
                {"apps", {"web"}}};
  std::string g = renderGroup(group, plain());
  CHECK(g.find("2  a,b") != std::string::npos);
  CHECK(g.find("Apps:") != std::string::npos);

  Json apps = {{"apps",
                {{{"name", "web"},
                  {"target", {{"group", "line1"}}},
                  {"revision", 2},
                  {"state", "running"},
                  {"rollout", {{"total", 3}, {"running", 2}, {"failed", 1}}}}}}};
  CHECK(renderAppList(apps, plain()) ==
        "NAME   TARGET        REVISION   STATE     ROLLOUT\n"
        "web    group/line1   2          running   2/3 running, 1 failed\n");

  Json app = {{"name", "web"},
              {"target", {{"node", "n1"}}},
              {"revision", 2},
              {"state", "running"},
              {"rollout",
               {{"revision", 2},
                {"total", 1},
                {"running", 1},
                {"nodes", {{{"node", "n1"}, {"status", "running"}, {"message", ""}}}}}}};
  std::string a = renderApp(app, plain());
  CHECK(a.find("node/n1") != std::string::npos);
  CHECK(a.find("NODE   STATUS    MESSAGE\nn1     running\n") != std::string::npos);

  Json hist = {{"revisions",
                {{{"revision", 1}, {"ts", kNow}, {"user", "ops"}, {"target", {{"node", "n1"}}}},
                 {{"revision", 2}, {"ts", kNow}, {"user", "ops"}, {"rollback_of", 1}}}}};
  std::string h = renderAppHistory(hist, plain());
  CHECK(h.find("2025-11-24T16:00:00Z") != std::string::npos);
  CHECK(h.find("rollback to 1") != std::string::npos);

  Json events = {{"events",
                  {{{"ts", kNow},
                    {"node", "n1"},
                    {"kind", "container_died"},
                    {"app", "web"},
                    {"service", "api"},
                    {"message", "exit 137"}}}}};
  CHECK(renderEvents(events, plain()) ==
        "TIME                   NODE   KIND             APP   SERVICE   MESSAGE\n"
        "2025-11-24T16:00:00Z   n1     container_died   web   api       exit 137\n");
  CHECK(renderEventLine("n1", events["events"][0], plain()) ==
        "2025-11-24T16:00:00Z  n1  container_died  web/api  exit 137\n");
}

TEST_CASE("app history shows how each revision was rolled out") {
  Json hist = {
      {"name", "web"},
      {"revisions",
       {{{"revision", 3},
         {"ts", kNow},
         {"user", "ops"},
         {"target", {{"group", "line1"}}},
         {"note", "deploy (staged)"},
         {"current", false},
         {"rollout",
          {{"kind", "staged"},
           {"phase", "rolled_back"},
           {"wave", 1},
           {"waves", 2},
           {"steps", {"n1", "100%"}},
           {"reason", "wave 1: 1 node(s) failed (n1: CrashLoop)"}}}},
        {{"revision", 2},
         {"ts", kNow},
         {"user", "ops"},
         {"target", {{"group", "line1"}}},
         {"note", "deploy"},
         {"current", true},
         {"rollout", {{"kind", "plain"}, {"previous_revision", 1}}}},
        {{"revision", 1}, {"ts", kNow}, {"user", "ops"}, {"target", {{"group", "line1"}}}}}}};
  std::string h = renderAppHistory(hist, plain());
  CHECK(h.find("ROLLOUT") != std::string::npos);
  CHECK(h.find("staged n1,100%: rolled_back at wave 1 of 2 (wave 1: 1 node(s) failed (n1: "
               "CrashLoop))") != std::string::npos);
  CHECK(h.find("deploy (current)") != std::string::npos);
  auto second = h.find("\n2 ");
  REQUIRE(second != std::string::npos);
  CHECK(h.substr(second, h.find('\n', second + 1) - second).find("plain") != std::string::npos);
  auto first = h.find("\n1 ");
  REQUIRE(first != std::string::npos);
  CHECK(h.substr(first).find("   -") != std::string::npos);
}

TEST_CASE("a staged rollout's update window is shown with the site time zone") {
  Json staged = {{"phase", "waiting"},
                 {"revision", 3},
                 {"wave", 1},
                 {"waves", 2},
                 {"previous_revision", 2},
                 {"reason", "waiting for the update window"},
                 {"window", "daily 22:00-06:00"},
                 {"time_zone", "Europe/Berlin"}};
  Json app = {{"name", "web"},
              {"target", {{"group", "line1"}}},
              {"revision", 3},
              {"state", "running"},
              {"rollout", {{"revision", 3}, {"total", 0}, {"staged", staged}}}};
  std::string a = renderApp(app, plain());
  CHECK(a.find("revision 3 over 2: wave 1 of 2, waiting (waiting for the update window)") !=
        std::string::npos);
  auto window = a.find("Window:");
  REQUIRE(window != std::string::npos);
  CHECK(a.find("daily 22:00-06:00 (Europe/Berlin)\n", window) != std::string::npos);
  app["rollout"]["staged"].erase("window");
  CHECK(renderApp(app, plain()).find("Window") == std::string::npos);
}

TEST_CASE("confirmations of changes name what changed") {
  CHECK(renderDone("group.create", {{"name", "line1"}}, nullptr, plain()) ==
        "ok: group line1 created\n");
  CHECK(renderDone("group.add", {{"group", "line1"}, {"nodes", {"a", "b"}}}, nullptr, plain()) ==
        "ok: a, b added to group line1\n");
  CHECK(renderDone("app.deploy", {{"name", "web"}, {"target", {{"group", "line1"}}}},
                   {{"revision", 4}},
                   plain()) == "ok: app web deployed to group/line1 (revision 4)\n");
  CHECK(renderDone("app.rollback", {{"name", "web"}, {"revision", 2}}, {{"revision", 5}},
                   plain()) == "ok: app web rolled back to revision 2 (new revision 5)\n");
}

TEST_CASE("logs, health lines and errors") {
  CHECK(renderLogs(Json{{"lines", {"a", "b\n"}}}) == "a\nb\n");
  CHECK(renderLogs(Json("one\ntwo")) == "one\ntwo\n");
  CHECK(renderLogs(Json{{"app", "web"}, {"logs", "l1\nl2\n"}}) == "l1\nl2\n");
  CHECK(renderLogs(Json{{"logs", ""}}) == "");
  CHECK(renderHealthLine("n1", {{"state", "NotReady"}, {"since", kNow}, {"reason", "will"}},
                         plain()) == "16:00:00  n1  NotReady  will\n");
  CHECK(renderHealthLine("n1", nullptr, plain()) == "16:00:00  n1  removed\n");
  Status e = Status::invalidArgument("services.web.image: must be a string");
  e.withPosition(3, 12);
  CHECK(renderError(e, "app.yml") ==
        "error: app.yml:3:12: services.web.image: must be a string (invalid_argument)\n");
  CHECK(renderError(Status::notFound("app 'web' does not exist")) ==
        "error: app 'web' does not exist (not_found)\n");
}
