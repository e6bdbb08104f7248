// Wire messages of the pharos/v1 topic tree (DESIGN.md section 2, docs/protocol.md,
// schemas/*.schema.json): typed structs, `Json encode(const T&)` and decoders.
//
// Every decoder exists in four overloads: from a parsed `Json`, and from the raw MQTT
// payload as `std::string_view`, `const std::string&` or `const char*` (the payload forms
// parse with parseJson and enforce the message's size limit, kMaxPayloadBytes or
// kMaxDocumentBytes). Decoders check `"v": 1`, ignore unknown fields, refuse wrong types,
// missing required fields, invalid identifiers and unknown enum values, and every error
// names the field path ("apps[2].compose: must be a string"). Encoders always write
// `"v": 1` and produce documents the decoders accept.
//
// Pure functions on value types: thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos {

// Size limits (bytes of the MQTT payload).
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 20;    // requests, events, status...
inline constexpr size_t kMaxDocumentBytes = size_t{4} << 20;   // node state, desired docs, rollout
inline constexpr size_t kMaxComposeBytes = size_t{512} << 10;  // one app's compose text
inline constexpr int kMessageVersion = 1;

// Declares the four decoder overloads of one message type (see the file comment).
#define PHAROS_DECLARE_DECODER(Type, name)                                                         \
  Result<Type> name(const Json& json);                                                             \
  Result<Type> name(std::string_view payload);                                                     \
  inline Result<Type> name(const std::string& payload) { return name(std::string_view(payload)); } \
  inline Result<Type> name(const char* payload) { return name(std::string_view(payload)); }

// ---- States the messages carry ----------------------------------------------------------------
// Code compares these enums; only the codecs (the message encoders and decoders, the anchor's
// storage and API results, the agent's Docker Engine readers) turn them into wire names and
// back: toWire(value) gives the name, fromWire<E>(name) the value, or nullopt for a name it
// does not know (a decoder then fails naming the field).

// A node's readiness: the agent's status says Ready|NotReady, the anchor's health verdict also
// Unreachable|Pending.
enum class Readiness { kReady, kNotReady, kUnreachable, kPending };
// An app's desired state in a desired document: running|stopped|removed (a tombstone).
enum class DesiredState { kRunning, kStopped, kRemoved };
// What happens to an app's named volumes when it is removed: keep|delete.
enum class VolumePolicy { kKeep, kDelete };
// An app's phase as its agent reports it:
// Pending|Pulling|Starting|Running|Degraded|CrashLoop|Failed|Stopped|Removing.
enum class AppPhase {
  kPending,
  kPulling,
  kStarting,
  kRunning,
  kDegraded,
  kCrashLoop,
  kFailed,
  kStopped,
  kRemoving,
};
// A container's state as the Docker Engine reports it (created|running|restarting|paused|
// exited|removing|dead), plus "" (kNone: no container) and "missing" (kMissing: the agent
// reports a container that should exist but does not).
enum class ContainerState {
  kNone,
  kCreated,
  kRunning,
  kRestarting,
  kPaused,
  kExited,
  kRemoving,
  kDead,
  kMissing,
};

const char* toWire(Readiness value);
const char* toWire(DesiredState value);
const char* toWire(VolumePolicy value);
const char* toWire(AppPhase value);
const char* toWire(ContainerState value);
template <typename E>
std::optional<E> fromWire(std::string_view name);
template <>
std::optional<Readiness> fromWire<Readiness>(std::string_view name);
template <>
std::optional<DesiredState> fromWire<DesiredState>(std::string_view name);
template <>
std::optional<VolumePolicy> fromWire<VolumePolicy>(std::string_view name);
template <>
std::optional<AppPhase> fromWire<AppPhase>(std::string_view name);
template <>
std::optional<ContainerState> fromWire<ContainerState>(std::string_view name);

