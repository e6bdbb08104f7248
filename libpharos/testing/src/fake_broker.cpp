// In-memory MQTT broker and links for unit tests (see fake_broker.h). One broker mutex
// guards every client, subscription and the callback queue; callbacks run with no lock.
#include "pharos/fake_broker.h"

#include <algorithm>
#include <utility>

#include "pharos/topics.h"

namespace pharos {

struct FakeLinkState {
  explicit FakeLinkState(MqttOptions opts) : client_id(opts.client_id), options(std::move(opts)) {}

  const std::string client_id;
  const MqttOptions options;

  std::mutex handler_mu;  // guards the two handlers
  MqttLink::MessageHandler on_message;
  MqttLink::ConnectionHandler on_connection;

  // Guarded by FakeBroker::mu_.
  bool connected = false;
  bool wants_connection = false;    // connect() called and not disconnected or killed
  bool attached = true;             // the FakeLink still exists
  std::optional<MqttMessage> will;  // of the current connection (taken at each attempt)
  std::vector<std::pair<std::string, int>> subscriptions;  // remembered by the link
};

namespace {

bool hasWildcard(const std::string& topic) {
  return topic.find_first_of("+#") != std::string::npos;
}

}  // namespace

class FakeLink : public MqttLink {
 public:
  FakeLink(FakeBroker& broker, MqttOptions options)
      : broker_(broker), state_(std::make_shared<FakeLinkState>(std::move(options))) {}
  ~FakeLink() override { broker_.linkDetach(state_); }

  void onMessage(MessageHandler handler) override {
    std::lock_guard lock(state_->handler_mu);
    state_->on_message = std::move(handler);
  }
  void onConnection(ConnectionHandler handler) override {
    std::lock_guard lock(state_->handler_mu);
    state_->on_connection = std::move(handler);
  }
  Status connect() override { return broker_.linkConnect(state_); }
  void disconnect() override { broker_.linkDisconnect(state_); }
  bool connected() const override { return broker_.linkConnected(state_); }
  Status publish(const MqttMessage& message) override {
    return broker_.linkPublish(state_, message);
  }
  Status subscribe(const std::string& filter, int qos) override {
    return broker_.linkSubscribe(state_, filter, qos);
  }
  Status unsubscribe(const std::string& filter) override {
    return broker_.linkUnsubscribe(state_, filter);
  }

 private:
  FakeBroker& broker_;
  std::shared_ptr<FakeLinkState> state_;
};

FakeBroker::FakeBroker(Delivery delivery) : delivery_(delivery) {}

FakeBroker::~FakeBroker() = default;

size_t FakeBroker::deliverAll() {
  {
    std::lock_guard lock(mu_);
    if (pumping_) return 0;  // a handler pumping again: the outer loop continues
    pumping_ = true;
  }
  size_t ran = 0;
  while (true) {
    Callback callback;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        pumping_ = false;
        return ran;
      }
      callback = std::move(queue_.front());
      queue_.pop_front();
      if (!callback.link->attached) continue;
    }
    if (callback.is_message) {
      MqttLink::MessageHandler handler;
      {
        std::lock_guard lock(callback.link->handler_mu);
        handler = callback.link->on_message;
      }
      if (handler) handler(callback.message);
    } else {
      MqttLink::ConnectionHandler handler;
      {
        std::lock_guard lock(callback.link->handler_mu);
        handler = callback.link->on_connection;
      }
      if (handler) handler(callback.connected);
    }
    ++ran;
  }
}

size_t FakeBroker::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void FakeBroker::maybePump() {
  if (delivery_ == Delivery::kSynchronous) deliverAll();
}

void FakeBroker::publish(const MqttMessage& message) {
  {
    std::lock_guard lock(mu_);
    routeLocked("", message, false);
  }
  maybePump();
}

void FakeBroker::kill(const std::string& client_id) {
  {
    std::lock_guard lock(mu_);
    for (auto& link : links_) {
      if (link->client_id != client_id) continue;
      link->wants_connection = false;
      if (link->connected) dropLocked(link, true);
    }
  }
  maybePump();
}

void FakeBroker::setOnline(const std::string& client_id, bool online) {
  {
    std::lock_guard lock(mu_);
    if (online) {
      offline_.erase(client_id);
      reconnectWaitingLocked();
    } else {
      offline_[client_id] = true;
      for (auto& link : links_) {
        if (link->client_id == client_id && link->connected) dropLocked(link, true);
      }
    }
  }
  maybePump();
}

