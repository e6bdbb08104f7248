// The group commands of pharosctl, one row each (command_tree.h): `groups ls` and
// `group create|rm|get|add|remove`, each with its flags, request builder and renderer.
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

std::string groupName(const Json& request) { return field::str(request, "name", ""); }

void listCommands(CommandTree& tree, ParsedValues& v) {
  static constexpr Operation kList{ops::kGroupList, Mode::kRequest, buildList,
                                   resultOnly<renderGroupList>};
  // "groups" alone is "groups ls".
  CLI::App* groups =
      leaf(tree, tree.app.get(), "groups", "List groups (same as 'groups ls')", "", kList);
  groups->require_subcommand(0, 1);
  CLI::App* ls = leaf(tree, groups, "ls", "List the groups with their parent and member counts",
                      "  pharosctl groups ls\n  pharosctl groups ls -o json\n", kList);
  ls->alias("list");
  declare::listPaging(ls, v);
}

void createDeleteCommands(CommandTree& tree, CLI::App* group, ParsedValues& v) {
  static constexpr Operation kCreate{
      ops::kGroupCreate, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(GroupCreateRequest{v.name, v.parent});
        return Status::ok();
      },
      [](const Json& req, const Json&, const Style& style) {
        return done(style, fmt::format("group {} created", groupName(req)));
      }};
  CLI::App* create = leaf(tree, group, "create",
                          "Create a group, optionally nested in a parent group (members of "
                          "the child get the parent's apps too).",
                          "  pharosctl group create site-north\n"
                          "  pharosctl group create line1 --parent site-north\n",
                          kCreate);
  create->add_option("group", v.name, "Group name")->required();
  create->add_option("--parent", v.parent, "Parent group");

  static constexpr Operation kDelete{
      ops::kGroupDelete, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(GroupDeleteRequest{v.name, v.force});
        return Status::ok();
      },
      [](const Json& req, const Json&, const Style& style) {
        return done(style, fmt::format("group {} deleted", groupName(req)));
      }};
  CLI::App* rm = leaf(tree, group, "rm",
                      "Delete a group. Refused while apps target it, unless --force (which "
                      "removes them).",
                      "  pharosctl group rm line1\n  pharosctl group rm line1 --force\n", kDelete);
  rm->alias("delete");
  rm->add_option("group", v.name, "Group name")->required();
  rm->add_flag("--force", v.force, "Delete even when apps target the group");
}

void getCommand(CommandTree& tree, CLI::App* group, ParsedValues& v) {
  static constexpr Operation kGet{
      ops::kGroupGet, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        inv.body = encode(GroupGetRequest{v.name, v.depth > 0 ? v.depth : kDefaultGroupTreeDepth});
        return Status::ok();
      },
      resultOnly<renderGroup>};
  CLI::App* get = leaf(tree, group, "get",
                       "Show a group: its ancestors, nodes and apps, and the whole tree below "
                       "it (nested groups with their nodes and apps), drawn like tree(1)",
                       "  pharosctl group get site-north\n"
                       "  pharosctl group get site-north --depth 2\n"
                       "  pharosctl group get site-north -o json\n",
                       kGet);
  get->add_option("group", v.name, "Group name")->required();
  get->add_option("--depth", v.depth,
                  "Levels of nested groups to show (1-16, default 8; the anchor also stops "
                  "after 2000 groups and nodes and marks what it left out)")
      ->check(CLI::Range(1, 16));
}

// group add / group remove: the same request, the members named in the confirmation.
Status buildMembers(const ParsedValues& v, Invocation& inv, const char* command) {
  GroupMembersRequest r;
  r.group = v.name;
  r.nodes = v.items;
  r.groups = v.member_groups;
  if (r.nodes.empty() && r.groups.empty()) {
    return usage(fmt::format("{}: name at least one node, or a group with --group", command));
  }
  inv.body = encode(r);
  return Status::ok();
}

std::string membersDone(const Json& req, const Style& style, const char* change) {
  std::string members;
  for (const char* key : {"nodes", "groups"}) {
    auto m = req.find(key);
    if (m == req.end() || !m->is_array()) continue;
    for (const auto& v : *m) {
      if (!members.empty()) members += ", ";
      members += (std::string(key) == "groups" ? "group " : "") + v.get<std::string>();
    }
  }
  return done(style, fmt::format("{} {} group {}", members, change,
                                 field::str(req, "name", field::str(req, "group", ""))));
}

void memberCommands(CommandTree& tree, CLI::App* group, ParsedValues& v) {
  static constexpr Operation kAdd{ops::kGroupAdd, Mode::kRequest,
                                  [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
                                    return buildMembers(v, inv, "group add");
                                  },
                                  [](const Json& req, const Json&, const Style& style) {
                                    return membersDone(req, style, "added to");
                                  }};
  CLI::App* add = leaf(tree, group, "add", "Add nodes (and nested groups with --group) to a group",
                       "  pharosctl group add line1 press-01 press-02\n"
                       "  pharosctl group add site-north --group line1\n",
                       kAdd);
  add->add_option("group", v.name, "Group name")->required();
  add->add_option("nodes", v.items, "Nodes to add");
  repeatable(add, "-g,--group", v.member_groups, "A group to nest (repeatable)");

  static constexpr Operation kRemove{
      ops::kGroupRemove, Mode::kRequest,
      [](const ParsedValues& v, const ParseInputs&, Invocation& inv) {
        return buildMembers(v, inv, "group remove");
      },
      [](const Json& req, const Json&, const Style& style) {
        return membersDone(req, style, "removed from");
      }};
  CLI::App* remove =
      leaf(tree, group, "remove", "Remove nodes (and nested groups with --group) from a group",
           "  pharosctl group remove line1 press-02\n"
           "  pharosctl group remove site-north --group line1\n",
           kRemove);
  remove->add_option("group", v.name, "Group name")->required();
  remove->add_option("nodes", v.items, "Nodes to remove");
  repeatable(remove, "-g,--group", v.member_groups, "A nested group to remove (repeatable)");
}

}  // namespace

void groupCommands(CommandTree& tree, ParsedValues& v) {
  // Declared in the order --help lists them.
  listCommands(tree, v);
  CLI::App* group =
      command(tree.app.get(), "group", "Create, show, delete groups and change their members", "");
  group->require_subcommand(1);
  createDeleteCommands(tree, group, v);
  getCommand(tree, group, v);
  memberCommands(tree, group, v);
}

}  // namespace pharos::cli
