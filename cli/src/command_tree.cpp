// The CLI11 command tree of pharosctl and its man-style help: every command says what it
// does and shows examples (see command_tree.h).
#include "command_tree.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "cli/exit_codes.h"

namespace pharos::cli {
namespace {

constexpr const char* kRootHelp =
    "pharosctl manages a Pharos fleet from a shell: edge nodes, groups of nodes, and the\n"
    "docker-compose apps deployed to them. Every command is one request to pharos-anchor\n"
    "over the MQTT broker (topic pharos/v1/api/{user}/{operation}); the answer comes back\n"
    "on pharos/v1/replies/{user}/pharosctl-<random> (logs and inspect: an agent's answer on\n"
    "pharos/v1/nodes/{node}/cmd-replies/{user}/pharosctl-<random>).";

constexpr const char* kRootFooter =
    "\nConnection (flags > environment > config file > defaults):\n"
    "  --broker-url URL      PHAROS_BROKER_URL broker_url = URL   (default tcp://127.0.0.1:1883)\n"
    "  --username NAME       PHAROS_USERNAME   username = NAME\n"
    "  --password PW         PHAROS_PASSWORD   password = PW\n"
    "  --password-file F     PHAROS_PASSWORD_FILE  password_file = F\n"
    "  --tls-ca F            PHAROS_TLS_CA     tls_ca = F         (TLS: ssl:// or mqtts:// URLs)\n"
    "  --tls-cert F, --tls-key F  PHAROS_TLS_CERT, PHAROS_TLS_KEY  tls_cert, tls_key\n"
    "  --request-timeout D   PHAROS_REQUEST_TIMEOUT  request_timeout = D  (default 10s)\n"
    "  (older spellings --broker, --user, --ca-file and their keys still work)\n"
    "  --config F            PHAROS_CONFIG     (default ~/.config/pharos/pharosctl.conf)\n"
    "\nOutput: aligned tables (coloured on a terminal unless NO_COLOR is set); -o json prints\n"
    "the anchor's raw result.\n\n"
    "Examples:\n"
    "  pharosctl nodes ls --health NotReady\n"
    "  pharosctl group create line1 && pharosctl group add line1 press-01 press-02\n"
    "  pharosctl deploy -f examples/hello/compose.yml --group line1 --wait\n"
    "  pharosctl app get hello -o json\n"
    "  pharosctl events --app hello --since 1h\n\n"
    "Run 'pharosctl COMMAND --help' for the options of a command. Docs: docs/cli.md.\n\n";

// Man-style help: the description wrapped at 92 columns; subcommand lists show only the
// first sentence of each description.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_description(const CLI::App* app) const override {
    std::string text = app->get_description();
    if (text.empty()) return "";
    return wrap(text, 92) + "\n";
  }
  std::string make_subcommand(const CLI::App* sub) const override {
    std::string text = sub->get_description();
    auto end = text.find(". ");
    auto nl = text.find('\n');
    if (nl < end) end = nl;
    if (end != std::string::npos) text = text.substr(0, end);
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true), text, column_width_);
    return out.str();
  }

 private:
  static std::string wrap(const std::string& text, size_t width) {
    std::string out;
    std::string line;
    std::istringstream paragraphs(text);
    std::string para;
    while (std::getline(paragraphs, para)) {
      if (para.empty()) {
        out += "\n";
        continue;
      }
      std::istringstream words(para);
      std::string word;
      line.clear();
      while (words >> word) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
          out += line + "\n";
          line.clear();
        }
        if (!line.empty()) line += ' ';
        line += word;
      }
      out += line + "\n";
    }
    return out;
  }
};

CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description,
                  const std::string& examples) {
  CLI::App* sub = parent->add_subcommand(name, description);
  std::string footer;
  if (!examples.empty()) footer = "\nExamples:\n" + examples;
  footer +=
      "\nExit codes: 0 ok, 1 other error, 2 usage, 3 not found, 4 rollout failed or timed "
      "out,\n5 broker unreachable or no answer, 6 login refused or permission denied.\n";
  sub->footer(footer);
  return sub;
}

// A repeatable option that takes exactly one value per occurrence.
CLI::Option* repeatable(CLI::App* app, const std::string& flags, std::vector<std::string>& into,
                        const std::string& help) {
  return app->add_option(flags, into, help)->allow_extra_args(false)->expected(1)->take_all();
}

void addListPaging(CLI::App* app, ParsedValues& v) {
  app->add_option("--limit", v.limit, "At most N results (one page; default: all pages)")
      ->check(CLI::Range(1, 1000));
  app->add_option("--cursor", v.cursor, "Continue a paged listing (from the previous result)");
}

