// Codecs of the documents the anchor publishes: node and group desired documents, app
// rollout summaries and the anchor's own status (see messages.h; secrets: messages_secrets.cpp).
#include <set>

#include "messages_util.h"
#include "pharos/api.h"
#include "pharos/messages.h"

namespace pharos {

namespace {
constexpr int64_t kMaxI64 = INT64_MAX;
constexpr int kMaxI32 = INT32_MAX;
constexpr size_t kValueBytes = 64 << 10;  // one variable / label value

constexpr size_t kMaxStagedNodes = 100000;

Json encodeStaged(const StagedApp& s) {
  Json out{{"nodes", s.nodes}, {"cutoff", s.cutoff}};
  if (s.previous) {
    const AppRevisionSpec& p = *s.previous;
    out["previous"] = Json{{"revision", p.revision},
                           {"compose", p.compose},
                           {"state", toWire(p.state)},
                           {"variables", codec::mapToJson(p.variables)},
                           {"restart", p.restart}};
  }
  return out;
}

Json encodeApp(const AppSpec& a) {
  Json out{{"name", a.name},
           {"revision", a.revision},
           {"compose", a.compose},
           {"state", toWire(a.state)},
           {"variables", codec::mapToJson(a.variables)},
           {"restart", a.restart},
           {"volumes", toWire(a.volumes)}};
  if (a.staged) out["staged"] = encodeStaged(*a.staged);
  return out;
}

Status composeSize(const codec::Reader& r, const std::string& compose) {
  if (compose.size() <= kMaxComposeBytes) return Status::ok();
  return Status::tooLarge(r.path("compose") + ": compose text is " +
                          std::to_string(compose.size()) + " bytes, the limit is " +
                          std::to_string(kMaxComposeBytes));
}

Status decodePrevious(const Json& json, const std::string& path, AppRevisionSpec& out) {
  codec::Reader r(json, path);
  out.revision = codec::i64In(r, "revision", 1, kMaxI64);
  out.compose = r.str("compose");
  out.state = readState(r, "state", {DesiredState::kRunning, DesiredState::kStopped},
                        DesiredState::kRunning);
  out.variables = codec::stringMap(r, "variables", codec::MapKeys::kVariable, kValueBytes);
  out.restart = codec::i64In(r, "restart", 0, kMaxI64, 0);
  if (!r.ok()) return r.status();
  return composeSize(r, out.compose);
}

Status decodeStaged(const Json& json, const std::string& path, const AppSpec& app, StagedApp& out) {
  codec::Reader r(json, path);
  out.nodes = codec::idArray(r, "nodes", IdKind::kNode, kMaxStagedNodes, false);
  out.cutoff = codec::i64In(r, "cutoff", 0, kRolloutPositions, 0);
  if (!r.ok() || !r.has("previous")) return r.status();
  const Json& previous = r.object("previous");
  if (r.ok()) {
    out.previous.emplace();
    PHAROS_RETURN_IF_ERROR(decodePrevious(previous, r.path("previous"), *out.previous));
    if (out.previous->revision == app.revision) {
      return Status::invalidArgument(r.path("previous") +
                                     ".revision: the previous revision equals the new one");
    }
  }
  return r.status();
}

// `staged_ok`: the document is of version kStagedDocVersion.
Status decodeApp(const Json& json, const std::string& path, bool staged_ok, AppSpec& out) {
  codec::Reader r(json, path);
  out.name = codec::id(r, "name", IdKind::kApp);
  out.revision = codec::i64In(r, "revision", 1, kMaxI64);
  out.state = readState(r, "state",
                        {DesiredState::kRunning, DesiredState::kStopped, DesiredState::kRemoved},
                        DesiredState::kRunning);
  // A tombstone may omit its compose text.
  if (r.ok() && out.state == DesiredState::kRemoved) {
    out.compose = r.str("compose", "");
  } else {
    out.compose = r.str("compose");
  }
  if (r.ok()) PHAROS_RETURN_IF_ERROR(composeSize(r, out.compose));
  out.variables = codec::stringMap(r, "variables", codec::MapKeys::kVariable, kValueBytes);
  out.restart = codec::i64In(r, "restart", 0, kMaxI64, 0);
  out.volumes =
      readState(r, "volumes", {VolumePolicy::kKeep, VolumePolicy::kDelete}, VolumePolicy::kKeep);
  if (!r.ok() || !r.has("staged")) return r.status();
  if (!staged_ok) {
    return Status::invalidArgument(r.path("staged") + ": a staged app needs a document of v " +
                                   std::to_string(kStagedDocVersion));
  }
  if (out.state == DesiredState::kRemoved) {
    return Status::invalidArgument(r.path("staged") + ": a removed app is not staged");
  }
  const Json& staged = r.object("staged");
  if (!r.ok()) return r.status();
  out.staged.emplace();
  return decodeStaged(staged, r.path("staged"), out, *out.staged);
}

// "v": 1, or kStagedDocVersion (a document that may hold staged apps).
int docVersion(codec::Reader& r) {
  const Json* v = r.raw("v");
  if (v != nullptr && v->is_number_integer() && v->get<int64_t>() == kStagedDocVersion) {
    return kStagedDocVersion;
  }
  r.version();
  return kMessageVersion;
}

// Shared by node and group documents; `node_doc` false refuses labels/groups.
Result<DesiredDoc> decodeDoc(const Json& json, bool node_doc) {
  codec::Reader r(json, "");
  bool staged_ok = docVersion(r) == kStagedDocVersion;
  DesiredDoc out;
  out.epoch = codec::epoch(r, "epoch");
  out.generation = codec::i64In(r, "generation", 0, kMaxI64);
  if (node_doc) {
    out.labels = codec::stringMap(r, "labels", codec::MapKeys::kLabel, 1024);
    out.groups = codec::idArray(r, "groups", IdKind::kGroup, 100000, false);
  } else {
    if (!r.objectOr("labels").empty()) {
      r.fail(Status::invalidArgument("labels: a group document carries no labels"));
    }
    if (!r.arrayOr("groups").empty()) {
      r.fail(Status::invalidArgument("groups: a group document carries no groups"));
    }
  }
  const Json& apps = r.array("apps");
  if (!r.ok()) return r.status();
  out.apps.resize(apps.size());
  std::set<std::string> names;
  for (size_t i = 0; i < apps.size(); ++i) {
    std::string path = codec::indexPath(r, "apps", i);
    PHAROS_RETURN_IF_ERROR(decodeApp(apps[i], path, staged_ok, out.apps[i]));
    if (!names.insert(out.apps[i].name).second) {
      return Status::invalidArgument(path + ".name: duplicate app '" + out.apps[i].name + "'");
    }
  }
  return out;
}

Json encodeDoc(const DesiredDoc& msg, bool node_doc) {
  Json out = codec::versioned();
  for (const AppSpec& a : msg.apps) {
    if (a.staged) out["v"] = kStagedDocVersion;
  }
  out["epoch"] = msg.epoch;
  out["generation"] = msg.generation;
  if (node_doc) {
    out["labels"] = codec::mapToJson(msg.labels);
    out["groups"] = msg.groups;
  }
  Json apps = Json::array();
  for (const auto& a : msg.apps) apps.push_back(encodeApp(a));
  out["apps"] = std::move(apps);
  return out;
}
}  // namespace

// ---- desired -----------------------------------------------------------------------------
Json encode(const DesiredDoc& msg) { return encodeDoc(msg, true); }
Json encodeGroupDesired(const DesiredDoc& msg) { return encodeDoc(msg, false); }
Result<DesiredDoc> decodeDesired(const Json& json) { return decodeDoc(json, true); }
Result<DesiredDoc> decodeGroupDesired(const Json& json) { return decodeDoc(json, false); }
PHAROS_DEFINE_PAYLOAD_DECODER(DesiredDoc, decodeDesired, kMaxDocumentBytes)
PHAROS_DEFINE_PAYLOAD_DECODER(DesiredDoc, decodeGroupDesired, kMaxDocumentBytes)

// ---- rollout -----------------------------------------------------------------------------
static Json encodeRolloutStaged(const RolloutStaged& s) {
  Json gate = Json::array();
  for (const auto& g : s.gate) {
    gate.push_back(Json{{"node", g.node}, {"gate", g.gate}, {"reason", g.reason}});
  }
  Json out{{"phase", s.phase},
           {"revision", s.revision},
           {"wave", s.wave},
           {"waves", s.waves},
           {"previous_revision", s.previous_revision},
           {"soak_left_ms", s.soak_left_ms},
           {"reason", s.reason},
           {"gate", std::move(gate)}};
  if (!s.window.empty()) {
    out["window"] = s.window;
    out["time_zone"] = s.time_zone;
  }
  return out;
}

static Result<RolloutStaged> decodeRolloutStaged(const Json& json, const std::string& path) {
  codec::Reader r(json, path);
  RolloutStaged out;
  out.phase =
      r.oneOf("phase", {"waiting", "gating", "paused", "complete", "rolled_back", "aborted"});
  out.revision = codec::i64In(r, "revision", 1, kMaxI64);
  out.wave = codec::i32In(r, "wave", 1, kMaxI32);
  out.waves = codec::i32In(r, "waves", 1, kMaxI32);
  out.previous_revision = codec::i64In(r, "previous_revision", 0, kMaxI64, 0);
  out.soak_left_ms = codec::i64In(r, "soak_left_ms", 0, kMaxI64, 0);
  out.reason = codec::boundedStr(r, "reason", kValueBytes, "");
  out.window = codec::boundedStr(r, "window", 64, "");
  out.time_zone = codec::boundedStr(r, "time_zone", 256, "");
  const Json& gate = r.arrayOr("gate");
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < gate.size(); ++i) {
    codec::Reader g(gate[i], codec::indexPath(r, "gate", i));
    RolloutGateNode node;
    node.node = codec::id(g, "node", IdKind::kNode);
    node.gate = g.oneOf("gate", {"pending", "notready", "soaking", "passed", "failed"});
    node.reason = codec::boundedStr(g, "reason", kValueBytes, "");
    if (!g.ok()) return g.status();
    out.gate.push_back(std::move(node));
  }
  return out;
}

