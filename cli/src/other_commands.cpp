// The remaining commands of pharosctl, one row each (command_tree.h): `events`, `metrics`,
// and the agent commands `logs` and `inspect`, each with its flags, request builder and
// renderer.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/render.h"
#include "command_tree.h"
#include "pharos/agent_commands.h"
#include "pharos/api.h"

namespace pharos::cli {
namespace {

using declare::command;
using declare::leaf;

// One row per point of a metrics.query answer (column arrays, oldest first).
std::string renderMetrics(const Json& result, const Style& style) {
  auto column = [&](const char* key) -> const Json& {
    static const Json kEmpty = Json::array();
    auto it = result.is_object() ? result.find(key) : result.end();
    return it != result.end() && it->is_array() ? *it : kEmpty;
  };
  auto cell = [](const Json& values, size_t i, double scale, int decimals) {
    if (i >= values.size() || !values[i].is_number()) return std::string("-");
    return fmt::format("{:.{}f}", values[i].get<double>() / scale, decimals);
  };
  const Json& ts = column("ts");
  constexpr double kMiB = 1024.0 * 1024.0;
  std::vector<std::vector<Cell>> rows;
  for (size_t i = 0; i < ts.size(); ++i) {
    int64_t t = ts[i].is_number_integer() ? ts[i].get<int64_t>() : 0;
    rows.push_back({isoTime(t), cell(column("cpu"), i, 1, 1), cell(column("cpu_max"), i, 1, 1),
                    cell(column("mem_used"), i, kMiB, 0), cell(column("disk_used"), i, kMiB, 0),
                    cell(column("load1"), i, 1, 2)});
  }
  return fmt::format("node {}: {} points, {} s apart ({} tier)\n", field::str(result, "node"),
                     ts.size(), field::str(result, "step"), field::str(result, "tier")) +
         renderTable(style, {"TIME", "CPU%", "CPU-MAX%", "MEM-MIB", "DISK-MIB", "LOAD1"}, rows);
}

// One row per point and service of a metrics.query {app} answer.
std::string renderContainerMetrics(const Json& result, const Style& style) {
  const Json& ts = field::items(result, {"ts"});
  const Json& containers = field::items(result, {"containers"});
  constexpr double kMiB = 1024.0 * 1024.0;
  auto cell = [](const Json& series, const char* key, size_t i, double scale, int decimals) {
    auto it = series.find(key);
    if (it == series.end() || !it->is_array() || i >= it->size() || !(*it)[i].is_number())
      return std::string("-");
    return fmt::format("{:.{}f}", (*it)[i].get<double>() / scale, decimals);
  };
  std::vector<std::vector<Cell>> rows;
  for (size_t i = 0; i < ts.size(); ++i) {
    int64_t t = ts[i].is_number_integer() ? ts[i].get<int64_t>() : 0;
    for (const auto& c : containers) {
      if (!c.is_object() || cell(c, "cpu", i, 1, 1) == "-") continue;
      rows.push_back({isoTime(t), field::str(c, "service"), cell(c, "cpu", i, 1, 1),
                      cell(c, "cpu_max", i, 1, 1), cell(c, "mem", i, kMiB, 1)});
    }
  }
  return fmt::format("app {} on node {}: {} points, {} s apart ({} tier)\n",
                     field::str(result, "app"), field::str(result, "node"), ts.size(),
                     field::str(result, "step"), field::str(result, "tier")) +
         renderTable(style, {"TIME", "SERVICE", "CPU%", "CPU-MAX%", "MEM-MIB"}, rows);
}

std::string renderAnyMetrics(const Json& result, const Style& style) {
  return result.is_object() && result.contains("containers") ? renderContainerMetrics(result, style)
                                                             : renderMetrics(result, style);
}

void metricsCommand(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kMetrics{
      ops::kMetricsQuery, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
        MetricsQueryRequest r;
        r.node = v.name;
        if (!v.since.empty()) {
          auto since = parseSince(v.since, in.now_ms);
          if (!since) return since.status();
          r.from = *since;
        }
        r.step = v.step;
        r.app = v.app;
        inv.body = encode(r);
        return Status::ok();
      },
      resultOnly<renderAnyMetrics>};
  CLI::App* metrics = leaf(tree, tree.app.get(), "metrics",
                           "Show a node's metrics history as the anchor keeps it: 15-s points "
                           "for the last hour, 5-min means for 7 days (docs/metrics.md); with "
                           "--app, that app's containers on the node (5-min means for 24 h).",
                           "  pharosctl metrics press-01\n"
                           "  pharosctl metrics press-01 --since 24h --step 3600\n"
                           "  pharosctl metrics press-01 --app web --since 6h\n",
                           kMetrics);
  metrics->add_option("node", v.name, "Node name")->required();
  metrics->add_option("--since", v.since, "From: 10m, 2h, Unix ms or an ISO time (default 1h)");
  metrics->add_option("--step", v.step, "Seconds between points (default: the tier's own)")
      ->check(CLI::PositiveNumber);
  metrics->add_option("--app", v.app, "The containers of this app on the node, per service");
}

void eventsCommand(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kEvents{
      ops::kEventsQuery, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
        EventsQueryRequest r;
        r.node = v.node;
        r.app = v.app;
        r.kind = v.kind;
        if (!v.since.empty()) {
          auto since = parseSince(v.since, in.now_ms);
          if (!since) return since.status();
          r.since = *since;
        }
        if (!v.until.empty()) {
          if (v.follow) return usage("events: --until ends the range, --follow never ends");
          auto until = parseSince(v.until, in.now_ms);
          if (!until) {  // parseSince's message names --since
            std::string message = until.status().message();
            if (message.rfind("--since", 0) == 0) message.replace(0, 7, "--until");
            return usage(message);
          }
          r.until = *until;
          if (r.since > r.until) return usage("events: --since is later than --until");
        }
        if (v.limit > 0) r.limit = v.limit;
        inv.body = encode(r);
        if (v.follow) {
          inv.mode = Mode::kFollowEvents;
          inv.follow_node = v.node;
          inv.follow_app = v.app;
          inv.follow_kind = v.kind;
        }
        return Status::ok();
      },
      resultOnly<renderEvents>};
  CLI::App* events =
      leaf(tree, tree.app.get(), "events",
           "Show recorded events (container died/restarted, image pulled, app applied/failed, "
           "health changes...), oldest first; --follow keeps printing new agent events.",
           "  pharosctl events --since 1h\n"
           "  pharosctl events --since 2026-11-25T10:00:00Z --until 2026-11-25T11:00:00Z\n"
           "  pharosctl events --node press-01 --kind container_died --limit 20\n"
           "  pharosctl events --app web --follow\n",
           kEvents);
  events->add_option("--node", v.node, "Only this node");
  events->add_option("--app", v.app, "Only this app");
  events->add_option("--kind", v.kind, "Only this kind (container_died, app_failed, ...)");
  events->add_option("--since", v.since,
                     "Only newer events: 10m, 2h, Unix ms or 2026-11-25T10:00:00Z");
  events->add_option("--until", v.until,
                     "Only events up to this time (same forms as --since); with no --since, "
                     "the newest up to it");
  events->add_option("--limit", v.limit, "At most N events (default 100)")
      ->check(CLI::Range(1, 1000));
  events->add_flag("-f,--follow", v.follow, "Keep printing new events until interrupted");
}

