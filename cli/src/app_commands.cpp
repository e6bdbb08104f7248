// The app commands of pharosctl, one row each (command_tree.h): `deploy`, `apps ls`,
// `app get|start|stop|restart|history|rm|rollback` and `rollout pause|resume|promote|abort`,
// each with its flags, request builder and renderer.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>

#include "cli/render.h"
#include "command_tree.h"
#include "pharos/api.h"

namespace pharos::cli {
namespace {

using declare::command;
using declare::leaf;
using declare::repeatable;

std::string appName(const Json& request) { return field::str(request, "name", ""); }

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

// "; staged rollout: wave 1 of 3, gating" when the result carries a staged rollout.
std::string stagedText(const Json& result) {
  if (!result.is_object()) return "";
  auto it = result.find("rollout");
  if (it == result.end() || !it->is_object()) return "";
  const Json& staged = *it;
  return fmt::format("; staged rollout: wave {} of {}, {}", field::str(staged, "wave"),
                     field::str(staged, "waves"), field::str(staged, "phase"));
}

// A staged rollout's strategy on deploy and rollback (docs/rollouts.md).
void strategyFlags(CLI::App* cmd, ParsedValues& v) {
  const char* group = "Staged rollout";
  cmd->add_option("--waves", v.waves,
                  "Roll out in waves: comma-separated steps, each a node or a share of the "
                  "target (press-07,10%,50%,100%); a gate between waves")
      ->group(group);
  cmd->add_option("--soak", v.soak,
                  "Gate: how long a wave's nodes must run without a restart (60s default)")
      ->group(group);
  cmd->add_option("--max-failed", v.max_failed, "Gate: failed nodes a wave may have (0 default)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  cmd->add_option("--gate-timeout", v.gate_timeout,
                  "Gate: a wave that has not passed after this fails (15m default)")
      ->group(group);
  cmd->add_option("--on-failure", v.on_failure,
                  "pause (default) or rollback: what a failed gate does")
      ->check(CLI::IsMember({"pause", "rollback"}))
      ->group(group);
  cmd->add_option("--window", v.window,
                  "When waves may start, in the site's time zone ('Mon-Fri 22:00-06:00')")
      ->group(group);
  cmd->add_option("--strategy", v.strategy_file,
                  "The whole strategy as a JSON file ('-' reads standard input); the options "
                  "above override its fields")
      ->group(group);
}

void deployCommand(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kDeploy{
      ops::kAppDeploy, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
        AppDeployRequest r;
        auto compose = readInput(in, v.file);
        if (!compose) return compose.status();
        r.compose = *compose;
        r.name = v.name.empty() ? defaultAppName(r.compose, v.file == "-" ? "" : v.file) : v.name;
        if (r.name.empty()) {
          return usage("deploy: cannot derive an app name from the file; use --name");
        }
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
        inv.body = encode(r);
        inv.source_name = v.file == "-" ? "<stdin>" : v.file;
        return Status::ok();
      },
      [](const Json& req, const Json& result, const Style& style) {
        std::string rev = field::str(result, "revision", "");
        return done(style,
                    fmt::format("app {} deployed to {} (revision {}{})", appName(req),
                                field::target(req), rev.empty() ? "?" : rev, stagedText(result)));
      }};
  CLI::App* deploy = leaf(
      tree, tree.app.get(), "deploy",
      "Deploy a docker-compose app to one node or to a group. Deploying an existing name is an "
      "update (a new revision); deploying it to another target moves it. The anchor validates "
      "the file first: an error names the key with its line and column, and nothing is "
      "deployed. Compose files refer to --var and --secret values as ${NAME}; secrets are "
      "only sent to the target nodes and never shown.",
      "  pharosctl deploy -f examples/hello/compose.yml --group line1 --wait\n"
      "  pharosctl deploy -f app.yml --node press-01 --name web --var TAG=1.4 \\\n"
      "      --secret DB_PASSWORD=\"$(cat db.pw)\" --wait --timeout 10m\n"
      "  cat app.yml | pharosctl deploy -f - --group line1 --name web\n"
      "  pharosctl deploy -f app.yml --group line1 --waves press-07,50%,100% --soak 2m \\\n"
      "      --on-failure rollback --window 'Mon-Fri 22:00-06:00' --wait\n",
      kDeploy);
  deploy->add_option("-f,--file", v.file, "Compose file ('-' reads standard input)")->required();
  deploy->add_option("--node", v.node, "Target node");
  deploy->add_option("--group", v.group, "Target group");
  deploy->add_option("--name", v.name,
                     "App name (default: the file's top-level 'name:', else its directory name)");
  repeatable(deploy, "--var", v.vars, "Variable NAME=VALUE for ${NAME} (repeatable)");
  repeatable(deploy, "--secret", v.secrets, "Secret variable NAME=VALUE (repeatable)");
  declare::waitFlags(deploy, v);
  strategyFlags(deploy, v);
}

void listCommand(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kList{ops::kAppList, Mode::kRequest, buildList,
                                   resultOnly<renderAppList>};
  // "apps" alone is "apps ls".
  CLI::App* apps = leaf(tree, tree.app.get(), "apps", "List apps (same as 'apps ls')", "", kList);
  apps->require_subcommand(0, 1);
  CLI::App* ls = leaf(tree, apps, "ls", "List the apps with their target, revision and rollout",
                      "  pharosctl apps ls\n", kList);
  ls->alias("list");
  declare::listPaging(ls, v);
}

// The app commands that take the app name and nothing else.
void nameCommands(CommandTree& tree, CLI::App* app, ParsedValues& v) {
  auto simple = [&](const char* name, const char* what, const char* example, const Operation& row) {
    CLI::App* c = leaf(tree, app, name, what, example, row);
    c->add_option("app", v.name, "App name")->required();
    return c;
  };
  static constexpr Operation kGet{ops::kAppGet, Mode::kRequest, buildName, resultOnly<renderApp>};
  simple("get", "Show an app: target, revision, rollout summary and the status on every node",
         "  pharosctl app get web\n  pharosctl app get web -o json\n", kGet);
  static constexpr Operation kStart{ops::kAppStart, Mode::kRequest, buildName,
                                    [](const Json& req, const Json&, const Style& style) {
                                      return done(style,
                                                  fmt::format("app {} started", appName(req)));
                                    }};
  simple("start", "Start a stopped app on all its targets", "  pharosctl app start web\n", kStart);
  static constexpr Operation kStop{ops::kAppStop, Mode::kRequest, buildName,
                                   [](const Json& req, const Json&, const Style& style) {
                                     return done(style,
                                                 fmt::format("app {} stopped", appName(req)));
                                   }};
  simple("stop", "Stop an app's containers on all its targets (they stay stopped across reboots)",
         "  pharosctl app stop web\n", kStop);
  static constexpr Operation kRestart{ops::kAppRestart, Mode::kRequest, buildName,
                                      [](const Json& req, const Json&, const Style& style) {
                                        return done(style,
                                                    fmt::format("app {} restarting", appName(req)));
                                      }};
  simple("restart", "Restart every container of an app on all its targets",
         "  pharosctl app restart web\n", kRestart);
  static constexpr Operation kHistory{ops::kAppHistory, Mode::kRequest, buildName,
                                      resultOnly<renderAppHistory>};
  simple("history", "List an app's revisions (what was deployed, when, by whom)",
         "  pharosctl app history web\n", kHistory);

  static constexpr Operation kRemove{
      ops::kAppRemove, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(AppRemoveRequest{
            v.name, v.delete_volumes ? VolumePolicy::kDelete : VolumePolicy::kKeep});
        return Status::ok();
      },
      [](const Json& req, const Json&, const Style& style) {
        return done(style, fmt::format("app {} removed", appName(req)));
      }};
  CLI::App* rm =
      simple("rm",
             "Remove an app from its targets. Named volumes are kept unless "
             "--delete-volumes.",
             "  pharosctl app rm web\n  pharosctl app rm web --delete-volumes\n", kRemove);
  rm->alias("remove");
  rm->add_flag("--delete-volumes", v.delete_volumes, "Also delete the app's named volumes");

