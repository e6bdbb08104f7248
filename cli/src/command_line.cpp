// pharosctl's command line on CLI11 (see command_line.h). The tree, its help texts and the
// row of every command are declared in command_tree.cpp and the *_commands.cpp files; this
// file runs the parse and turns the parsed command's row and values into an Invocation.
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

// Builds the Invocation of the parsed command with its row, then what every command shares:
// the request checked with the anchor's decoder, output, --wait, connection.
Result<Invocation> build(const Operation& row, const ParsedValues& v, const ParseInputs& in) {
  Invocation inv;
  inv.operation = std::string(row.operation);
  inv.mode = row.mode;
  inv.render = row.render;
  Status built = row.build(v, in, inv);
  if (!built.isOk()) return built;
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
  const Operation* row = parsedRow(tree);
  collectConnection(app, values);
  if (row == nullptr) {
    return usage("no command given. Run 'pharosctl --help' for the list of commands.");
  }
  return build(*row, values, inputs);
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
