// The management API envelope and operation table (api_server.h). The anchor never answers
// anywhere but under the caller's replies/{user}/: a reply topic under another user's replies
// gets permission_denied on the caller's own replies/{user}/ with the same suffix. Runs on the
// anchor's strand.
#include "anchor/api_server.h"

#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

namespace {
// The broker's message limit; a larger payload cannot arrive.
constexpr size_t kMaxEnvelopeBytes = size_t{4} << 20;
}  // namespace

ApiServer::ApiServer(const AnchorOptions& config, BrokerAdmin& admin, Clock& clock, Guards& guards,
                     Send send)
    : config_(config), admin_(admin), clock_(clock), guards_(guards), send_(std::move(send)) {}

void ApiServer::add(std::string_view operation, Handler handler) {
  table_.insert_or_assign(std::string(operation), std::move(handler));
}

void ApiServer::addSync(std::string_view operation, SyncHandler handler) {
  add(operation, [handler = std::move(handler)](const std::string& user, const Json& body,
                                                Reply reply) { reply(handler(user, body)); });
}

bool ApiServer::isReadOnly(const std::string& operation) const {
  if (config_.read_only_operations.empty()) return isReadOperation(operation);
  return config_.read_only_operations.count(operation) > 0;
}

void ApiServer::onRequest(const MqttMessage& message, const std::string& user,
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
    Status sent = send_(out);
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
    Status s = send_(out);
    if (!s.isOk()) spdlog::warn("api reply to {}: {}", reply_to, s.message());
  };
  if (!request) {
    reply(request.status());
    return;
  }
  execute(user, operation, request->body, std::move(reply));
}

void ApiServer::execute(const std::string& user, const std::string& operation, const Json& body,
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

void ApiServer::dispatch(const std::string& user, const std::string& operation, const Json& body,
                         Reply reply) {
  auto row = table_.find(operation);
  if (row == table_.end()) {
    return reply(Status::internal("operation '" + operation + "' not implemented"));
  }
  row->second(user, body, std::move(reply));
}

}  // namespace pharos::anchor
