// The command line of pharosctl: parses argv into an Invocation (which API operation or
// agent command with which request body, how to print, whether to wait, watch or follow)
// without any I/O beyond the injected file/stdin readers. Every request body is built with
// the api.h encoders and checked with the same decoder the anchor runs (validateRequest),
// so a bad identifier or variable name fails here with exit code 2. Which operation a
// command sends, how its request is built and how its result is printed is one row per
// command in the operation table (src/command_tree.h). CLI11's exceptions stop in this
// adapter. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/settings.h"
#include "cli/table.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::cli {

enum class OutputFormat { kTable, kJson };

enum class Mode {
  kRequest,       // one API request (operation + body), result rendered
  kAgentCommand,  // nodes/{node}/cmd/{operation}/{user} (logs, inspect), answered by the agent
  kWatchNodes,    // nodes ls --watch: retained nodes/+/health, changes as they happen
  kFollowEvents,  // events --follow: the query, then nodes/+/events live
  kFollowLogs,    // logs --follow: a log stream of the agent until Ctrl-C (follow_logs.cpp)
  kExit,          // help or version: print `text`, exit with `exit_code`
};

// Prints a result as text (tables, confirmations): the request body that was sent and the
// decoded result in, the text out. Each command's row names its renderer.
using RenderFn = std::string (*)(const Json& request, const Json& result, const Style& style);

struct Invocation {
  Mode mode = Mode::kRequest;
  std::string operation;  // "node.list", ... or the agent command ("logs")
  Json body = Json::object();
  RenderFn render = nullptr;  // the command's renderer (without -o json)
  std::string node;           // kAgentCommand: the node that answers
  OutputFormat output = OutputFormat::kTable;
  bool color_allowed = true;  // false with --no-color
  // List operations without --cursor/--limit follow result.next and merge the pages.
  bool paginate = false;
  // node add -o FILE: write the agent configuration there.
  std::string agent_config_out;
  // deploy/rollback --wait.
  bool wait = false;
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(5)};
  // deploy -f FILE: shown in compose error positions ("app.yml:3:5").
  std::string source_name;
  // events --follow filters (the query body holds the same ones).
  std::string follow_node, follow_app, follow_kind;
  bool follow_timestamps = false;  // logs -f -t
  // Connection flags and --config.
  SettingsLayer connection;
  std::optional<std::string> config_path;
  // kExit
  std::string text;
  int exit_code = 0;
};

struct ParseInputs {
  FileReader read_file;                             // deploy -f, --password-file
  std::function<Result<std::string>()> read_stdin;  // -f -, --password-stdin
  int64_t now_ms = 0;                               // for --since 10m
};

// Parses the arguments after argv[0]. A usage error is an invalid_argument Status whose
// message is ready to print (exit code 2); --help/--version give Mode::kExit.
Result<Invocation> parseCommandLine(const std::vector<std::string>& args,
                                    const ParseInputs& inputs);

// --since: a duration back from now ("10m", "2h"), Unix milliseconds, or an ISO 8601 UTC
// time ("2026-11-25T10:00:00Z", "2026-11-25 10:00").
Result<int64_t> parseSince(const std::string& text, int64_t now_ms);

// "k=v" -> (k, v); "k" alone is invalid_argument naming `what`.
Result<std::pair<std::string, std::string>> parseAssignment(const std::string& text,
                                                            const char* what);

// The app name deploy uses without --name: compose's top-level `name:`, else the name of
// the directory holding the file ("examples/hello/compose.yml" -> "hello"), lower-cased,
// characters outside [a-z0-9_-] dropped.
std::string defaultAppName(const std::string& compose_text, const std::string& file_path);

}  // namespace pharos::cli
