// pharosctl's command tree on CLI11 (see command_line.h). The tree and its help texts are
// built by buildApp (command_tree.cpp); this file runs the parse and turns the parsed
// values into an Invocation.
#include "cli/command_line.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "cli/exit_codes.h"
#include "command_tree.h"
#include "pharos/api.h"
#include "pharos/ids.h"

namespace pharos::cli {
namespace {

Status usage(std::string message) { return Status::invalidArgument(std::move(message)); }

Result<std::map<std::string, std::string>> assignments(const std::vector<std::string>& items,
                                                       const char* what) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto kv = parseAssignment(item, what);
    if (!kv) return kv.status();
    out[kv->first] = kv->second;
  }
  return out;
}

Result<Target> target(const ParsedValues& v) {
  if (!v.node.empty() && !v.group.empty()) return usage("give either --node or --group, not both");
  if (v.node.empty() && v.group.empty())
    return usage("a target is required: --node N or --group G");
  if (!v.node.empty()) return Target{Target::Kind::kNode, v.node};
  return Target{Target::Kind::kGroup, v.group};
}

Result<std::string> readInput(const ParseInputs& in, const std::string& path) {
  if (path == "-") {
    if (!in.read_stdin) return usage("cannot read standard input");
    return in.read_stdin();
  }
  if (!in.read_file) return usage("cannot read " + path);
  auto text = in.read_file(path);
  if (!text) return usage(fmt::format("cannot read {}: {}", path, text.status().message()));
  return text;
}

// A duration option as the anchor reads it: digits are seconds (a number), "90s"/"15m" a string.
Json durationValue(const std::string& text) {
  bool digits = !text.empty() &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && text.size() <= 9) return std::stoll(text);
  return text;
}

// The `strategy` of deploy and rollback from --strategy FILE and the options (null: none).
Result<Json> strategyFrom(const ParsedValues& v, const ParseInputs& in) {
  Json out;
  if (!v.strategy_file.empty()) {
    auto text = readInput(in, v.strategy_file);
    if (!text) return text.status();
    auto json = parseJson(*text, 1 << 20);
    if (!json || !json->is_object()) {
      return usage("--strategy: " + v.strategy_file + " is not a JSON object" +
                   (json ? "" : ": " + json.status().message()));
    }
    out = *json;
  }
  bool gate_given = !v.soak.empty() || !v.gate_timeout.empty() || v.max_failed >= 0;
  bool any = !v.waves.empty() || gate_given || !v.on_failure.empty() || !v.window.empty();
  if (!any) return out;
  if (!out.is_object()) out = Json::object();
  if (!v.waves.empty()) {
    Json waves = Json::array();
    std::stringstream items(v.waves);
    for (std::string item; std::getline(items, item, ',');) {
      if (!item.empty()) waves.push_back(item);
    }
    out["waves"] = waves;
  }
  if (gate_given) {
    Json& gate = out["gate"];
    if (!gate.is_object()) gate = Json::object();
    if (!v.soak.empty()) gate["soak"] = durationValue(v.soak);
    if (!v.gate_timeout.empty()) gate["timeout"] = durationValue(v.gate_timeout);
    if (v.max_failed >= 0) gate["max_failed"] = v.max_failed;
  }
  if (!v.on_failure.empty()) out["on_failure"] = v.on_failure;
  if (!v.window.empty()) out["window"] = v.window;
  if (!out.contains("waves")) {
    return usage("a staged rollout needs its waves: --waves node,10%,100% (or in --strategy)");
  }
  return out;
}

