// The history of an app's rollouts (docs/rollouts.md "History"): one record per rolled-out
// revision under rollout/<app>/<%010d revision> (docs/anchor-store.md): plain (every node
// of the target at once) or staged, with its strategy's waves and the outcome of the staged
// rollout (phase, wave reached, reason, start and end). A record is staged into the same
// WriteBatch as the change it describes (the deploy, each step of a staged rollout), so the
// store holds both or neither; the last `max_per_app` records of an app are kept. app.history
// reads them back.
//
// Threading: runs on the anchor's strand (its store is the anchor's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anchor/model.h"
#include "anchor/rollout_plan.h"
#include "anchor/store.h"
#include "pharos/app_history.h"
#include "pharos/status.h"

namespace pharos::anchor {

enum class RolloutKind { kPlain, kStaged };

struct RolloutRecord {
  int64_t revision = 0;
  int64_t previous_revision = 0;  // what the target ran before (0: none)
  RolloutKind kind = RolloutKind::kPlain;
  std::string user;
  int64_t started = 0;
  int64_t ended = 0;  // a staged rollout's end; 0 while it runs, and for a plain one
  // Staged only.
  std::vector<std::string> steps;  // the strategy's waves as text
  std::string window;
  RolloutPhase phase = RolloutPhase::kWaiting;
  int wave = 0;  // 0-based, as RolloutState's
  std::string reason;
  bool operator==(const RolloutRecord&) const = default;
};
Json toJson(const RolloutRecord& r);
Result<RolloutRecord> rolloutRecordFromJson(const Json& j);

// The record of a staged rollout as its state says (steps, phase, wave, reason).
RolloutRecord stagedRecord(const RolloutState& state, const std::string& user, int64_t now_ms);
// What app.history shows of a record.
RolloutOutcome toOutcome(const RolloutRecord& r);

class RolloutHistory {
 public:
  RolloutHistory(Store& store, size_t max_per_app) : store_(store), max_(max_per_app) {}

  // Stages the record of a new rollout of `app` in `batch`, and the deletion of the app's
  // records beyond the last max_per_app (this one included).
  Status begin(WriteBatch& batch, const std::string& app, const RolloutRecord& record);
  // Stages the progress of a staged rollout (phase, wave, reason; its end once finished)
  // into the record of its revision, which is created when missing.
  Status update(WriteBatch& batch, const std::string& app, const RolloutState& state,
                int64_t now_ms);
  // The app's records, newest first (damaged ones are skipped with a warning).
  Result<std::vector<RolloutRecord>> list(const std::string& app);
  // Stages the deletion of every record of `app`.
  Status drop(WriteBatch& batch, const std::string& app);

 private:
  Store& store_;
  size_t max_;
};

// app.history's answer: the app's kept revisions (rev/), newest first, each with the record
// of its rollout; a staged rollout begun before records were kept shows what the app's
// record holds of it.
Result<AppHistoryResult> appHistory(Store& store, RolloutHistory& rollouts, const AppRecord& app);

}  // namespace pharos::anchor
