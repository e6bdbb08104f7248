// Wave membership of a staged rollout (see rollout_wave.h).
#include "pharos/rollout_wave.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace pharos {

namespace {
uint64_t fnv1a64(std::string_view a, char sep, std::string_view b) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto add = [&h](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  };
  for (char c : a) add(c);
  add(sep);
  for (char c : b) add(c);
  return h;
}

uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

int64_t rolloutPosition(std::string_view app, std::string_view node) {
  return static_cast<int64_t>(mix64(fnv1a64(app, '/', node)) >> 32);
}

bool inWave(const AppSpec& app, std::string_view node) {
  if (!app.staged) return true;
  const StagedApp& s = *app.staged;
  if (std::find(s.nodes.begin(), s.nodes.end(), node) != s.nodes.end()) return true;
  return rolloutPosition(app.name, node) < s.cutoff;
}

std::optional<AppSpec> specForNode(const AppSpec& app, std::string_view node) {
  if (inWave(app, node)) {
    AppSpec out = app;
    out.staged.reset();
    return out;
  }
  if (!app.staged->previous) return std::nullopt;
  const AppRevisionSpec& p = *app.staged->previous;
  AppSpec out;
  out.name = app.name;
  out.revision = p.revision;
  out.compose = p.compose;
  out.state = p.state;
  out.variables = p.variables;
  out.restart = p.restart;
  return out;
}

DesiredDoc docForNode(const DesiredDoc& doc, std::string_view node) {
  DesiredDoc out = doc;
  out.apps.clear();
  for (const AppSpec& app : doc.apps) {
    if (auto spec = specForNode(app, node)) out.apps.push_back(std::move(*spec));
  }
  return out;
}

int64_t cutoffForShare(int share) {
  if (share >= kWholeShare) return kRolloutPositions;
  if (share <= 0) return 0;
  return static_cast<int64_t>(share) * kRolloutPositions / kWholeShare;
}

StagedApp planWave(std::string_view app, const std::vector<std::string>& named, int share,
                   const std::vector<WaveMember>& members) {
  StagedApp out;
  out.cutoff = cutoffForShare(share);
  std::set<std::string> listed(named.begin(), named.end());
  if (share > 0) {
    // Members by sub-group, each sub-group in rollout order (position, then name).
    std::set<std::string> seen;
    std::map<std::string, std::vector<std::pair<int64_t, std::string>>> by_group;
    for (const WaveMember& m : members) {
      if (!seen.insert(m.node).second) continue;
      by_group[m.subgroup].emplace_back(rolloutPosition(app, m.node), m.node);
    }
    for (auto& [group, nodes] : by_group) {
      std::sort(nodes.begin(), nodes.end());
      int64_t size = static_cast<int64_t>(nodes.size());
      int64_t take = std::min(size, (size * share + kWholeShare - 1) / kWholeShare);
      for (int64_t i = 0; i < take; ++i) {
        if (nodes[i].first >= out.cutoff) listed.insert(nodes[i].second);
      }
    }
  }
  out.nodes.assign(listed.begin(), listed.end());
  return out;
}

std::vector<std::string> waveNodes(const AppSpec& app, const std::vector<WaveMember>& members) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const WaveMember& m : members) {
    if (seen.insert(m.node).second && inWave(app, m.node)) out.push_back(m.node);
  }
  return out;
}

}  // namespace pharos
