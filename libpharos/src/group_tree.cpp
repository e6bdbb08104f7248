// group.get result codec (group_tree.h): the direct relations, the bounded subtree and the
// ancestor paths. The decoder bounds what it accepts the same way the anchor bounds what it
// sends (depth, entries, paths), so a hostile answer cannot make pharosctl recurse or
// allocate without limit.
#include "pharos/group_tree.h"

#include "messages_util.h"

namespace pharos {

namespace {

Json strings(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

Json encodeEntry(const GroupTreeEntry& e) {
  Json out{{"name", e.name}, {"nodes", strings(e.nodes)}, {"apps", strings(e.apps)}};
  Json groups = Json::array();
  for (const auto& g : e.groups) groups.push_back(encodeEntry(g));
  out["groups"] = std::move(groups);
  if (e.truncated) out["truncated"] = true;
  return out;
}

// Reads one tree entry; `level` is the entry's depth below the root (0 = the root),
// `budget` what is left of kMaxGroupTreeEntries.
GroupTreeEntry decodeEntry(codec::Reader& r, int level, size_t& budget) {
  GroupTreeEntry out;
  out.name = codec::id(r, "name", IdKind::kGroup);
  out.nodes = codec::idArray(r, "nodes", IdKind::kNode, kMaxGroupTreeEntries, false);
  out.apps = codec::idArray(r, "apps", IdKind::kApp, kMaxGroupTreeEntries, false);
  out.truncated = r.boolean("truncated", false);
  if (!r.ok()) return out;
  if (out.nodes.size() > budget) {
    r.fail(Status::tooLarge(r.path("nodes") + ": the tree lists more than " +
                            std::to_string(kMaxGroupTreeEntries) + " groups and nodes"));
    return out;
  }
  budget -= out.nodes.size();
  const Json& groups = r.arrayOr("groups");
  if (!r.ok() || groups.empty()) return out;
  if (level >= kMaxGroupTreeDepth) {
    r.fail(Status::tooLarge(r.path("groups") + ": the tree is deeper than " +
                            std::to_string(kMaxGroupTreeDepth) + " levels"));
    return out;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (budget == 0) {
      r.fail(Status::tooLarge(codec::indexPath(r, "groups", i) + ": the tree lists more than " +
                              std::to_string(kMaxGroupTreeEntries) + " groups and nodes"));
      return out;
    }
    --budget;
    codec::Reader child(groups[i], codec::indexPath(r, "groups", i));
    out.groups.push_back(decodeEntry(child, level + 1, budget));
    if (!child.ok()) {
      r.fail(child.status());
      return out;
    }
  }
  return out;
}

}  // namespace

Json encode(const GroupGetResult& result) {
  Json ancestors = Json::array();
  for (const auto& path : result.ancestors) ancestors.push_back(strings(path));
  Json out{{"name", result.name},
           {"parents", strings(result.parents)},
           {"nodes", strings(result.nodes)},
           {"groups", strings(result.groups)},
           {"apps", strings(result.apps)},
           {"effective_node_count", result.effective_node_count},
           {"created", result.created},
           {"ancestors", std::move(ancestors)},
           {"tree", encodeEntry(result.tree)},
           {"depth", result.depth}};
  if (result.truncated) out["truncated"] = true;
  return out;
}

Result<GroupGetResult> decodeGroupGetResult(const Json& json) {
  codec::Reader r(json, "");
  GroupGetResult out;
  out.name = codec::id(r, "name", IdKind::kGroup);
  // A group.get answer lists direct members without the per-call limit of group.add: a
  // group may hold any number of nodes (the message size bounds it).
  constexpr size_t kAny = size_t{1} << 20;
  out.parents = codec::idArray(r, "parents", IdKind::kGroup, kAny, true);
  out.nodes = codec::idArray(r, "nodes", IdKind::kNode, kAny, true);
  out.groups = codec::idArray(r, "groups", IdKind::kGroup, kAny, true);
  out.apps = codec::idArray(r, "apps", IdKind::kApp, kAny, true);
  out.effective_node_count = codec::i64In(r, "effective_node_count", 0, INT64_MAX, 0);
  out.created = codec::i64In(r, "created", 0, INT64_MAX, 0);
  out.depth = codec::i32In(r, "depth", 1, kMaxGroupTreeDepth, kDefaultGroupTreeDepth);
  out.truncated = r.boolean("truncated", false);
  const Json& ancestors = r.arrayOr("ancestors");
  if (r.ok() && ancestors.size() > kMaxAncestorPaths) {
    r.fail(Status::tooLarge(r.path("ancestors") + ": at most " + std::to_string(kMaxAncestorPaths) +
                            " paths"));
  }
  for (size_t i = 0; r.ok() && i < ancestors.size(); ++i) {
    std::string path = codec::indexPath(r, "ancestors", i);
    const Json& item = ancestors[i];
    if (!item.is_array() || item.empty() || item.size() > size_t{kMaxGroupTreeDepth}) {
      r.fail(Status::invalidArgument(path + ": must be a list of 1 to " +
                                     std::to_string(kMaxGroupTreeDepth) + " group names"));
      break;
    }
    std::vector<std::string> ids;
    for (size_t j = 0; r.ok() && j < item.size(); ++j) {
      std::string at = path + "[" + std::to_string(j) + "]";
      if (!item[j].is_string()) {
        r.fail(Status::invalidArgument(at + ": must be a string"));
      } else {
        r.fail(validateId(IdKind::kGroup, item[j].get<std::string>(), at));
        ids.push_back(item[j].get<std::string>());
      }
    }
    out.ancestors.push_back(std::move(ids));
  }
  if (r.ok() && r.has("tree")) {
    codec::Reader t(r.object("tree"), r.path("tree"));
    size_t budget = kMaxGroupTreeEntries;
    if (r.ok()) out.tree = decodeEntry(t, 0, budget);
    if (r.ok() && !t.ok()) r.fail(t.status());
    out.has_tree = r.ok();
  }
  if (!out.has_tree) {
    // An older anchor: the direct relations only; child groups are known by name.
    out.tree = GroupTreeEntry{out.name, out.nodes, out.apps, {}, false};
    for (const auto& g : out.groups) out.tree.groups.push_back(GroupTreeEntry{g, {}, {}, {}, true});
  }
  return codec::finish(r, std::move(out));
}

}  // namespace pharos
