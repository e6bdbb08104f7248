// The management API envelope (DESIGN.md section 4): requests on api/{user}/{operation},
// answers on the MQTT 5 response topic with correlation data, or on the MQTT 3.1.1
// fallback `replyTo` with `correlation` echoed in the body. The reply topic must be under
// replies/{user}/ or the request is dropped (logged), not executed: the anchor never answers
// anywhere else (one under another user's replies gets permission_denied on the caller's own
// replies/{user}/ with the same suffix). Oversized requests get too_large; a malformed
// operation name invalid_argument. Runs on the anchor's strand.
#include "pharos/api.h"

#include "anchor/anchor.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

namespace {
// The broker's message limit; a larger payload cannot arrive.
constexpr size_t kMaxEnvelopeBytes = size_t{4} << 20;
}  // namespace

bool Anchor::isReadOnly(const std::string& operation) const {
  if (config_.read_only_operations.empty()) return isReadOperation(operation);
  return config_.read_only_operations.count(operation) > 0;
}

void Anchor::onApiRequest(const MqttMessage& message, const std::string& user,
                          const std::string& operation) {
  std::string reply_to = message.response_topic;
  Json correlation;
  Result<ApiRequest> request = decodeApiRequest(message.payload);
  if (request) {
    if (reply_to.empty()) reply_to = request->reply_to;
    if (request->has_correlation) correlation = request->correlation;
  } else if (reply_to.empty() && message.payload.size() <= kMaxEnvelopeBytes) {
    // An MQTT 3.1.1 client's oversized or invalid request: find its replyTo if the body is
    // still a JSON object, so it gets an answer.
    auto json = parseJson(message.payload, kMaxEnvelopeBytes);
    if (json && json->is_object()) {
      if (json->contains("replyTo") && (*json)["replyTo"].is_string()) {
        reply_to = (*json)["replyTo"].get<std::string>();
      }
      if (json->contains("correlation")) correlation = (*json)["correlation"];
    }
  }
  if (reply_to.empty()) {
    guards_.logMalformed(
        "request without reply topic", message.topic,
        request ? Status::invalidArgument("no response topic and no replyTo") : request.status());
    return;
  }
  if (Status s = checkReplyTo(reply_to, user); !s.isOk()) {
    guards_.logMalformed("request reply topic", message.topic, s);
    // A reply topic under another user's replies: refused, and the caller is told so on the
    // same suffix under its own replies/{user}/ (never on the topic it named). Anything else
    // has no topic of the caller's to answer on.
    auto named = topics::parse(reply_to);
    if (s.code() != Code::kPermissionDenied || !named) return;
    MqttMessage out;
    out.topic = topics::replies(user, named->name);
    out.qos = 1;
    out.correlation_data = message.correlation_data;
    out.payload = dumpJson(errorResponse(s, correlation));
    Status sent = link_.publish(out);
    if (!sent.isOk()) spdlog::warn("api reply to {}: {}", out.topic, sent.message());
    return;
  }
  std::string corr_data = message.correlation_data;
  std::weak_ptr<bool> alive = alive_;
  Reply reply = [this, alive, reply_to, corr_data, correlation, user,
                 operation](Result<Json> result) {
    if (alive.expired()) return;
    MqttMessage out;
    out.topic = reply_to;
    out.qos = 1;
    out.correlation_data = corr_data;
    if (result) {
      out.payload = dumpJson(okResponse(*result, correlation));
    } else {
      spdlog::info("api {} by {}: {}", operation, user, result.status().toString().substr(0, 300));
      out.payload = dumpJson(errorResponse(result.status(), correlation));
    }
    Status s = link_.publish(out);
    if (!s.isOk()) spdlog::warn("api reply to {}: {}", reply_to, s.message());
  };
  if (!request) {
    reply(request.status());
    return;
  }
  execute(user, operation, request->body, std::move(reply));
}