void agentCommands(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kLogs{
      agent_commands::kLogs, Mode::kAgentCommand,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
        LogsCommand c;
        c.app = v.app;
        c.service = v.service;
        if (v.tail > 0) c.tail = v.tail;
        if (!v.since.empty()) {
          auto since = parseSince(v.since, in.now_ms);
          if (!since) return since.status();
          c.since = *since;
        }
        // -f: a bounded live stream until Ctrl-C (follow_logs.cpp).
        c.follow = v.follow;
        if (v.follow) inv.mode = Mode::kFollowLogs;
        inv.follow_timestamps = v.timestamps;
        inv.node = v.name;
        inv.body = encode(c);
        auto decoded = decodeLogsCommand(inv.body);
        if (!decoded) return usage(decoded.status().message());
        return Status::ok();
      },
      [](const Json&, const Json& result, const Style&) { return renderLogs(result); }};
  CLI::App* logs = leaf(tree, tree.app.get(), "logs",
                        "Print the last lines of a service's logs, answered by the node's "
                        "agent (pharos/v1/nodes/{node}/cmd/logs/{user}).",
                        "  pharosctl logs press-01 web nginx --tail 50\n"
                        "  pharosctl logs press-01 web nginx --since 10m\n"
                        "  pharosctl logs -f press-01 web nginx    (until Ctrl-C)\n",
                        kLogs);
  logs->add_option("node", v.name, "Node name")->required();
  logs->add_option("app", v.app, "App name")->required();
  logs->add_option("service", v.service, "Service name")->required();
  logs->add_option("--tail", v.tail, "Number of lines (default 100)")->check(CLI::Range(1, 10000));
  logs->add_option("--since", v.since, "Only lines since: 10m, 2h, Unix ms or an ISO time");
  logs->add_flag(
      "-f,--follow", v.follow,
      "Keep printing new lines until Ctrl-C (or the agent's limits: 10000 lines, 10 min)");
  logs->add_flag("-t,--timestamps", v.timestamps, "With --follow: print each line's time");

  static constexpr Operation kInspect{
      agent_commands::kInspect, Mode::kAgentCommand,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.node = v.name;
        inv.body = encode(InspectCommand{v.app, v.service});
        auto decoded = decodeInspectCommand(inv.body);
        if (!decoded) return usage(decoded.status().message());
        return Status::ok();
      },
      // JSON in either output format.
      [](const Json&, const Json& result, const Style&) { return result.dump(2) + "\n"; }};
  CLI::App* inspect = leaf(tree, tree.app.get(), "inspect",
                           "Show the managed containers of an app on one node, answered by the "
                           "node's agent (pharos/v1/nodes/{node}/cmd/inspect/{user}); JSON output.",
                           "  pharosctl inspect press-01 web\n"
                           "  pharosctl inspect press-01 web nginx\n",
                           kInspect);
  inspect->add_option("node", v.name, "Node name")->required();
  inspect->add_option("app", v.app, "App name")->required();
  inspect->add_option("service", v.service, "Service name (default: all)");
}

}  // namespace

void otherCommands(CommandTree& tree, ParsedValues& v) {
  eventsCommand(tree, v);
  metricsCommand(tree, v);
  agentCommands(tree, v);
}

}  // namespace pharos::cli
