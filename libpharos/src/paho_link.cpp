// The Paho C++ (async_client, MQTT 5) implementation of MqttLink, and the one place where
// Paho exceptions are caught and turned into Status values.
//
// Threads: Paho's own threads run the message, connected and connection-lost callbacks; one
// link-owned thread ("reconnect") waits for a lost connection and reconnects with backoff
// (reconnect_min doubling to reconnect_max). Paho's automatic reconnect is not used: it
// counts in whole seconds and cannot retry a first connect that failed. With clean start
// the broker forgets subscriptions, so the connected callback re-subscribes every
// remembered filter before it reports onConnection(true). State shared between threads is
// guarded by mu_; connection attempts are serialized by attempt_mu_.
//
// At most one Paho connect is in flight per link. Paho C keeps a single connect context per
// client: a connect issued while an earlier one still runs is dropped, its token takes over
// the earlier connect's outcome, and a later callback can land on a token the C++ client has
// already freed (heap corruption). So an attempt that gives up waiting (the link closing, or
// Paho's own timeout running late on a loaded machine) leaves its token in pending_connect_,
// and the next attempt waits for that connect's outcome instead of starting another.
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "paho_convert.h"
#include "pharos/log.h"
#include "pharos/mqtt_link.h"
#include "pharos/tcp_nodelay.h"

namespace pharos {

namespace {

using paho::fromPaho;
using paho::isCredentialRefusal;
using paho::isTlsUrl;
using paho::normalizeUrl;
using paho::toPaho;

constexpr auto kSubscribeWait = std::chrono::seconds(10);
constexpr auto kDisconnectWait = std::chrono::seconds(2);
constexpr auto kStableConnection = std::chrono::seconds(10);
// Paho C refuses a publish (MQTTASYNC_MAX_BUFFERED_MESSAGES, -12) once this many wait in its
// command queue, even while connected (default 100). The anchor publishes thousands of
// documents in one burst (health after a registration storm, republish on start), so the
// bound is far above any burst; messages are still refused while disconnected.
constexpr int kMaxQueuedPublishes = 1'000'000;

// True while this thread runs one of our handlers from a Paho callback: blocking waits
// on Paho tokens would deadlock there.
thread_local bool t_in_callback = false;

class CallbackScope {
 public:
  CallbackScope() : previous_(t_in_callback) { t_in_callback = true; }
  ~CallbackScope() { t_in_callback = previous_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  bool previous_;
};

// Logs publishes the broker refused (MQTT 5 PUBACK reason codes, e.g. an ACL denial), and
// publishes a lost connection cut short (no reason code: Paho reports "success" there).
class PublishListener : public mqtt::iaction_listener {
 public:
  void on_failure(const mqtt::token& token) override {
    auto reason = token.get_reason_code();
    if (reason == mqtt::ReasonCode::SUCCESS) {
      spdlog::warn("MQTT publish not confirmed: the connection ended before the broker's answer");
      return;
    }
    spdlog::warn("MQTT publish refused by the broker: {} (reason 0x{:02x})",
                 mqtt::exception::reason_code_str(reason), static_cast<int>(reason));
  }
  void on_success(const mqtt::token&) override {}
};

// True once Paho has completed `token`, read under the token's lock (unlike is_complete()).
bool completed(const mqtt::token_ptr& token) {
  try {
    return token->wait_for(std::chrono::milliseconds(0));
  } catch (const std::exception&) {
    return true;  // completed with a failure
  }
}

class PahoLink final : public MqttLink {
 public:
  explicit PahoLink(MqttOptions options) : options_(std::move(options)) {}

  ~PahoLink() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      want_connected_ = false;
    }
    cv_.notify_all();
    if (reconnect_thread_.joinable()) reconnect_thread_.join();
    disconnect();
    if (client_) {
      try {
        client_->disable_callbacks();
      } catch (const std::exception& e) {
        spdlog::debug("MQTT: disabling callbacks: {}", e.what());
      }
    }
  }

  PahoLink(const PahoLink&) = delete;
  PahoLink& operator=(const PahoLink&) = delete;

