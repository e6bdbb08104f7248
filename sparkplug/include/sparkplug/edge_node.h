// The Pharos site as one Sparkplug B edge node (Eclipse Sparkplug 3.0): every managed node a
// Sparkplug device. One EdgeNode lives for the whole process; each MQTT connection is a
// session (sessionStarted .. sessionEnded) with its own bdSeq, whose NDEATH the caller set
// as the connection's will (deathMessage). Within a session:
//   - births wait until the subscriptions answered, the retained Pharos documents settled
//     (no new retained one for `settle`, at most `settle_max`), and, with a primary host
//     configured, that host's STATE said online;
//   - NBIRTH (seq 0, bdSeq, Node Control/Rebirth, fleet counts) then one DBIRTH per Ready
//     device; DDEATH when the anchor's verdict leaves Ready, DBIRTH when it returns (or when
//     a device's metric set changes, e.g. a new app); DDATA/NDATA carry only what changed,
//     flushed every tick(); seq counts 0..255 over every message after NBIRTH;
//   - NCMD Node Control/Rebirth republishes every birth; the primary host going offline
//     asks the caller to reconnect (reconnectRequested); DCMD Apps/{app}/Control/{Restart|
//     Stop|Start} goes to the CommandSink when commands are on.
// Bad input (undecodable payloads, unknown metrics, wrong datatypes, replayed commands) is
// logged and changes nothing.
//
// Thread-safe: one mutex guards everything; the link's callback thread calls onMessage and
// the caller's loop calls tick and the session methods. Publishing never blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pharos/clock.h"
#include "pharos/mqtt_link.h"
#include "sparkplug/fleet.h"
#include "sparkplug/metric_tree.h"
#include "sparkplug/payload.h"
#include "sparkplug/topics.h"

namespace pharos::sparkplug {

struct EdgeConfig {
  std::string group_id = "pharos";
  std::string edge_node_id = "site";
  std::string primary_host_id;  // "" = publish births without waiting for a host
  bool commands = false;        // DCMD app control
  std::chrono::milliseconds settle{300};
  std::chrono::milliseconds settle_max{5000};
};

// One app command from a host, validated, for the management API.
struct AppCommand {
  std::string device;  // the Pharos node
  std::string app;
  std::string operation;  // app.restart | app.stop | app.start
};

class CommandSink {
 public:
  virtual ~CommandSink() = default;
  // Must not block (called under the EdgeNode's mutex).
  virtual void submit(const AppCommand& command) = 0;
};

struct EdgeStats {
  uint64_t nbirths = 0;
  uint64_t dbirths = 0;
  uint64_t ddeaths = 0;
  uint64_t ddata = 0;
  uint64_t ndata = 0;
  uint64_t metrics_out = 0;  // metrics in DDATA/NDATA
  uint64_t refused = 0;      // bad input logged and dropped
  uint64_t commands = 0;     // DCMD handed to the sink
};

class EdgeNode {
 public:
  EdgeNode(EdgeConfig config, const Clock& clock, CommandSink* commands);

  const EdgeConfig& config() const { return config_; }
  // Every filter a session subscribes to: Pharos topics, then NCMD, DCMD and STATE.
  std::vector<std::pair<std::string, int>> subscriptions() const;
  // The NDEATH of a session: the will's topic and payload (QoS 1, not retained).
  MqttMessage deathMessage(uint64_t bdseq) const;

  void sessionStarted(MqttLink* link, uint64_t bdseq);
  void subscribed();
  void sessionEnded();
  void onMessage(const MqttMessage& message);
  void tick();
  bool reconnectRequested() const;
  bool online() const;  // births published in this session
  EdgeStats stats() const;

 private:
  enum class Phase { kDisconnected, kSubscribing, kSettling, kOnline };

  struct Device {
    bool born = false;
    MetricTree published;
  };

  // All below with mu_ held.
  void handleSparkplug(const MqttMessage& message);
  void handleState(const std::string& host, const std::string& payload);
  void handleNodeCommand(const std::string& payload);
  void handleDeviceCommand(const std::string& device, const MqttMessage& message);
  bool replayed(const std::string& topic, const Payload& payload);
  void maybeBirth();
  void publishBirths();
  void flushDevice(const std::string& node);
  void flushNode();
  void publish(const std::string& topic, Payload payload, bool with_seq = true);
  void refuse(const std::string& what);
  uint64_t nextSeq();

  const EdgeConfig config_;
  const Clock& clock_;
  CommandSink* const commands_;

  mutable std::mutex mu_;
  Fleet fleet_;
  std::map<std::string, Device> devices_;
  std::set<std::string> dirty_;
  MetricTree node_published_;
  MqttLink* link_ = nullptr;
  Phase phase_ = Phase::kDisconnected;
  uint64_t bdseq_ = 0;
  uint64_t seq_ = 0;
  bool host_online_ = false;
  int64_t host_state_ts_ = -1;
  bool reconnect_ = false;
  std::chrono::steady_clock::time_point settle_start_{};
  std::chrono::steady_clock::time_point last_input_{};
  std::deque<std::string> recent_commands_;
  EdgeStats stats_;
};

}  // namespace pharos::sparkplug
