// Staged rollouts wired into the anchor (docs/rollouts.md): the `strategy` of app.deploy and
// app.rollback, the rollout.pause|resume|promote|abort operations, and the evaluation that
// judges each wave's gate and starts the next. A rollout's progress (RolloutPlan's state, the
// published wave and the revision it returns to) lives in the app's record, so every step is
// written in the same batch as the document generation it publishes: one new generation of
// the target's own document per wave, and a restart continues where the store says (no wave
// published twice, no gate skipped).
//
// Evaluation runs on a timer of the anchor's strand while any rollout is unfinished, and
// only while the broker link is up (gates are judged from fresh reports).
//
// Threading: runs on the anchor's strand.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anchor/op_context.h"
#include "anchor/rollout_plan.h"
#include "anchor/time_zone.h"
#include "pharos/executor.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

// The `strategy` field of a request for `target` (null: none). Errors name the field
// ("strategy.waves[1]: …"); a named node must be a member of the target.
Result<std::optional<RolloutStrategy>> parseRequestStrategy(const Json& strategy,
                                                            const Target& target,
                                                            const Registry& reg);

// The target's members in wave order, each with the child group it is reached through (""
// for a direct member of the target group, or a node target).
std::vector<WaveMember> waveMembers(const Registry& reg, const Target& target);

// Site-local time in `zone` (the anchor's site_time_zone) at `now_ms`.
LocalTime localTime(const TimeZone& zone, int64_t now_ms);

// Starts a staged rollout of `next` (a new revision, already in `next`) over `current` (the
// record before the change; nullptr or removed: a first deployment) and applies its first
// step to `next`: the first wave, or nothing published while the window is shut.
void beginRollout(AppRecord& next, const AppRecord* current, RolloutStrategy strategy,
                  const Registry& reg, const TimeZone& zone, int64_t now_ms);

// Stores `state` in `app` and applies `step`: the wave's staged block, the whole target, or
// the previous revision (a tombstone for a first deployment). True when the app's document
// entry changed (the step is to be published).
bool applyRolloutStep(AppRecord& app, const RolloutState& state, const RolloutStep& step);

class StagedRollouts {
 public:
  StagedRollouts(const OpContext& ctx, const std::map<std::string, NodeState>& node_states,
                 Strand& strand, std::chrono::milliseconds tick);
  ~StagedRollouts();
  StagedRollouts(const StagedRollouts&) = delete;
  StagedRollouts& operator=(const StagedRollouts&) = delete;

  // Arms one evaluation after the tick (no-op when one is armed).
  void schedule();
  // Judges every unfinished rollout now and publishes each step that is due.
  void evaluate();

  // rollout.pause, rollout.resume, rollout.promote, rollout.abort {name}; audited.
  Result<Json> command(const std::string& user, std::string_view operation, const Json& body);

 private:
  GateReport report(const std::string& app, const std::string& node) const;
  // Writes `state` and `step` into the app's record (and its document) in one batch.
  Status commit(const std::string& app, const RolloutState& state, const RolloutStep& step,
                const std::string& user, std::string_view operation);

  OpContext ctx_;
  const std::map<std::string, NodeState>& node_states_;
  Strand& strand_;
  std::chrono::milliseconds tick_;
  bool scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
