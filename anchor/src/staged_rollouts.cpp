// Staged rollouts in the anchor (staged_rollouts.h). Runs on the anchor's strand.
#include "anchor/staged_rollouts.h"

#include <fmt/format.h>

#include <set>

#include "anchor/rollout.h"
#include "anchor/rollout_history.h"
#include "pharos/api.h"
#include "pharos/log.h"

namespace pharos::anchor {

Result<std::optional<RolloutStrategy>> parseRequestStrategy(const Json& strategy,
                                                            const Target& target,
                                                            const Registry& reg) {
  if (strategy.is_null()) return std::optional<RolloutStrategy>();
  auto known = [&reg](const std::string& node) { return reg.findNode(node) != nullptr; };
  auto parsed = parseRolloutStrategy(strategy, "strategy", known);
  if (!parsed) {
    Status s = parsed.status();
    std::string path = s.message().substr(0, s.message().find(": "));
    return Status(s.code(), s.message()).withPath(path);
  }
  std::set<std::string> members = reg.relations().targetNodes(target);
  for (size_t i = 0; i < parsed->waves.size(); ++i) {
    for (const auto& node : parsed->waves[i].nodes) {
      if (members.count(node)) continue;
      std::string path = fmt::format("strategy.waves[{}]", i);
      return Status::invalidArgument(fmt::format("{}: node '{}' is not in the target ({} {})", path,
                                                 node, targetKindName(target.kind), target.name))
          .withPath(path);
    }
  }
  return std::optional<RolloutStrategy>(std::move(*parsed));
}

std::vector<WaveMember> waveMembers(const Registry& reg, const Target& target) {
  std::set<std::string> reach = reg.relations().targetNodes(target);
  std::vector<WaveMember> out;
  if (target.kind == Target::Kind::kNode) {
    if (reach.count(target.name)) out.push_back(WaveMember{target.name, ""});
    return out;
  }
  const GroupRecord* group = reg.findGroup(target.name);
  if (!group) return out;
  std::set<std::string> listed;
  for (const auto& node : group->nodes) {
    if (reach.count(node) && listed.insert(node).second) out.push_back(WaveMember{node, ""});
  }
  for (const auto& child : group->groups) {
    for (const auto& node : reg.relations().effectiveMembers(child)) {
      if (reach.count(node) && listed.insert(node).second) out.push_back(WaveMember{node, child});
    }
  }
  return out;
}

LocalTime localTime(const TimeZone& zone, int64_t now_ms) {
  int64_t seconds = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
  int64_t local = seconds + zone.utcOffset(seconds);
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t minute = (local - days * 86400) / 60;
  int weekday = static_cast<int>(((days + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  return LocalTime{weekday, static_cast<int>(minute)};
}

void beginRollout(AppRecord& next, const AppRecord* current, RolloutStrategy strategy,
                  const Registry& reg, const TimeZone& zone, int64_t now_ms) {
  AppRollout rollout;
  if (current && current->state != DesiredState::kRemoved && current->target == next.target) {
    AppRevisionSpec previous;
    previous.revision = current->revision;
    previous.compose = current->compose;
    previous.state = current->state;
    previous.variables = current->variables;
    previous.restart = current->restart;
    rollout.previous = std::move(previous);
  }
  int64_t previous_revision = rollout.previous ? rollout.previous->revision : 0;
  RolloutPlan plan(next.name, next.revision, previous_revision, std::move(strategy), now_ms);
  // While the window is shut every node keeps what it runs: an empty wave.
  rollout.staged = StagedApp{};
  next.rollout = std::move(rollout);
  PlanInputs in;
  in.now_ms = now_ms;
  in.local = localTime(zone, now_ms);
  in.members = waveMembers(reg, next.target);
  in.report = [](const std::string&) { return GateReport{}; };  // no gate is judged yet
  RolloutStep step = plan.advance(in);
  applyRolloutStep(next, plan.state(), step);
}

bool applyRolloutStep(AppRecord& app, const RolloutState& state, const RolloutStep& step) {
  if (!app.rollout) return false;
  AppRollout& r = *app.rollout;
  r.state = state;
  switch (step.kind) {
    case RolloutStep::Kind::kNone:
      return false;
    case RolloutStep::Kind::kWave:
      r.staged = step.staged;
      r.staged->previous.reset();  // kept once, in r.previous
      return true;
    case RolloutStep::Kind::kWhole:
      r.staged.reset();
      return true;
    case RolloutStep::Kind::kRollback:
      r.staged.reset();
      if (r.previous) {
        // The previous revision's entry exactly as untouched nodes run it: they change nothing.
        app.revision = r.previous->revision;
        app.compose = r.previous->compose;
        app.variables = r.previous->variables;
        app.state = r.previous->state;
        app.restart = r.previous->restart;
      } else {
        app.state = DesiredState::kRemoved;  // a first deployment: no node keeps it
        app.volumes = VolumePolicy::kKeep;
      }
      return true;
  }
  return false;
}

StagedRollouts::StagedRollouts(const OpContext& ctx,
                               const std::map<std::string, NodeState>& node_states, Strand& strand,
                               std::chrono::milliseconds tick)
    : ctx_(ctx), node_states_(node_states), strand_(strand), tick_(tick) {}

StagedRollouts::~StagedRollouts() { *alive_ = false; }

void StagedRollouts::schedule() {
  if (scheduled_) return;
  scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  strand_.postDelayed(tick_, [this, alive] {
    if (alive.expired()) return;
    scheduled_ = false;
    evaluate();
  });
}

GateReport StagedRollouts::report(const std::string& app, const std::string& node) const {
  GateReport r;
  auto health = ctx_.reg.health().find(node);
  r.ready = health != ctx_.reg.health().end() && health->second.health.state == Readiness::kReady;
  auto state = node_states_.find(node);
  if (state == node_states_.end()) return r;
  for (const auto& a : state->second.apps) {
    if (a.name != app) continue;
    r.revision = a.revision;
    r.phase = a.phase;
    r.services_ok = servicesRunning(a);
    for (const auto& s : a.services) r.restarts += s.restart_count;
    break;
  }
  return r;
}

void StagedRollouts::evaluate() {
  std::vector<std::string> running;
  for (const auto& [name, app] : ctx_.reg.apps()) {
    if (app.rollingOut()) running.push_back(name);
  }
  if (running.empty()) return;
  if (!ctx_.publisher.connected()) return schedule();  // judged again once reports flow
  int64_t now = ctx_.clock.nowMs();
  for (const auto& name : running) {
    const AppRecord* app = ctx_.reg.findApp(name);
    if (!app || !app->rollingOut()) continue;
    RolloutPlan plan(app->rollout->state);
    PlanInputs in;
    in.now_ms = now;
    in.local = localTime(ctx_.config.site_time_zone, now);
    in.members = waveMembers(ctx_.reg, app->target);
    in.report = [this, &name](const std::string& node) { return report(name, node); };
    RolloutStep step = plan.advance(in);
    if (plan.soakLeftMs(now) > 0) {
      ctx_.rollouts.mark(name);  // the summary's soak time left stays live
      ctx_.rollouts.schedule();
    }
    if (step.kind == RolloutStep::Kind::kNone && plan.state() == app->rollout->state) continue;
    Status s = commit(name, plan.state(), step, "", "");
    if (!s.isOk()) spdlog::warn("rollout of {}: {}", name, s.message());
  }
  schedule();
}

Status StagedRollouts::commit(const std::string& name, const RolloutState& state,
                              const RolloutStep& step, const std::string& user,
                              std::string_view operation) {
  Txn txn(ctx_.reg);
  AppRecord* app = txn.app(name);
  if (!app) return Status::notFound("name: no app named '" + name + "'");
  RolloutPhase before = app->rollout->state.phase;
  int before_wave = app->rollout->state.wave;
  bool publish = applyRolloutStep(*app, state, step);
  int64_t now = ctx_.clock.nowMs();
  if (publish) {
    app->updated = now;
    txn.docs().touchAppTarget(app->target, app->name);
  }
  bool news = publish || before != state.phase || before_wave != state.wave;
  std::string message =
      fmt::format("revision {}: wave {} of {} {}{}", state.revision, state.wave + 1,
                  state.strategy.waves.size(), phaseName(state.phase),
                  state.reason.empty() ? "" : " (" + state.reason.substr(0, 500) + ")");
  if (!user.empty()) {
    ctx_.audit(txn.extra(), user, std::string(operation), "", name, message);
  } else if (news) {
    EventRecord e;
    e.ts = now;
    e.source = "anchor";
    e.kind = "rollout";
    e.app = name;
    e.message = message;
    ctx_.events.stage(std::move(e), txn.extra());
  }
  if (news) {  // the outcome in the app's rollout history, in the same batch
    PHAROS_RETURN_IF_ERROR(
        RolloutHistory(ctx_.store, ctx_.config.max_rollouts).update(txn.extra(), name, state, now));
  }
  // Gate progress alone is not worth a sync: lost, a soak starts again (never skipped).
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn, news || !user.empty()));
  if (news) spdlog::info("rollout of {}: {}", name, message);
  ctx_.rollouts.mark(name);
  ctx_.rollouts.schedule();
  return Status::ok();
}

Result<Json> StagedRollouts::command(const std::string& user, std::string_view operation,
                                     const Json& body) {
  auto req = decodeRolloutCommand(body);
  if (!req) return req.status();
  const AppRecord* app = ctx_.reg.findApp(req->name);
  if (!app) return Status::notFound("name: no app named '" + req->name + "'").withPath("name");
  if (!app->rollout) {
    return Status::conflict("name: app '" + req->name + "' has no staged rollout").withPath("name");
  }
  RolloutPlan plan(app->rollout->state);
  int64_t now = ctx_.clock.nowMs();
  RolloutStep step;
  if (operation == ops::kRolloutPause) {
    PHAROS_RETURN_IF_ERROR(plan.pause(now));
  } else if (operation == ops::kRolloutResume) {
    PHAROS_RETURN_IF_ERROR(plan.resume(now));
  } else {
    auto result = operation == ops::kRolloutPromote ? plan.promote(now) : plan.abort(now);
    if (!result) return result.status();
    step = *result;
  }
  PHAROS_RETURN_IF_ERROR(commit(req->name, plan.state(), step, user, operation));
  schedule();
  const AppRecord* now_app = ctx_.reg.findApp(req->name);
  const RolloutState& st = now_app->rollout->state;
  return Json{{"name", req->name},
              {"revision", now_app->revision},
              {"phase", phaseName(st.phase)},
              {"wave", st.wave + 1},
              {"waves", st.strategy.waves.size()}};
}

}  // namespace pharos::anchor