// Decoders read a state field with these: one of `allowed`, by its wire name, else an error
// naming the field and the allowed names ("phase: must be one of Pending, Pulling, ...").
// The second form gives `fallback` when the field is missing or null.
template <typename E>
E readState(JsonReader& r, const char* key, std::initializer_list<E> allowed) {
  std::string name = r.str(key);
  if (!r.ok()) return *allowed.begin();
  std::optional<E> value = fromWire<E>(name);
  std::string list;
  for (E a : allowed) {
    if (value == a) return a;
    list += list.empty() ? "" : ", ";
    list += toWire(a);
  }
  r.fail(Status::invalidArgument(r.path(key) + ": must be one of " + list));
  return *allowed.begin();
}
template <typename E>
E readState(JsonReader& r, const char* key, std::initializer_list<E> allowed, E fallback) {
  return r.has(key) ? readState(r, key, allowed) : fallback;
}

// ---- nodes/{node}/status (agent; will: broker) -------------------------------------------
struct NodeStatus {
  Readiness state = Readiness::kNotReady;  // Ready | NotReady
  int64_t session = 0;
  std::string reason;
  int64_t ts = 0;  // Unix ms
  bool operator==(const NodeStatus&) const = default;
};
Json encode(const NodeStatus& msg);
PHAROS_DECLARE_DECODER(NodeStatus, decodeNodeStatus)

// ---- nodes/{node}/info (agent) ---------------------------------------------------------------
struct NodeInfo {
  std::string agent_version;
  std::string hostname;
  std::string os;
  std::string arch;
  std::string kernel;
  std::string docker_version;
  std::string docker_api;
  int cpus = 0;
  int64_t memory_bytes = 0;
  int64_t disk_bytes = 0;
  std::vector<std::string> addresses;
  std::string broker;  // the broker this agent connects to (URI or host:port)
  std::map<std::string, std::string> labels;
  // The device's public key for sealed secrets, base64 of 32 bytes ("" = none: an agent that
  // predates sealing). Its private key never leaves the device (docs/security.md).
  std::string public_key;
  int64_t ts = 0;
  bool operator==(const NodeInfo&) const = default;
};
// True when `text` is the base64 of a 32-byte public key (NodeInfo::public_key, node.add).
bool isPublicKeyText(std::string_view text);
Json encode(const NodeInfo& msg);
PHAROS_DECLARE_DECODER(NodeInfo, decodeNodeInfo)

// ---- nodes/{node}/state (agent) --------------------------------------------------------------
struct ServiceState {
  std::string name;
  std::string container_id;
  ContainerState state = ContainerState::kNone;
  std::string health;  // healthy|unhealthy|starting|"" (no healthcheck)
  int restart_count = 0;
  int exit_code = 0;
  std::string image;
  std::string image_id;
  bool operator==(const ServiceState&) const = default;
};

struct AppState {
  std::string name;
  int64_t revision = 0;
  AppPhase phase = AppPhase::kPending;
  std::string message;
  std::vector<ServiceState> services;
  bool operator==(const AppState&) const = default;
};

struct DocRef {
  std::string source;  // "node" | "group:<name>" | "secrets"
  std::string epoch;
  int64_t generation = 0;
  bool operator==(const DocRef&) const = default;
};

struct NodeState {
  std::vector<DocRef> applied;
  std::vector<AppState> apps;
  int64_t ts = 0;
  bool operator==(const NodeState&) const = default;
};
Json encode(const NodeState& msg);
PHAROS_DECLARE_DECODER(NodeState, decodeNodeState)

// ---- nodes/{node}/events (agent, not retained) ---------------------------------------------
struct NodeEvent {
  // container_died, container_restarted, container_recreated, image_pulled, image_pruned,
  // app_applied, app_failed, app_removed, conflict, bad_document, crash_loop, state_file, ...
  // Free form but [a-z0-9_]{1,64}.
  std::string kind;
  std::string app;      // "" when not about an app
  std::string service;  // "" when not about a service
  std::string reason;
  std::string message;
  int64_t ts = 0;
  bool operator==(const NodeEvent&) const = default;
};
Json encode(const NodeEvent& msg);
PHAROS_DECLARE_DECODER(NodeEvent, decodeNodeEvent)