void FakeBroker::setUp(bool up) {
  {
    std::lock_guard lock(mu_);
    up_ = up;
    if (up) {
      reconnectWaitingLocked();
    } else {
      for (auto& link : links_) {
        if (link->connected) dropLocked(link, false);
      }
    }
  }
  maybePump();
}

void FakeBroker::restart(bool wipe_retained) {
  {
    std::lock_guard lock(mu_);
    for (auto& link : links_) {
      if (link->connected) dropLocked(link, false);
    }
    if (wipe_retained) retained_.clear();
    up_ = true;
    reconnectWaitingLocked();
  }
  maybePump();
}

void FakeBroker::refuseConnect(const std::string& client_id, Status status) {
  std::lock_guard lock(mu_);
  if (status.isOk()) {
    refusals_.erase(client_id);
  } else {
    refusals_.insert_or_assign(client_id, std::move(status));
  }
}

void FakeBroker::denyPublish(const std::string& client_id, const std::string& filter) {
  std::lock_guard lock(mu_);
  denied_publish_.emplace(client_id, filter);
}

bool FakeBroker::isConnected(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  return std::any_of(links_.begin(), links_.end(), [&](const auto& link) {
    return link->client_id == client_id && link->connected;
  });
}

std::vector<std::string> FakeBroker::subscriptions(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& link : links_) {
    if (link->client_id != client_id || !link->connected) continue;
    for (const auto& [filter, qos] : link->subscriptions) out.push_back(filter);
  }
  return out;
}

std::optional<MqttMessage> FakeBroker::retained(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = retained_.find(topic);
  if (it == retained_.end()) return std::nullopt;
  return it->second;
}

std::vector<MqttMessage> FakeBroker::retainedMatching(const std::string& filter) const {
  std::lock_guard lock(mu_);
  std::vector<MqttMessage> out;
  for (const auto& [topic, message] : retained_) {
    if (topics::matches(filter, topic)) out.push_back(message);
  }
  return out;
}

std::vector<PublishRecord> FakeBroker::publishLog() const {
  std::lock_guard lock(mu_);
  return log_;
}

std::vector<PublishRecord> FakeBroker::published(const std::string& filter) const {
  std::lock_guard lock(mu_);
  std::vector<PublishRecord> out;
  for (const auto& record : log_) {
    if (topics::matches(filter, record.message.topic)) out.push_back(record);
  }
  return out;
}

void FakeBroker::clearLog() {
  std::lock_guard lock(mu_);
  log_.clear();
}

Status FakeBroker::linkConnect(const std::shared_ptr<FakeLinkState>& link) {
  Status status;
  {
    std::lock_guard lock(mu_);
    if (link->connected) return Status::ok();
    link->wants_connection = true;
    status = connectLocked(link);
    if (!status.isOk() && !link->options.auto_reconnect) link->wants_connection = false;
  }
  maybePump();
  return status;
}

void FakeBroker::linkDisconnect(const std::shared_ptr<FakeLinkState>& link) {
  {
    std::lock_guard lock(mu_);
    link->wants_connection = false;
    if (link->connected) {
      link->connected = false;  // a clean disconnect: no will, no onConnection(false)
    }
  }
  maybePump();
}

void FakeBroker::linkDetach(const std::shared_ptr<FakeLinkState>& link) {
  std::lock_guard lock(mu_);
  link->wants_connection = false;
  link->connected = false;
  link->attached = false;
  links_.erase(std::remove(links_.begin(), links_.end(), link), links_.end());
}

Status FakeBroker::linkPublish(const std::shared_ptr<FakeLinkState>& link,
                               const MqttMessage& message) {
  if (message.topic.empty() || hasWildcard(message.topic)) {
    return Status::invalidArgument("publish topic '" + message.topic + "' is not a topic name");
  }
  {
    std::lock_guard lock(mu_);
    if (!link->connected) {
      return Status::unavailable("not connected to the MQTT broker (client '" + link->client_id +
                                 "')");
    }
    routeLocked(link->client_id, message, false);
  }
  maybePump();
  return Status::ok();
}

Status FakeBroker::linkSubscribe(const std::shared_ptr<FakeLinkState>& link,
                                 const std::string& filter, int qos) {
  if (filter.empty()) return Status::invalidArgument("empty subscription filter");
  {
    std::lock_guard lock(mu_);
    auto& subs = link->subscriptions;
    auto it = std::find_if(subs.begin(), subs.end(),
                           [&](const auto& sub) { return sub.first == filter; });
    if (it == subs.end()) {
      subs.emplace_back(filter, qos);
    } else {
      it->second = qos;
    }
    if (link->connected) queueRetainedLocked(link, filter, qos);
  }
  maybePump();
  return Status::ok();
}

