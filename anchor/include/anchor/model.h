// The anchor's records: what it stores per node, group, app, revision, tombstone, registry
// credential and document generation, with their storage JSON codecs (docs/anchor-store.md
// lists the keys). Plain value types; the codecs are pure functions (thread-safe).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anchor/rollout_plan.h"
#include "pharos/api.h"
#include "pharos/json.h"
#include "pharos/messages.h"
#include "pharos/status.h"

namespace pharos::anchor {

enum class Registration { kPending, kAccepted, kRemoving };
const char* registrationName(Registration r);  // pending | accepted | removing

struct NodeRecord {
  std::string name;
  Registration registration = Registration::kAccepted;
  std::map<std::string, std::string> labels;  // set by operators (node.label, node.add)
  Json info;                                  // the last nodes/{n}/info (object) or null
  int64_t created = 0;
  bool enrolled = false;  // the anchor created its broker identity (node.add)
  std::string added_by;   // "auto" or the API user
  // Sealed secrets (docs/security.md): the public key (base64) the node's secrets document
  // is sealed to, trusted on first sight or set by node.rekey; and a different key the
  // node's info announced later, held until an operator accepts it with node.rekey.
  std::string public_key;
  std::string pending_key;
  bool operator==(const NodeRecord&) const = default;
};

struct HealthTransition {
  Readiness state = Readiness::kNotReady;
  int64_t ts = 0;
  std::string reason;
  int64_t session = 0;
  bool operator==(const HealthTransition&) const = default;
};

// The health verdict and what it is made from; persisted without sync (it is re-derived
// from the retained status after a crash).
struct NodeHealthRecord {
  NodeHealth health;                      // state/since/reason/session as published
  std::optional<NodeStatus> last_status;  // the last status that passed the session rule
  int64_t newest_ready_session = 0;       // the session rule's reference
  int64_t last_seen = 0;                  // Unix ms of the last message from the node
  std::deque<HealthTransition> history;   // newest last, bounded (kMaxHealthHistory)
  bool operator==(const NodeHealthRecord&) const = default;
  // The session of the last status (0: none yet).
  int64_t lastSession() const { return last_status ? last_status->session : 0; }
};
inline constexpr size_t kMaxHealthHistory = 32;

struct GroupRecord {
  std::string name;
  int64_t created = 0;
  std::set<std::string> nodes;   // direct member nodes
  std::set<std::string> groups;  // direct member (child) groups
  bool operator==(const GroupRecord&) const = default;
};

// An app's staged rollout (docs/rollouts.md), stored in its record, so every step is written
// in the same batch as the document generation it publishes.
struct AppRollout {
  RolloutState state;
  std::optional<AppRevisionSpec> previous;  // what nodes outside the wave run and return to
  std::optional<StagedApp> staged;          // the entry's wave (without `previous`) while partial
  bool operator==(const AppRollout&) const = default;
};

struct AppRecord {
  std::string name;
  Target target;
  int64_t revision = 0;
  DesiredState state = DesiredState::kRunning;
  int64_t restart = 0;
  VolumePolicy volumes = VolumePolicy::kKeep;  // with removed
  std::string compose;                         // of `revision`
  std::map<std::string, std::string> variables;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t top_revision = 0;  // the highest revision given (above `revision` after a
                             // staged rollout returned to the previous one)
  std::optional<AppRollout> rollout = std::nullopt;  // the app's last staged rollout
  bool operator==(const AppRecord&) const = default;
  // The number of the next revision of this app.
  int64_t nextRevision() const { return std::max(revision, top_revision) + 1; }
  // True while a staged rollout is neither complete, rolled back nor aborted.
  bool rollingOut() const;
};

struct RevisionRecord {
  int64_t revision = 0;
  Target target;
  std::string compose;
  std::map<std::string, std::string> variables;
  int64_t ts = 0;
  std::string user;
  std::string note;  // "deploy" | "rollback to N"
  bool operator==(const RevisionRecord&) const = default;
};

struct RegistryRecord {
  Target target;
  std::string host;
  std::string username;
  std::string password;
  bool operator==(const RegistryRecord&) const = default;
};

// Generation bookkeeping of one published document.
struct DocState {
  int64_t generation = 0;
  std::string hash;  // of the content without epoch/generation
  bool operator==(const DocState&) const = default;
};

// Documents are named "node/<n>", "secrets/<n>", "group/<g>".
enum class DocKind { kNode, kSecrets, kGroup };
std::string docKey(DocKind kind, const std::string& name);
// Splits a doc key; false when malformed.
bool parseDocKey(const std::string& key, DocKind& kind, std::string& name);
// "node/<n>" or "group/<g>" for an app target.
std::string targetDocKey(const Target& target);

// Storage codecs. Decoders return invalid_argument naming the field on a bad record.
Json toJson(const NodeRecord& r);
Result<NodeRecord> nodeRecordFromJson(const Json& j);
Json toJson(const NodeHealthRecord& r);
Result<NodeHealthRecord> healthRecordFromJson(const Json& j);
Json toJson(const AppRollout& r);
Result<AppRollout> appRolloutFromJson(const Json& j);
Json toJson(const AppRecord& r);
Result<AppRecord> appRecordFromJson(const Json& j);
Json toJson(const RevisionRecord& r);
Result<RevisionRecord> revisionRecordFromJson(const Json& j);
Json toJson(const RegistryRecord& r);
Result<RegistryRecord> registryRecordFromJson(const Json& j);
Json toJson(const DocState& r);
Result<DocState> docStateFromJson(const Json& j);
Json toJson(const Target& t);
Result<Target> targetFromJson(const Json& j, const std::string& path);

// Tombstone entries (an AppSpec with state removed) as stored under tomb/.
Json tombToJson(const AppSpec& spec);
Result<AppSpec> tombFromJson(const Json& j);

// The AppSpec published in desired documents for an app record.
AppSpec toAppSpec(const AppRecord& app);

// Stable 64-bit FNV-1a hash as 16 hex digits (document change detection).
std::string contentHash(std::string_view text);

// Store keys (docs/anchor-store.md).
namespace keys {
inline constexpr std::string_view kEpoch = "meta/epoch";
inline constexpr std::string_view kSchema = "meta/schema";
inline constexpr std::string_view kNodePrefix = "node/";
inline constexpr std::string_view kHealthPrefix = "health/";
inline constexpr std::string_view kGroupPrefix = "group/";
inline constexpr std::string_view kMemberPrefix = "member/";
inline constexpr std::string_view kAppPrefix = "app/";
inline constexpr std::string_view kRevPrefix = "rev/";
inline constexpr std::string_view kSecretPrefix = "secret/";
inline constexpr std::string_view kRegistryPrefix = "registry/";
inline constexpr std::string_view kTombPrefix = "tomb/";
inline constexpr std::string_view kGenPrefix = "gen/";
inline constexpr std::string_view kEventPrefix = "event/";
std::string node(const std::string& name);
std::string health(const std::string& name);
std::string group(const std::string& name);
std::string memberNode(const std::string& group, const std::string& node);
std::string memberGroup(const std::string& group, const std::string& child);
std::string app(const std::string& name);
std::string revPrefix(const std::string& app);
std::string rev(const std::string& app, int64_t revision);
std::string secret(const std::string& app);
// registry/<node|group>/<target>/<host>
std::string registry(const Target& target, const std::string& host);
// tomb/<doc key>/<app>, e.g. tomb/group/line1/web
std::string tomb(const std::string& doc_key, const std::string& app);
// gen/<doc key>
std::string gen(const std::string& doc_key);
// event/<%016d ts>/<%010d seq>
std::string event(int64_t ts, int64_t seq);
}  // namespace keys

}  // namespace pharos::anchor
