// `pharosctl registry set|ls|rm` (command_tree.h): the credentials nodes pull private images
// with (registry.set, registry.list, registry.remove). A password goes in on stdin and is
// never printed: the listing shows hosts and usernames only.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/render.h"
#include "cli/table.h"
#include "command_tree.h"
#include "pharos/api.h"

namespace pharos::cli {
namespace {

using declare::command;
using declare::leaf;

// "ok: credentials for registry H <what> node/x".
std::string doneWith(const Style& style, const Json& req, const char* what) {
  return done(style, fmt::format("credentials for registry {} {} {}", field::str(req, "host"), what,
                                 field::target(req)));
}

// Sets `request.target` from --node / --group and the request body from `request`.
template <typename Request>
Status encodeWithTarget(const ParsedValues& v, Request& request, Invocation& inv) {
  auto t = target(v);
  if (!t) return t.status();
  request.target = *t;
  inv.body = encode(request);
  return Status::ok();
}

void setCommand(CommandTree& tree, CLI::App* registry, ParsedValues& v) {
  static constexpr Operation kSet{
      ops::kRegistrySet, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs& in, Invocation& inv) {
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
        return encodeWithTarget(v, r, inv);
      },
      [](const Json& req, const Json&, const Style& style) {
        return doneWith(style, req, "set on");
      }};
  CLI::App* set = leaf(
      tree, registry, "set",
      "Set the credentials a node or group uses to pull from a private registry. They go only "
      "to the target nodes (pharos/v1/nodes/{node}/secrets), never to group documents or logs.",
      "  echo \"$PW\" | pharosctl registry set registry.local:5000 --user puller "
      "--password-stdin --group line1\n",
      kSet);
  set->add_option("host", v.name, "Registry host[:port]")->required();
  set->add_option("-u,--user,--username", v.registry_user, "Registry user name")->required();
  set->add_flag("--password-stdin", v.password_stdin, "Read the registry password from stdin");
  set->add_option("--node", v.node, "Target node");
  set->add_option("--group", v.group, "Target group");
}

// registry.list: HOST USERNAME TARGET, by target then host.
std::string renderRegistries(const Json& result, const Style& style) {
  const Json& items = field::items(result, {"registries"});
  if (items.empty()) return "No registry credentials.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& r : items) {
    rows.push_back({field::str(r, "host"), field::str(r, "username"), field::target(r)});
  }
  return renderTable(style, {"HOST", "USERNAME", "TARGET"}, rows);
}

void listCommand(CommandTree& tree, CLI::App* registry, ParsedValues& v) {
  static constexpr Operation kList{ops::kRegistryList, Mode::kRequest,
                                   [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
                                     RegistryListRequest r;
                                     if (!v.node.empty() || !v.group.empty()) {
                                       auto t = target(v);
                                       if (!t) return t.status();
                                       r.target = *t;
                                     }
                                     inv.body = encode(r);
                                     return Status::ok();
                                   },
                                   resultOnly<renderRegistries>};
  CLI::App* ls = leaf(tree, registry, "ls",
                      "List the registry credentials set on nodes and groups: hosts and "
                      "usernames, never passwords.",
                      "  pharosctl registry ls\n"
                      "  pharosctl registry ls --group line1\n",
                      kList);
  ls->alias("list");
  ls->add_option("--node", v.node, "Only those set on this node");
  ls->add_option("--group", v.group, "Only those set on this group");
}

void removeCommand(CommandTree& tree, CLI::App* registry, ParsedValues& v) {
  static constexpr Operation kRemove{
      ops::kRegistryRemove, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        RegistryRemoveRequest r;
        r.host = v.name;
        return encodeWithTarget(v, r, inv);
      },
      [](const Json& req, const Json&, const Style& style) {
        return doneWith(style, req, "removed from");
      }};
  CLI::App* rm = leaf(tree, registry, "rm",
                      "Remove the credentials for a registry host from a node or group. The "
                      "target nodes get secrets without them and pull from that host "
                      "without credentials from then on.",
                      "  pharosctl registry rm registry.local:5000 --group line1\n", kRemove);
  rm->alias("remove");
  rm->add_option("host", v.name, "Registry host[:port]")->required();
  rm->add_option("--node", v.node, "Target node");
  rm->add_option("--group", v.group, "Target group");
}

}  // namespace

void registryCommands(CommandTree& tree, ParsedValues& v) {
  CLI::App* registry =
      command(tree.app.get(), "registry", "Container registry credentials for nodes", "");
  registry->require_subcommand(1);
  setCommand(tree, registry, v);
  listCommand(tree, registry, v);
  removeCommand(tree, registry, v);
}

}  // namespace pharos::cli
