// pharosctl's broker session: request/response over MQTT 5 (see session.h).
#include "cli/session.h"

#include <fmt/format.h>

#include <random>

#include "cli/settings.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::cli {

std::string randomHex(size_t digits) {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i) out += kHex[gen() % 16];
  return out;
}

MqttOptions sessionOptions(const ConnectionSettings& connection,
                           std::chrono::milliseconds connect_timeout) {
  ConnectionSettings c = connection;
  c.keep_alive = std::chrono::seconds(30);
  MqttOptions o = connectionMqttOptions(c);
  o.client_id = "pharosctl-" + randomHex(12);
  o.clean_start = true;
  o.auto_reconnect = false;
  o.connect_timeout = connect_timeout;
  return o;
}

Session::Session(std::unique_ptr<MqttLink> link, std::string broker_url, std::string user,
                 std::chrono::milliseconds request_timeout, std::string reply_suffix)
    : link_(std::move(link)),
      broker_url_(std::move(broker_url)),
      user_(std::move(user)),
      request_timeout_(request_timeout),
      reply_suffix_(std::move(reply_suffix)),
      reply_topic_(topics::replies(user_, reply_suffix_)) {
  reply_topics_.insert(reply_topic_);
  link_->onMessage([this](const MqttMessage& m) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (reply_topics_.count(m.topic)) {
        // Answers are never retained: a retained one was planted, not sent for this request.
        if (!m.retained) replies_.push_back(m);
      } else {
        stream_.push_back(m);
      }
    }
    cv_.notify_all();
  });
  link_->onConnection([this](bool) { cv_.notify_all(); });
}

Session::~Session() { close(); }

namespace {

// The link's own messages may already say "cannot reach the MQTT broker at URL: why";
// keep only the why.
std::string reasonOnly(const std::string& message, const std::string& url) {
  auto at = message.find(url + ": ");
  if (at == std::string::npos) return message;
  return message.substr(at + url.size() + 2);
}

}  // namespace

Status Session::connect() {
  Status s = link_->connect();
  if (!s.isOk()) {
    s = Status(s.code(), reasonOnly(s.message(), broker_url_));
    if (s.code() == Code::kPermissionDenied) {
      return Status::permissionDenied(fmt::format(
          "the broker at {} refused the login of user '{}': {} (check --user and the password)",
          broker_url_, user_, s.message()));
    }
    if (s.code() == Code::kInvalidArgument) {
      return Status::invalidArgument(
          fmt::format("cannot connect to the broker at {}: {}", broker_url_, s.message()));
    }
    return Status::unavailable(
        fmt::format("cannot reach the broker at {}: {}", broker_url_, s.message()));
  }
  connected_ = true;
  Status sub = link_->subscribe(reply_topic_, 1);
  if (!sub.isOk()) {
    return Status(sub.code(), fmt::format("cannot subscribe to the reply topic {}: {}",
                                          reply_topic_, sub.message()));
  }
  return Status::ok();
}

void Session::close() {
  if (connected_) {
    link_->disconnect();
    connected_ = false;
  }
}

Result<Json> Session::call(std::string_view operation, const Json& body) {
  return request(topics::apiRequest(user_, operation), body,
                 fmt::format("the anchor did not answer within {} (is pharos-anchor running?)",
                             formatDuration(request_timeout_)),
                 reply_topic_);
}

Result<std::string> Session::commandReplyTopic(std::string_view node) {
  // Agents answer inside their own subtree only.
  std::string reply_topic = topics::nodeCmdReplies(node, user_, reply_suffix_);
  bool subscribed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    subscribed = !reply_topics_.insert(reply_topic).second;
  }
  if (!subscribed) {
    Status sub = link_->subscribe(reply_topic, 1);
    if (!sub.isOk()) {
      return Status(sub.code(), fmt::format("cannot subscribe to the reply topic {}: {}",
                                            reply_topic, sub.message()));
    }
  }
  return reply_topic;
}

Result<Json> Session::command(std::string_view node, std::string_view command, const Json& body) {
  auto reply_topic = commandReplyTopic(node);
  if (!reply_topic) return reply_topic.status();
  return request(topics::nodeCmd(node, command, user_), body,
                 fmt::format("node {} did not answer '{}' within {} (is its agent connected?)",
                             node, command, formatDuration(request_timeout_)),
                 *reply_topic);
}

Result<Json> Session::request(const std::string& topic, const Json& body,
                              const std::string& timeout_message, const std::string& reply_topic) {
  MqttMessage m;
  m.topic = topic;
  m.payload = dumpJson(body);
  m.qos = 1;
  m.response_topic = reply_topic;
  m.correlation_data = randomHex(16);
  Status s = link_->publish(m);
  if (!s.isOk()) {
    if (s.code() == Code::kPermissionDenied) {
      return Status::permissionDenied(
          fmt::format("user '{}' may not publish to {}: {}", user_, topic, s.message()));
    }
    return Status(s.code(), fmt::format("cannot send the request to {}: {}", topic, s.message()));
  }
  auto deadline = std::chrono::steady_clock::now() + request_timeout_;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    while (!replies_.empty()) {
      MqttMessage reply = std::move(replies_.front());
      replies_.pop_front();
      if (reply.correlation_data != m.correlation_data) continue;  // a late answer
      lock.unlock();
      auto response = decodeApiResponse(reply.payload);
      if (!response) {
        return Status::internal("the answer could not be read: " + response.status().message());
      }
      if (!response->ok) return response->error;
      return response->result;
    }
    if (!link_->connected()) {
      return Status::unavailable(
          fmt::format("lost the connection to the broker at {}", broker_url_));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && replies_.empty()) {
      return Status::unavailable(timeout_message);
    }
  }
}

Result<std::string> Session::sendCommand(std::string_view node, std::string_view command,
                                         const Json& body) {
  auto reply_topic = commandReplyTopic(node);
  if (!reply_topic) return reply_topic.status();
  MqttMessage m;
  m.topic = topics::nodeCmd(node, command, user_);
  m.payload = dumpJson(body);
  m.qos = 1;
  m.response_topic = *reply_topic;
  m.correlation_data = randomHex(16);
  PHAROS_RETURN_IF_ERROR(link_->publish(m));
  return m.correlation_data;
}

std::optional<Result<Json>> Session::nextAnswer(const std::string& correlation,
                                                std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    while (!replies_.empty()) {
      MqttMessage reply = std::move(replies_.front());
      replies_.pop_front();
      if (reply.correlation_data != correlation) continue;
      auto response = decodeApiResponse(reply.payload);
      if (!response) return Result<Json>(response.status());
      if (!response->ok) return Result<Json>(response->error);
      return Result<Json>(response->result);
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && replies_.empty()) {
      return std::nullopt;
    }
  }
}

Status Session::subscribe(const std::string& filter) { return link_->subscribe(filter, 1); }

std::optional<MqttMessage> Session::next(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, wait, [this] { return !stream_.empty(); });
  if (stream_.empty()) return std::nullopt;
  MqttMessage m = std::move(stream_.front());
  stream_.pop_front();
  return m;
}

}  // namespace pharos::cli
