// The node commands of pharosctl, one row each (command_tree.h): `nodes ls` and
// `node get|add|rm|approve|rekey|label`, each with its flags, request builder and renderer.
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

std::string nodeName(const Json& request) { return field::str(request, "name", ""); }

void listCommands(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kList{ops::kNodeList, Mode::kRequest,
                                   [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
                                     NodeListRequest r;
                                     r.label = v.label_filter;
                                     r.group = v.group;
                                     r.health = fromWire<Readiness>(v.health);
                                     if (v.limit > 0) r.limit = v.limit;
                                     r.cursor = v.cursor;
                                     inv.paginate = v.limit == 0 && v.cursor.empty();
                                     inv.body = encode(r);
                                     if (v.watch) inv.mode = Mode::kWatchNodes;
                                     return Status::ok();
                                   },
                                   resultOnly<renderNodeList>};
  CLI::App& root = *tree.app;
  // "nodes" alone is "nodes ls".
  CLI::App* nodes = leaf(tree, &root, "nodes", "List nodes (same as 'nodes ls')", "", kList);
  nodes->require_subcommand(0, 1);
  CLI::App* ls = leaf(tree, nodes, "ls",
                      "List the nodes and their health as the anchor sees it (Ready, NotReady, "
                      "Unreachable, Pending).",
                      "  pharosctl nodes ls\n"
                      "  pharosctl nodes ls --label site=north --group line1\n"
                      "  pharosctl nodes ls --health NotReady -o json\n"
                      "  pharosctl nodes ls --watch        # print health changes as they happen\n",
                      kList);
  ls->alias("list");
  ls->add_option("--label", v.label_filter, "Only nodes with this label: KEY or KEY=VALUE");
  ls->add_option("--group", v.group, "Only members of this group (directly or nested)");
  ls->add_option("--health", v.health, "Only nodes in this health state")
      ->check(CLI::IsMember({"Ready", "NotReady", "Unreachable", "Pending"}));
  ls->add_flag("-w,--watch", v.watch,
               "After the list, keep printing health changes (retained nodes/+/health) until "
               "interrupted");
  declare::listPaging(ls, v);
}

void enrolCommands(CommandTree& tree, CLI::App* node, ParsedValues& v) {
  static constexpr Operation kGet{ops::kNodeGet, Mode::kRequest, buildName, resultOnly<renderNode>};
  CLI::App* get =
      leaf(tree, node, "get", "Show one node: health, labels, groups, device facts, apps",
           "  pharosctl node get press-01\n  pharosctl node get press-01 -o json\n", kGet);
  get->add_option("node", v.name, "Node name")->required();

  static constexpr Operation kAdd{
      ops::kNodeAdd, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        NodeAddRequest r;
        r.name = v.name;
        auto labels = assignments(v.labels, "--label");
        if (!labels) return labels.status();
        r.labels = *labels;
        inv.body = encode(r);
        if (!v.add_output.empty() && v.add_output != "json" && v.add_output != "table") {
          inv.agent_config_out = v.add_output;
        } else if (v.add_output == "json") {
          inv.output = OutputFormat::kJson;
        }
        return Status::ok();
      },
      resultOnly<renderNodeAdded>};
  CLI::App* add =
      leaf(tree, node, "add",
           "Enrol a device: creates its broker identity and prints the agent configuration to "
           "install on it (or writes it to a file with -o FILE).",
           "  pharosctl node add press-07 --label line=1 --label site=north\n"
           "  pharosctl node add press-07 -o press-07.conf   # then copy it to the device\n",
           kAdd);
  add->add_option("node", v.name, "Node name ([a-z0-9][a-z0-9_.-]*)")->required();
  repeatable(add, "-l,--label", v.labels, "Label KEY=VALUE (repeatable)");
  add->add_option("-o,--output", v.add_output,
                  "FILE: write the agent configuration to FILE; 'json': print the raw result");

  static constexpr Operation kRemove{
      ops::kNodeRemove, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(NodeRemoveRequest{v.name, v.purge});
        return Status::ok();
      },
      [](const Json& req, const Json&, const Style& style) {
        return done(style, fmt::format("node {} removed", nodeName(req)));
      }};
  CLI::App* rm =
      leaf(tree, node, "rm",
           "Remove a node from management: revokes its broker identity and clears "
           "its topics. With --purge, its apps are removed first (the agent reports "
           "them gone).",
           "  pharosctl node rm press-07\n  pharosctl node rm press-07 --purge\n", kRemove);
  rm->alias("remove");
  rm->add_option("node", v.name, "Node name")->required();
  rm->add_flag("--purge", v.purge, "Remove the node's apps (containers) first");

  static constexpr Operation kApprove{ops::kNodeApprove, Mode::kRequest, buildName,
                                      [](const Json& req, const Json&, const Style& style) {
                                        return done(style,
                                                    fmt::format("node {} approved", nodeName(req)));
                                      }};
  CLI::App* approve =
      leaf(tree, node, "approve", "Approve a Pending node (when the anchor does not auto-accept)",
           "  pharosctl node approve press-07\n", kApprove);
  approve->add_option("node", v.name, "Node name")->required();
}

void keyAndLabelCommands(CommandTree& tree, CLI::App* node, ParsedValues& v) {
  static constexpr Operation kRekey{
      ops::kNodeRekey, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(NodeRekeyRequest{v.name, v.key_id, v.public_key});
        return Status::ok();
      },
      [](const Json& req, const Json& result, const Style& style) {
        return done(style, fmt::format("secrets of node {} now sealed to key {}", nodeName(req),
                                       field::str(result, "key_id", "")));
      }};
  CLI::App* rekey =
      leaf(tree, node, "rekey",
           "Set the public key the node's secrets are sealed to: accept the new key its agent "
           "announced (--key-id, as the agent logs it), or give one (--public-key, from "
           "`pharos-agent --print-public-key` on the device)",
           "  pharosctl node rekey press-07 --key-id 3f9a0c1d2e4b5a68\n"
           "  pharosctl node rekey press-07 --public-key \"$(cat press-07.pub)\"\n",
           kRekey);
  rekey->add_option("node", v.name, "Node name")->required();
  auto* key_id = rekey->add_option("--key-id", v.key_id, "Id of the key the node announced");
  auto* public_key = rekey->add_option("--public-key", v.public_key, "Public key (base64)");
  key_id->excludes(public_key);

  static constexpr Operation kLabel{
      ops::kNodeLabel, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
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
        inv.body = encode(r);
        return Status::ok();
      },
      [](const Json& req, const Json&, const Style& style) {
        return done(style, fmt::format("labels of node {} updated", nodeName(req)));
      }};
  CLI::App* label = leaf(tree, node, "label",
                         "Set or remove labels of a node. Apps see them as PHAROS_LABEL_<KEY>.",
                         "  pharosctl node label press-01 site=north line=1\n"
                         "  pharosctl node label press-01 --rm line\n"
                         "  pharosctl node label press-01 line-     # same as --rm line\n",
                         kLabel);
  label->add_option("node", v.name, "Node name")->required();
  label->add_option("labels", v.items, "KEY=VALUE to set, KEY- to remove");
  repeatable(label, "--rm", v.remove_labels, "Remove the label KEY (repeatable)");
}

}  // namespace

void nodeCommands(CommandTree& tree, ParsedValues& v) {
  listCommands(tree, v);
  CLI::App* node =
      command(tree.app.get(), "node", "Show, enrol, remove, approve and label one node", "");
  node->require_subcommand(1);
  enrolCommands(tree, node, v);
  keyAndLabelCommands(tree, node, v);
}

}  // namespace pharos::cli
