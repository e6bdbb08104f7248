// The group.get view of a registry group (pharos/group_tree.h): direct relations, the subtree
// below the group bounded by depth and kMaxGroupTreeEntries, and the ancestor paths bounded by
// kMaxAncestorPaths. Groups form a DAG (a group may have several parents, cycles are refused),
// so a shared child appears under each of its parents; the entry budget bounds the
// repetition.
//
// Threading: reads the registry; call on the anchor's strand.
#pragma once

#include <string>

#include "anchor/registry.h"
#include "pharos/group_tree.h"

namespace pharos::anchor {

// `name` must be an existing group; `depth` in 1..kMaxGroupTreeDepth.
GroupGetResult describeGroup(const Registry& reg, const std::string& name, int depth);

}  // namespace pharos::anchor
