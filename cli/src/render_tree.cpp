// group.get rendered as a tree (render.h renderGroupTree), drawn like `tree(1)`: child groups
// first (with a trailing '/' and their apps in brackets), then member nodes; an entry the
// anchor cut at its depth or size limit ends with a "…" line saying how to see more. Pure
// functions, thread-safe.
#include <fmt/format.h>

#include <string>

#include "cli/render.h"
#include "pharos/group_tree.h"

namespace pharos::cli {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string groupLabel(const GroupTreeEntry& e, const Style& style) {
  std::string out = paint(style, Color::kBold, e.name + "/");
  if (!e.apps.empty()) out += " " + paint(style, Color::kBlue, "[" + join(e.apps, ", ") + "]");
  return out;
}

void drawChildren(const GroupTreeEntry& e, const std::string& prefix, const Style& style,
                  std::string& out) {
  size_t total = e.groups.size() + e.nodes.size() + (e.truncated ? 1 : 0);
  size_t i = 0;
  auto branch = [&](bool last) { return prefix + (last ? "└── " : "├── "); };
  for (const auto& g : e.groups) {
    bool last = ++i == total;
    out += branch(last) + groupLabel(g, style) + "\n";
    drawChildren(g, prefix + (last ? "    " : "│   "), style, out);
  }
  for (const auto& n : e.nodes) {
    bool last = ++i == total;
    out += branch(last) + n + "\n";
  }
  if (e.truncated) {
    out += branch(true) +
           paint(style, Color::kGray,
                 fmt::format("… (more below: pharosctl group get {} [--depth N])", e.name)) +
           "\n";
  }
}

}  // namespace

std::string renderGroupTree(const GroupGetResult& g, const Style& style) {
  std::string out = groupLabel(g.tree, style) + "\n";
  drawChildren(g.tree, "", style, out);
  return out;
}

std::string renderAncestors(const GroupGetResult& g) {
  if (g.ancestors.empty()) return "-";
  std::vector<std::string> paths;
  for (const auto& p : g.ancestors) paths.push_back(join(p, " > ") + " > " + g.name);
  return join(paths, "; ");
}

}  // namespace pharos::cli