// Builds the Invocation of the leaf command that was parsed.
Result<Invocation> build(const CommandTree& t, const ParsedValues& v, const ParseInputs& in) {
  Invocation inv;
  const std::string& cmd = t.leaf;
  auto list_request = [&](ListRequest& r) {
    if (v.limit > 0) r.limit = v.limit;
    r.cursor = v.cursor;
    inv.paginate = v.limit == 0 && v.cursor.empty();
  };
  if (cmd == "nodes ls") {
    NodeListRequest r;
    r.label = v.label_filter;
    r.group = v.group;
    r.health = v.health;
    if (v.limit > 0) r.limit = v.limit;
    r.cursor = v.cursor;
    inv.paginate = v.limit == 0 && v.cursor.empty();
    inv.operation = ops::kNodeList;
    inv.body = encode(r);
    if (v.watch) inv.mode = Mode::kWatchNodes;
  } else if (cmd == "node get" || cmd == "node approve") {
    inv.operation = cmd == "node get" ? ops::kNodeGet : ops::kNodeApprove;
    inv.body = encode(NameRequest{v.name});
  } else if (cmd == "node add") {
    NodeAddRequest r;
    r.name = v.name;
    auto labels = assignments(v.labels, "--label");
    if (!labels) return labels.status();
    r.labels = *labels;
    inv.operation = ops::kNodeAdd;
    inv.body = encode(r);
    if (!v.add_output.empty() && v.add_output != "json" && v.add_output != "table") {
      inv.agent_config_out = v.add_output;
    } else if (v.add_output == "json") {
      inv.output = OutputFormat::kJson;
    }
  } else if (cmd == "node rekey") {
    inv.operation = ops::kNodeRekey;
    inv.body = encode(NodeRekeyRequest{v.name, v.key_id, v.public_key});
  } else if (cmd == "node rm") {
    inv.operation = ops::kNodeRemove;
    inv.body = encode(NodeRemoveRequest{v.name, v.purge});
  } else if (cmd == "node label") {
    NodeLabelRequest r;
    r.name = v.name;
    for (const auto& item : v.items) {
      if (item.size() > 1 && item.back() == '-' && item.find('=') == std::string::npos) {
        r.remove.push_back(item.substr(0, item.size() - 1));  // kubectl style "key-"
        continue;
      }
      auto kv = parseAssignment(item, "label");
      if (!kv) return kv.status();
      r.set[kv->first] = kv->second;
    }
    for (const auto& k : v.remove_labels) r.remove.push_back(k);
    if (r.set.empty() && r.remove.empty()) {
      return usage("node label: give at least one KEY=VALUE to set or --rm KEY to remove");
    }
    inv.operation = ops::kNodeLabel;
    inv.body = encode(r);
  } else if (cmd == "groups ls" || cmd == "apps ls") {
    ListRequest r;
    list_request(r);
    inv.operation = cmd == "groups ls" ? ops::kGroupList : ops::kAppList;
    inv.body = encode(r);
  } else if (cmd == "group create") {
    inv.operation = ops::kGroupCreate;
    inv.body = encode(GroupCreateRequest{v.name, v.parent});
  } else if (cmd == "group rm") {
    inv.operation = ops::kGroupDelete;
    inv.body = encode(GroupDeleteRequest{v.name, v.force});
  } else if (cmd == "group get") {
    inv.operation = ops::kGroupGet;
    inv.body = encode(GroupGetRequest{v.name, v.depth > 0 ? v.depth : kDefaultGroupTreeDepth});
  } else if (cmd == "group add" || cmd == "group remove") {
    GroupMembersRequest r;
    r.group = v.name;
    r.nodes = v.items;
    r.groups = v.member_groups;
    if (r.nodes.empty() && r.groups.empty()) {
      return usage(fmt::format("{}: name at least one node, or a group with --group", cmd));
    }
    inv.operation = cmd == "group add" ? ops::kGroupAdd : ops::kGroupRemove;
    inv.body = encode(r);
  } else if (cmd == "deploy") {
    AppDeployRequest r;
    auto compose = readInput(in, v.file);
    if (!compose) return compose.status();
    r.compose = *compose;
    r.name = v.name.empty() ? defaultAppName(r.compose, v.file == "-" ? "" : v.file) : v.name;
    if (r.name.empty()) return usage("deploy: cannot derive an app name from the file; use --name");
    auto t = target(v);
    if (!t) return t.status();
    r.target = *t;
    auto vars = assignments(v.vars, "--var");
    if (!vars) return vars.status();
    r.variables = *vars;
    auto secrets = assignments(v.secrets, "--secret");
    if (!secrets) return secrets.status();
    r.secrets = *secrets;
    auto strategy = strategyFrom(v, in);
    if (!strategy) return strategy.status();
    r.strategy = *strategy;
    inv.operation = ops::kAppDeploy;
    inv.body = encode(r);
    inv.source_name = v.file == "-" ? "<stdin>" : v.file;
  } else if (cmd == "app get" || cmd == "app start" || cmd == "app stop" || cmd == "app restart" ||
             cmd == "app history") {
    static const std::map<std::string, std::string_view> kOps = {{"app get", ops::kAppGet},
                                                                 {"app start", ops::kAppStart},
                                                                 {"app stop", ops::kAppStop},
                                                                 {"app restart", ops::kAppRestart},
                                                                 {"app history", ops::kAppHistory}};
    inv.operation = kOps.at(cmd);
    inv.body = encode(NameRequest{v.name});
  } else if (cmd == "app rm") {
    inv.operation = ops::kAppRemove;
    inv.body = encode(AppRemoveRequest{v.name, v.delete_volumes ? "delete" : "keep"});
  } else if (cmd == "app rollback") {
    auto strategy = strategyFrom(v, in);
    if (!strategy) return strategy.status();
    inv.operation = ops::kAppRollback;
    inv.body = encode(AppRollbackRequest{v.name, v.revision, *strategy});
  } else if (cmd == "rollout pause" || cmd == "rollout resume" || cmd == "rollout promote" ||
             cmd == "rollout abort") {
    static const std::map<std::string, std::string_view> kOps = {
        {"rollout pause", ops::kRolloutPause},
        {"rollout resume", ops::kRolloutResume},
        {"rollout promote", ops::kRolloutPromote},
        {"rollout abort", ops::kRolloutAbort}};
    inv.operation = kOps.at(cmd);
    inv.body = encode(NameRequest{v.name});
  } else if (cmd == "registry set") {
    RegistrySetRequest r;
    r.host = v.name;
    r.username = v.registry_user;
    if (v.password_stdin) {
      auto pw = readInput(in, "-");
      if (!pw) return pw.status();
      r.password = *pw;
      while (!r.password.empty() && (r.password.back() == '\n' || r.password.back() == '\r')) {
        r.password.pop_back();
      }
    } else if (!v.registry_password.empty()) {
      r.password = v.registry_password;
    } else {
      return usage("registry set: give the password with --password-stdin");
    }
    auto t = target(v);
    if (!t) return t.status();
    r.target = *t;
    inv.operation = ops::kRegistrySet;
    inv.body = encode(r);
  } else if (cmd == "events") {
    EventsQueryRequest r;
    r.node = v.node;
    r.app = v.app;
    r.kind = v.kind;
    if (!v.since.empty()) {
      auto since = parseSince(v.since, in.now_ms);
      if (!since) return since.status();
      r.since = *since;
    }
    if (v.limit > 0) r.limit = v.limit;
    inv.operation = ops::kEventsQuery;
    inv.body = encode(r);
    if (v.follow) {
      inv.mode = Mode::kFollowEvents;
      inv.follow_node = v.node;
      inv.follow_app = v.app;
      inv.follow_kind = v.kind;
    }
  } else if (cmd == "logs") {
    LogsCommand c;
    c.app = v.app;
    c.service = v.service;
    if (v.tail > 0) c.tail = v.tail;
    if (!v.since.empty()) {
      auto since = parseSince(v.since, in.now_ms);
      if (!since) return since.status();
      c.since = *since;
    }
    c.follow = v.follow;
    inv.mode = v.follow ? Mode::kFollowLogs : Mode::kAgentCommand;
    inv.follow_timestamps = v.timestamps;
    inv.operation = "logs";
    inv.node = v.name;
    inv.body = encode(c);
    auto decoded = decodeLogsCommand(inv.body);
    if (!decoded) return usage(decoded.status().message());
  } else if (cmd == "inspect") {
    inv.mode = Mode::kAgentCommand;
    inv.operation = "inspect";
    inv.node = v.name;
    inv.body = encode(InspectCommand{v.app, v.service});
    auto decoded = decodeInspectCommand(inv.body);
    if (!decoded) return usage(decoded.status().message());
  } else {
    return usage("unknown command '" + cmd + "'");
  }
  const bool to_agent = inv.mode == Mode::kAgentCommand || inv.mode == Mode::kFollowLogs;
  if (!to_agent) {
    Status valid = validateRequest(inv.operation, inv.body);
    if (!valid.isOk()) return usage(valid.message());
  }
  if (to_agent && !isValidId(IdKind::kNode, inv.node)) {
    return usage(validateId(IdKind::kNode, inv.node, "node").message());
  }
  if (v.output == "json") inv.output = OutputFormat::kJson;
  inv.color_allowed = !v.no_color;
  inv.wait = v.wait;
  if (!v.timeout.empty()) {
    auto d = parseDuration(v.timeout);
    if (!d) return usage("--timeout: " + d.status().message());
    inv.wait_timeout = *d;
  }
  inv.connection = v.connection;
  if (!v.config.empty()) inv.config_path = v.config;
  return inv;
}

}  // namespace