Json encode(const RolloutSummary& msg) {
  Json out = codec::versioned();
  out["app"] = msg.app;
  out["target_kind"] = msg.target_kind;
  out["target"] = msg.target;
  out["revision"] = msg.revision;
  out["total"] = msg.total;
  out["pending"] = msg.pending;
  out["applied"] = msg.applied;
  out["running"] = msg.running;
  out["failed"] = msg.failed;
  out["notready"] = msg.notready;
  Json nodes = Json::array();
  for (const auto& n : msg.nodes) {
    nodes.push_back(Json{{"node", n.node}, {"status", n.status}, {"message", n.message}});
  }
  out["nodes"] = std::move(nodes);
  out["truncated"] = msg.truncated;
  out["ts"] = msg.ts;
  if (msg.staged) out["staged"] = encodeRolloutStaged(*msg.staged);
  return out;
}

Result<RolloutSummary> decodeRolloutSummary(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  RolloutSummary out;
  out.app = codec::id(r, "app", IdKind::kApp);
  out.target_kind = r.oneOf("target_kind", {"node", "group"});
  if (r.ok()) {
    out.target = codec::id(r, "target", out.target_kind == "node" ? IdKind::kNode : IdKind::kGroup);
  }
  out.revision = codec::i64In(r, "revision", 0, kMaxI64);
  out.total = codec::i32In(r, "total", 0, kMaxI32);
  out.pending = codec::i32In(r, "pending", 0, kMaxI32);
  out.applied = codec::i32In(r, "applied", 0, kMaxI32);
  out.running = codec::i32In(r, "running", 0, kMaxI32);
  out.failed = codec::i32In(r, "failed", 0, kMaxI32);
  out.notready = codec::i32In(r, "notready", 0, kMaxI32);
  const Json& nodes = r.arrayOr("nodes");
  out.truncated = r.boolean("truncated", false);
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < nodes.size(); ++i) {
    codec::Reader n(nodes[i], codec::indexPath(r, "nodes", i));
    RolloutNode node;
    node.node = codec::id(n, "node", IdKind::kNode);
    node.status = n.oneOf("status", {"pending", "applied", "running", "failed", "notready"});
    node.message = codec::boundedStr(n, "message", kValueBytes, "");
    if (!n.ok()) return n.status();
    out.nodes.push_back(std::move(node));
  }
  if (r.has("staged")) {
    const Json& staged = r.object("staged");
    if (!r.ok()) return r.status();
    auto decoded = decodeRolloutStaged(staged, r.path("staged"));
    if (!decoded) return decoded.status();
    out.staged = std::move(*decoded);
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(RolloutSummary, decodeRolloutSummary, kMaxDocumentBytes)

// ---- anchor status -----------------------------------------------------------------------
Json encode(const AnchorStatus& msg) {
  Json out = codec::versioned();
  out["state"] = msg.state;
  out["ts"] = msg.ts;
  return out;
}

Result<AnchorStatus> decodeAnchorStatus(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  AnchorStatus out;
  out.state = r.oneOf("state", {"online", "offline"});
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(AnchorStatus, decodeAnchorStatus, kMaxPayloadBytes)

}  // namespace pharos
