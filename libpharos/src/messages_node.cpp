// Codecs of the messages an agent publishes about its node (nodes/{node}/status, info,
// state, events, metrics, heartbeat) and of the anchor's health verdict (see messages.h).
#include "messages_util.h"
#include "pharos/messages.h"
#include "pharos/sealed.h"

namespace pharos {

namespace {
constexpr int64_t kMaxI64 = INT64_MAX;
constexpr int kMaxI32 = INT32_MAX;
constexpr size_t kShort = 256;      // names, versions, images
constexpr size_t kText = 64 << 10;  // free-text messages and reasons

bool validEventKind(std::string_view kind) {
  if (kind.empty() || kind.size() > 64) return false;
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}
}  // namespace

// ---- status ------------------------------------------------------------------------------
Json encode(const NodeStatus& msg) {
  Json out = codec::versioned();
  out["state"] = toWire(msg.state);
  out["session"] = msg.session;
  out["reason"] = msg.reason;
  out["ts"] = msg.ts;
  return out;
}

Result<NodeStatus> decodeNodeStatus(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeStatus out;
  out.state = readState(r, "state", {Readiness::kReady, Readiness::kNotReady});
  out.session = codec::i64In(r, "session", 0, kMaxI64);
  out.reason = codec::boundedStr(r, "reason", kText, "");
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeStatus, decodeNodeStatus, kMaxPayloadBytes)

// ---- info --------------------------------------------------------------------------------
Json encode(const NodeInfo& msg) {
  Json out = codec::versioned();
  out["agent_version"] = msg.agent_version;
  out["hostname"] = msg.hostname;
  out["os"] = msg.os;
  out["arch"] = msg.arch;
  out["kernel"] = msg.kernel;
  out["docker_version"] = msg.docker_version;
  out["docker_api"] = msg.docker_api;
  out["cpus"] = msg.cpus;
  out["memory_bytes"] = msg.memory_bytes;
  out["disk_bytes"] = msg.disk_bytes;
  out["addresses"] = msg.addresses;
  out["broker"] = msg.broker;
  out["labels"] = codec::mapToJson(msg.labels);
  if (!msg.public_key.empty()) out["public_key"] = msg.public_key;
  out["ts"] = msg.ts;
  return out;
}

Result<NodeInfo> decodeNodeInfo(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeInfo out;
  out.agent_version = codec::boundedStr(r, "agent_version", kShort);
  out.hostname = codec::boundedStr(r, "hostname", kShort);
  out.os = codec::boundedStr(r, "os", kShort, "");
  out.arch = codec::boundedStr(r, "arch", kShort, "");
  out.kernel = codec::boundedStr(r, "kernel", kShort, "");
  out.docker_version = codec::boundedStr(r, "docker_version", kShort, "");
  out.docker_api = codec::boundedStr(r, "docker_api", kShort, "");
  out.cpus = codec::i32In(r, "cpus", 0, 1 << 20, 0);
  out.memory_bytes = codec::i64In(r, "memory_bytes", 0, kMaxI64, 0);
  out.disk_bytes = codec::i64In(r, "disk_bytes", 0, kMaxI64, 0);
  out.addresses = codec::strArray(r, "addresses", kShort, false);
  out.broker = codec::boundedStr(r, "broker", kShort * 4, "");
  out.labels = codec::stringMap(r, "labels", codec::MapKeys::kLabel, 1024);
  out.public_key = codec::boundedStr(r, "public_key", 64, "");
  if (r.ok() && !out.public_key.empty() && !isPublicKeyText(out.public_key)) {
    r.fail(Status::invalidArgument("public_key: must be the base64 of a 32-byte public key"));
  }
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeInfo, decodeNodeInfo, kMaxPayloadBytes)

// ---- state -------------------------------------------------------------------------------
namespace {
Json encodeService(const ServiceState& s) {
  return Json{{"name", s.name},
              {"container_id", s.container_id},
              {"state", toWire(s.state)},
              {"health", s.health},
              {"restart_count", s.restart_count},
              {"exit_code", s.exit_code},
              {"image", s.image},
              {"image_id", s.image_id}};
}

Status decodeService(const Json& json, const std::string& path, ServiceState& out) {
  codec::Reader r(json, path);
  out.name = codec::id(r, "name", IdKind::kService);
  out.container_id = codec::boundedStr(r, "container_id", 128, "");
  out.state =
      readState(r, "state",
                {ContainerState::kNone, ContainerState::kCreated, ContainerState::kRunning,
                 ContainerState::kRestarting, ContainerState::kPaused, ContainerState::kExited,
                 ContainerState::kRemoving, ContainerState::kDead, ContainerState::kMissing},
                ContainerState::kNone);
  out.health = r.oneOf("health", {"", "none", "starting", "healthy", "unhealthy"}, "");
  out.restart_count = codec::i32In(r, "restart_count", 0, kMaxI32, 0);
  out.exit_code = codec::i32In(r, "exit_code", -kMaxI32, kMaxI32, 0);
  out.image = codec::boundedStr(r, "image", 1024, "");
  out.image_id = codec::boundedStr(r, "image_id", kShort, "");
  return r.status();
}

Status decodeApp(const Json& json, const std::string& path, AppState& out) {
  codec::Reader r(json, path);
  out.name = codec::id(r, "name", IdKind::kApp);
  out.revision = codec::i64In(r, "revision", 0, kMaxI64);
  out.phase = readState(r, "phase",
                        {AppPhase::kPending, AppPhase::kPulling, AppPhase::kStarting,
                         AppPhase::kRunning, AppPhase::kDegraded, AppPhase::kCrashLoop,
                         AppPhase::kFailed, AppPhase::kStopped, AppPhase::kRemoving});
  out.message = codec::boundedStr(r, "message", kText, "");
  const Json& services = r.arrayOr("services");
  if (!r.ok()) return r.status();
  out.services.resize(services.size());
  for (size_t i = 0; i < services.size(); ++i) {
    PHAROS_RETURN_IF_ERROR(
        decodeService(services[i], codec::indexPath(r, "services", i), out.services[i]));
  }
  return Status::ok();
}

Status decodeDocRef(const Json& json, const std::string& path, DocRef& out) {
  codec::Reader r(json, path);
  out.source = r.str("source");
  if (r.ok() && out.source != "node" && out.source != "secrets") {
    std::string_view s = out.source;
    if (s.substr(0, 6) != "group:" || !isValidId(IdKind::kGroup, s.substr(6))) {
      r.fail(Status::invalidArgument(r.path("source") +
                                     ": must be \"node\", \"secrets\" or \"group:<name>\""));
    }
  }
  out.epoch = codec::epoch(r, "epoch");
  out.generation = codec::i64In(r, "generation", 0, kMaxI64);
  return r.status();
}
}  // namespace

Json encode(const NodeState& msg) {
  Json out = codec::versioned();
  Json applied = Json::array();
  for (const auto& d : msg.applied) {
    applied.push_back(Json{{"source", d.source}, {"epoch", d.epoch}, {"generation", d.generation}});
  }
  Json apps = Json::array();
  for (const auto& a : msg.apps) {
    Json services = Json::array();
    for (const auto& s : a.services) services.push_back(encodeService(s));
    apps.push_back(Json{{"name", a.name},
                        {"revision", a.revision},
                        {"phase", toWire(a.phase)},
                        {"message", a.message},
                        {"services", std::move(services)}});
  }
  out["applied"] = std::move(applied);
  out["apps"] = std::move(apps);
  out["ts"] = msg.ts;
  return out;
}

Result<NodeState> decodeNodeState(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeState out;
  const Json& applied = r.array("applied");
  const Json& apps = r.array("apps");
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  if (!r.ok()) return r.status();
  out.applied.resize(applied.size());
  for (size_t i = 0; i < applied.size(); ++i) {
    PHAROS_RETURN_IF_ERROR(
        decodeDocRef(applied[i], codec::indexPath(r, "applied", i), out.applied[i]));
  }
  out.apps.resize(apps.size());
  for (size_t i = 0; i < apps.size(); ++i) {
    PHAROS_RETURN_IF_ERROR(decodeApp(apps[i], codec::indexPath(r, "apps", i), out.apps[i]));
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeState, decodeNodeState, kMaxDocumentBytes)

// ---- events ------------------------------------------------------------------------------
Json encode(const NodeEvent& msg) {
  Json out = codec::versioned();
  out["kind"] = msg.kind;
  if (!msg.app.empty()) out["app"] = msg.app;
  if (!msg.service.empty()) out["service"] = msg.service;
  out["reason"] = msg.reason;
  out["message"] = msg.message;
  out["ts"] = msg.ts;
  return out;
}

Result<NodeEvent> decodeNodeEvent(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeEvent out;
  out.kind = r.str("kind");
  if (r.ok() && !validEventKind(out.kind)) {
    r.fail(Status::invalidArgument("kind: must match [a-z0-9_]{1,64}"));
  }
  out.app = codec::optId(r, "app", IdKind::kApp);
  out.service = codec::optId(r, "service", IdKind::kService);
  out.reason = codec::boundedStr(r, "reason", kText, "");
  out.message = codec::boundedStr(r, "message", kText, "");
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeEvent, decodeNodeEvent, kMaxPayloadBytes)

// ---- metrics -----------------------------------------------------------------------------
Json encode(const NodeMetrics& msg) {
  Json out = codec::versioned();
  out["cpu_percent"] = msg.cpu_percent;
  out["mem_used"] = msg.mem_used;
  out["mem_total"] = msg.mem_total;
  out["disk_used"] = msg.disk_used;
  out["disk_total"] = msg.disk_total;
  out["load1"] = msg.load1;
  out["load5"] = msg.load5;
  out["load15"] = msg.load15;
  Json containers = Json::array();
  for (const auto& c : msg.containers) {
    containers.push_back(Json{{"app", c.app},
                              {"service", c.service},
                              {"container_id", c.container_id},
                              {"cpu_percent", c.cpu_percent},
                              {"mem_bytes", c.mem_bytes}});
  }
  out["containers"] = std::move(containers);
  out["ts"] = msg.ts;
  return out;
}

Result<NodeMetrics> decodeNodeMetrics(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeMetrics out;
  out.cpu_percent = codec::number(r, "cpu_percent", true);
  out.mem_used = codec::i64In(r, "mem_used", 0, kMaxI64);
  out.mem_total = codec::i64In(r, "mem_total", 0, kMaxI64);
  out.disk_used = codec::i64In(r, "disk_used", 0, kMaxI64);
  out.disk_total = codec::i64In(r, "disk_total", 0, kMaxI64);
  out.load1 = codec::number(r, "load1", true);
  out.load5 = codec::number(r, "load5", true);
  out.load15 = codec::number(r, "load15", true);
  const Json& containers = r.arrayOr("containers");
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < containers.size(); ++i) {
    codec::Reader c(containers[i], codec::indexPath(r, "containers", i));
    ContainerMetrics m;
    m.app = codec::id(c, "app", IdKind::kApp);
    m.service = codec::id(c, "service", IdKind::kService);
    m.container_id = codec::boundedStr(c, "container_id", 128, "");
    m.cpu_percent = codec::number(c, "cpu_percent", true);
    m.mem_bytes = codec::i64In(c, "mem_bytes", 0, kMaxI64);
    if (!c.ok()) return c.status();
    out.containers.push_back(std::move(m));
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeMetrics, decodeNodeMetrics, kMaxPayloadBytes)

// ---- heartbeat ---------------------------------------------------------------------------
Json encode(const NodeHeartbeat& msg) {
  Json out = codec::versioned();
  out["session"] = msg.session;
  out["keep_alive"] = msg.keep_alive;
  out["ts"] = msg.ts;
  return out;
}

Result<NodeHeartbeat> decodeNodeHeartbeat(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeHeartbeat out;
  out.session = codec::i64In(r, "session", 0, kMaxI64);
  out.keep_alive = codec::i64In(r, "keep_alive", 1, 65535);
  out.ts = codec::i64In(r, "ts", 0, kMaxI64);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeHeartbeat, decodeNodeHeartbeat, kMaxPayloadBytes)

// ---- health ------------------------------------------------------------------------------
Json encode(const NodeHealth& msg) {
  Json out = codec::versioned();
  out["state"] = toWire(msg.state);
  out["since"] = msg.since;
  out["reason"] = msg.reason;
  out["session"] = msg.session;
  return out;
}

Result<NodeHealth> decodeNodeHealth(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  NodeHealth out;
  out.state = readState(
      r, "state",
      {Readiness::kReady, Readiness::kNotReady, Readiness::kUnreachable, Readiness::kPending});
  out.since = codec::i64In(r, "since", 0, kMaxI64);
  out.reason = codec::boundedStr(r, "reason", kText, "");
  out.session = codec::i64In(r, "session", 0, kMaxI64, 0);
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(NodeHealth, decodeNodeHealth, kMaxPayloadBytes)

}  // namespace pharos
