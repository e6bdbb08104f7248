// The anchor's plan of one staged rollout (docs/protocol.md "Staged rollouts", docs/rollouts.md):
// the strategy an operator gave (`waves`, `gate`, `on_failure`, `window`), parsed and checked
// with errors naming the field, and the rollout's progress as a state machine that says when
// the next wave starts, judges each wave's gate from the nodes' reports and the clock, and
// takes pause / resume / promote / abort. It publishes nothing itself: advance() returns
// the step the caller turns into one new generation of the target's document, and the whole
// state round-trips through JSON so it can be stored with that generation.
//
// Pure logic over injected time and reports, no I/O. Thread-compatible: one owner at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pharos/json.h"
#include "pharos/messages.h"
#include "pharos/rollout_wave.h"
#include "pharos/status.h"

namespace pharos::anchor {

// ---- strategy ------------------------------------------------------------------------------

// One step of `waves`: named nodes and/or a share of the target (basis points, 0 when none).
// In JSON a step is a node id ("press-07"), a share ("10%", "2.5%"), or an array of these.
struct WaveStep {
  std::vector<std::string> nodes;
  int share = 0;
  bool operator==(const WaveStep&) const = default;
};

enum class OnFailure { kPause, kRollback };

// `window`: "Mon-Fri 22:00-06:00", "Sat,Sun 00:00-24:00", "daily 01:00-03:00"; in the site's
// time zone; an end before the start runs past midnight (the night belongs to its start day).
struct UpdateWindow {
  unsigned days = 0;  // bit 0 = Monday … bit 6 = Sunday
  int start_minute = 0;
  int end_minute = 0;  // 1 … 1440, never equal to start_minute
  bool operator==(const UpdateWindow&) const = default;
};

// Site-local wall time, as the caller's time zone gives it.
struct LocalTime {
  int weekday = 0;  // 0 = Monday … 6 = Sunday
  int minute = 0;   // 0 … 1439
};
bool windowOpen(const UpdateWindow& window, LocalTime at);
// "Mon-Fri 22:00-06:00" as parsed back: "Mon,Tue,Wed,Thu,Fri 22:00-06:00", "daily …".
std::string windowText(const UpdateWindow& window);

struct RolloutStrategy {
  std::vector<WaveStep> waves;  // ends with the whole target (appended when not given)
  int64_t soak_ms = 60'000;
  int max_failed = 0;
  int64_t timeout_ms = 15 * 60'000;
  OnFailure on_failure = OnFailure::kPause;
  std::optional<UpdateWindow> window;
  bool operator==(const RolloutStrategy&) const = default;
};

// Parses `{waves, gate: {soak, max_failed, timeout}, on_failure, window}`; durations are
// seconds (integers) or strings "90s", "15m", "1h". Errors name the field under `path`
// ("strategy.waves[2]: …"). `known_nodes` (when given) must contain every named node.
Result<RolloutStrategy> parseRolloutStrategy(
    const Json& json, const std::string& path = "strategy",
    const std::function<bool(const std::string&)>& known_node = nullptr);
Json toJson(const RolloutStrategy& strategy);

// ---- progress ------------------------------------------------------------------------------

enum class RolloutPhase {
  kWaiting,     // the current wave waits for the window before it starts
  kGating,      // the current wave is published; its gate is being judged
  kPaused,      // by an operator, or after a failed gate with on_failure pause
  kComplete,    // the last gate passed, or promoted
  kRolledBack,  // a gate failed with on_failure rollback
  kAborted,     // an operator returned every node to the previous revision
};
const char* phaseName(RolloutPhase phase);
// The phase called `name` ("rolled_back"), none when no phase is.
std::optional<RolloutPhase> phaseFromName(const std::string& name);

// What a node of the current wave reports about the app (from its `state` and health).
struct GateReport {
  bool ready = false;             // the anchor's health verdict is Ready
  int64_t revision = 0;           // the app revision the node runs, 0 when it reports none
  std::optional<AppPhase> phase;  // none when it reports no such app
  bool services_ok = false;       // every long-running service running (healthy where checked)
  int64_t restarts = 0;           // sum of the app's services' restart counts
};

enum class NodeGate { kPending, kNotReady, kSoaking, kPassed, kFailed };
const char* nodeGateName(NodeGate gate);

struct NodeProgress {
  NodeGate gate = NodeGate::kPending;
  int64_t running_since_ms = 0;  // start of the current unbroken Running stretch
  int64_t restarts = -1;         // baseline when first seen Running on the new revision
  std::string reason;
  bool operator==(const NodeProgress&) const = default;
};

struct RolloutState {
  std::string app;
  int64_t revision = 0;           // the new revision
  int64_t previous_revision = 0;  // 0: a first deployment
  RolloutStrategy strategy;
  RolloutPhase phase = RolloutPhase::kWaiting;
  int wave = 0;                 // index into strategy.waves of the current wave
  bool wave_published = false;  // the current wave's document went out
  int64_t wave_started_ms = 0;  // when it went out (the gate's timeout counts from here)
  int64_t updated_ms = 0;
  std::string reason;                         // why paused / rolled back / aborted
  std::map<std::string, NodeProgress> nodes;  // the current wave's nodes
  bool operator==(const RolloutState&) const = default;
};
Json toJson(const RolloutState& state);
Result<RolloutState> rolloutStateFromJson(const Json& json);

// What the caller publishes as the next generation of the target's document.
struct RolloutStep {
  enum class Kind {
    kNone,      // nothing to publish
    kWave,      // the app entry at `revision` with `staged` (previous + this wave)
    kWhole,     // the app entry at `revision` without `staged`: every node takes it
    kRollback,  // the entry of `previous_revision` without `staged` (a tombstone when 0)
  };
  Kind kind = Kind::kNone;
  StagedApp staged;  // kWave: nodes and cutoff (the caller adds `previous`)
};

// The inputs of one evaluation: the clock, site-local time, the target's members, reports.
struct PlanInputs {
  int64_t now_ms = 0;
  LocalTime local;
  std::vector<WaveMember> members;
  std::function<GateReport(const std::string& node)> report;
};

class RolloutPlan {
 public:
  // A new rollout of `revision` over `previous_revision` (0 for a first deployment).
  RolloutPlan(std::string app, int64_t revision, int64_t previous_revision,
              RolloutStrategy strategy, int64_t now_ms);
  explicit RolloutPlan(RolloutState state) : state_(std::move(state)) {}

  const RolloutState& state() const { return state_; }
  bool finished() const;

  // Starts the current wave when the window allows, judges its gate, moves on, completes,
  // pauses or rolls back. At most one step per call: call again after publishing it.
  RolloutStep advance(const PlanInputs& in);

  // The staged block of the current wave over `members` (what kWave publishes).
  StagedApp stagedFor(const std::vector<WaveMember>& members) const;

  // Operator commands; conflict when the rollout is finished or the command does not apply.
  Status pause(int64_t now_ms);
  Status resume(int64_t now_ms);                // re-judges the current wave with a fresh gate
  Result<RolloutStep> promote(int64_t now_ms);  // every node takes the new revision now
  Result<RolloutStep> abort(int64_t now_ms);    // every node returns to the previous one

  // Time left in the soak of the slowest soaking node, 0 when none soaks.
  int64_t soakLeftMs(int64_t now_ms) const;

 private:
  bool lastWave() const;
  RolloutStep startWave(const PlanInputs& in);
  void judgeNode(const std::string& node, const GateReport& r, int64_t now_ms);
  RolloutStep fail(const std::string& reason, int64_t now_ms);

  RolloutState state_;
};

}  // namespace pharos::anchor
