// The result of app.history (schemas/app-history-result.schema.json, docs/protocol.md
// "app.history result"): an app's kept revisions, newest first, each with how it was rolled
// out: plainly (every node of the target at once) or staged (waves and gates), with the
// rollout's outcome, reason and times. The anchor encodes it; pharosctl and the tests
// decode it. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos {

inline constexpr size_t kMaxHistoryRevisions = 1000;  // revisions in one answer
inline constexpr size_t kMaxRolloutSteps = 100;       // a strategy's waves

// How one revision was rolled out.
struct RolloutOutcome {
  std::string kind;               // plain|staged
  int64_t previous_revision = 0;  // what the target ran before (0: none)
  std::string user;               // who deployed or rolled back
  int64_t started = 0;            // Unix ms; 0 when not known
  int64_t ended = 0;              // staged: when it finished; 0 while it runs, and for plain
  // Staged only.
  std::string phase;               // waiting|gating|paused|complete|rolled_back|aborted
  int wave = 0;                    // the wave it reached, 1-based
  int waves = 0;                   // of the strategy
  std::vector<std::string> steps;  // the strategy's waves as text ("press-07", "50%", …)
  std::string window;              // the update window, "" when none
  std::string reason;              // why it paused, rolled back or was aborted
  bool operator==(const RolloutOutcome&) const = default;
};

struct AppRevisionEntry {
  int64_t revision = 0;
  Target target;
  int64_t ts = 0;  // when it was deployed (Unix ms)
  std::string user;
  std::string note;  // "deploy", "deploy (moved)", "rollback to N", with " (staged)"
  std::map<std::string, std::string> variables;
  int64_t compose_bytes = 0;
  std::string compose_hash;
  bool current = false;                   // the revision the app's record holds now
  std::optional<RolloutOutcome> rollout;  // absent when no longer kept (or never recorded)
  bool operator==(const AppRevisionEntry&) const = default;
};

struct AppHistoryResult {
  std::string name;
  std::vector<AppRevisionEntry> revisions;  // newest first
  bool operator==(const AppHistoryResult&) const = default;
};

// The result object (without "v": it is the response's `result`).
Json encode(const AppHistoryResult& result);
Result<AppHistoryResult> decodeAppHistoryResult(const Json& result);

}  // namespace pharos
