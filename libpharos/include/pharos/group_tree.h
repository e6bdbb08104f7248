// group.get's result (DESIGN.md section 4, docs/protocol.md "group.get",
// schemas/group-get-result.schema.json): the group's direct relations (name, parents, nodes,
// groups, apps, effective_node_count, created) plus, since the same "v": 1, the whole subtree
// below it (`tree`: nested groups with their member nodes and apps) and every path of
// ancestors above it (`ancestors`). Both are bounded: `tree` stops `depth` group levels below
// the group and after kMaxGroupTreeEntries groups and nodes; `ancestors` holds at most
// kMaxAncestorPaths paths of at most kMaxGroupTreeDepth groups. What a limit leaves out is
// marked `truncated`. The anchor encodes it, pharosctl and tests decode it (readers of an
// older anchor's answer get an empty tree and fall back to the direct relations).
//
// Pure functions on value types: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos {

inline constexpr size_t kMaxGroupTreeEntries = 2000;  // groups + nodes listed in `tree`
inline constexpr size_t kMaxAncestorPaths = 64;       // paths listed in `ancestors`

// One group in the tree: its direct member nodes and apps, and its child groups.
struct GroupTreeEntry {
  std::string name;
  std::vector<std::string> nodes;
  std::vector<std::string> apps;
  std::vector<GroupTreeEntry> groups;
  // Some members of this group are not listed (depth or size limit): only its name is
  // certain; ask group.get for it to see more.
  bool truncated = false;
  bool operator==(const GroupTreeEntry&) const = default;
};

struct GroupGetResult {
  std::string name;
  std::vector<std::string> parents;  // direct parents
  std::vector<std::string> nodes;    // direct member nodes
  std::vector<std::string> groups;   // direct child groups
  std::vector<std::string> apps;     // apps targeted at this group
  int64_t effective_node_count = 0;  // nodes below it, at any depth
  int64_t created = 0;               // Unix ms
  // Every path from a top-level group down to a direct parent, top first (a group may have
  // several parents). Empty for a top-level group.
  std::vector<std::vector<std::string>> ancestors;
  GroupTreeEntry tree;  // the group itself (tree.name == name) and everything below it
  int depth = kDefaultGroupTreeDepth;  // the depth limit applied
  bool truncated = false;              // something in tree or ancestors is left out
  bool has_tree = false;               // decode: the answer carried `tree` (newer anchors)
};

// Builds the result object (without "v": it is the response's `result`).
Json encode(const GroupGetResult& result);
// Reads a group.get result; unknown fields are ignored, `tree`/`ancestors` are optional.
Result<GroupGetResult> decodeGroupGetResult(const Json& result);

}  // namespace pharos