void addWait(CLI::App* app, ParsedValues& v) {
  app->add_flag("--wait", v.wait,
                "Follow the rollout until every Ready target runs the new revision (exit 0), "
                "one fails (exit 4) or --timeout passes (exit 4)");
  app->add_option("--timeout", v.timeout, "Give up waiting after this long (default 5m)");
}

void nodeCommands(CLI::App& root, ParsedValues& v) {
  CLI::App* nodes = command(&root, "nodes", "List nodes (same as 'nodes ls')", "");
  nodes->require_subcommand(0, 1);
  CLI::App* ls =
      command(nodes, "ls",
              "List the nodes and their health as the anchor sees it (Ready, NotReady, "
              "Unreachable, Pending).",
              "  pharosctl nodes ls\n"
              "  pharosctl nodes ls --label site=north --group line1\n"
              "  pharosctl nodes ls --health NotReady -o json\n"
              "  pharosctl nodes ls --watch        # print health changes as they happen\n");
  ls->alias("list");
  ls->add_option("--label", v.label_filter, "Only nodes with this label: KEY or KEY=VALUE");
  ls->add_option("--group", v.group, "Only members of this group (directly or nested)");
  ls->add_option("--health", v.health, "Only nodes in this health state")
      ->check(CLI::IsMember({"Ready", "NotReady", "Unreachable", "Pending"}));
  ls->add_flag("-w,--watch", v.watch,
               "After the list, keep printing health changes (retained nodes/+/health) until "
               "interrupted");
  addListPaging(ls, v);

  CLI::App* node = command(&root, "node", "Show, enrol, remove, approve and label one node", "");
  node->require_subcommand(1);
  CLI::App* get = command(node, "get", "Show one node: health, labels, groups, device facts, apps",
                          "  pharosctl node get press-01\n  pharosctl node get press-01 -o json\n");
  get->add_option("node", v.name, "Node name")->required();

  CLI::App* add =
      command(node, "add",
              "Enrol a device: creates its broker identity and prints the agent configuration to "
              "install on it (or writes it to a file with -o FILE).",
              "  pharosctl node add press-07 --label line=1 --label site=north\n"
              "  pharosctl node add press-07 -o press-07.conf   # then copy it to the device\n");
  add->add_option("node", v.name, "Node name ([a-z0-9][a-z0-9_.-]*)")->required();
  repeatable(add, "-l,--label", v.labels, "Label KEY=VALUE (repeatable)");
  add->add_option("-o,--output", v.add_output,
                  "FILE: write the agent configuration to FILE; 'json': print the raw result");

  CLI::App* rm = command(node, "rm",
                         "Remove a node from management: revokes its broker identity and clears "
                         "its topics. With --purge, its apps are removed first (the agent reports "
                         "them gone).",
                         "  pharosctl node rm press-07\n  pharosctl node rm press-07 --purge\n");
  rm->alias("remove");
  rm->add_option("node", v.name, "Node name")->required();
  rm->add_flag("--purge", v.purge, "Remove the node's apps (containers) first");

  CLI::App* approve =
      command(node, "approve", "Approve a Pending node (when the anchor does not auto-accept)",
              "  pharosctl node approve press-07\n");
  approve->add_option("node", v.name, "Node name")->required();

  CLI::App* rekey =
      command(node, "rekey",
              "Set the public key the node's secrets are sealed to: accept the new key its agent "
              "announced (--key-id, as the agent logs it), or give one (--public-key, from "
              "`pharos-agent --print-public-key` on the device)",
              "  pharosctl node rekey press-07 --key-id 3f9a0c1d2e4b5a68\n"
              "  pharosctl node rekey press-07 --public-key \"$(cat press-07.pub)\"\n");
  rekey->add_option("node", v.name, "Node name")->required();
  auto* key_id = rekey->add_option("--key-id", v.key_id, "Id of the key the node announced");
  auto* public_key = rekey->add_option("--public-key", v.public_key, "Public key (base64)");
  key_id->excludes(public_key);

  CLI::App* label =
      command(node, "label", "Set or remove labels of a node. Apps see them as PHAROS_LABEL_<KEY>.",
              "  pharosctl node label press-01 site=north line=1\n"
              "  pharosctl node label press-01 --rm line\n"
              "  pharosctl node label press-01 line-     # same as --rm line\n");
  label->add_option("node", v.name, "Node name")->required();
  label->add_option("labels", v.items, "KEY=VALUE to set, KEY- to remove");
  repeatable(label, "--rm", v.remove_labels, "Remove the label KEY (repeatable)");
}

