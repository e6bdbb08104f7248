// The MQTT link every program uses: an interface over the broker so the anchor and agent
// cores are testable with FakeBroker (fake_broker.h) and run for real over Paho (MQTT 5,
// src/paho_link.cpp). Callbacks arrive on the link's own I/O thread; owners hop to their
// executor. Every method is thread-safe; connect()/disconnect() and a blocking subscribe()
// must not be called from inside a callback (subscribe() from a callback does not wait).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pharos/status.h"

namespace pharos {

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retained = false;
  // MQTT 5 request/response properties (empty when absent).
  std::string response_topic;
  std::string correlation_data;
  // Broker-assigned or publisher-set user name is not visible in MQTT; the anchor learns
  // the caller from the api/{user}/ topic, which the broker's ACL ties to the login.
};

struct TlsOptions {
  std::string ca_file;    // verify the broker with this CA (empty: system trust store)
  std::string cert_file;  // client certificate (optional)
  std::string key_file;   // client key (optional)
  bool insecure = false;  // skip hostname verification (tests only)
};

struct MqttOptions {
  std::string url = "tcp://127.0.0.1:1883";  // tcp://, ssl://, mqtts://, ws://, wss://
  std::string client_id;
  std::string username;
  std::string password;
  std::chrono::seconds keep_alive{10};
  bool clean_start = true;
  // Last will, if any (topic, payload and qos are used), published retained unless
  // will_retained is false (a Sparkplug NDEATH is not retained).
  std::optional<MqttMessage> will;
  bool will_retained = true;
  // When set, called before every connection attempt, on the thread that makes it, for the
  // will of that connection (it replaces `will`): the agent's will names the session of the
  // connection it belongs to (DESIGN.md section 2). Must be thread-safe and quick, and must
  // not call the link.
  std::function<std::optional<MqttMessage>()> will_for_connection;
  std::optional<TlsOptions> tls;
  // Reconnect backoff: doubles from min to max.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{10'000};
  // Give up the first connect after this long (connect() returns unavailable).
  std::chrono::milliseconds connect_timeout{10'000};
  // When false, connect() fails with unavailable at once if the broker cannot be reached
  // and no automatic reconnect is tried (pharosctl); when true, the link keeps trying.
  bool auto_reconnect = true;
  size_t max_inflight = 1000;
  // Set TCP_NODELAY on the link's socket after every connect (tcp_nodelay.h: without it a
  // reply written right after a PUBACK waits ~40 ms). The link finds its socket by scanning
  // the process's descriptors, which is cheap with a few; a process with hundreds of links
  // (pharos-fleetsim) turns this off and calls setTcpNoDelayToPort once for all of them.
  bool tcp_nodelay = true;
  // Subscribe with MQTT 5 Retain As Published: a message delivered live keeps the retain
  // flag its publisher set (MqttMessage::retained), so a receiver can refuse a request that
  // was left retained the moment it is published, not only when the broker replays it.
  // Applies to subscribe() and to every re-subscription after a reconnect, not to the first
  // subscribeMany() (Paho C++ 1.2 cannot send per-topic options there).
  bool retain_as_published = false;
};

class MqttLink {
 public:
  using MessageHandler = std::function<void(const MqttMessage&)>;
  // Called with true after every (re)connect, false when the connection is lost.
  using ConnectionHandler = std::function<void(bool connected)>;

  virtual ~MqttLink() = default;

  // Set handlers before connect().
  virtual void onMessage(MessageHandler handler) = 0;
  virtual void onConnection(ConnectionHandler handler) = 0;

  // Makes one connection attempt (blocking at most connect_timeout) and returns its result:
  // unavailable when the broker cannot be reached, permission_denied when it refuses the
  // credentials or client id, invalid_argument for a bad URL. With auto_reconnect the link
  // then keeps (re)connecting in the background with backoff — also after a failed first
  // attempt — and restores every subscription after each reconnect.
  virtual Status connect() = 0;
  // Clean disconnect: the broker does NOT publish the will. Publish a final status first.
  virtual void disconnect() = 0;
  virtual bool connected() const = 0;

  // Queues a publish. Fails with unavailable when not connected (and not buffering).
  virtual Status publish(const MqttMessage& message) = 0;
  // Subscriptions are remembered and re-made after every reconnect. While disconnected the
  // filter is only remembered (ok). While connected the call waits for the broker's answer
  // (permission_denied when the ACL refuses it), except from inside a link callback.
  virtual Status subscribe(const std::string& filter, int qos = 1) = 0;
  // Several subscriptions in one request (one SUBSCRIBE, one answer), by the same rules:
  // unlike one subscribe() after another, no answer waits behind the retained messages the
  // previous filter brought (the anchor's 30,000 at 10,000 nodes). One status per filter.
  virtual std::vector<Status> subscribeMany(
      const std::vector<std::pair<std::string, int>>& filters) {
    std::vector<Status> out;
    for (const auto& [filter, qos] : filters) out.push_back(subscribe(filter, qos));
    return out;
  }
  virtual Status unsubscribe(const std::string& filter) = 0;
};

// Creates the Paho-backed link.
std::unique_ptr<MqttLink> makePahoLink(MqttOptions options);

}  // namespace pharos
