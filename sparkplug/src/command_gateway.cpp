// DCMD -> management API (command_gateway.h).
#include "sparkplug/command_gateway.h"

#include <random>

#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::sparkplug {

constexpr size_t kMaxPending = 1000;

std::string randomToken() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += kHex[gen() % 16];
  return out;
}

CommandGateway::CommandGateway(std::unique_ptr<MqttLink> link, std::string user, const Clock& clock,
                               std::chrono::milliseconds timeout)
    : link_(std::move(link)),
      user_(std::move(user)),
      clock_(clock),
      timeout_(timeout),
      reply_topic_(topics::replies(user_, "sparkplug-" + randomToken())) {
  link_->onMessage([this](const MqttMessage& m) { onReply(m); });
}

CommandGateway::~CommandGateway() { stop(); }

Status CommandGateway::start() {
  PHAROS_RETURN_IF_ERROR(link_->connect());
  return link_->subscribe(reply_topic_, 1);
}

void CommandGateway::stop() {
  if (link_ && link_->connected()) link_->disconnect();
}

void CommandGateway::submit(const AppCommand& command) {
  NameRequest request;
  request.name = command.app;
  MqttMessage m;
  m.topic = topics::apiRequest(user_, command.operation);
  m.payload = dumpJson(encode(request));
  m.qos = 1;
  m.response_topic = reply_topic_;
  m.correlation_data = randomToken();
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= kMaxPending) {
      spdlog::warn("DCMD {} {} on {} refused: {} commands await an answer", command.operation,
                   command.app, command.device, pending_.size());
      ++stats_.refused;
      return;
    }
    pending_[m.correlation_data] = Pending{command, clock_.steadyNow()};
    ++stats_.sent;
  }
  if (Status s = link_->publish(m); !s.isOk()) {
    spdlog::warn("DCMD {} {} on {}: cannot send the request: {}", command.operation, command.app,
                 command.device, s.message());
    std::lock_guard lock(mu_);
    pending_.erase(m.correlation_data);
    ++stats_.unanswered;
  }
}

void CommandGateway::onReply(const MqttMessage& message) {
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(message.correlation_data);
    if (it == pending_.end()) return;  // late, or not ours
    pending = std::move(it->second);
    pending_.erase(it);
  }
  const auto& c = pending.command;
  auto response = decodeApiResponse(message.payload);
  std::lock_guard lock(mu_);
  if (!response) {
    ++stats_.refused;
    spdlog::warn("DCMD {} {} on {}: unreadable answer: {}", c.operation, c.app, c.device,
                 response.status().message());
  } else if (response->ok) {
    ++stats_.accepted;
    spdlog::info("DCMD {} {} on {}: accepted by the anchor as user {}", c.operation, c.app,
                 c.device, user_);
  } else {
    ++stats_.refused;
    spdlog::warn("DCMD {} {} on {}: refused by the anchor: {}", c.operation, c.app, c.device,
                 response->error.toString());
  }
}

void CommandGateway::expire() {
  std::lock_guard lock(mu_);
  auto now = clock_.steadyNow();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.sent < timeout_) {
      ++it;
      continue;
    }
    const auto& c = it->second.command;
    spdlog::warn("DCMD {} {} on {}: no answer from the anchor within {} s", c.operation, c.app,
                 c.device, timeout_.count() / 1000);
    ++stats_.unanswered;
    it = pending_.erase(it);
  }
}

CommandStats CommandGateway::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace pharos::sparkplug