void groupCommands(CLI::App& root, ParsedValues& v) {
  CLI::App* groups = command(&root, "groups", "List groups (same as 'groups ls')", "");
  groups->require_subcommand(0, 1);
  CLI::App* ls = command(groups, "ls", "List the groups with their parent and member counts",
                         "  pharosctl groups ls\n  pharosctl groups ls -o json\n");
  ls->alias("list");
  addListPaging(ls, v);

  CLI::App* group =
      command(&root, "group", "Create, show, delete groups and change their members", "");
  group->require_subcommand(1);
  CLI::App* create = command(group, "create",
                             "Create a group, optionally nested in a parent group (members of "
                             "the child get the parent's apps too).",
                             "  pharosctl group create site-north\n"
                             "  pharosctl group create line1 --parent site-north\n");
  create->add_option("group", v.name, "Group name")->required();
  create->add_option("--parent", v.parent, "Parent group");

  CLI::App* rm = command(group, "rm",
                         "Delete a group. Refused while apps target it, unless --force (which "
                         "removes them).",
                         "  pharosctl group rm line1\n  pharosctl group rm line1 --force\n");
  rm->alias("delete");
  rm->add_option("group", v.name, "Group name")->required();
  rm->add_flag("--force", v.force, "Delete even when apps target the group");

  CLI::App* get = command(group, "get",
                          "Show a group: its ancestors, nodes and apps, and the whole tree below "
                          "it (nested groups with their nodes and apps), drawn like tree(1)",
                          "  pharosctl group get site-north\n"
                          "  pharosctl group get site-north --depth 2\n"
                          "  pharosctl group get site-north -o json\n");
  get->add_option("group", v.name, "Group name")->required();
  get->add_option("--depth", v.depth,
                  "Levels of nested groups to show (1-16, default 8; the anchor also stops "
                  "after 2000 groups and nodes and marks what it left out)")
      ->check(CLI::Range(1, 16));

  CLI::App* add = command(group, "add", "Add nodes (and nested groups with --group) to a group",
                          "  pharosctl group add line1 press-01 press-02\n"
                          "  pharosctl group add site-north --group line1\n");
  add->add_option("group", v.name, "Group name")->required();
  add->add_option("nodes", v.items, "Nodes to add");
  repeatable(add, "-g,--group", v.member_groups, "A group to nest (repeatable)");

  CLI::App* remove =
      command(group, "remove", "Remove nodes (and nested groups with --group) from a group",
              "  pharosctl group remove line1 press-02\n"
              "  pharosctl group remove site-north --group line1\n");
  remove->add_option("group", v.name, "Group name")->required();
  remove->add_option("nodes", v.items, "Nodes to remove");
  repeatable(remove, "-g,--group", v.member_groups, "A nested group to remove (repeatable)");
}

