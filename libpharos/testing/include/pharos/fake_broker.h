// FakeBroker: an in-memory MQTT broker for unit tests of anchor and agent logic, with
// links (makeFakeLink) that implement MqttLink exactly like the Paho link does: a
// retained store (an empty retained payload deletes), wildcard subscriptions
// (topics::matches), retained messages delivered on subscribe, wills published when a
// client is killed or cut off (taken at each connection attempt when the link has a
// will_for_connection), session takeover by client id, automatic reconnect (with
// subscriptions restored) when a client comes back online or the broker comes back up,
// MQTT 5 response topic / correlation data passed through, and a publish log.
//
// Delivery is queued by default: every callback (message or connection change) waits in
// one FIFO until the test calls deliverAll(), so tests are deterministic and single
// threaded. In synchronous mode the broker pumps the queue itself after every operation
// (callbacks run on the calling thread, still in FIFO order, never nested).
//
// Threading: every FakeBroker and fake link method is thread-safe (one broker mutex);
// callbacks run on the thread that pumps the queue with no lock held, so handlers may call
// back into links and the broker. The broker must outlive its links.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos {

struct FakeLinkState;  // fake_broker.cpp

// One accepted publish, in arrival order.
struct PublishRecord {
  std::string client_id;  // the publisher ("" for FakeBroker::publish)
  MqttMessage message;
  bool will = false;  // published by the broker as a dead client's last will
};

class FakeBroker {
 public:
  enum class Delivery { kQueued, kSynchronous };

  explicit FakeBroker(Delivery delivery = Delivery::kQueued);
  ~FakeBroker();
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;

  // Runs queued callbacks (including ones they cause) until the queue is empty.
  // Returns how many callbacks ran.
  size_t deliverAll();
  // Callbacks waiting in the queue.
  size_t pending() const;

  // Publishes as the broker itself / an unnamed client (tests injecting traffic).
  void publish(const MqttMessage& message);

  // Abnormal end of a client (process killed): the connection drops and its will is
  // published. The link does not reconnect (the process is gone) until connect() is
  // called on it again.
  void kill(const std::string& client_id);
  // Network reachability of one client. Going offline drops the connection like a lost
  // network (will published, onConnection(false)); coming back online reconnects links
  // that have auto_reconnect (subscriptions restored, onConnection(true)).
  void setOnline(const std::string& client_id, bool online);
  // Broker up/down. Going down drops every client without wills (like a broker stop);
  // coming up reconnects every auto_reconnect link. restart() = down, optional wipe of
  // the retained store (a broker that lost its persistence), up.
  void setUp(bool up);
  void restart(bool wipe_retained = false);
  // Refuses the next connects of a client id with this status (e.g. permissionDenied);
  // an ok Status removes the refusal.
  void refuseConnect(const std::string& client_id, Status status);
  // Publishes from this client id to topics matching `filter` are dropped like an ACL
  // denial: publish() still returns ok, nothing is routed, stored or logged.
  void denyPublish(const std::string& client_id, const std::string& filter);

  bool isConnected(const std::string& client_id) const;
  // Filters a connected client currently holds at the broker.
  std::vector<std::string> subscriptions(const std::string& client_id) const;

  std::optional<MqttMessage> retained(const std::string& topic) const;
  // Every retained message whose topic matches the filter, ordered by topic.
  std::vector<MqttMessage> retainedMatching(const std::string& filter) const;

  std::vector<PublishRecord> publishLog() const;
  // Log entries whose topic matches the filter.
  std::vector<PublishRecord> published(const std::string& filter) const;
  void clearLog();

 private:
  // Used by FakeLink (fake_broker.cpp).
  friend class FakeLink;
  Status linkConnect(const std::shared_ptr<FakeLinkState>& link);
  void linkDisconnect(const std::shared_ptr<FakeLinkState>& link);
  void linkDetach(const std::shared_ptr<FakeLinkState>& link);
  Status linkPublish(const std::shared_ptr<FakeLinkState>& link, const MqttMessage& message);
  Status linkSubscribe(const std::shared_ptr<FakeLinkState>& link, const std::string& filter,
                       int qos);
  Status linkUnsubscribe(const std::shared_ptr<FakeLinkState>& link, const std::string& filter);
  bool linkConnected(const std::shared_ptr<FakeLinkState>& link) const;

  struct Callback {
    std::shared_ptr<FakeLinkState> link;
    bool is_message = true;
    MqttMessage message;
    bool connected = false;
  };

  Status connectLocked(const std::shared_ptr<FakeLinkState>& link);
  void dropLocked(const std::shared_ptr<FakeLinkState>& link, bool publish_will);
  void routeLocked(const std::string& client_id, const MqttMessage& message, bool will);
  void queueRetainedLocked(const std::shared_ptr<FakeLinkState>& link, const std::string& filter,
                           int qos);
  void reconnectWaitingLocked();
  void maybePump();

  const Delivery delivery_;
  mutable std::mutex mu_;
  bool up_ = true;
  bool pumping_ = false;
  std::vector<std::shared_ptr<FakeLinkState>> links_;
  std::map<std::string, MqttMessage> retained_;
  std::map<std::string, bool> offline_;
  std::map<std::string, Status> refusals_;
  std::multimap<std::string, std::string> denied_publish_;
  std::deque<Callback> queue_;
  std::vector<PublishRecord> log_;
};

// A link to the fake broker. `options` supplies client id, will, auto_reconnect; url,
// credentials and TLS are ignored.
std::unique_ptr<MqttLink> makeFakeLink(FakeBroker& broker, MqttOptions options);
std::unique_ptr<MqttLink> makeFakeLink(FakeBroker& broker, std::string client_id);

}  // namespace pharos
