// Wave membership of a staged rollout (docs/protocol.md "Staged rollouts"): the one function
// that decides which revision of a staged app a node runs. The agent calls it to choose its
// revision on its own (after a join, an offline reboot or a reconnect) and the anchor calls it
// to plan waves and judge gates, so the two can never disagree.
//
// A node's rollout position is a hash of (app, node) only: the same nodes come first for
// every revision of an app, and a node's place does not depend on the rest of the target.
// Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/messages.h"

namespace pharos {

// The position of `node` in the rollout order of `app`, 0 .. 2^32-1: the upper 32 bits of
// mix64(FNV-1a-64(app + "/" + node)), where mix64 is the splitmix64 finaliser. Lower goes
// first.
int64_t rolloutPosition(std::string_view app, std::string_view node);

// True when `node` takes the new revision of `app`: the app is not staged, or the node is
// named in staged.nodes, or its position is below staged.cutoff.
bool inWave(const AppSpec& app, std::string_view node);

// The entry `node` runs: `app` without `staged` when the node is in the wave; else the
// previous revision under the app's name (volumes keep); nullopt when the node is outside
// the wave of a staged first deployment (it does not run the app).
std::optional<AppSpec> specForNode(const AppSpec& app, std::string_view node);

// `doc` as `node` sees it: every staged app replaced by specForNode (and dropped where that
// is nullopt). A document without staged apps comes back unchanged.
DesiredDoc docForNode(const DesiredDoc& doc, std::string_view node);

// ---- planning (anchor) ---------------------------------------------------------------------
// Shares are in basis points: 10000 is the whole target.
inline constexpr int kWholeShare = 10000;

// The cutoff of a share: floor(share * 2^32 / 10000); kRolloutPositions for the whole target.
int64_t cutoffForShare(int share);

// A member of the target and the sub-group it belongs to ("" for a direct member of the
// target group or a node target). A node listed twice counts once, under its first entry.
struct WaveMember {
  std::string node;
  std::string subgroup;
};

// The `staged` block (without `previous`) of a wave that takes the `named` nodes and `share`
// of the target. Spread across sub-groups: in every sub-group the ceil(share × its size)
// members of lowest position are in the wave, plus every node below the share's cutoff (the
// rule a node that joins later follows on its own). `nodes` lists the named nodes and the
// sub-group picks the cutoff does not already cover, sorted. Waves with growing shares grow
// monotonically: a node once in stays in.
StagedApp planWave(std::string_view app, const std::vector<std::string>& named, int share,
                   const std::vector<WaveMember>& members);

// The members of the target that run the new revision of `app` (in member order).
std::vector<std::string> waveNodes(const AppSpec& app, const std::vector<WaveMember>& members);

}  // namespace pharos