// A staged rollout's strategy on deploy and rollback (docs/rollouts.md).
void addStrategy(CLI::App* cmd, ParsedValues& v) {
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

void rolloutCommands(CLI::App& root, ParsedValues& v) {
  CLI::App* rollout = command(&root, "rollout",
                              "Pause, resume, promote or abort an app's staged rollout "
                              "(deploy --waves ...)",
                              "");
  rollout->require_subcommand(1);
  auto sub = [&](const char* name, const char* what, const char* example) {
    CLI::App* c = command(rollout, name, what, example);
    c->add_option("app", v.name, "App name")->required();
  };
  sub("pause", "Hold the rollout: no further wave starts until 'rollout resume'",
      "  pharosctl rollout pause web\n");
  sub("resume", "Continue a paused rollout: the current wave's gate is judged afresh",
      "  pharosctl rollout resume web\n");
  sub("promote", "Skip the remaining gates: every node takes the new revision now",
      "  pharosctl rollout promote web\n");
  sub("abort", "Stop the rollout: every node returns to the previous revision",
      "  pharosctl rollout abort web\n");
}

void appCommands(CLI::App& root, ParsedValues& v) {
  CLI::App* deploy = command(
      &root, "deploy",
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
      "      --on-failure rollback --window 'Mon-Fri 22:00-06:00' --wait\n");
  deploy->add_option("-f,--file", v.file, "Compose file ('-' reads standard input)")->required();
  deploy->add_option("--node", v.node, "Target node");
  deploy->add_option("--group", v.group, "Target group");
  deploy->add_option("--name", v.name,
                     "App name (default: the file's top-level 'name:', else its directory name)");
  repeatable(deploy, "--var", v.vars, "Variable NAME=VALUE for ${NAME} (repeatable)");
  repeatable(deploy, "--secret", v.secrets, "Secret variable NAME=VALUE (repeatable)");
  addWait(deploy, v);
  addStrategy(deploy, v);

  CLI::App* apps = command(&root, "apps", "List apps (same as 'apps ls')", "");
  apps->require_subcommand(0, 1);
  CLI::App* ls = command(apps, "ls", "List the apps with their target, revision and rollout",
                         "  pharosctl apps ls\n");
  ls->alias("list");
  addListPaging(ls, v);

  CLI::App* app =
      command(&root, "app", "Show, start, stop, restart, roll back or remove an app", "");
  app->require_subcommand(1);
  auto simple = [&](const char* name, const char* what, const char* example) {
    CLI::App* c = command(app, name, what, example);
    c->add_option("app", v.name, "App name")->required();
    return c;
  };
  simple("get", "Show an app: target, revision, rollout summary and the status on every node",
         "  pharosctl app get web\n  pharosctl app get web -o json\n");
  simple("start", "Start a stopped app on all its targets", "  pharosctl app start web\n");
  simple("stop", "Stop an app's containers on all its targets (they stay stopped across reboots)",
         "  pharosctl app stop web\n");
  simple("restart", "Restart every container of an app on all its targets",
         "  pharosctl app restart web\n");
  simple("history", "List an app's revisions (what was deployed, when, by whom)",
         "  pharosctl app history web\n");
  CLI::App* rm = simple("rm",
                        "Remove an app from its targets. Named volumes are kept unless "
                        "--delete-volumes.",
                        "  pharosctl app rm web\n  pharosctl app rm web --delete-volumes\n");
  rm->alias("remove");
  rm->add_flag("--delete-volumes", v.delete_volumes, "Also delete the app's named volumes");
  CLI::App* rollback =
      simple("rollback", "Deploy an earlier revision again (as a new revision)",
             "  pharosctl app history web\n  pharosctl app rollback web --to 3 --wait\n");
  rollback->add_option("--to", v.revision, "The revision to go back to")
      ->required()
      ->check(CLI::PositiveNumber);
  addWait(rollback, v);
  addStrategy(rollback, v);
  rolloutCommands(root, v);
}

void otherCommands(CLI::App& root, ParsedValues& v) {
  CLI::App* registry = command(&root, "registry", "Container registry credentials for nodes", "");
  registry->require_subcommand(1);
  CLI::App* set = command(
      registry, "set",
      "Set the credentials a node or group uses to pull from a private registry. They go only "
      "to the target nodes (pharos/v1/nodes/{node}/secrets), never to group documents or logs.",
      "  echo \"$PW\" | pharosctl registry set registry.local:5000 --user puller "
      "--password-stdin --group line1\n");
  set->add_option("host", v.name, "Registry host[:port]")->required();
  set->add_option("-u,--user,--username", v.registry_user, "Registry user name")->required();
  set->add_flag("--password-stdin", v.password_stdin, "Read the registry password from stdin");
  set->add_option("--node", v.node, "Target node");
  set->add_option("--group", v.group, "Target group");

  CLI::App* events =
      command(&root, "events",
              "Show recorded events (container died/restarted, image pulled, app applied/failed, "
              "health changes...), oldest first; --follow keeps printing new agent events.",
              "  pharosctl events --since 1h\n"
              "  pharosctl events --node press-01 --kind container_died --limit 20\n"
              "  pharosctl events --app web --follow\n");
  events->add_option("--node", v.node, "Only this node");
  events->add_option("--app", v.app, "Only this app");
  events->add_option("--kind", v.kind, "Only this kind (container_died, app_failed, ...)");
  events->add_option("--since", v.since,
                     "Only newer events: 10m, 2h, Unix ms or 2026-11-25T10:00:00Z");
  events->add_option("--limit", v.limit, "At most N events (default 100)")
      ->check(CLI::Range(1, 1000));
  events->add_flag("-f,--follow", v.follow, "Keep printing new events until interrupted");

  CLI::App* logs = command(&root, "logs",
                           "Print the last lines of a service's logs, answered by the node's "
                           "agent (pharos/v1/nodes/{node}/cmd/logs/{user}).",
                           "  pharosctl logs press-01 web nginx --tail 50\n"
                           "  pharosctl logs press-01 web nginx --since 10m\n"
                           "  pharosctl logs -f press-01 web nginx    (until Ctrl-C)\n");
  logs->add_option("node", v.name, "Node name")->required();
  logs->add_option("app", v.app, "App name")->required();
  logs->add_option("service", v.service, "Service name")->required();
  logs->add_option("--tail", v.tail, "Number of lines (default 100)")->check(CLI::Range(1, 10000));
  logs->add_option("--since", v.since, "Only lines since: 10m, 2h, Unix ms or an ISO time");
  logs->add_flag(
      "-f,--follow", v.follow,
      "Keep printing new lines until Ctrl-C (or the agent's limits: 10000 lines, 10 min)");
  logs->add_flag("-t,--timestamps", v.timestamps, "With --follow: print each line's time");

  CLI::App* inspect =
      command(&root, "inspect",
              "Show the managed containers of an app on one node, answered by the "
              "node's agent (pharos/v1/nodes/{node}/cmd/inspect/{user}); JSON output.",
              "  pharosctl inspect press-01 web\n"
              "  pharosctl inspect press-01 web nginx\n");
  inspect->add_option("node", v.name, "Node name")->required();
  inspect->add_option("app", v.app, "App name")->required();
  inspect->add_option("service", v.service, "Service name (default: all)");
}

std::string path(CLI::App& app, bool leaf_default) {
  std::string out;
  CLI::App* cur = &app;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
    if (!out.empty()) out += ' ';
    out += cur->get_name();
  }
  if (leaf_default && (out == "nodes" || out == "groups" || out == "apps")) out += " ls";
  return out;
}

}  // namespace

