// The root of pharosctl's CLI11 command tree, its global options and man-style help, and
// the helpers the command files declare their rows with (see command_tree.h).
#include "command_tree.h"

#include <CLI/CLI.hpp>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/render.h"

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

CLI::App* deepest(CLI::App& app) {
  CLI::App* cur = &app;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
  }
}

}  // namespace

namespace declare {

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

CLI::App* leaf(CommandTree& tree, CLI::App* parent, const std::string& name,
               const std::string& description, const std::string& examples, const Operation& row) {
  CLI::App* sub = command(parent, name, description, examples);
  tree.rows[sub] = &row;
  return sub;
}

void repeatable(CLI::App* app, const std::string& flags, std::vector<std::string>& into,
                const std::string& help) {
  app->add_option(flags, into, help)->allow_extra_args(false)->expected(1)->take_all();
}

void listPaging(CLI::App* app, ParsedValues& v) {
  app->add_option("--limit", v.limit, "At most N results (one page; default: all pages)")
      ->check(CLI::Range(1, 1000));
  app->add_option("--cursor", v.cursor, "Continue a paged listing (from the previous result)");
}

void waitFlags(CLI::App* app, ParsedValues& v) {
  app->add_flag("--wait", v.wait,
                "Follow the rollout until every Ready target runs the new revision (exit 0), "
                "one fails (exit 4) or --timeout passes (exit 4)");
  app->add_option("--timeout", v.timeout, "Give up waiting after this long (default 5m)");
}

}  // namespace declare

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

  nodeCommands(tree, v);
  groupCommands(tree, v);
  appCommands(tree, v);
  registryCommands(tree, v);
  otherCommands(tree, v);
  return tree;
}

const Operation* parsedRow(const CommandTree& tree) {
  auto it = tree.rows.find(deepest(*tree.app));
  return it == tree.rows.end() ? nullptr : it->second;
}

std::string currentCommandPath(CLI::App& app) {
  std::string out;
  for (CLI::App* cur = deepest(app); cur != &app; cur = cur->get_parent()) {
    out = out.empty() ? cur->get_name() : cur->get_name() + " " + out;
  }
  return out;
}

std::string renderDone(std::string_view operation, const Json& request, const Json& result,
                       const Style& style) {
  ParsedValues values;
  CommandTree tree = buildCommandTree(values);
  for (const auto& [app, row] : tree.rows) {
    if (row->operation == operation) return row->render(request, result, style);
  }
  return paint(style, Color::kGreen, "ok") + "\n";
}

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
