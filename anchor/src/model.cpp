// Storage codecs of the anchor's records (model.h) and the store key builders.
// Pure functions: thread-safe.
#include "anchor/model.h"

#include <fmt/format.h>

namespace pharos::anchor {
namespace {

Json mapJson(const std::map<std::string, std::string>& m) {
  Json out = Json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

std::map<std::string, std::string> readMap(JsonReader& r, const char* key) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : r.stringMap(key)) out[k] = v;
  return out;
}

template <typename T>
Result<T> finish(JsonReader& r, T value) {
  if (!r.ok()) return r.status();
  return value;
}

}  // namespace

const char* registrationName(Registration r) {
  switch (r) {
    case Registration::kPending:
      return "pending";
    case Registration::kAccepted:
      return "accepted";
    case Registration::kRemoving:
      return "removing";
  }
  return "accepted";
}

std::string docKey(DocKind kind, const std::string& name) {
  switch (kind) {
    case DocKind::kNode:
      return "node/" + name;
    case DocKind::kSecrets:
      return "secrets/" + name;
    case DocKind::kGroup:
      return "group/" + name;
  }
  return name;
}

bool parseDocKey(const std::string& key, DocKind& kind, std::string& name) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return false;
  std::string_view prefix(key.data(), slash);
  name = key.substr(slash + 1);
  if (prefix == "node") {
    kind = DocKind::kNode;
  } else if (prefix == "secrets") {
    kind = DocKind::kSecrets;
  } else if (prefix == "group") {
    kind = DocKind::kGroup;
  } else {
    return false;
  }
  return !name.empty();
}

std::string targetDocKey(const Target& target) {
  return docKey(target.kind == Target::Kind::kNode ? DocKind::kNode : DocKind::kGroup, target.name);
}

Json toJson(const Target& t) { return Json{{targetKindName(t.kind), t.name}}; }

Result<Target> targetFromJson(const Json& j, const std::string& path) {
  if (!j.is_object()) return Status::invalidArgument(path + ": must be an object");
  Target t;
  if (j.contains("node") && j["node"].is_string()) {
    t.kind = Target::Kind::kNode;
    t.name = j["node"].get<std::string>();
  } else if (j.contains("group") && j["group"].is_string()) {
    t.kind = Target::Kind::kGroup;
    t.name = j["group"].get<std::string>();
  } else {
    return Status::invalidArgument(path + ": needs node or group");
  }
  return t;
}

Json toJson(const NodeRecord& r) {
  return Json{{"name", r.name},
              {"registration", registrationName(r.registration)},
              {"labels", mapJson(r.labels)},
              {"info", r.info},
              {"created", r.created},
              {"enrolled", r.enrolled},
              {"added_by", r.added_by},
              {"public_key", r.public_key},
              {"pending_key", r.pending_key}};
}

Result<NodeRecord> nodeRecordFromJson(const Json& j) {
  JsonReader r(j, "node");
  NodeRecord out;
  out.name = r.str("name");
  std::string reg = r.oneOf("registration", {"pending", "accepted", "removing"}, "accepted");
  out.registration = reg == "pending"    ? Registration::kPending
                     : reg == "removing" ? Registration::kRemoving
                                         : Registration::kAccepted;
  out.labels = readMap(r, "labels");
  if (r.ok() && j.contains("info") && j["info"].is_object()) out.info = j["info"];
  out.created = r.i64("created", 0);
  out.enrolled = r.boolean("enrolled", false);
  out.added_by = r.str("added_by", "");
  out.public_key = r.str("public_key", "");
  out.pending_key = r.str("pending_key", "");
  return finish(r, std::move(out));
}

Json toJson(const NodeHealthRecord& r) {
  Json history = Json::array();
  for (const auto& t : r.history) {
    history.push_back(Json{
        {"state", toWire(t.state)}, {"ts", t.ts}, {"reason", t.reason}, {"session", t.session}});
  }
  Json out{{"health", encode(r.health)},
           {"newest_ready_session", r.newest_ready_session},
           {"last_seen", r.last_seen},
           {"history", std::move(history)}};
  if (r.last_status) out["last_status"] = encode(*r.last_status);
  return out;
}

