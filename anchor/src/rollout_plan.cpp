// The staged rollout state machine and its stored JSON form (rollout_plan.h).
#include "anchor/rollout_plan.h"

#include <algorithm>
#include <array>
#include <set>

namespace pharos::anchor {
namespace {

constexpr std::array<const char*, 6> kPhases = {"waiting",  "gating",      "paused",
                                                "complete", "rolled_back", "aborted"};
constexpr std::array<const char*, 5> kNodeGates = {"pending", "notready", "soaking", "passed",
                                                   "failed"};
constexpr size_t kMaxReasonNodes = 5;  // nodes named in a gate failure's reason

template <size_t N>
int indexOf(const std::array<const char*, N>& names, const std::string& name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

const char* phaseName(RolloutPhase phase) { return kPhases[static_cast<size_t>(phase)]; }
std::optional<RolloutPhase> phaseFromName(const std::string& name) {
  int p = indexOf(kPhases, name);
  if (p < 0) return std::nullopt;
  return static_cast<RolloutPhase>(p);
}
const char* nodeGateName(NodeGate gate) { return kNodeGates[static_cast<size_t>(gate)]; }

RolloutPlan::RolloutPlan(std::string app, int64_t revision, int64_t previous_revision,
                         RolloutStrategy strategy, int64_t now_ms) {
  state_.app = std::move(app);
  state_.revision = revision;
  state_.previous_revision = previous_revision;
  state_.strategy = std::move(strategy);
  state_.updated_ms = now_ms;
}

bool RolloutPlan::finished() const {
  return state_.phase == RolloutPhase::kComplete || state_.phase == RolloutPhase::kRolledBack ||
         state_.phase == RolloutPhase::kAborted;
}

bool RolloutPlan::lastWave() const {
  return static_cast<size_t>(state_.wave) + 1 >= state_.strategy.waves.size();
}

StagedApp RolloutPlan::stagedFor(const std::vector<WaveMember>& members) const {
  std::vector<std::string> named;
  int share = 0;
  for (int i = 0; i <= state_.wave && i < static_cast<int>(state_.strategy.waves.size()); ++i) {
    const WaveStep& step = state_.strategy.waves[static_cast<size_t>(i)];
    named.insert(named.end(), step.nodes.begin(), step.nodes.end());
    share = std::max(share, step.share);
  }
  return planWave(state_.app, named, share, members);
}

RolloutStep RolloutPlan::startWave(const PlanInputs& in) {
  state_.phase = RolloutPhase::kGating;
  state_.wave_published = true;
  state_.wave_started_ms = in.now_ms;
  state_.updated_ms = in.now_ms;
  state_.reason.clear();
  RolloutStep step;
  if (state_.strategy.waves[static_cast<size_t>(state_.wave)].share >= kWholeShare) {
    step.kind = RolloutStep::Kind::kWhole;
  } else {
    step.kind = RolloutStep::Kind::kWave;
    step.staged = stagedFor(in.members);
  }
  return step;
}

void RolloutPlan::judgeNode(const std::string& node, const GateReport& r, int64_t now_ms) {
  NodeProgress& p = state_.nodes[node];
  if (p.gate == NodeGate::kFailed) return;  // a failure holds for the rest of the wave
  auto notPassing = [&p](NodeGate gate, std::string reason) {
    p.gate = gate;
    p.running_since_ms = 0;
    p.reason = std::move(reason);
  };
  if (!r.ready) {
    notPassing(NodeGate::kNotReady, "node not Ready");
  } else if (r.revision != state_.revision) {
    notPassing(NodeGate::kPending, r.revision == 0 ? "has not reported the app yet"
                                                   : "runs revision " + std::to_string(r.revision));
  } else if (r.phase == AppPhase::kFailed || r.phase == AppPhase::kCrashLoop) {
    notPassing(NodeGate::kFailed, toWire(*r.phase));
  } else if (p.restarts >= 0 && r.restarts > p.restarts) {
    notPassing(NodeGate::kFailed,
               "restarted " + std::to_string(r.restarts - p.restarts) + " time(s) during the soak");
  } else if (r.phase == AppPhase::kRunning && r.services_ok) {
    if (p.running_since_ms == 0) p.running_since_ms = now_ms;
    if (p.restarts < 0) p.restarts = r.restarts;
    bool soaked = now_ms - p.running_since_ms >= state_.strategy.soak_ms;
    p.gate = soaked ? NodeGate::kPassed : NodeGate::kSoaking;
    p.reason.clear();
  } else {
    notPassing(NodeGate::kPending, r.phase ? toWire(*r.phase) : "not running yet");
  }
}

RolloutStep RolloutPlan::fail(const std::string& reason, int64_t now_ms) {
  state_.updated_ms = now_ms;
  state_.reason = reason;
  RolloutStep step;
  if (state_.strategy.on_failure == OnFailure::kRollback) {
    state_.phase = RolloutPhase::kRolledBack;
    step.kind = RolloutStep::Kind::kRollback;
  } else {
    state_.phase = RolloutPhase::kPaused;
  }
  return step;
}

RolloutStep RolloutPlan::advance(const PlanInputs& in) {
  if (state_.phase == RolloutPhase::kWaiting) {
    const auto& window = state_.strategy.window;
    if (window && !windowOpen(*window, in.local)) {
      state_.reason = "waiting for the update window";
      return {};
    }
    return startWave(in);
  }
  if (state_.phase != RolloutPhase::kGating) return {};

  // The gate covers every node that runs the new revision by now (earlier waves too).
  AppSpec probe;
  probe.name = state_.app;
  if (state_.strategy.waves[static_cast<size_t>(state_.wave)].share < kWholeShare) {
    probe.staged = stagedFor(in.members);
  }
  std::vector<std::string> wave = waveNodes(probe, in.members);
  std::set<std::string> in_wave(wave.begin(), wave.end());
  std::erase_if(state_.nodes, [&](const auto& kv) { return !in_wave.count(kv.first); });
  int failed = 0, passed = 0;
  std::string failures, waiting;
  int failures_named = 0, waiting_named = 0;
  for (const std::string& node : wave) {
    judgeNode(node, in.report(node), in.now_ms);
    const NodeProgress& p = state_.nodes[node];
    std::string line = node + ": " + (p.reason.empty() ? nodeGateName(p.gate) : p.reason);
    if (p.gate == NodeGate::kFailed) {
      ++failed;
      if (failures_named++ < static_cast<int>(kMaxReasonNodes)) {
        failures += (failures.empty() ? "" : "; ") + line;
      }
    } else if (p.gate == NodeGate::kPassed) {
      ++passed;
    } else if (waiting_named++ < static_cast<int>(kMaxReasonNodes)) {
      waiting += (waiting.empty() ? "" : "; ") + line;
    }
  }
  std::string wave_name = "wave " + std::to_string(state_.wave + 1);
  if (failed > state_.strategy.max_failed) {
    return fail(wave_name + ": " + std::to_string(failed) + " node(s) failed (" + failures + ")",
                in.now_ms);
  }
  if (passed + failed == static_cast<int>(wave.size())) {
    state_.updated_ms = in.now_ms;
    if (lastWave()) {
      state_.phase = RolloutPhase::kComplete;
      state_.reason.clear();
      return {};
    }
    ++state_.wave;
    state_.phase = RolloutPhase::kWaiting;
    state_.wave_published = false;
    state_.nodes.clear();
    return advance(in);
  }
  if (in.now_ms - state_.wave_started_ms >= state_.strategy.timeout_ms) {
    return fail(wave_name + ": gate timed out after " +
                    std::to_string(state_.strategy.timeout_ms / 1000) + " s (" + waiting + ")",
                in.now_ms);
  }
  state_.reason = waiting;
  return {};
}

Status RolloutPlan::pause(int64_t now_ms) {
  if (finished() || state_.phase == RolloutPhase::kPaused) {
    return Status::conflict(std::string("the rollout is ") + phaseName(state_.phase));
  }
  state_.phase = RolloutPhase::kPaused;
  state_.reason = "paused by an operator";
  state_.updated_ms = now_ms;
  return Status::ok();
}

Status RolloutPlan::resume(int64_t now_ms) {
  if (state_.phase != RolloutPhase::kPaused) {
    return Status::conflict(std::string("the rollout is ") + phaseName(state_.phase) +
                            ", not paused");
  }
  state_.phase = state_.wave_published ? RolloutPhase::kGating : RolloutPhase::kWaiting;
  state_.wave_started_ms = now_ms;  // a fresh gate: timeout, soaks and failures start again
  state_.nodes.clear();
  state_.reason.clear();
  state_.updated_ms = now_ms;
  return Status::ok();
}

Result<RolloutStep> RolloutPlan::promote(int64_t now_ms) {
  if (finished()) return Status::conflict(std::string("the rollout is ") + phaseName(state_.phase));
  state_.wave = static_cast<int>(state_.strategy.waves.size()) - 1;
  state_.wave_published = true;
  state_.wave_started_ms = now_ms;
  state_.phase = RolloutPhase::kComplete;
  state_.nodes.clear();
  state_.reason = "promoted by an operator";
  state_.updated_ms = now_ms;
  return RolloutStep{RolloutStep::Kind::kWhole, {}};
}

Result<RolloutStep> RolloutPlan::abort(int64_t now_ms) {
  if (finished()) return Status::conflict(std::string("the rollout is ") + phaseName(state_.phase));
  state_.phase = RolloutPhase::kAborted;
  state_.reason = "aborted by an operator";
  state_.updated_ms = now_ms;
  return RolloutStep{RolloutStep::Kind::kRollback, {}};
}

int64_t RolloutPlan::soakLeftMs(int64_t now_ms) const {
  int64_t left = 0;
  for (const auto& [node, p] : state_.nodes) {
    if (p.gate != NodeGate::kSoaking) continue;
    left = std::max(left, state_.strategy.soak_ms - (now_ms - p.running_since_ms));
  }
  return left;
}

// ---- stored form ---------------------------------------------------------------------------

Json toJson(const RolloutState& s) {
  Json nodes = Json::object();
  for (const auto& [node, p] : s.nodes) {
    nodes[node] = Json{{"gate", nodeGateName(p.gate)},
                       {"running_since", p.running_since_ms},
                       {"restarts", p.restarts},
                       {"reason", p.reason}};
  }
  return Json{{"app", s.app},
              {"revision", s.revision},
              {"previous_revision", s.previous_revision},
              {"strategy", toJson(s.strategy)},
              {"phase", phaseName(s.phase)},
              {"wave", s.wave},
              {"wave_published", s.wave_published},
              {"wave_started", s.wave_started_ms},
              {"updated", s.updated_ms},
              {"reason", s.reason},
              {"nodes", nodes}};
}

Result<RolloutState> rolloutStateFromJson(const Json& json) {
  if (!json.is_object()) return Status::invalidArgument("rollout: must be an object");
  JsonReader r(json, "rollout");
  RolloutState s;
  s.app = r.str("app");
  s.revision = r.i64("revision");
  s.previous_revision = r.i64("previous_revision", 0);
  std::string phase = r.str("phase");
  s.wave = static_cast<int>(r.i64("wave"));
  s.wave_published = r.boolean("wave_published");
  s.wave_started_ms = r.i64("wave_started");
  s.updated_ms = r.i64("updated", 0);
  s.reason = r.str("reason", "");
  const Json& strategy = r.object("strategy");
  const Json& nodes = r.objectOr("nodes");
  if (!r.ok()) return r.status();
  auto parsed = parseRolloutStrategy(strategy, "rollout.strategy");
  if (!parsed) return parsed.status();
  s.strategy = std::move(*parsed);
  int p = indexOf(kPhases, phase);
  if (p < 0) return Status::invalidArgument("rollout.phase: unknown phase '" + phase + "'");
  s.phase = static_cast<RolloutPhase>(p);
  if (s.wave < 0 || s.wave >= static_cast<int>(s.strategy.waves.size())) {
    return Status::invalidArgument("rollout.wave: outside the strategy's waves");
  }
  for (const auto& [node, value] : nodes.items()) {
    JsonReader nr(value, "rollout.nodes." + node);
    NodeProgress np;
    std::string gate = nr.str("gate");
    np.running_since_ms = nr.i64("running_since", 0);
    np.restarts = nr.i64("restarts", -1);
    np.reason = nr.str("reason", "");
    if (!nr.ok()) return nr.status();
    int g = indexOf(kNodeGates, gate);
    if (g < 0) return Status::invalidArgument("rollout.nodes." + node + ".gate: unknown");
    np.gate = static_cast<NodeGate>(g);
    s.nodes.emplace(node, std::move(np));
  }
  return s;
}

}  // namespace pharos::anchor
