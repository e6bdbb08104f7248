// Line brokers as the anchor sees them (DESIGN.md section 6, docs/levels.md): Mosquitto's
// bridge notifications ($SYS/broker/connection/<bridge>/state) and the lines' heartbeats say
// whether a line is reachable; a node's info.broker says which line it sits behind. The
// monitor answers "why is this node unreachable" for its health verdict, and keeps each
// node's group read rights on the line broker that holds its identity (BrokerAdmin's line
// calls). What a change of a line means for its nodes' health, the event log's flush and the
// line's identities is left to the hooks the anchor wires.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "anchor/anchor_config.h"
#include "anchor/broker_admin.h"
#include "anchor/doc_publisher.h"
#include "anchor/event_log.h"
#include "anchor/guards.h"
#include "anchor/registry.h"
#include "pharos/clock.h"
#include "pharos/executor.h"

namespace pharos::anchor {

class LineMonitor {
 public:
  struct Hooks {
    // The node's health verdict again; its heartbeat deadline restarted first when
    // `restart_beat` (heartbeats did not cross its line while the line was away).
    std::function<void(const std::string& node, bool restart_beat)> recheck;
    // Events were appended to the log: flush it soon.
    std::function<void()> flush_soon;
    // A bridge connected: its line's identities against the registry.
    std::function<void(const std::string& line)> line_connected;
  };

  LineMonitor(const AnchorOptions& config, const Registry& reg, BrokerAdmin& admin, Guards& guards,
              EventLog& events, const DocPublisher& publisher, Strand& strand, Clock& clock,
              Hooks hooks);

  // $SYS/broker/connection/<bridge>/state: "1" connected, "0" down.
  void onBridgeState(const std::string& topic, const std::string& payload);
  // A line heartbeat: a beat clears "silent", the periodic check sets it.
  void onLineHeartbeat(const std::string& line);
  // The anchor's own link is back: heartbeats it missed say nothing about the lines.
  void onAnchorConnected();

  // "bridge <name> down" when `node` sits behind a line broker whose bridge is down, else "".
  std::string unreachableReason(const std::string& node) const;
  // The bridge whose line broker `node` connects to (from its info.broker), "" = the site.
  std::string bridgeOf(const std::string& node) const;
  bool onLine(const std::string& node) const;
  std::string lineOfNode(const std::string& node) const;  // "line-a" for bridge-line-a
  // The last notification of the line's bridge said connected.
  bool bridgeUp(const std::string& line) const;

  // Syncs the node's line rights when its line changed since the last sync (info arrived).
  void checkLine(const std::string& node);
  // Makes the node's group read rights on its line broker match the registry (no-op for a
  // node of the site broker): BrokerAdmin::syncLineNodeGroups.
  void syncLineAcls(const std::string& node);
  // The node is being removed: it loses every group read right on its line broker.
  void releaseNode(const std::string& node);

 private:
  void scheduleHeartbeatCheck();
  void checkHeartbeats();
  void recheckLine(const std::string& line);

  const AnchorOptions& config_;
  const Registry& reg_;
  BrokerAdmin& admin_;
  Guards& guards_;
  EventLog& events_;
  const DocPublisher& publisher_;
  Strand& strand_;
  Clock& clock_;
  Hooks hooks_;
  std::map<std::string, bool> bridges_up_;         // bridge name -> last notification
  std::map<std::string, std::string> node_lines_;  // node -> line its rights were synced on
  std::map<std::string, int64_t> heartbeats_;      // line -> last heartbeat (ms)
  std::set<std::string> silent_lines_;             // lines whose heartbeat stopped
  bool heartbeat_check_scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