// ---- nodes/{node}/metrics (agent, QoS 0) ---------------------------------------------------
struct ContainerMetrics {
  std::string app;
  std::string service;
  std::string container_id;
  double cpu_percent = 0;
  int64_t mem_bytes = 0;
  bool operator==(const ContainerMetrics&) const = default;
};

struct NodeMetrics {
  double cpu_percent = 0;
  int64_t mem_used = 0;
  int64_t mem_total = 0;
  int64_t disk_used = 0;
  int64_t disk_total = 0;
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  std::vector<ContainerMetrics> containers;
  int64_t ts = 0;
  bool operator==(const NodeMetrics&) const = default;
};
Json encode(const NodeMetrics& msg);
PHAROS_DECLARE_DECODER(NodeMetrics, decodeNodeMetrics)

// ---- nodes/{node}/heartbeat (agent, QoS 0, not retained) -----------------------------------
// Sent every keep_alive / 2 (at least every 500 ms apart) while connected; the anchor turns a
// Ready node NotReady when none arrives for 1.5 x keep_alive (docs/protocol.md "Health").
struct NodeHeartbeat {
  int64_t session = 0;     // the agent's current session (as in its status)
  int64_t keep_alive = 0;  // seconds, 1..65535 (its MQTT keep-alive)
  int64_t ts = 0;          // Unix ms (the device's clock; informative only)
  bool operator==(const NodeHeartbeat&) const = default;
};
Json encode(const NodeHeartbeat& msg);
PHAROS_DECLARE_DECODER(NodeHeartbeat, decodeNodeHeartbeat)

// ---- nodes/{node}/health (anchor) ----------------------------------------------------------
struct NodeHealth {
  Readiness state = Readiness::kNotReady;
  int64_t since = 0;  // Unix ms of the last transition
  std::string reason;
  int64_t session = 0;
  bool operator==(const NodeHealth&) const = default;
};
Json encode(const NodeHealth& msg);
PHAROS_DECLARE_DECODER(NodeHealth, decodeNodeHealth)

// ---- nodes/{node}/desired and groups/{group}/desired (anchor) ------------------------------
// A staged rollout (docs/protocol.md "Staged rollouts"): the app entry carries the new
// revision as usual plus `staged`, which says which nodes take it; every other node of the
// target runs `previous` (or not the app at all when there is none: a first deployment).
// Which nodes are in is decided by pharos/rollout_wave.h, the one function agent and anchor
// share. A document holding a staged app has "v": 2, so an agent that predates staging
// refuses it (bad_document) and keeps what it runs.
inline constexpr int kStagedDocVersion = 2;
inline constexpr int64_t kRolloutPositions = int64_t{1} << 32;  // positions are 0 .. 2^32-1

struct AppRevisionSpec {  // the revision that nodes outside the wave keep
  int64_t revision = 0;   // >= 1
  std::string compose;
  DesiredState state = DesiredState::kRunning;  // running|stopped
  std::map<std::string, std::string> variables;
  int64_t restart = 0;
  bool operator==(const AppRevisionSpec&) const = default;
};

struct StagedApp {
  std::optional<AppRevisionSpec> previous;
  std::vector<std::string> nodes;  // named nodes that take the new revision
  int64_t cutoff = 0;              // and every node whose rollout position is below it (0 .. 2^32)
  bool operator==(const StagedApp&) const = default;
};

struct AppSpec {
  std::string name;
  int64_t revision = 0;  // >= 1
  std::string compose;   // YAML text, at most kMaxComposeBytes
  DesiredState state = DesiredState::kRunning;
  std::map<std::string, std::string> variables;
  int64_t restart = 0;                             // bumped by app.restart
  VolumePolicy volumes = VolumePolicy::kKeep;      // meaningful with removed
  std::optional<StagedApp> staged = std::nullopt;  // a staged rollout (never with removed)
  bool operator==(const AppSpec&) const = default;
};