void Anchor::execute(const std::string& user, const std::string& operation, const Json& body,
                     Reply reply) {
  if (operation.empty()) {
    reply(Status::invalidArgument(
        "operation: the topic's last level must be <noun>.<verb> in lowercase ASCII letters, "
        "at most 64 characters (e.g. node.list)"));
    return;
  }
  if (!isKnownOperation(operation)) {
    reply(Status::invalidArgument("operation '" + operation + "': unknown"));
    return;
  }
  if (!body.is_object()) {
    reply(Status::invalidArgument("request: must be a JSON object"));
    return;
  }
  if (isReadOnly(operation)) return dispatch(user, operation, body, std::move(reply));
  auto denied = [&] {
    return Status::permissionDenied("user '" + user + "' is a viewer: only read operations, not " +
                                    operation);
  };
  if (config_.viewers.count(user)) return reply(denied());
  if (!config_.check_broker_roles) return dispatch(user, operation, body, std::move(reply));
  // The broker lets viewers publish on api/{user}/#; the anchor refuses their changes.
  int64_t now = clock_.nowMs();
  if (auto it = user_roles_.find(user); it != user_roles_.end() && it->second.second > now) {
    if (it->second.first) return reply(denied());
    return dispatch(user, operation, body, std::move(reply));
  }
  std::weak_ptr<bool> alive = alive_;
  admin_.lookupUser(user, [this, alive, user, operation, body, reply](Result<BrokerUser> info) {
    if (alive.expired()) return;
    if (!info) {
      return reply(Status::unavailable("cannot check the caller's role with the broker: " +
                                       info.status().message()));
    }
    bool viewer = info->isViewer();
    if (user_roles_.size() > 10'000) user_roles_.clear();
    user_roles_[user] = {viewer, clock_.nowMs() + config_.user_role_ttl.count()};
    if (viewer) {
      return reply(Status::permissionDenied(
          "user '" + user + "' is a viewer: only read operations, not " + operation));
    }
    dispatch(user, operation, body, reply);
  });
}

void Anchor::dispatch(const std::string& user, const std::string& operation, const Json& body,
                      Reply reply) {
  const std::string& op = operation;
  if (op == ops::kNodeAdd) return nodeAdd(user, body, std::move(reply));
  if (op == ops::kNodeRemove) return nodeRemove(user, body, std::move(reply));
  Result<Json> result = Status::internal("operation '" + op + "' not implemented");
  if (op == ops::kNodeList) {
    result = nodeList(body);
  } else if (op == ops::kNodeGet) {
    result = nodeGet(body);
  } else if (op == ops::kNodeApprove) {
    result = nodeApprove(user, body);
  } else if (op == ops::kNodeLabel) {
    result = nodeLabel(user, body);
  } else if (op == ops::kNodeRekey) {
    result = nodeRekey(user, body);
  } else if (op == ops::kGroupCreate) {
    result = groupCreate(user, body);
  } else if (op == ops::kGroupDelete) {
    result = groupDelete(user, body);
  } else if (op == ops::kGroupList) {
    result = groupList(body);
  } else if (op == ops::kGroupGet) {
    result = groupGet(body);
  } else if (op == ops::kGroupAdd) {
    result = groupMembers(user, body, true);
  } else if (op == ops::kGroupRemove) {
    result = groupMembers(user, body, false);
  } else if (op == ops::kAppDeploy) {
    result = appDeploy(user, body);
  } else if (op == ops::kAppRemove) {
    result = appRemove(user, body);
  } else if (op == ops::kAppStart || op == ops::kAppStop || op == ops::kAppRestart) {
    result = appSetState(user, op, body);
  } else if (op == ops::kAppList) {
    result = appList(body);
  } else if (op == ops::kAppGet) {
    result = appGet(body);
  } else if (op == ops::kAppHistory) {
    result = appHistory(body);
  } else if (op == ops::kAppRollback) {
    result = appRollback(user, body);
  } else if (op == ops::kRegistrySet) {
    result = registrySet(user, body);
  } else if (op == ops::kEventsQuery) {
    result = eventsQuery(body);
  }
  reply(std::move(result));
}

void Anchor::auditEvent(WriteBatch& batch, const std::string& user, const std::string& operation,
                        const std::string& node, const std::string& app,
                        const std::string& message) {
  EventRecord e;
  e.ts = clock_.nowMs();
  e.source = "api";
  e.kind = operation;
  e.user = user;
  e.node = node;
  e.app = app;
  e.message = message;
  events_.stage(std::move(e), batch);
}

}  // namespace pharos::anchor
