// The history of an app's rollouts in the store (rollout_history.h). Runs on the anchor's
// strand.
#include "anchor/rollout_history.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "anchor/model.h"
#include "pharos/log.h"

namespace pharos::anchor {
namespace {

constexpr std::string_view kPrefix = "rollout/";

std::string prefix(const std::string& app) { return std::string(kPrefix) + app + "/"; }
std::string key(const std::string& app, int64_t revision) {
  return fmt::format("{}{:010d}", prefix(app), revision);
}

bool finished(RolloutPhase p) {
  return p == RolloutPhase::kComplete || p == RolloutPhase::kRolledBack ||
         p == RolloutPhase::kAborted;
}

}  // namespace

Json toJson(const RolloutRecord& r) {
  Json out{{"revision", r.revision},
           {"previous_revision", r.previous_revision},
           {"kind", r.kind == RolloutKind::kStaged ? "staged" : "plain"},
           {"user", r.user},
           {"started", r.started},
           {"ended", r.ended}};
  if (r.kind == RolloutKind::kStaged) {
    out["steps"] = r.steps;
    out["window"] = r.window;
    out["phase"] = phaseName(r.phase);
    out["wave"] = r.wave;
    out["reason"] = r.reason;
  }
  return out;
}

Result<RolloutRecord> rolloutRecordFromJson(const Json& j) {
  if (!j.is_object()) return Status::invalidArgument("rollout record: must be an object");
  JsonReader r(j, "rollout record");
  RolloutRecord out;
  out.revision = r.i64("revision");
  out.previous_revision = r.i64("previous_revision", 0);
  std::string kind = r.oneOf("kind", {"plain", "staged"});
  out.user = r.str("user", "");
  out.started = r.i64("started", 0);
  out.ended = r.i64("ended", 0);
  if (!r.ok()) return r.status();
  if (kind == "plain") return out;
  out.kind = RolloutKind::kStaged;
  const Json& steps = r.arrayOr("steps");
  out.window = r.str("window", "");
  std::string phase = r.str("phase");
  out.wave = static_cast<int>(r.i64("wave", 0));
  out.reason = r.str("reason", "");
  if (!r.ok()) return r.status();
  for (const auto& s : steps) {
    if (!s.is_string()) return Status::invalidArgument("rollout record.steps: must be strings");
    out.steps.push_back(s.get<std::string>());
  }
  auto p = phaseFromName(phase);
  if (!p) return Status::invalidArgument("rollout record.phase: unknown phase '" + phase + "'");
  out.phase = *p;
  return out;
}

RolloutRecord stagedRecord(const RolloutState& state, const std::string& user, int64_t now_ms) {
  RolloutRecord r;
  r.revision = state.revision;
  r.previous_revision = state.previous_revision;
  r.kind = RolloutKind::kStaged;
  r.user = user;
  r.started = now_ms;
  Json strategy = toJson(state.strategy);
  for (const auto& step : strategy["waves"]) {
    if (step.is_string()) {
      r.steps.push_back(step.get<std::string>());
      continue;
    }
    std::string joined;
    for (const auto& item : step) joined += (joined.empty() ? "" : "+") + item.get<std::string>();
    r.steps.push_back(joined);
  }
  if (state.strategy.window) r.window = windowText(*state.strategy.window);
  r.phase = state.phase;
  r.wave = state.wave;
  r.reason = state.reason;
  if (finished(state.phase)) r.ended = now_ms;
  return r;
}

RolloutOutcome toOutcome(const RolloutRecord& r) {
  RolloutOutcome o;
  o.kind = r.kind == RolloutKind::kStaged ? "staged" : "plain";
  o.previous_revision = r.previous_revision;
  o.user = r.user;
  o.started = r.started;
  o.ended = r.ended;
  if (r.kind == RolloutKind::kStaged) {
    o.phase = phaseName(r.phase);
    o.wave = r.wave + 1;
    o.waves = static_cast<int>(r.steps.size());
    o.steps = r.steps;
    o.window = r.window;
    o.reason = r.reason;
  }
  return o;
}

Status RolloutHistory::begin(WriteBatch& batch, const std::string& app,
                             const RolloutRecord& record) {
  size_t kept = 1;  // the new record
  std::vector<std::string> old;
  PHAROS_RETURN_IF_ERROR(store_.scanReverse(prefix(app), [&](std::string_view k, std::string_view) {
    if (k == key(app, record.revision)) return true;
    if (kept < max_) {
      ++kept;
    } else {
      old.emplace_back(k);
    }
    return true;
  }));
  for (auto& k : old) batch.del(std::move(k));
  batch.put(key(app, record.revision), dumpJson(toJson(record)));
  return Status::ok();
}

Status RolloutHistory::update(WriteBatch& batch, const std::string& app, const RolloutState& state,
                              int64_t now_ms) {
  auto stored = store_.get(key(app, state.revision));
  if (!stored) return stored.status();
  std::optional<RolloutRecord> record;
  if (stored->has_value()) {
    auto json = parseJson(**stored, size_t{1} << 20);
    auto decoded = json ? rolloutRecordFromJson(*json) : Result<RolloutRecord>(json.status());
    if (decoded) record = std::move(*decoded);
  }
  if (!record) {  // begun before records were kept, or damaged: what the state says
    RolloutRecord fresh = stagedRecord(state, "", now_ms);
    fresh.started = 0;
    return begin(batch, app, fresh);
  }
  record->kind = RolloutKind::kStaged;
  record->phase = state.phase;
  record->wave = state.wave;
  record->reason = state.reason;
  if (finished(state.phase) && record->ended == 0) record->ended = now_ms;
  batch.put(key(app, state.revision), dumpJson(toJson(*record)));
  return Status::ok();
}

Result<std::vector<RolloutRecord>> RolloutHistory::list(const std::string& app) {
  std::vector<RolloutRecord> out;
  PHAROS_RETURN_IF_ERROR(
      store_.scanReverse(prefix(app), [&](std::string_view k, std::string_view v) {
        auto json = parseJson(v, size_t{1} << 20);
        auto record = json ? rolloutRecordFromJson(*json) : Result<RolloutRecord>(json.status());
        if (!record) {
          spdlog::warn("{}: {}", k, record.status().message());
          return true;
        }
        out.push_back(std::move(*record));
        return true;
      }));
  return out;
}

Status RolloutHistory::drop(WriteBatch& batch, const std::string& app) {
  std::vector<std::string> keys;
  PHAROS_RETURN_IF_ERROR(store_.scan(prefix(app), [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  }));
  for (auto& k : keys) batch.del(std::move(k));
  return Status::ok();
}

Result<AppHistoryResult> appHistory(Store& store, RolloutHistory& rollouts, const AppRecord& app) {
  auto records = rollouts.list(app.name);
  if (!records) return records.status();
  std::map<int64_t, const RolloutRecord*> by_revision;
  for (const auto& r : *records) by_revision[r.revision] = &r;
  AppHistoryResult out;
  out.name = app.name;
  PHAROS_RETURN_IF_ERROR(
      store.scanReverse(keys::revPrefix(app.name), [&](std::string_view, std::string_view v) {
        auto json = parseJson(v, size_t{8} << 20);
        auto rev = json ? revisionRecordFromJson(*json) : Result<RevisionRecord>(json.status());
        if (!rev) return true;
        AppRevisionEntry entry;
        entry.revision = rev->revision;
        entry.target = rev->target;
        entry.ts = rev->ts;
        entry.user = rev->user;
        entry.note = rev->note;
        entry.variables = rev->variables;
        entry.compose_bytes = static_cast<int64_t>(rev->compose.size());
        entry.compose_hash = contentHash(rev->compose);
        entry.current = rev->revision == app.revision;
        auto found = by_revision.find(rev->revision);
        if (found != by_revision.end()) {
          entry.rollout = toOutcome(*found->second);
        } else if (app.rollout && app.rollout->state.revision == rev->revision) {
          RolloutRecord staged = stagedRecord(app.rollout->state, "", 0);
          staged.started = 0;
          entry.rollout = toOutcome(staged);
        }
        out.revisions.push_back(std::move(entry));
        return out.revisions.size() < kMaxHistoryRevisions;
      }));
  return out;
}

}  // namespace pharos::anchor