  void onMessage(MessageHandler handler) override {
    std::lock_guard lock(mu_);
    on_message_ = std::move(handler);
  }

  void onConnection(ConnectionHandler handler) override {
    std::lock_guard lock(mu_);
    on_connection_ = std::move(handler);
  }

  Status connect() override {
    PHAROS_RETURN_IF_ERROR(ensureClient());
    if (connected_) return Status::ok();
    cancel_attempt_ = false;
    Status status = attemptConnect();
    if (options_.auto_reconnect) {
      {
        std::lock_guard lock(mu_);
        want_connected_ = true;
        if (!reconnect_thread_.joinable()) {
          reconnect_thread_ = std::thread([this] { reconnectLoop(); });
        }
      }
      cv_.notify_all();
    }
    return status;
  }

  void disconnect() override {
    {
      std::lock_guard lock(mu_);
      want_connected_ = false;
    }
    cancel_attempt_ = true;  // an attempt in progress gives up within 50 ms
    cv_.notify_all();
    std::lock_guard attempt(attempt_mu_);
    if (!client_) return;
    bool was_connected = false;
    {
      std::lock_guard lock(mu_);
      was_connected = connected_.exchange(false);
    }
    try {
      if (was_connected || client_->is_connected()) {
        client_->disconnect()->wait_for(kDisconnectWait);
      }
    } catch (const std::exception& e) {
      spdlog::debug("MQTT disconnect from {}: {}", url_, e.what());
    }
  }

  bool connected() const override { return connected_; }

  Status publish(const MqttMessage& message) override {
    if (message.topic.empty() || message.topic.find_first_of("+#") != std::string::npos) {
      return Status::invalidArgument("publish topic '" + message.topic.substr(0, 200) +
                                     "' is not a topic name");
    }
    if (!connected_ || !client_) {
      return Status::unavailable("not connected to the MQTT broker at " + displayUrl());
    }
    try {
      client_->publish(toPaho(message), nullptr, publish_listener_);
    } catch (const std::exception& e) {
      return Status::unavailable("MQTT publish to '" + message.topic + "' failed: " + e.what());
    }
    return Status::ok();
  }

  Status subscribe(const std::string& filter, int qos) override {
    if (filter.empty()) return Status::invalidArgument("empty subscription filter");
    bool now = false;
    {
      std::lock_guard lock(mu_);
      rememberLocked(filter, qos);
      now = connected_ && client_;
    }
    if (!now) return Status::ok();  // made on the next connect
    Status status;
    try {
      auto token = client_->subscribe(filter, qos, subscribeOptions());
      if (t_in_callback) return Status::ok();
      if (!token->wait_for(kSubscribeWait)) {
        return Status::unavailable("the MQTT broker did not answer the subscription to '" + filter +
                                   "'");
      }
      mqtt::subscribe_response response = token->get_subscribe_response();
      for (auto code : response.get_reason_codes()) {
        if (code >= 0x80) status = subscribeRefused(filter, code);
      }
    } catch (const mqtt::exception& e) {
      status = e.get_reason_code() >= 0x80
                   ? subscribeRefused(filter, e.get_reason_code())
                   : Status::unavailable("MQTT subscribe to '" + filter + "' failed: " + e.what());
    } catch (const std::exception& e) {
      status = Status::unavailable("MQTT subscribe to '" + filter + "' failed: " + e.what());
    }
    return status;
  }

