// Typed requests of the management API (DESIGN.md section 4, docs/protocol.md,
// schemas/api-request.schema.json) and of the agent commands (nodes/{node}/cmd/{command}/{user}).
//
// A request arrives on pharos/v1/api/{user}/{operation}; decodeApiRequest (messages.h)
// checks the envelope ("v": 1, size, replyTo) and these decoders read the operation's
// fields from ApiRequest::body. Each `decodeX(const Json& body)` refuses wrong types,
// missing required fields, invalid identifiers and out-of-range values with an
// invalid_argument (too_large for an oversized compose or node list) naming the field;
// unknown fields are ignored. `encode(const XRequest&)` builds the body ("v": 1 included)
// for pharosctl and tests; the caller adds replyTo/correlation for MQTT 3.1.1.
//
// Pure functions on value types: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/json.h"
#include "pharos/messages.h"
#include "pharos/status.h"

namespace pharos {

inline constexpr int kMaxListLimit = 1000;       // limit of *.list / events.query
inline constexpr int kDefaultListLimit = 100;    // when limit is absent
inline constexpr int kMaxMembersPerCall = 1000;  // nodes (and groups) per group.add/remove

// Operation names, as they appear in the topic.
namespace ops {
inline constexpr std::string_view kNodeList = "node.list";
inline constexpr std::string_view kNodeGet = "node.get";
inline constexpr std::string_view kNodeAdd = "node.add";
inline constexpr std::string_view kNodeRemove = "node.remove";
inline constexpr std::string_view kNodeApprove = "node.approve";
inline constexpr std::string_view kNodeLabel = "node.label";
inline constexpr std::string_view kNodeRekey = "node.rekey";
inline constexpr std::string_view kGroupCreate = "group.create";
inline constexpr std::string_view kGroupDelete = "group.delete";
inline constexpr std::string_view kGroupList = "group.list";
inline constexpr std::string_view kGroupGet = "group.get";
inline constexpr std::string_view kGroupAdd = "group.add";
inline constexpr std::string_view kGroupRemove = "group.remove";
inline constexpr std::string_view kAppDeploy = "app.deploy";
inline constexpr std::string_view kAppRemove = "app.remove";
inline constexpr std::string_view kAppStart = "app.start";
inline constexpr std::string_view kAppStop = "app.stop";
inline constexpr std::string_view kAppRestart = "app.restart";
inline constexpr std::string_view kAppList = "app.list";
inline constexpr std::string_view kAppGet = "app.get";
inline constexpr std::string_view kAppHistory = "app.history";
inline constexpr std::string_view kAppRollback = "app.rollback";
inline constexpr std::string_view kRegistrySet = "registry.set";
inline constexpr std::string_view kRegistryList = "registry.list";
inline constexpr std::string_view kRegistryRemove = "registry.remove";
inline constexpr std::string_view kEventsQuery = "events.query";
inline constexpr std::string_view kRolloutPause = "rollout.pause";
inline constexpr std::string_view kRolloutResume = "rollout.resume";
inline constexpr std::string_view kRolloutPromote = "rollout.promote";
inline constexpr std::string_view kRolloutAbort = "rollout.abort";
inline constexpr std::string_view kMetricsQuery = "metrics.query";
}  // namespace ops

// Every operation above, in that order.
const std::vector<std::string_view>& apiOperations();
bool isKnownOperation(std::string_view operation);
// Read operations (*.list, *.get, app.history, events.query, metrics.query): open to viewers.
bool isReadOperation(std::string_view operation);
// Decodes `body` with the operation's decoder and drops the value: Ok or the first error.
// Unknown operations are invalid_argument ("operation 'x.y': unknown").
Status validateRequest(std::string_view operation, const Json& body);

// {node: name} or {group: name}; exactly one.
struct Target {
  enum class Kind { kNode, kGroup };
  Kind kind = Kind::kNode;
  std::string name;
  bool operator==(const Target&) const = default;
};
// "node" / "group".
const char* targetKindName(Target::Kind kind);

// node.get, node.approve, app.start, app.stop, app.restart, app.get, app.history
// (the identifier kind depends on the operation).
struct NameRequest {
  std::string name;
  bool operator==(const NameRequest&) const = default;
};
Json encode(const NameRequest& req);
Result<NameRequest> decodeNodeGet(const Json& body);
Result<NameRequest> decodeNodeApprove(const Json& body);
Result<NameRequest> decodeAppStart(const Json& body);
Result<NameRequest> decodeAppStop(const Json& body);
Result<NameRequest> decodeAppRestart(const Json& body);
Result<NameRequest> decodeAppGet(const Json& body);
Result<NameRequest> decodeAppHistory(const Json& body);
// rollout.pause, rollout.resume, rollout.promote, rollout.abort {name: app}
Result<NameRequest> decodeRolloutCommand(const Json& body);

// group.list, app.list: {limit?, cursor?}. cursor is opaque (returned as result.next).
struct ListRequest {
  int limit = kDefaultListLimit;  // 1..kMaxListLimit
  std::string cursor;             // "" = from the start
  bool operator==(const ListRequest&) const = default;
};
Json encode(const ListRequest& req);
Result<ListRequest> decodeGroupList(const Json& body);
Result<ListRequest> decodeAppList(const Json& body);

// node.list {label?, group?, health?, limit?, cursor?}. label is "key" (present) or
// "key=value".
struct NodeListRequest {
  std::string label;
  std::string group;
  std::optional<Readiness> health;  // any when absent
  int limit = kDefaultListLimit;
  std::string cursor;
  bool operator==(const NodeListRequest&) const = default;
};
Json encode(const NodeListRequest& req);
Result<NodeListRequest> decodeNodeList(const Json& body);

// node.add {name, labels?}
struct NodeAddRequest {
  std::string name;
  std::map<std::string, std::string> labels;
  bool operator==(const NodeAddRequest&) const = default;
};
Json encode(const NodeAddRequest& req);
Result<NodeAddRequest> decodeNodeAdd(const Json& body);

// node.rekey {name, key_id | public_key}: the public key the node's secrets are sealed to.
// `key_id` accepts the key the node announced in its info (held as pending: a changed key
// is never trusted from info alone); `public_key` (base64) sets one given out of band
// (`pharos-agent --print-public-key` on the device). Exactly one of the two.
struct NodeRekeyRequest {
  std::string name;
  std::string key_id;
  std::string public_key;
  bool operator==(const NodeRekeyRequest&) const = default;
};
Json encode(const NodeRekeyRequest& req);
Result<NodeRekeyRequest> decodeNodeRekey(const Json& body);

// node.remove {name, purge?}
struct NodeRemoveRequest {
  std::string name;
  bool purge = false;
  bool operator==(const NodeRemoveRequest&) const = default;
};
Json encode(const NodeRemoveRequest& req);
Result<NodeRemoveRequest> decodeNodeRemove(const Json& body);

// node.label {name, set?, remove?}; at least one of them non-empty.
struct NodeLabelRequest {
  std::string name;
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
  bool operator==(const NodeLabelRequest&) const = default;
};
Json encode(const NodeLabelRequest& req);
Result<NodeLabelRequest> decodeNodeLabel(const Json& body);

// group.create {name, parent?}
struct GroupCreateRequest {
  std::string name;
  std::string parent;  // "" = top level
  bool operator==(const GroupCreateRequest&) const = default;
};
Json encode(const GroupCreateRequest& req);
Result<GroupCreateRequest> decodeGroupCreate(const Json& body);

// group.get {name, depth?}: the result (group_tree.h) carries the subtree below the group down
// to `depth` levels of nested groups (1..kMaxGroupTreeDepth, default kDefaultGroupTreeDepth).
inline constexpr int kDefaultGroupTreeDepth = 8;
inline constexpr int kMaxGroupTreeDepth = 16;
struct GroupGetRequest {
  std::string name;
  int depth = kDefaultGroupTreeDepth;
  bool operator==(const GroupGetRequest&) const = default;
};
Json encode(const GroupGetRequest& req);
Result<GroupGetRequest> decodeGroupGet(const Json& body);

// group.delete {name, force?}
struct GroupDeleteRequest {
  std::string name;
  bool force = false;
  bool operator==(const GroupDeleteRequest&) const = default;
};
Json encode(const GroupDeleteRequest& req);
Result<GroupDeleteRequest> decodeGroupDelete(const Json& body);

// group.add / group.remove {group, nodes?, groups?}; at least one member; at most
// kMaxMembersPerCall nodes and as many groups (too_large beyond).
struct GroupMembersRequest {
  std::string group;
  std::vector<std::string> nodes;
  std::vector<std::string> groups;
  bool operator==(const GroupMembersRequest&) const = default;
};
Json encode(const GroupMembersRequest& req);
Result<GroupMembersRequest> decodeGroupAdd(const Json& body);
Result<GroupMembersRequest> decodeGroupRemove(const Json& body);

// app.deploy {name, target, compose, variables?, secrets?, strategy?}. compose at most
// kMaxComposeBytes (too_large). Variable names match [A-Za-z_][A-Za-z0-9_]{0,127}.
struct AppDeployRequest {
  std::string name;
  Target target;
  std::string compose;
  std::map<std::string, std::string> variables;
  std::map<std::string, std::string> secrets;
  // A staged rollout's strategy (docs/rollouts.md), an object the anchor parses; null: none.
  Json strategy = Json();
  bool operator==(const AppDeployRequest&) const = default;
};
Json encode(const AppDeployRequest& req);
Result<AppDeployRequest> decodeAppDeploy(const Json& body);

// app.remove {name, volumes?: keep|delete}
struct AppRemoveRequest {
  std::string name;
  VolumePolicy volumes = VolumePolicy::kKeep;
  bool operator==(const AppRemoveRequest&) const = default;
};
Json encode(const AppRemoveRequest& req);
Result<AppRemoveRequest> decodeAppRemove(const Json& body);

// app.rollback {name, revision >= 1, strategy?}
struct AppRollbackRequest {
  std::string name;
  int64_t revision = 0;
  Json strategy = Json();  // as app.deploy's