Result<NodeHealthRecord> healthRecordFromJson(const Json& j) {
  JsonReader r(j, "health");
  NodeHealthRecord out;
  const Json& h = r.object("health");
  if (r.ok()) {
    auto health = decodeNodeHealth(h);
    if (!health) return health.status();
    out.health = *health;
  }
  if (r.ok() && j.contains("last_status") && j["last_status"].is_object()) {
    auto status = decodeNodeStatus(j["last_status"]);
    if (status) out.last_status = *status;
  }
  out.newest_ready_session = r.i64("newest_ready_session", 0);
  out.last_seen = r.i64("last_seen", 0);
  const Json& history = r.arrayOr("history");
  if (r.ok()) {
    for (const auto& item : history) {
      JsonReader hr(item, "history[]");
      HealthTransition t;
      t.state = readState(
          hr, "state",
          {Readiness::kReady, Readiness::kNotReady, Readiness::kUnreachable, Readiness::kPending});
      t.ts = hr.i64("ts", 0);
      t.reason = hr.str("reason", "");
      t.session = hr.i64("session", 0);
      if (!hr.ok()) return hr.status();
      out.history.push_back(std::move(t));
    }
  }
  return finish(r, std::move(out));
}

Json toJson(const AppRollout& r) {
  Json out{{"state", toJson(r.state)}};
  if (r.previous) {
    out["previous"] = Json{{"revision", r.previous->revision},
                           {"compose", r.previous->compose},
                           {"state", toWire(r.previous->state)},
                           {"variables", mapJson(r.previous->variables)},
                           {"restart", r.previous->restart}};
  }
  if (r.staged) out["staged"] = Json{{"nodes", r.staged->nodes}, {"cutoff", r.staged->cutoff}};
  return out;
}

Result<AppRollout> appRolloutFromJson(const Json& j) {
  JsonReader r(j, "app.rollout");
  AppRollout out;
  const Json& state = r.object("state");
  if (!r.ok()) return r.status();
  auto parsed = rolloutStateFromJson(state);
  if (!parsed) return parsed.status();
  out.state = std::move(*parsed);
  if (r.has("previous")) {
    JsonReader p(r.object("previous"), "app.rollout.previous");
    AppRevisionSpec prev;
    prev.revision = p.i64("revision");
    prev.compose = p.str("compose");
    prev.state = readState(p, "state", {DesiredState::kRunning, DesiredState::kStopped},
                           DesiredState::kRunning);
    prev.variables = readMap(p, "variables");
    prev.restart = p.i64("restart", 0);
    if (!p.ok()) return p.status();
    out.previous = std::move(prev);
  }
  if (r.has("staged")) {
    JsonReader st(r.object("staged"), "app.rollout.staged");
    StagedApp staged;
    for (const auto& n : st.arrayOr("nodes")) {
      if (!n.is_string()) return Status::invalidArgument("app.rollout.staged.nodes: not a string");
      staged.nodes.push_back(n.get<std::string>());
    }
    staged.cutoff = st.i64("cutoff", 0);
    if (!st.ok()) return st.status();
    out.staged = std::move(staged);
  }
  if (!r.ok()) return r.status();
  return out;
}

bool AppRecord::rollingOut() const {
  if (!rollout) return false;
  RolloutPhase p = rollout->state.phase;
  return p != RolloutPhase::kComplete && p != RolloutPhase::kRolledBack &&
         p != RolloutPhase::kAborted;
}

Json toJson(const AppRecord& r) {
  Json out{{"name", r.name},         {"target", toJson(r.target)},
           {"revision", r.revision}, {"state", toWire(r.state)},
           {"restart", r.restart},   {"volumes", toWire(r.volumes)},
           {"compose", r.compose},   {"variables", mapJson(r.variables)},
           {"created", r.created},   {"updated", r.updated}};
  if (r.top_revision > r.revision) out["top_revision"] = r.top_revision;
  if (r.rollout) out["rollout"] = toJson(*r.rollout);
  return out;
}

Result<AppRecord> appRecordFromJson(const Json& j) {
  JsonReader r(j, "app");
  AppRecord out;
  out.name = r.str("name");
  const Json& target = r.object("target");
  if (r.ok()) {
    auto t = targetFromJson(target, "app.target");
    if (!t) return t.status();
    out.target = *t;
  }
  out.revision = r.i64("revision");
  out.state = readState(r, "state",
                        {DesiredState::kRunning, DesiredState::kStopped, DesiredState::kRemoved});
  out.restart = r.i64("restart", 0);
  out.volumes =
      readState(r, "volumes", {VolumePolicy::kKeep, VolumePolicy::kDelete}, VolumePolicy::kKeep);
  out.compose = r.str("compose");
  out.variables = readMap(r, "variables");
  out.created = r.i64("created", 0);
  out.updated = r.i64("updated", 0);
  out.top_revision = r.i64("top_revision", 0);
  const Json& rollout = r.objectOr("rollout");
  if (r.ok() && !rollout.empty()) {
    auto parsed = appRolloutFromJson(rollout);
    if (!parsed) return parsed.status();
    out.rollout = std::move(*parsed);
  }
  return finish(r, std::move(out));
}

