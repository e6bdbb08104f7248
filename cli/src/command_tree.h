// Private to pharosctl_lib: the CLI11 command tree with its help texts, bound to one
// ParsedValues, and the operation table of pharosctl. Every leaf command is one row,
// declared where its flags are declared (node_commands.cpp, group_commands.cpp,
// app_commands.cpp, other_commands.cpp): the API operation it sends (an `ops::` constant,
// or an agent command), the builder that turns the parsed values into the request, and the
// renderer that prints the result as text. Adding an operation adds one row here and
// nothing elsewhere in the CLI. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line.h"
#include "cli/settings.h"
#include "cli/table.h"
#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace CLI {
class App;
}

namespace pharos::cli {

// Every value any command can take; the leaf command decides which ones it reads.
struct ParsedValues {
  // Positionals.
  std::string name;  // node / group / app / registry host
  std::vector<std::string> items;
  std::string app, service;
  // Common filters and targets.
  std::string node, group, health, label_filter, kind, since, until, cursor;
  int limit = 0;
  int depth = 0;  // group get --depth (0 = the anchor's default)
  bool watch = false, follow = false;
  std::vector<std::string> labels, remove_labels, member_groups, vars, secrets;
  std::string parent;
  bool force = false, purge = false, delete_volumes = false;
  std::string file;
  bool wait = false;
  std::string timeout;
  int64_t revision = 0;
  std::string registry_user, registry_password;
  std::string key_id, public_key;  // node rekey
  bool password_stdin = false;
  int tail = 0;
  int step = 0;  // metrics --step (seconds)
  // deploy / app rollback: a staged rollout's strategy (docs/rollouts.md).
  std::string waves, soak, gate_timeout, on_failure, window, strategy_file;
  int max_failed = -1;
  bool timestamps = false;  // logs -f -t
  // Global.
  std::string output, add_output, config;
  bool no_color = false;
  SettingsLayer connection;
  std::string broker, user, password, password_file, ca_file, tls_cert, tls_key, request_timeout;
  bool tls_insecure = false;
};

// Fills inv.body (and the command's own Invocation fields, such as a mode or the node an
// agent command goes to) from the parsed values; a usage error is invalid_argument.
// inv.operation and inv.render are already set from the row.
using BuildFn = Status (*)(const ParsedValues& values, const ParseInputs& inputs, Invocation& inv);

// One row of the operation table.
struct Operation {
  std::string_view operation;  // ops::kX, or the agent command ("logs")
  Mode mode = Mode::kRequest;  // kRequest, or kAgentCommand
  BuildFn build = nullptr;
  RenderFn render = nullptr;
};

struct CommandTree {
  std::unique_ptr<CLI::App> app;
  // The row of every leaf command (and of "nodes"/"groups"/"apps" alone, which list).
  std::map<const CLI::App*, const Operation*> rows;
  const Operation* leaf = nullptr;  // the parsed command's row, after parsing
};

CommandTree buildCommandTree(ParsedValues& values);
// The row of the deepest parsed subcommand, or null when no command was given.
const Operation* parsedRow(const CommandTree& tree);
// The deepest parsed subcommand's path, for error hints ("node add").
std::string currentCommandPath(CLI::App& app);
// Copies the connection options that were given on the command line into
// values.connection (options not given stay unset so env and file can fill them).
void collectConnection(CLI::App& app, ParsedValues& values);

// Helpers for the files that declare the commands.
namespace declare {

// A subcommand with its description and man-style examples footer.
CLI::App* command(CLI::App* parent, const std::string& name, const std::string& description,
                  const std::string& examples);
// A leaf subcommand and its row.
CLI::App* leaf(CommandTree& tree, CLI::App* parent, const std::string& name,
               const std::string& description, const std::string& examples, const Operation& row);
// A repeatable option that takes exactly one value per occurrence.
void repeatable(CLI::App* app, const std::string& flags, std::vector<std::string>& into,
                const std::string& help);
// --limit and --cursor of a paged listing.
void listPaging(CLI::App* app, ParsedValues& v);
// --wait and --timeout of a change that starts a rollout.
void waitFlags(CLI::App* app, ParsedValues& v);

}  // namespace declare

// The command groups (one file each).
void nodeCommands(CommandTree& tree, ParsedValues& v);
void groupCommands(CommandTree& tree, ParsedValues& v);
void appCommands(CommandTree& tree, ParsedValues& v);
void registryCommands(CommandTree& tree, ParsedValues& v);
void otherCommands(CommandTree& tree, ParsedValues& v);

// Helpers for builders and renderers (command_support.cpp).
Status usage(std::string message);
// The builder of the commands whose request is NameRequest{name}.
Status buildName(const ParsedValues& v, const ParseInputs& inputs, Invocation& inv);
// The builder of a paged listing without filters (ListRequest; all pages unless --limit or
// --cursor).
Status buildList(const ParsedValues& v, const ParseInputs& inputs, Invocation& inv);
Result<std::map<std::string, std::string>> assignments(const std::vector<std::string>& items,
                                                       const char* what);
// --node N or --group G, exactly one.
Result<Target> target(const ParsedValues& v);
// A file, or standard input for "-".
Result<std::string> readInput(const ParseInputs& in, const std::string& path);
// "ok: <what>\n", "ok" painted green.
std::string done(const Style& style, const std::string& what);
// A RenderFn from a renderer that needs only the result (render.h).
template <std::string (*Render)(const Json&, const Style&)>
std::string resultOnly(const Json& /*request*/, const Json& result, const Style& style) {
  return Render(result, style);
}

}  // namespace pharos::cli
