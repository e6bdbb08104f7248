// The app commands of pharosctl, one row each (command_tree.h): `deploy`, `apps ls` and
// `app get|start|stop|restart|history|rm|rollback`, each with its flags, request builder
// and renderer.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/render.h"
#include "command_tree.h"
#include "pharos/api.h"

namespace pharos::cli {
namespace {

using declare::command;
using declare::leaf;
using declare::repeatable;

std::string appName(const Json& request) { return field::str(request, "name", ""); }

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
        inv.body = encode(r);
        inv.source_name = v.file == "-" ? "<stdin>" : v.file;
        return Status::ok();
      },
      [](const Json& req, const Json& result, const Style& style) {
        std::string rev = field::str(result, "revision", "");
        return done(style, fmt::format("app {} deployed to {} (revision {})", appName(req),
                                       field::target(req), rev.empty() ? "?" : rev));
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
      "  cat app.yml | pharosctl deploy -f - --group line1 --name web\n",
      kDeploy);
  deploy->add_option("-f,--file", v.file, "Compose file ('-' reads standard input)")->required();
  deploy->add_option("--node", v.node, "Target node");
  deploy->add_option("--group", v.group, "Target group");
  deploy->add_option("--name", v.name,
                     "App name (default: the file's top-level 'name:', else its directory name)");
  repeatable(deploy, "--var", v.vars, "Variable NAME=VALUE for ${NAME} (repeatable)");
  repeatable(deploy, "--secret", v.secrets, "Secret variable NAME=VALUE (repeatable)");
  declare::waitFlags(deploy, v);
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
        inv.body = encode(AppRemoveRequest{v.name, v.delete_volumes ? "delete" : "keep"});
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
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(AppRollbackRequest{v.name, v.revision});
        return Status::ok();
      },
      [](const Json& req, const Json& result, const Style& style) {
        std::string rev = field::str(result, "revision", "");
        return done(style, fmt::format("app {} rolled back to revision {}{}", appName(req),
                                       field::str(req, "revision"),
                                       rev.empty() ? "" : " (new revision " + rev + ")"));
      }};
  CLI::App* rollback = simple(
      "rollback", "Deploy an earlier revision again (as a new revision)",
      "  pharosctl app history web\n  pharosctl app rollback web --to 3 --wait\n", kRollback);
  rollback->add_option("--to", v.revision, "The revision to go back to")
      ->required()
      ->check(CLI::PositiveNumber);
  declare::waitFlags(rollback, v);
}

}  // namespace

void appCommands(CommandTree& tree, ParsedValues& v) {
  deployCommand(tree, v);
  listCommand(tree, v);
  CLI::App* app =
      command(tree.app.get(), "app", "Show, start, stop, restart, roll back or remove an app", "");
  app->require_subcommand(1);
  nameCommands(tree, app, v);
}

}  // namespace pharos::cli
