// app.history result codec (app_history.h). The decoder bounds what it accepts as the anchor
// bounds what it sends.
#include "pharos/app_history.h"

#include "messages_util.h"

namespace pharos {

namespace {

constexpr size_t kTextBytes = 64 << 10;
constexpr int64_t kMaxI64 = INT64_MAX;

Json encodeOutcome(const RolloutOutcome& o) {
  Json out{{"kind", o.kind}, {"previous_revision", o.previous_revision}, {"user", o.user}};
  if (o.started > 0) out["started"] = o.started;
  if (o.ended > 0) out["ended"] = o.ended;
  if (o.kind != "staged") return out;
  out["phase"] = o.phase;
  out["wave"] = o.wave;
  out["waves"] = o.waves;
  out["steps"] = o.steps;
  if (!o.window.empty()) out["window"] = o.window;
  out["reason"] = o.reason;
  return out;
}

Result<RolloutOutcome> decodeOutcome(const Json& json, const std::string& path) {
  codec::Reader r(json, path);
  RolloutOutcome o;
  o.kind = r.oneOf("kind", {"plain", "staged"});
  o.previous_revision = codec::i64In(r, "previous_revision", 0, kMaxI64, 0);
  o.user = codec::boundedStr(r, "user", 256, "");
  o.started = codec::i64In(r, "started", 0, kMaxI64, 0);
  o.ended = codec::i64In(r, "ended", 0, kMaxI64, 0);
  if (r.ok() && o.kind == "staged") {
    o.phase =
        r.oneOf("phase", {"waiting", "gating", "paused", "complete", "rolled_back", "aborted"});
    o.wave = codec::i32In(r, "wave", 1, static_cast<int>(kMaxRolloutSteps));
    o.waves = codec::i32In(r, "waves", 1, static_cast<int>(kMaxRolloutSteps));
    o.steps = codec::strArray(r, "steps", 1024, false);
    if (r.ok() && o.steps.size() > kMaxRolloutSteps) {
      r.fail(Status::invalidArgument(r.path("steps") + ": at most 100 waves"));
    }
    o.window = codec::boundedStr(r, "window", 64, "");
    o.reason = codec::boundedStr(r, "reason", kTextBytes, "");
  }
  return codec::finish(r, std::move(o));
}

}  // namespace

Json encode(const AppHistoryResult& result) {
  Json revisions = Json::array();
  for (const auto& e : result.revisions) {
    Json variables = Json::object();
    for (const auto& [k, v] : e.variables) variables[k] = v;
    Json entry{{"revision", e.revision},
               {"target", codec::encodeTarget(e.target)},
               {"ts", e.ts},
               {"user", e.user},
               {"note", e.note},
               {"variables", std::move(variables)},
               {"compose_bytes", e.compose_bytes},
               {"compose_hash", e.compose_hash},
               {"current", e.current}};
    if (e.rollout) entry["rollout"] = encodeOutcome(*e.rollout);
    revisions.push_back(std::move(entry));
  }
  return Json{{"name", result.name}, {"revisions", std::move(revisions)}};
}

Result<AppHistoryResult> decodeAppHistoryResult(const Json& json) {
  codec::Reader r(json, "");
  AppHistoryResult out;
  out.name = codec::id(r, "name", IdKind::kApp);
  const Json& revisions = r.array("revisions");
  if (!r.ok()) return r.status();
  if (revisions.size() > kMaxHistoryRevisions) {
    return Status::invalidArgument("revisions: at most 1000 entries");
  }
  for (size_t i = 0; i < revisions.size(); ++i) {
    codec::Reader e(revisions[i], codec::indexPath(r, "revisions", i));
    AppRevisionEntry entry;
    entry.revision = codec::i64In(e, "revision", 1, kMaxI64);
    entry.target = codec::decodeTarget(e);
    entry.ts = codec::i64In(e, "ts", 0, kMaxI64);
    entry.user = codec::boundedStr(e, "user", 256, "");
    entry.note = codec::boundedStr(e, "note", 1024, "");
    entry.variables = codec::stringMap(e, "variables", codec::MapKeys::kVariable, kTextBytes);
    entry.compose_bytes = codec::i64In(e, "compose_bytes", 0, kMaxI64, 0);
    entry.compose_hash = codec::boundedStr(e, "compose_hash", 64, "");
    entry.current = e.boolean("current", false);
    if (e.ok() && e.has("rollout")) {
      auto outcome = decodeOutcome(e.object("rollout"), e.path("rollout"));
      if (!e.ok()) return e.status();
      if (!outcome) return outcome.status();
      entry.rollout = std::move(*outcome);
    }
    if (!e.ok()) return e.status();
    out.revisions.push_back(std::move(entry));
  }
  return out;
}

}  // namespace pharos