Json toJson(const RevisionRecord& r) {
  return Json{{"revision", r.revision},
              {"target", toJson(r.target)},
              {"compose", r.compose},
              {"variables", mapJson(r.variables)},
              {"ts", r.ts},
              {"user", r.user},
              {"note", r.note}};
}

Result<RevisionRecord> revisionRecordFromJson(const Json& j) {
  JsonReader r(j, "revision");
  RevisionRecord out;
  out.revision = r.i64("revision");
  const Json& target = r.object("target");
  if (r.ok()) {
    auto t = targetFromJson(target, "revision.target");
    if (!t) return t.status();
    out.target = *t;
  }
  out.compose = r.str("compose");
  out.variables = readMap(r, "variables");
  out.ts = r.i64("ts", 0);
  out.user = r.str("user", "");
  out.note = r.str("note", "");
  return finish(r, std::move(out));
}

Json toJson(const RegistryRecord& r) {
  return Json{{"target", toJson(r.target)},
              {"host", r.host},
              {"username", r.username},
              {"password", r.password}};
}

Result<RegistryRecord> registryRecordFromJson(const Json& j) {
  JsonReader r(j, "registry");
  RegistryRecord out;
  const Json& target = r.object("target");
  if (r.ok()) {
    auto t = targetFromJson(target, "registry.target");
    if (!t) return t.status();
    out.target = *t;
  }
  out.host = r.str("host");
  out.username = r.str("username", "");
  out.password = r.str("password", "");
  return finish(r, std::move(out));
}

Json toJson(const DocState& r) { return Json{{"generation", r.generation}, {"hash", r.hash}}; }

Result<DocState> docStateFromJson(const Json& j) {
  JsonReader r(j, "gen");
  DocState out;
  out.generation = r.i64("generation");
  out.hash = r.str("hash", "");
  return finish(r, std::move(out));
}

AppSpec toAppSpec(const AppRecord& app) {
  AppSpec spec;
  spec.name = app.name;
  spec.revision = app.revision;
  spec.compose = app.compose;
  spec.state = app.state;
  spec.variables = app.variables;
  spec.restart = app.restart;
  spec.volumes = app.volumes;
  if (app.rollout && app.rollout->staged && app.state != DesiredState::kRemoved) {
    spec.staged = *app.rollout->staged;
    spec.staged->previous = app.rollout->previous;
  }
  return spec;
}

std::string contentHash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

namespace keys {
std::string node(const std::string& name) { return std::string(kNodePrefix) + name; }
std::string health(const std::string& name) { return std::string(kHealthPrefix) + name; }
std::string group(const std::string& name) { return std::string(kGroupPrefix) + name; }
std::string memberNode(const std::string& group, const std::string& node) {
  return std::string(kMemberPrefix) + group + "/node/" + node;
}
std::string memberGroup(const std::string& group, const std::string& child) {
  return std::string(kMemberPrefix) + group + "/group/" + child;
}
std::string app(const std::string& name) { return std::string(kAppPrefix) + name; }
std::string revPrefix(const std::string& app) { return std::string(kRevPrefix) + app + "/"; }
std::string rev(const std::string& app, int64_t revision) {
  return fmt::format("{}{:010d}", revPrefix(app), revision);
}
std::string secret(const std::string& app) { return std::string(kSecretPrefix) + app; }
std::string registry(const Target& target, const std::string& host) {
  return fmt::format("{}{}/{}/{}", kRegistryPrefix, targetKindName(target.kind), target.name, host);
}
std::string tomb(const std::string& doc_key, const std::string& app) {
  return std::string(kTombPrefix) + doc_key + "/" + app;
}
std::string gen(const std::string& doc_key) { return std::string(kGenPrefix) + doc_key; }
std::string event(int64_t ts, int64_t seq) {
  return fmt::format("{}{:016d}/{:010d}", kEventPrefix, ts, seq);
}
}  // namespace keys

}  // namespace pharos::anchor