CommandTree buildCommandTree(ParsedValues& v) {
  CommandTree tree;
  tree.app = std::make_unique<CLI::App>(kRootHelp, "pharosctl");
  CLI::App& root = *tree.app;
  root.formatter(std::make_shared<HelpFormatter>());
  root.footer(std::string(kRootFooter) + exitCodeHelp());
  root.fallthrough();
  root.require_subcommand(0, 1);
  root.set_version_flag("--version", "pharosctl 0.1.0");
  root.get_formatter()->column_width(32);

  const char* conn = "Connection";
  root.add_option("--broker-url,--broker", v.broker,
                  "Broker URL (tcp://, ssl://, mqtts://, ws://, wss://)")
      ->group(conn);
  root.add_option("--username,--user", v.user, "Broker user name (the API topic's {user})")
      ->group(conn);
  root.add_option("--password", v.password, "Broker password")->group(conn);
  root.add_option("--password-file", v.password_file, "Read the broker password from a file")
      ->group(conn);
  root.add_option("--tls-ca,--ca-file", v.ca_file, "CA certificate to verify a TLS broker")
      ->group(conn);
  root.add_option("--tls-cert", v.tls_cert, "Client certificate (TLS, with --tls-key)")
      ->group(conn);
  root.add_option("--tls-key", v.tls_key, "Client key (TLS)")->group(conn);
  root.add_flag("--tls-insecure", v.tls_insecure, "Skip the broker hostname check (tests only)")
      ->group(conn);
  root.add_option("--request-timeout", v.request_timeout,
                  "How long to wait for an answer (default 10s)")
      ->group(conn);
  root.add_option("--config", v.config, "Config file (default ~/.config/pharos/pharosctl.conf)")
      ->group(conn);
  root.add_option("-o,--output", v.output, "Output format: table (default) or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->group("Output");
  root.add_flag("--no-color", v.no_color, "Never colour the output (also: NO_COLOR=1)")
      ->group("Output");

  nodeCommands(root, v);
  groupCommands(root, v);
  appCommands(root, v);
  otherCommands(root, v);
  return tree;
}

std::string leafPath(CLI::App& app) { return path(app, true); }
std::string currentCommandPath(CLI::App& app) { return path(app, false); }

void collectConnection(CLI::App& app, ParsedValues& v) {
  auto given = [&](const char* name, const std::string& value) -> std::optional<std::string> {
    if (app.get_option(name)->count() == 0) return std::nullopt;
    return value;
  };
  v.connection.broker = given("--broker-url", v.broker);
  v.connection.user = given("--username", v.user);
  v.connection.password = given("--password", v.password);
  v.connection.password_file = given("--password-file", v.password_file);
  v.connection.ca_file = given("--tls-ca", v.ca_file);
  v.connection.tls_cert = given("--tls-cert", v.tls_cert);
  v.connection.tls_key = given("--tls-key", v.tls_key);
  if (v.tls_insecure) v.connection.tls_insecure = true;
  v.connection.request_timeout = given("--request-timeout", v.request_timeout);
}

}  // namespace pharos::cli