Status FakeBroker::linkUnsubscribe(const std::shared_ptr<FakeLinkState>& link,
                                   const std::string& filter) {
  std::lock_guard lock(mu_);
  auto& subs = link->subscriptions;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& sub) { return sub.first == filter; }),
             subs.end());
  return Status::ok();
}

bool FakeBroker::linkConnected(const std::shared_ptr<FakeLinkState>& link) const {
  std::lock_guard lock(mu_);
  return link->connected;
}

Status FakeBroker::connectLocked(const std::shared_ptr<FakeLinkState>& link) {
  if (std::find(links_.begin(), links_.end(), link) == links_.end()) links_.push_back(link);
  // Like the Paho link: the will is taken anew at every connection attempt.
  link->will =
      link->options.will_for_connection ? link->options.will_for_connection() : link->options.will;
  if (!up_) return Status::unavailable("cannot reach the MQTT broker (fake broker is down)");
  if (offline_.count(link->client_id) != 0) {
    return Status::unavailable("cannot reach the MQTT broker (client '" + link->client_id +
                               "' is offline)");
  }
  auto refusal = refusals_.find(link->client_id);
  if (refusal != refusals_.end()) return refusal->second;
  // Session takeover: the older connection with the same client id is dropped (its will is
  // published, as MQTT 5 brokers do) and does not fight back.
  for (auto& other : links_) {
    if (other != link && other->client_id == link->client_id && other->connected) {
      other->wants_connection = false;
      dropLocked(other, true);
    }
  }
  link->connected = true;
  queue_.push_back(Callback{link, false, {}, true});
  for (const auto& [filter, qos] : link->subscriptions) queueRetainedLocked(link, filter, qos);
  return Status::ok();
}

void FakeBroker::dropLocked(const std::shared_ptr<FakeLinkState>& link, bool publish_will) {
  link->connected = false;
  queue_.push_back(Callback{link, false, {}, false});
  if (publish_will && link->will) {
    MqttMessage will = *link->will;
    will.retained = link->options.will_retained;  // mqtt_link.h
    routeLocked(link->client_id, will, true);
  }
}

void FakeBroker::routeLocked(const std::string& client_id, const MqttMessage& message, bool will) {
  if (!will) {
    auto range = denied_publish_.equal_range(client_id);
    for (auto it = range.first; it != range.second; ++it) {
      if (topics::matches(it->second, message.topic)) return;
    }
  }
  log_.push_back(PublishRecord{client_id, message, will});
  if (message.retained) {
    if (message.payload.empty()) {
      retained_.erase(message.topic);
    } else {
      retained_.insert_or_assign(message.topic, message);
    }
  }
  for (auto& link : links_) {
    if (!link->connected) continue;
    int best = -1;
    for (const auto& [filter, qos] : link->subscriptions) {
      if (topics::matches(filter, message.topic)) best = std::max(best, qos);
    }
    if (best < 0) continue;
    MqttMessage copy = message;
    copy.retained = false;  // forwarded live, not from the store
    copy.qos = std::min(message.qos, best);
    queue_.push_back(Callback{link, true, std::move(copy), false});
  }
}

void FakeBroker::queueRetainedLocked(const std::shared_ptr<FakeLinkState>& link,
                                     const std::string& filter, int qos) {
  for (const auto& [topic, message] : retained_) {
    if (!topics::matches(filter, topic)) continue;
    MqttMessage copy = message;
    copy.retained = true;
    copy.qos = std::min(message.qos, qos);
    queue_.push_back(Callback{link, true, std::move(copy), false});
  }
}

void FakeBroker::reconnectWaitingLocked() {
  for (auto& link : links_) {
    if (link->wants_connection && !link->connected && link->options.auto_reconnect) {
      (void)connectLocked(link);
    }
  }
}

std::unique_ptr<MqttLink> makeFakeLink(FakeBroker& broker, MqttOptions options) {
  return std::make_unique<FakeLink>(broker, std::move(options));
}

std::unique_ptr<MqttLink> makeFakeLink(FakeBroker& broker, std::string client_id) {
  MqttOptions options;
  options.client_id = std::move(client_id);
  return makeFakeLink(broker, std::move(options));
}

}  // namespace pharos