Result<Invocation> parseCommandLine(const std::vector<std::string>& args,
                                    const ParseInputs& inputs) {
  ParsedValues values;
  auto tree = buildCommandTree(values);
  CLI::App& app = *tree.app;
  std::vector<const char*> argv;
  argv.push_back("pharosctl");
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    Invocation inv;
    inv.mode = Mode::kExit;
    inv.text = out.str();
    return inv;
  } catch (const CLI::CallForAllHelp& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    Invocation inv;
    inv.mode = Mode::kExit;
    inv.text = out.str();
    return inv;
  } catch (const CLI::CallForVersion& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    Invocation inv;
    inv.mode = Mode::kExit;
    inv.text = out.str();
    return inv;
  } catch (const CLI::ParseError& e) {
    std::string where = currentCommandPath(app);
    std::string msg = e.what();
    return usage(fmt::format("{}\nRun 'pharosctl {}--help' for usage.", msg,
                             where.empty() ? "" : where + " "));
  }
  tree.leaf = leafPath(app);
  collectConnection(app, values);
  if (tree.leaf.empty()) {
    return usage("no command given. Run 'pharosctl --help' for the list of commands.");
  }
  return build(tree, values, inputs);
}

Result<std::pair<std::string, std::string>> parseAssignment(const std::string& text,
                                                            const char* what) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return usage(fmt::format("{}: expected KEY=VALUE, got '{}'", what, text));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Result<int64_t> parseSince(const std::string& text, int64_t now_ms) {
  if (text.empty()) return usage("--since: empty");
  bool digits = std::all_of(text.begin(), text.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (digits && text.size() >= 10) return static_cast<int64_t>(std::stoll(text));
  if (text.find('-') != std::string::npos && text.size() >= 10) {
    std::tm tm{};
    std::string t = text;
    for (char& c : t) {
      if (c == 'T') c = ' ';
    }
    if (!t.empty() && t.back() == 'Z') t.pop_back();
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
    int n = std::sscanf(t.c_str(), "%d-%d-%d %d:%d:%d", &year, &mon, &day, &hour, &min, &sec);
    if (n < 3 || mon < 1 || mon > 12 || day < 1 || day > 31) {
      return usage(
          fmt::format("--since: cannot read '{}' (use 10m, 2h, Unix ms or "
                      "2026-11-25T10:00:00Z)",
                      text));
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  auto d = parseDuration(text);
  if (!d) {
    return usage(
        fmt::format("--since: cannot read '{}' (use 10m, 2h, Unix ms or "
                    "2026-11-25T10:00:00Z)",
                    text));
  }
  return now_ms - d->count();
}

std::string defaultAppName(const std::string& compose_text, const std::string& file_path) {
  auto clean = [](std::string s) {
    std::string out;
    for (char c : s) {
      char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '-') out += l;
    }
    while (!out.empty() && (out[0] == '_' || out[0] == '-')) out.erase(0, 1);
    return out.substr(0, 63);
  };
  std::istringstream in(compose_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("name:", 0) == 0) {
      std::string value = line.substr(5);
      auto hash = value.find(" #");
      if (hash != std::string::npos) value = value.substr(0, hash);
      std::string v;
      for (char c : value) {
        if (c != ' ' && c != '"' && c != '\'' && c != '\r' && c != '\t') v += c;
      }
      if (!clean(v).empty()) return clean(v);
    }
  }
  if (file_path.empty()) return "";
  std::string dir = file_path;
  auto slash = dir.find_last_of('/');
  if (slash == std::string::npos) {
    dir = "";
  } else {
    dir = dir.substr(0, slash);
  }
  if (dir.empty() || dir == ".") {
    // compose file in the working directory: use its stem ("web.yml" -> "web") unless it
    // is a generic name.
    std::string base = slash == std::string::npos ? file_path : file_path.substr(slash + 1);
    auto dot = base.find('.');
    std::string stem = base.substr(0, dot);
    if (stem != "compose" && stem != "docker-compose") return clean(stem);
    return "";
  }
  slash = dir.find_last_of('/');
  return clean(slash == std::string::npos ? dir : dir.substr(slash + 1));
}

}  // namespace pharos::cli