  std::vector<Status> subscribeMany(
      const std::vector<std::pair<std::string, int>>& filters) override {
    std::vector<Status> out(filters.size());
    std::vector<std::string> names;
    mqtt::iasync_client::qos_collection qos;
    std::vector<size_t> index;  // position in `filters` of each name
    bool now = false;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < filters.size(); ++i) {
        if (filters[i].first.empty()) {
          out[i] = Status::invalidArgument("empty subscription filter");
          continue;
        }
        rememberLocked(filters[i].first, filters[i].second);
        names.push_back(filters[i].first);
        qos.push_back(filters[i].second);
        index.push_back(i);
      }
      now = connected_ && client_;
    }
    if (!now || index.empty()) return out;  // made on the next connect
    try {
      // No per-topic options here: Paho C++ 1.2 crashes in MQTTAsync_subscribeMany with a
      // subscribe_options list, so retain_as_published applies to subscribe() and to the
      // re-subscriptions after a reconnect (mqtt_link.h).
      auto token = client_->subscribe(mqtt::string_collection::create(names), qos);
      if (t_in_callback) return out;
      if (!token->wait_for(kSubscribeWait)) {
        for (size_t k = 0; k < index.size(); ++k) {
          out[index[k]] = Status::unavailable(
              "the MQTT broker did not answer the subscription to '" + names[k] + "'");
        }
        return out;
      }
      auto codes = token->get_subscribe_response().get_reason_codes();
      bool refused = false;
      for (size_t k = 0; k < index.size() && k < codes.size(); ++k) {
        refused = refused || codes[k] >= 0x80;
      }
      if (!refused) return out;
    } catch (const std::exception& e) {
      // Paho fails the whole request when the broker refused a filter: ask one by one
      // below, for each filter's own answer (the rare path).
      spdlog::debug("MQTT subscription of {} filters: {}", names.size(), e.what());
    }
    for (size_t k = 0; k < index.size(); ++k) out[index[k]] = subscribe(names[k], qos[k]);
    return out;
  }

  Status unsubscribe(const std::string& filter) override {
    bool now = false;
    {
      std::lock_guard lock(mu_);
      subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                          [&](const auto& sub) { return sub.first == filter; }),
                           subscriptions_.end());
      now = connected_ && client_;
    }
    if (!now) return Status::ok();
    try {
      auto token = client_->unsubscribe(filter);
      if (!t_in_callback) token->wait_for(kSubscribeWait);
    } catch (const std::exception& e) {
      return Status::unavailable("MQTT unsubscribe from '" + filter + "' failed: " + e.what());
    }
    return Status::ok();
  }

 private:
  // Retain As Published (MqttOptions::retain_as_published): a live message keeps the retain
  // flag its publisher set.
  mqtt::subscribe_options subscribeOptions() const {
    return mqtt::subscribe_options(false, options_.retain_as_published);
  }

  std::string displayUrl() const { return url_.empty() ? options_.url : url_; }

  // Remembers a subscription for every reconnect (mu_ held).
  void rememberLocked(const std::string& filter, int qos) {
    auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                           [&](const auto& sub) { return sub.first == filter; });
    if (it == subscriptions_.end()) {
      subscriptions_.emplace_back(filter, qos);
    } else {
      it->second = qos;
    }
  }

  Status subscribeRefused(const std::string& filter, int code) {
    {
      std::lock_guard lock(mu_);
      subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                          [&](const auto& sub) { return sub.first == filter; }),
                           subscriptions_.end());
    }
    std::string why = mqtt::exception::reason_code_str(code);
    if (code == mqtt::ReasonCode::NOT_AUTHORIZED) {
      return Status::permissionDenied("the MQTT broker refused the subscription to '" + filter +
                                      "': " + why);
    }
    return Status::invalidArgument("the MQTT broker refused the subscription to '" + filter +
                                   "': " + why);
  }

  // Creates the Paho client once (the URL is checked here).
  Status ensureClient() {
    std::lock_guard attempt(attempt_mu_);
    if (client_) return Status::ok();
    auto url = normalizeUrl(options_.url);
    if (!url.isOk()) return url.status();
    url_ = *url;
    try {
      client_ = std::make_unique<mqtt::async_client>(
          url_, options_.client_id, mqtt::create_options(MQTTVERSION_5, kMaxQueuedPublishes));
    } catch (const std::exception& e) {
      return Status::invalidArgument("MQTT url '" + options_.url + "': " + e.what());
    }
    client_->set_message_callback([this](mqtt::const_message_ptr message) {
      CallbackScope scope;
      handleMessage(message);
    });
    client_->set_connected_handler([this](const std::string&) {
      CallbackScope scope;
      handleConnected();
    });
    client_->set_connection_lost_handler([this](const std::string& cause) {
      CallbackScope scope;
      handleLost(cause.empty() ? "connection lost" : cause);
    });
    client_->set_disconnected_handler([this](const mqtt::properties&, mqtt::ReasonCode reason) {
      CallbackScope scope;
      handleLost("disconnected by the broker: " + mqtt::exception::reason_code_str(reason));
    });
    return Status::ok();
  }

  mqtt::connect_options buildConnectOptions() const {
    mqtt::connect_options opts;
    opts.set_mqtt_version(MQTTVERSION_5);
    opts.set_clean_start(options_.clean_start);
    opts.set_keep_alive_interval(options_.keep_alive);
    auto timeout = std::chrono::ceil<std::chrono::seconds>(options_.connect_timeout);
    opts.set_connect_timeout(std::max<std::chrono::seconds>(timeout, std::chrono::seconds(1)));
    opts.set_automatic_reconnect(false);
    opts.set_max_inflight(static_cast<int>(options_.max_inflight));
    if (!options_.username.empty()) opts.set_user_name(options_.username);
    if (!options_.password.empty()) opts.set_password(options_.password);
    std::optional<MqttMessage> will =
        options_.will_for_connection ? options_.will_for_connection() : options_.will;
    if (will) {
      opts.set_will(
          mqtt::will_options(will->topic, will->payload, will->qos, options_.will_retained));
    }
    if (options_.tls || isTlsUrl(url_)) {
      mqtt::ssl_options ssl;
      ssl.set_enable_server_cert_auth(true);
      if (options_.tls) {
        const TlsOptions& tls = *options_.tls;
        if (!tls.ca_file.empty()) ssl.set_trust_store(tls.ca_file);
        if (!tls.cert_file.empty()) ssl.set_key_store(tls.cert_file);
        if (!tls.key_file.empty()) ssl.set_private_key(tls.key_file);
        ssl.set_verify(!tls.insecure);
      } else {
        ssl.set_verify(true);
      }
      opts.set_ssl(std::move(ssl));
    }
    return opts;
  }

  // One connection attempt, blocking at most connect_timeout (plus a little slack). Starts a
  // Paho connect only when none is in flight; otherwise waits for the one in flight.
  Status attemptConnect() {
    std::lock_guard attempt(attempt_mu_);
    if (connected_) return Status::ok();
    try {
      mqtt::token_ptr token = pending_connect_;
      if (!token || completed(token)) {
        // The previous token stays alive one more attempt: nothing Paho still holds is freed.
        retired_connect_ = std::move(pending_connect_);
        token = client_->connect(buildConnectOptions());
        pending_connect_ = token;
      }
      // Wait in slices so that destroying the link never waits out a connect timeout.
      auto deadline =
          std::chrono::steady_clock::now() + options_.connect_timeout + std::chrono::seconds(1);
      while (!token->wait_for(std::chrono::milliseconds(50))) {
        bool cancelled = stopping_ || cancel_attempt_;
        if (cancelled || std::chrono::steady_clock::now() >= deadline) {
          return Status::unavailable(
              "cannot reach the MQTT broker at " + url_ +
              (cancelled ? std::string(": the link is closing")
                         : ": no answer within " +
                               std::to_string(options_.connect_timeout.count()) + " ms"));
        }
      }
    } catch (const mqtt::exception& e) {
      if (isCredentialRefusal(e.get_reason_code(), e.get_return_code())) {
        int code = e.get_reason_code() >= 0x80 ? e.get_reason_code() : e.get_return_code();
        return Status::permissionDenied("the MQTT broker at " + url_ +
                                        " refused the credentials of user '" + options_.username +
                                        "' (client id '" + options_.client_id +
                                        "'): " + mqtt::exception::reason_code_str(code));
      }
      return Status::unavailable("cannot reach the MQTT broker at " + url_ + ": " + e.what());
    } catch (const std::exception& e) {
      return Status::unavailable("cannot reach the MQTT broker at " + url_ + ": " + e.what());
    }
    {
      std::lock_guard lock(mu_);
      connected_ = true;
    }
    spdlog::info("MQTT connected to {} as '{}'", url_, options_.client_id);
    return Status::ok();
  }

  // Reconnects after a loss (or a failed first connect) with backoff. The backoff resets to
  // reconnect_min only after a connection that stayed up for kStableConnection, so two
  // processes fighting over one client id (the broker hands the session to the newest) or a
  // broker that keeps kicking us settle at reconnect_max instead of a reconnect storm.
  void reconnectLoop() {
    std::unique_lock lock(mu_);
    auto backoff = options_.reconnect_min;
    std::optional<std::chrono::steady_clock::time_point> connected_since;
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || (want_connected_ && !connected_); });
      if (stopping_) return;
      if (connected_since) {  // a connection was lost
        auto lasted = std::chrono::steady_clock::now() - *connected_since;
        connected_since.reset();
        if (lasted >= kStableConnection) {
          backoff = options_.reconnect_min;
        } else {
          cv_.wait_for(lock, backoff, [&] { return stopping_ || !want_connected_; });
          backoff = std::min(backoff * 2, options_.reconnect_max);
          continue;
        }
      }
      lock.unlock();
      Status status = attemptConnect();
      lock.lock();
      if (status.isOk()) {
        connected_since = std::chrono::steady_clock::now();
        continue;
      }
      if (stopping_ || !want_connected_) continue;
      spdlog::warn("MQTT reconnect failed (retry in {} ms): {}", backoff.count(), status.message());
      cv_.wait_for(lock, backoff, [&] { return stopping_ || !want_connected_; });
      backoff = std::min(backoff * 2, options_.reconnect_max);
    }
  }

  void handleConnected() {
    // Paho C never sets TCP_NODELAY and does not expose its socket: without it an API
    // reply written right after the request's PUBACK waits ~40 ms for a delayed ACK.
    if (auto port = mqttUrlPort(url_); port && options_.tcp_nodelay) setTcpNoDelayToPort(*port);
    std::vector<std::pair<std::string, int>> subs;
    ConnectionHandler handler;
    {
      std::lock_guard lock(mu_);
      connected_ = true;
      subs = subscriptions_;
      handler = on_connection_;
    }
    for (const auto& [filter, qos] : subs) {
      try {
        client_->subscribe(filter, qos, subscribeOptions());
      } catch (const std::exception& e) {
        spdlog::warn("MQTT re-subscribe to '{}' failed: {}", filter, e.what());
      }
    }
    if (handler) handler(true);
  }

  void handleLost(const std::string& cause) {
    ConnectionHandler handler;
    {
      std::lock_guard lock(mu_);
      if (!connected_.exchange(false)) return;  // already reported
      handler = on_connection_;
    }
    cv_.notify_all();
    spdlog::warn("MQTT connection to {} lost: {}", url_, cause);
    if (handler) handler(false);
  }

  void handleMessage(const mqtt::const_message_ptr& message) {
    if (!message) return;
    MessageHandler handler;
    {
      std::lock_guard lock(mu_);
      handler = on_message_;
    }
    if (handler) handler(fromPaho(message));
  }

  const MqttOptions options_;
  std::string url_;  // normalized; set once by ensureClient

  std::mutex attempt_mu_;  // serializes connect attempts and disconnect
  mutable std::mutex mu_;  // guards the fields below and transitions of connected_
  std::condition_variable cv_;
  MessageHandler on_message_;
  ConnectionHandler on_connection_;
  std::vector<std::pair<std::string, int>> subscriptions_;
  bool want_connected_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cancel_attempt_{false};  // set by disconnect(), cleared by connect()
  std::atomic<bool> connected_{false};
  std::thread reconnect_thread_;

  PublishListener publish_listener_;
  // The token of the last Paho connect (attempt_mu_): in flight until it completes, even when
  // the attempt that started it gave up waiting. Declared before client_ so that they outlive
  // it, as Paho may complete them until the client is destroyed.
  mqtt::token_ptr pending_connect_;
  mqtt::token_ptr retired_connect_;             // the one before it
  std::unique_ptr<mqtt::async_client> client_;  // last: destroyed first
};

}  // namespace

std::unique_ptr<MqttLink> makePahoLink(MqttOptions options) {
  return std::make_unique<PahoLink>(std::move(options));
}

}  // namespace pharos
