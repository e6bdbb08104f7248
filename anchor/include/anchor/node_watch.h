// What the node and group operations (node_ops.h, group_ops.h) ask of the parts that watch
// nodes at run time: the node monitor (health, reported state, metrics, quarantine) and the
// line monitor (which line broker holds a node's identity). The anchor's NodeMonitor
// implements it; tests use a recording fake, so the operations run with no MQTT at all.
//
// Threading: runs on the anchor's strand.
#pragma once

#include <string>

#include "pharos/json.h"
#include "pharos/messages.h"

namespace pharos::anchor {

class NodeWatch {
 public:
  virtual ~NodeWatch() = default;

  // The node's identity lives on a line broker (its group rights are granted there).
  virtual bool onLine(const std::string& node) const = 0;
  // Makes the node's group read rights on its line broker match the registry.
  virtual void syncLineRights(const std::string& node) = 0;
  // The node is being removed: it loses its group read rights on its line broker.
  virtual void releaseLine(const std::string& node) = 0;

  // The node's health verdict again (its registration changed).
  virtual void refreshHealth(const std::string& node) = 0;
  // An operator enrolled the node: reports under its name are believed again, and it gets a
  // health verdict.
  virtual void enrolled(const std::string& node) = 0;
  // The node was removed: what was learnt about it is dropped, and its reports are ignored
  // for a while (late retained copies must not register it again).
  virtual void removed(const std::string& node) = 0;

  // The node's last metrics (without per-container figures) and state report, or null.
  virtual const Json* metrics(const std::string& node) const = 0;
  virtual const NodeState* reported(const std::string& node) const = 0;
};

}  // namespace pharos::anchor