struct DesiredDoc {
  std::string epoch;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;  // node documents only
  std::vector<std::string> groups;            // node documents only
  std::vector<AppSpec> apps;
  bool operator==(const DesiredDoc&) const = default;
};
// Node document: {v, epoch, generation, labels, groups, apps}; "v" is kStagedDocVersion when
// an app is staged, else 1. The decoders accept both versions, `staged` only in version 2.
Json encode(const DesiredDoc& msg);
PHAROS_DECLARE_DECODER(DesiredDoc, decodeDesired)
// Group document: {v, epoch, generation, apps}. encodeGroupDesired omits labels/groups;
// decodeGroupDesired REFUSES a document that carries non-empty labels or groups (a group
// document never names groups: nesting is resolved by the anchor into node documents).
Json encodeGroupDesired(const DesiredDoc& msg);
PHAROS_DECLARE_DECODER(DesiredDoc, decodeGroupDesired)

// ---- nodes/{node}/secrets (anchor; only this node and the anchor can read it) -----------
struct RegistryAuth {
  std::string host;  // registry host[:port]
  std::string username;
  std::string password;
  bool operator==(const RegistryAuth&) const = default;
};

// What a node's secrets are, in the clear: never published as such. It travels sealed to the
// node's public key (SealedSecretsDoc) and lives only in the memory of the anchor and of
// that node's agent. Its JSON form, {v:1, node, epoch, generation, variables, registries},
// is the plaintext inside the sealed box (secrets-content.schema.json); `node`, `epoch` and
// `generation` repeat the envelope's so a box cannot be replayed under another header.
struct SecretsDoc {
  std::string node;
  std::string epoch;
  int64_t generation = 0;
  std::map<std::string, std::string> variables;
  std::vector<RegistryAuth> registries;
  bool operator==(const SecretsDoc&) const = default;
};
Json encode(const SecretsDoc& msg);
PHAROS_DECLARE_DECODER(SecretsDoc, decodeSecretsContent)

// The retained nodes/{node}/secrets document: {v:2, epoch, generation, key_id, sealed}, or
// {v:2, epoch, generation, withheld} while the anchor knows no public key of the node (the
// reason; nothing secret is published then).
// `v` is 2 so that an agent that predates sealing refuses it (a bad_document) instead of
// reading it as a document without secrets. `sealed` is the base64 of
// crypto_box_seal(JSON of the SecretsDoc) to the key named by `key_id` (sealed::keyId).
inline constexpr int kSealedSecretsVersion = 2;
struct SealedSecretsDoc {
  std::string epoch;
  int64_t generation = 0;
  std::string key_id;
  std::string sealed;    // base64
  std::string withheld;  // non-empty: no secrets, and why (key_id and sealed are empty)
  bool operator==(const SealedSecretsDoc&) const = default;
};
Json encode(const SealedSecretsDoc& msg);
PHAROS_DECLARE_DECODER(SealedSecretsDoc, decodeSealedSecrets)

// Seals `doc` (its node, epoch and generation included) to `public_key` (raw bytes).
Result<SealedSecretsDoc> sealSecrets(const SecretsDoc& doc, std::string_view public_key);
// Opens a sealed document for `node` with its key pair: refuses another key id, a box that
// does not open, and content whose node, epoch or generation differ from the envelope's.
Result<SecretsDoc> openSecrets(const SealedSecretsDoc& doc, const std::string& node,
                               std::string_view public_key, std::string_view secret_key);

// ---- apps/{app}/rollout (anchor) -----------------------------------------------------------
struct RolloutNode {
  std::string node;
  std::string status;  // pending|applied|running|failed|notready
  std::string message;
  bool operator==(const RolloutNode&) const = default;
};

// One node's gate in a staged rollout's current wave.
struct RolloutGateNode {
  std::string node;
  std::string gate;  // pending|notready|soaking|passed|failed
  std::string reason;
  bool operator==(const RolloutGateNode&) const = default;
};

