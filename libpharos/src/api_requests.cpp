// Typed request bodies of the management API and of the agent commands (see api.h).
#include <functional>

#include "api_codec.h"
#include "messages_util.h"
#include "pharos/api.h"
#include "pharos/messages.h"

namespace pharos {

namespace api_codec {

Json withV(Json body) {
  body["v"] = kMessageVersion;
  return body;
}

}  // namespace api_codec

namespace {
using api_codec::decodeTarget;
using api_codec::encodeTarget;
using api_codec::withV;

constexpr size_t kValueBytes = 64 << 10;
constexpr size_t kCursorBytes = 256;

Result<NameRequest> decodeName(const Json& body, IdKind kind) {
  codec::Reader r(body, "");
  NameRequest out;
  out.name = codec::id(r, "name", kind);
  return codec::finish(r, std::move(out));
}

// `strategy`: an object (the anchor parses it, docs/rollouts.md) or null when absent.
Json strategyField(codec::Reader& r) {
  if (!r.has("strategy")) return Json();
  const Json& strategy = r.object("strategy");
  return r.ok() ? strategy : Json();
}

int limitField(codec::Reader& r) {
  return codec::i32In(r, "limit", 1, kMaxListLimit, kDefaultListLimit);
}

void addList(Json& out, int limit, const std::string& cursor) {
  out["limit"] = limit;
  if (!cursor.empty()) out["cursor"] = cursor;
}

Result<GroupMembersRequest> decodeMembers(const Json& body) {
  codec::Reader r(body, "");
  GroupMembersRequest out;
  out.group = codec::id(r, "group", IdKind::kGroup);
  out.nodes = codec::idArray(r, "nodes", IdKind::kNode, kMaxMembersPerCall, false);
  out.groups = codec::idArray(r, "groups", IdKind::kGroup, kMaxMembersPerCall, false);
  if (r.ok() && out.nodes.empty() && out.groups.empty()) {
    r.fail(Status::invalidArgument("nodes: name at least one node or group"));
  }
  return codec::finish(r, std::move(out));
}

struct OpEntry {
  std::string_view name;
  bool read;
  std::function<Status(const Json&)> validate;
};

template <typename T>
std::function<Status(const Json&)> check(Result<T> (*fn)(const Json&)) {
  return [fn](const Json& body) { return fn(body).status(); };
}

const std::vector<OpEntry>& opTable() {
  static const std::vector<OpEntry> kTable = {
      {ops::kNodeList, true, check(decodeNodeList)},
      {ops::kNodeGet, true, check(decodeNodeGet)},
      {ops::kNodeAdd, false, check(decodeNodeAdd)},
      {ops::kNodeRemove, false, check(decodeNodeRemove)},
      {ops::kNodeApprove, false, check(decodeNodeApprove)},
      {ops::kNodeLabel, false, check(decodeNodeLabel)},
      {ops::kNodeRekey, false, check(decodeNodeRekey)},
      {ops::kGroupCreate, false, check(decodeGroupCreate)},
      {ops::kGroupDelete, false, check(decodeGroupDelete)},
      {ops::kGroupList, true, check(decodeGroupList)},
      {ops::kGroupGet, true, check(decodeGroupGet)},
      {ops::kGroupAdd, false, check(decodeGroupAdd)},
      {ops::kGroupRemove, false, check(decodeGroupRemove)},
      {ops::kAppDeploy, false, check(decodeAppDeploy)},
      {ops::kAppRemove, false, check(decodeAppRemove)},
      {ops::kAppStart, false, check(decodeAppStart)},
      {ops::kAppStop, false, check(decodeAppStop)},
      {ops::kAppRestart, false, check(decodeAppRestart)},
      {ops::kAppList, true, check(decodeAppList)},
      {ops::kAppGet, true, check(decodeAppGet)},
      {ops::kAppHistory, true, check(decodeAppHistory)},
      {ops::kAppRollback, false, check(decodeAppRollback)},
      {ops::kRegistrySet, false, check(decodeRegistrySet)},
      {ops::kRegistryList, true, check(decodeRegistryList)},
      {ops::kRegistryRemove, false, check(decodeRegistryRemove)},
      {ops::kEventsQuery, true, check(decodeEventsQuery)},
      {ops::kRolloutPause, false, check(decodeRolloutCommand)},
      {ops::kRolloutResume, false, check(decodeRolloutCommand)},
      {ops::kRolloutPromote, false, check(decodeRolloutCommand)},
      {ops::kRolloutAbort, false, check(decodeRolloutCommand)},
      {ops::kMetricsQuery, true, check(decodeMetricsQuery)},
  };
  return kTable;
}

const OpEntry* findOp(std::string_view operation) {
  for (const auto& e : opTable()) {
    if (e.name == operation) return &e;
  }
  return nullptr;
}
}  // namespace

const char* targetKindName(Target::Kind kind) {
  return kind == Target::Kind::kNode ? "node" : "group";
}

const std::vector<std::string_view>& apiOperations() {
  static const std::vector<std::string_view> kOps = [] {
    std::vector<std::string_view> out;
    for (const auto& e : opTable()) out.push_back(e.name);
    return out;
  }();
  return kOps;
}

bool isKnownOperation(std::string_view operation) { return findOp(operation) != nullptr; }

bool isReadOperation(std::string_view operation) {
  const OpEntry* e = findOp(operation);
  return e != nullptr && e->read;
}

Status validateRequest(std::string_view operation, const Json& body) {
  const OpEntry* e = findOp(operation);
  if (e == nullptr) {
    return Status::invalidArgument("operation '" + std::string(operation.substr(0, 64)) +
                                   "': unknown");
  }
  return e->validate(body);
}

// ---- name-only requests --------------------------------------------------------------------
Json encode(const NameRequest& req) { return withV(Json{{"name", req.name}}); }
Result<NameRequest> decodeNodeGet(const Json& b) { return decodeName(b, IdKind::kNode); }
Result<NameRequest> decodeNodeApprove(const Json& b) { return decodeName(b, IdKind::kNode); }
Result<NameRequest> decodeAppStart(const Json& b) { return decodeName(b, IdKind::kApp); }
Result<NameRequest> decodeAppStop(const Json& b) { return decodeName(b, IdKind::kApp); }
Result<NameRequest> decodeAppRestart(const Json& b) { return decodeName(b, IdKind::kApp); }
Result<NameRequest> decodeAppGet(const Json& b) { return decodeName(b, IdKind::kApp); }
Result<NameRequest> decodeAppHistory(const Json& b) { return decodeName(b, IdKind::kApp); }
Result<NameRequest> decodeRolloutCommand(const Json& b) { return decodeName(b, IdKind::kApp); }

// ---- lists ---------------------------------------------------------------------------------
Json encode(const ListRequest& req) {
  Json out = Json::object();
  addList(out, req.limit, req.cursor);
  return withV(std::move(out));
}

Result<ListRequest> decodeGroupList(const Json& body) {
  codec::Reader r(body, "");
  ListRequest out;
  out.limit = limitField(r);
  out.cursor = codec::boundedStr(r, "cursor", kCursorBytes, "");
  return codec::finish(r, std::move(out));
}

Result<ListRequest> decodeAppList(const Json& body) { return decodeGroupList(body); }

Json encode(const NodeListRequest& req) {
  Json out = Json::object();
  if (!req.label.empty()) out["label"] = req.label;
  if (!req.group.empty()) out["group"] = req.group;
  if (req.health) out["health"] = toWire(*req.health);
  addList(out, req.limit, req.cursor);
  return withV(std::move(out));
}

Result<NodeListRequest> decodeNodeList(const Json& body) {
  codec::Reader r(body, "");
  NodeListRequest out;
  out.label = r.str("label", "");
  if (r.ok() && !out.label.empty()) {
    std::string_view key = std::string_view(out.label).substr(0, out.label.find('='));
    if (!isValidLabelKey(key) || out.label.size() > 1100) {
      r.fail(Status::invalidArgument(
          "label: must be \"key\" or \"key=value\" with key matching [a-z0-9][a-z0-9_.-]{0,62}"));
    }
  }
  out.group = codec::optId(r, "group", IdKind::kGroup);
  if (r.has("health")) {
    out.health = readState(
        r, "health",
        {Readiness::kReady, Readiness::kNotReady, Readiness::kUnreachable, Readiness::kPending});
  }
  out.limit = limitField(r);
  out.cursor = codec::boundedStr(r, "cursor", kCursorBytes, "");
  return codec::finish(r, std::move(out));
}

// ---- nodes ---------------------------------------------------------------------------------
Json encode(const NodeAddRequest& req) {
  return withV(Json{{"name", req.name}, {"labels", codec::mapToJson(req.labels)}});
}

Result<NodeAddRequest> decodeNodeAdd(const Json& body) {
  codec::Reader r(body, "");
  NodeAddRequest out;
  out.name = codec::id(r, "name", IdKind::kNode);
  out.labels = codec::stringMap(r, "labels", codec::MapKeys::kLabel, 1024);
  return codec::finish(r, std::move(out));
}

Json encode(const NodeRekeyRequest& req) {
  Json out{{"name", req.name}};
  if (!req.key_id.empty()) out["key_id"] = req.key_id;
  if (!req.public_key.empty()) out["public_key"] = req.public_key;
  return withV(std::move(out));
}

Result<NodeRekeyRequest> decodeNodeRekey(const Json& body) {
  codec::Reader r(body, "");
  NodeRekeyRequest out;
  out.name = codec::id(r, "name", IdKind::kNode);
  out.key_id = codec::boundedStr(r, "key_id", 16, "");
  out.public_key = codec::boundedStr(r, "public_key", 64, "");
  if (!r.ok()) return r.status();
  if (out.key_id.empty() == out.public_key.empty()) {
    return Status::invalidArgument("key_id: give exactly one of key_id and public_key");
  }
  if (!out.key_id.empty() &&
      (out.key_id.size() != 16 ||
       out.key_id.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return Status::invalidArgument("key_id: must be 16 lowercase hex digits").withPath("key_id");
  }
  if (!out.public_key.empty() && !isPublicKeyText(out.public_key)) {
    return Status::invalidArgument("public_key: must be the base64 of a 32-byte public key")
        .withPath("public_key");
  }
  return out;
}

Json encode(const NodeRemoveRequest& req) {
  return withV(Json{{"name", req.name}, {"purge", req.purge}});
}

Result<NodeRemoveRequest> decodeNodeRemove(const Json& body) {
  codec::Reader r(body, "");
  NodeRemoveRequest out;
  out.name = codec::id(r, "name", IdKind::kNode);
  out.purge = r.boolean("purge", false);
  return codec::finish(r, std::move(out));
}

Json encode(const NodeLabelRequest& req) {
  return withV(
      Json{{"name", req.name}, {"set", codec::mapToJson(req.set)}, {"remove", req.remove}});
}

Result<NodeLabelRequest> decodeNodeLabel(const Json& body) {
  codec::Reader r(body, "");
  NodeLabelRequest out;
  out.name = codec::id(r, "name", IdKind::kNode);
  out.set = codec::stringMap(r, "set", codec::MapKeys::kLabel, 1024);
  out.remove = codec::strArray(r, "remove", 64, false);
  for (size_t i = 0; r.ok() && i < out.remove.size(); ++i) {
    if (!isValidLabelKey(out.remove[i])) {
      r.fail(Status::invalidArgument("remove[" + std::to_string(i) +
                                     "]: label keys must match [a-z0-9][a-z0-9_.-]{0,62}"));
    }
  }
  if (r.ok() && out.set.empty() && out.remove.empty()) {
    r.fail(Status::invalidArgument("set: name at least one label to set or remove"));
  }
  return codec::finish(r, std::move(out));
}

// ---- groups --------------------------------------------------------------------------------
Json encode(const GroupCreateRequest& req) {
  Json out{{"name", req.name}};
  if (!req.parent.empty()) out["parent"] = req.parent;
  return withV(std::move(out));
}

Json encode(const GroupGetRequest& req) {
  Json out{{"name", req.name}};
  if (req.depth != kDefaultGroupTreeDepth) out["depth"] = req.depth;
  return withV(std::move(out));
}

Result<GroupGetRequest> decodeGroupGet(const Json& body) {
  codec::Reader r(body, "");
  GroupGetRequest out;
  out.name = codec::id(r, "name", IdKind::kGroup);
  out.depth = codec::i32In(r, "depth", 1, kMaxGroupTreeDepth, kDefaultGroupTreeDepth);
  return codec::finish(r, std::move(out));
}

Result<GroupCreateRequest> decodeGroupCreate(const Json& body) {
  codec::Reader r(body, "");
  GroupCreateRequest out;
  out.name = codec::id(r, "name", IdKind::kGroup);
  out.parent = codec::optId(r, "parent", IdKind::kGroup);
  if (r.ok() && out.parent == out.name) {
    r.fail(Status::invalidArgument("parent: a group cannot be its own parent"));
  }
  return codec::finish(r, std::move(out));
}

Json encode(const GroupDeleteRequest& req) {
  return withV(Json{{"name", req.name}, {"force", req.force}});
}

Result<GroupDeleteRequest> decodeGroupDelete(const Json& body) {
  codec::Reader r(body, "");
  GroupDeleteRequest out;
  out.name = codec::id(r, "name", IdKind::kGroup);
  out.force = r.boolean("force", false);
  return codec::finish(r, std::move(out));
}

Json encode(const GroupMembersRequest& req) {
  Json out{{"group", req.group}};
  if (!req.nodes.empty()) out["nodes"] = req.nodes;
  if (!req.groups.empty()) out["groups"] = req.groups;
  return withV(std::move(out));
}

Result<GroupMembersRequest> decodeGroupAdd(const Json& body) { return decodeMembers(body); }
Result<GroupMembersRequest> decodeGroupRemove(const Json& body) { return decodeMembers(body); }

// ---- apps ----------------------------------------------------------------------------------
Json encode(const AppDeployRequest& req) {
  Json out{{"name", req.name}, {"target", encodeTarget(req.target)}, {"compose", req.compose}};
  if (!req.variables.empty()) out["variables"] = codec::mapToJson(req.variables);
  if (!req.secrets.empty()) out["secrets"] = codec::mapToJson(req.secrets);
  if (!req.strategy.is_null()) out["strategy"] = req.strategy;
  return withV(std::move(out));
}

Result<AppDeployRequest> decodeAppDeploy(const Json& body) {
  codec::Reader r(body, "");
  AppDeployRequest out;
  out.name = codec::id(r, "name", IdKind::kApp);
  out.target = decodeTarget(r);
  out.compose = r.str("compose");
  if (r.ok() && out.compose.size() > kMaxComposeBytes) {
    return Status::tooLarge("compose: compose text is " + std::to_string(out.compose.size()) +
                            " bytes, the limit is " + std::to_string(kMaxComposeBytes));
  }
  if (r.ok() && out.compose.empty()) r.fail(Status::invalidArgument("compose: must not be empty"));
  out.variables = codec::stringMap(r, "variables", codec::MapKeys::kVariable, kValueBytes);
  out.secrets = codec::stringMap(r, "secrets", codec::MapKeys::kVariable, kValueBytes);
  out.strategy = strategyField(r);
  return codec::finish(r, std::move(out));
}

Json encode(const AppRemoveRequest& req) {
  return withV(Json{{"name", req.name}, {"volumes", toWire(req.volumes)}});
}

Result<AppRemoveRequest> decodeAppRemove(const Json& body) {
  codec::Reader r(body, "");
  AppRemoveRequest out;
  out.name = codec::id(r, "name", IdKind::kApp);
  out.volumes =
      readState(r, "volumes", {VolumePolicy::kKeep, VolumePolicy::kDelete}, VolumePolicy::kKeep);
  return codec::finish(r, std::move(out));
}

Json encode(const AppRollbackRequest& req) {
  Json out{{"name", req.name}, {"revision", req.revision}};
  if (!req.strategy.is_null()) out["strategy"] = req.strategy;
  return withV(std::move(out));
}

Result<AppRollbackRequest> decodeAppRollback(const Json& body) {
  codec::Reader r(body, "");
  AppRollbackRequest out;
  out.name = codec::id(r, "name", IdKind::kApp);
  out.revision = codec::i64In(r, "revision", 1, INT64_MAX);
  out.strategy = strategyField(r);
  return codec::finish(r, std::move(out));
}

// ---- events --------------------------------------------------------------------------------
Json encode(const EventsQueryRequest& req) {
  Json out = Json::object();
  if (!req.node.empty()) out["node"] = req.node;
  if (!req.app.empty()) out["app"] = req.app;
  if (!req.kind.empty()) out["kind"] = req.kind;
  if (req.since > 0) out["since"] = req.since;
  if (req.until > 0) out["until"] = req.until;
  out["limit"] = req.limit;
  return withV(std::move(out));
}

Result<EventsQueryRequest> decodeEventsQuery(const Json& body) {
  codec::Reader r(body, "");
  EventsQueryRequest out;
  out.node = codec::optId(r, "node", IdKind::kNode);
  out.app = codec::optId(r, "app", IdKind::kApp);
  out.kind = codec::boundedStr(r, "kind", 64, "");
  out.since = codec::i64In(r, "since", 0, INT64_MAX, 0);
  out.until = codec::i64In(r, "until", 1, INT64_MAX - 1, 0);
  if (r.ok() && out.until > 0 && out.until < out.since) {
    r.fail(Status::invalidArgument("until: earlier than since").withPath("until"));
  }
  out.limit = limitField(r);
  return codec::finish(r, std::move(out));
}

// ---- agent commands ------------------------------------------------------------------------
Json encode(const LogsCommand& req) {
  if (!req.stream.empty()) return withV(Json{{"stream", req.stream}, {"action", req.action}});
  Json out{{"app", req.app}, {"service", req.service}, {"tail", req.tail}};
  if (req.since > 0) out["since"] = req.since;
  if (req.follow) {
    out["follow"] = true;
    out["max_lines"] = req.max_lines;
    out["max_seconds"] = req.max_seconds;
    out["lease"] = req.lease;
  }
  return withV(std::move(out));
}

Result<LogsCommand> decodeLogsCommand(const Json& body) {
  codec::Reader r(body, "");
  LogsCommand out;
  if (r.has("stream")) {
    out.stream = codec::id(r, "stream", IdKind::kNode);
    out.action = codec::boundedStr(r, "action", 16);
    if (r.ok() && out.action != "stop" && out.action != "renew") {
      r.fail(Status::invalidArgument("action: must be \"stop\" or \"renew\""));
    }
    return codec::finish(r, std::move(out));
  }
  out.app = codec::id(r, "app", IdKind::kApp);
  out.service = codec::id(r, "service", IdKind::kService);
  out.tail = codec::i32In(r, "tail", 1, 10000, 100);
  out.since = codec::i64In(r, "since", 0, INT64_MAX, 0);
  out.follow = r.boolean("follow", false);
  out.max_lines = codec::i32In(r, "max_lines", 1, kMaxLogStreamLines, 10'000);
  out.max_seconds = codec::i32In(r, "max_seconds", 1, kMaxLogStreamSeconds, 600);
  out.lease = codec::i32In(r, "lease", 2, 300, 30);
  return codec::finish(r, std::move(out));
}

Json encode(const InspectCommand& req) {
  Json out{{"app", req.app}};
  if (!req.service.empty()) out["service"] = req.service;
  return withV(std::move(out));
}

Result<InspectCommand> decodeInspectCommand(const Json& body) {
  codec::Reader r(body, "");
  InspectCommand out;
  out.app = codec::id(r, "app", IdKind::kApp);
  out.service = codec::optId(r, "service", IdKind::kService);
  return codec::finish(r, std::move(out));
}

}  // namespace pharos
