// Private to pharosctl_lib: the CLI11 command tree with its help texts, bound to one
// ParsedValues. Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/settings.h"

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
  std::string node, group, health, label_filter, kind, since, cursor;
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

struct CommandTree {
  std::unique_ptr<CLI::App> app;
  std::string leaf;  // "node get", "deploy", ... after parsing
};

CommandTree buildCommandTree(ParsedValues& values);
// "node get" etc. for the deepest parsed subcommand ("nodes" alone -> "nodes ls").
std::string leafPath(CLI::App& app);
// The deepest parsed subcommand's path, for error hints ("node add").
std::string currentCommandPath(CLI::App& app);
// Copies the connection options that were given on the command line into
// values.connection (options not given stay unset so env and file can fill them).
void collectConnection(CLI::App& app, ParsedValues& values);

}  // namespace pharos::cli