// A staged rollout's progress (docs/rollouts.md), in the summary while the app has one.
struct RolloutStaged {
  std::string phase;     // waiting|gating|paused|complete|rolled_back|aborted
  int64_t revision = 0;  // the revision being rolled out
  int wave = 0;          // the current wave, 1-based
  int waves = 0;
  int64_t previous_revision = 0;      // 0: a first deployment
  int64_t soak_left_ms = 0;           // of the slowest soaking node
  std::string reason;                 // why it waits, paused, rolled back or aborted
  std::vector<RolloutGateNode> gate;  // the current wave's nodes (at most kMaxRolloutNodes)
  std::string window;                 // the update window ("Mon,Tue 22:00-06:00"), "" when none
  std::string time_zone;              // the site's time zone the window is read in (with a window)
  bool operator==(const RolloutStaged&) const = default;
};

struct RolloutSummary {
  std::string app;
  std::string target_kind;  // node|group
  std::string target;
  int64_t revision = 0;
  int total = 0;
  int pending = 0;
  int applied = 0;
  int running = 0;
  int failed = 0;
  int notready = 0;
  std::vector<RolloutNode> nodes;  // may hold fewer than `total` entries when truncated
  bool truncated = false;
  int64_t ts = 0;
  std::optional<RolloutStaged> staged = std::nullopt;  // the app's staged rollout, when it has one
  bool operator==(const RolloutSummary&) const = default;
};
inline constexpr int kMaxRolloutNodes = 1000;  // nodes[] beyond this is truncated
Json encode(const RolloutSummary& msg);
PHAROS_DECLARE_DECODER(RolloutSummary, decodeRolloutSummary)

// ---- anchor/status (anchor; will: broker) --------------------------------------------------
struct AnchorStatus {
  std::string state;  // online|offline
  int64_t ts = 0;
  bool operator==(const AnchorStatus&) const = default;
};
Json encode(const AnchorStatus& msg);
PHAROS_DECLARE_DECODER(AnchorStatus, decodeAnchorStatus)

// ---- API envelope: api/{user}/{operation} -> replies/{user}/... ------------------------------
// A request body. MQTT 5 clients carry Response Topic / Correlation Data as properties; MQTT
// 3.1.1 clients put "replyTo" and "correlation" in the body, decoded here. The caller prefers
// the MQTT 5 properties when present.
struct ApiRequest {
  Json body;             // the whole request object (operation fields, "v", ...)
  std::string reply_to;  // body.replyTo, "" when absent
  Json correlation;      // body.correlation, null when absent
  bool has_correlation = false;
};
// Checks size (kMaxPayloadBytes -> too_large), JSON object, "v": 1, replyTo type.
PHAROS_DECLARE_DECODER(ApiRequest, decodeApiRequest)

// Ok when `reply_to` is a concrete topic under pharos/v1/replies/{user}/ (permission_denied
// for another user's replies, invalid_argument for anything else).
Status checkReplyTo(std::string_view reply_to, std::string_view user);
// The same rule for an agent command: ok when `reply_to` is a concrete topic under
// pharos/v1/nodes/{node}/cmd-replies/{user}/ (permission_denied for another user's
// cmd-replies of that node, invalid_argument for anything else).
Status checkCmdReplyTo(std::string_view reply_to, std::string_view node, std::string_view user);

struct ApiResponse {
  bool ok = false;
  Json result;       // when ok
  Status error;      // when !ok: code, message, path/line/column when set
  Json correlation;  // echoed body correlation, null when absent
  bool has_correlation = false;
};
// {"v":1,"ok":true,"result":…[,"correlation":…]}; correlation omitted when null.
Json okResponse(const Json& result, const Json& correlation = Json());
// {"v":1,"ok":false,"error":{"code","message","path"?,"line"?,"column"?}[,"correlation"]}.
// An ok Status is turned into an "internal" error (a bug at the call site).
Json errorResponse(const Status& status, const Json& correlation = Json());
PHAROS_DECLARE_DECODER(ApiResponse, decodeApiResponse)

}  // namespace pharos