  bool operator==(const AppRollbackRequest&) const = default;
};
Json encode(const AppRollbackRequest& req);
Result<AppRollbackRequest> decodeAppRollback(const Json& body);

// registry.set {host, username, password, target}
struct RegistrySetRequest {
  std::string host;
  std::string username;
  std::string password;
  Target target;
  bool operator==(const RegistrySetRequest&) const = default;
};
Json encode(const RegistrySetRequest& req);
Result<RegistrySetRequest> decodeRegistrySet(const Json& body);

// registry.list {target?}: the credentials set on that node or group, or on every target;
// hosts and usernames, never passwords.
struct RegistryListRequest {
  std::optional<Target> target;
  bool operator==(const RegistryListRequest&) const = default;
};
Json encode(const RegistryListRequest& req);
Result<RegistryListRequest> decodeRegistryList(const Json& body);

// registry.remove {host, target}: the credentials set for `host` on that node or group.
struct RegistryRemoveRequest {
  std::string host;
  Target target;
  bool operator==(const RegistryRemoveRequest&) const = default;
};
Json encode(const RegistryRemoveRequest& req);
Result<RegistryRemoveRequest> decodeRegistryRemove(const Json& body);

// events.query {node?, app?, kind?, since?, until?, limit?}: until >= since.
struct EventsQueryRequest {
  std::string node;
  std::string app;
  std::string kind;
  int64_t since = 0;  // Unix ms, inclusive; 0 = no lower bound
  int64_t until = 0;  // Unix ms, inclusive; 0 = no upper bound
  int limit = kDefaultListLimit;
  bool operator==(const EventsQueryRequest&) const = default;
};
Json encode(const EventsQueryRequest& req);
Result<EventsQueryRequest> decodeEventsQuery(const Json& body);

// metrics.query {node, from?, to?, step?, app?}: a node's metrics history (docs/metrics.md),
// or with `app` the history of that app's containers on the node. `from` / `to` are Unix ms
// (to = 0: now; from = 0: an hour before `to`); `step` is the point spacing in seconds (0:
// the finest the stored history holds for that range).
inline constexpr int kMaxMetricsStepSeconds = 86'400;
struct MetricsQueryRequest {
  std::string node;
  int64_t from = 0;
  int64_t to = 0;
  int step = 0;
  std::string app;  // "": the node's own figures
  bool operator==(const MetricsQueryRequest&) const = default;
};
Json encode(const MetricsQueryRequest& req);
Result<MetricsQueryRequest> decodeMetricsQuery(const Json& body);

// ---- agent commands: nodes/{node}/cmd/{logs|inspect}/{user}, same envelope and replies ---
// logs {app, service, tail?, since?}: the last `tail` lines (default 100, max 10000), or
// those since `since` (Unix ms), in one answer.
// logs {app, service, tail?, follow: true, max_lines?, max_seconds?, lease?}: a live stream
// of answers on the reply topic, each with the lines since the last one (docs/protocol.md
// "Log streams"), until a limit, {stream, action: "stop"}, or `lease` seconds without
// {stream, action: "renew"} from the same user.
inline constexpr int kMaxLogStreamLines = 100'000;
inline constexpr int kMaxLogStreamSeconds = 3600;
struct LogsCommand {
  std::string app;
  std::string service;
  int tail = 100;
  int64_t since = 0;
  bool follow = false;
  int max_lines = 10'000;
  int max_seconds = 600;
  int lease = 30;
  // A control of a running stream (app and service then unused): its id and "stop"/"renew".
  std::string stream;
  std::string action;
  bool operator==(const LogsCommand&) const = default;
};
Json encode(const LogsCommand& req);
Result<LogsCommand> decodeLogsCommand(const Json& body);

// inspect {app, service?}: the managed containers of an app (one service when given).
struct InspectCommand {
  std::string app;
  std::string service;
  bool operator==(const InspectCommand&) const = default;
};
Json encode(const InspectCommand& req);
Result<InspectCommand> decodeInspectCommand(const Json& body);

// Validation helpers shared by the codecs (also useful to the anchor).
// Environment variable names: [A-Za-z_][A-Za-z0-9_]{0,127}.
bool isValidVariableName(std::string_view name);
// Label keys: [a-z0-9][a-z0-9_.-]{0,62} (the identifier rule); values at most 1024 bytes.
bool isValidLabelKey(std::string_view key);
// Registry hosts: host[:port], 1..255 bytes of [A-Za-z0-9.:_\[\]-].
bool isValidRegistryHost(std::string_view host);

}  // namespace pharos