  static constexpr Operation kRollback{
      ops::kAppRollback, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
        auto strategy = strategyFrom(v, in);
        if (!strategy) return strategy.status();
        inv.body = encode(AppRollbackRequest{v.name, v.revision, *strategy});
        return Status::ok();
      },
      [](const Json& req, const Json& result, const Style& style) {
        std::string rev = field::str(result, "revision", "");
        return done(style, fmt::format("app {} rolled back to revision {}{}{}", appName(req),
                                       field::str(req, "revision"),
                                       rev.empty() ? "" : " (new revision " + rev + ")",
                                       stagedText(result)));
      }};
  CLI::App* rollback = simple(
      "rollback", "Deploy an earlier revision again (as a new revision)",
      "  pharosctl app history web\n  pharosctl app rollback web --to 3 --wait\n", kRollback);
  rollback->add_option("--to", v.revision, "The revision to go back to")
      ->required()
      ->check(CLI::PositiveNumber);
  declare::waitFlags(rollback, v);
  strategyFlags(rollback, v);
}

// `rollout pause|resume|promote|abort APP`: the commands of a staged rollout.
void rolloutCommands(CommandTree& tree, ParsedValues& v) {
  CLI::App* rollout = command(tree.app.get(), "rollout",
                              "Pause, resume, promote or abort an app's staged rollout "
                              "(deploy --waves ...)",
                              "");
  rollout->require_subcommand(1);
  auto sub = [&](const char* name, const char* what, const char* example, const Operation& row) {
    CLI::App* c = leaf(tree, rollout, name, what, example, row);
    c->add_option("app", v.name, "App name")->required();
  };
  auto render = [](const Json& req, const Json& result, const Style& style) {
    return done(style,
                fmt::format("rollout of app {} {} (wave {} of {}, revision {})", appName(req),
                            field::str(result, "phase"), field::str(result, "wave"),
                            field::str(result, "waves"), field::str(result, "revision")));
  };
  static constexpr Operation kPause{ops::kRolloutPause, Mode::kRequest, buildName, render};
  sub("pause", "Hold the rollout: no further wave starts until 'rollout resume'",
      "  pharosctl rollout pause web\n", kPause);
  static constexpr Operation kResume{ops::kRolloutResume, Mode::kRequest, buildName, render};
  sub("resume", "Continue a paused rollout: the current wave's gate is judged afresh",
      "  pharosctl rollout resume web\n", kResume);
  static constexpr Operation kPromote{ops::kRolloutPromote, Mode::kRequest, buildName, render};
  sub("promote", "Skip the remaining gates: every node takes the new revision now",
      "  pharosctl rollout promote web\n", kPromote);
  static constexpr Operation kAbort{ops::kRolloutAbort, Mode::kRequest, buildName, render};
  sub("abort", "Stop the rollout: every node returns to the previous revision",
      "  pharosctl rollout abort web\n", kAbort);
}

}  // namespace

void appCommands(CommandTree& tree, ParsedValues& v) {
  deployCommand(tree, v);
  listCommand(tree, v);
  CLI::App* app =
      command(tree.app.get(), "app", "Show, start, stop, restart, roll back or remove an app", "");
  app->require_subcommand(1);
  nameCommands(tree, app, v);
  rolloutCommands(tree, v);
}

}  // namespace pharos::cli
