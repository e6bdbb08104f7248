// node.* operations (DESIGN.md section 4) over an OpContext: lists and summaries with the
// anchor's health verdicts, enrolment (node.add creates the broker identity first), approval,
// labels, keys (node.rekey, node_keys.cpp) and removal, with or without a purge that waits for
// the agent to report its apps gone (the removal sweep then calls finishRemoval). What the
// anchor learnt about a node at run time is reached through the NodeWatch, so the operations
// run in tests with no MQTT at all.
//
// Threading: runs on the anchor's strand; the BrokerAdmin answers on the same strand.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "anchor/node_watch.h"
#include "anchor/op_context.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::anchor {

class NodeOps {
 public:
  using Reply = std::function<void(Result<Json>)>;

  NodeOps(const OpContext& ctx, NodeWatch& watch) : ctx_(ctx), watch_(watch) {}

  Result<Json> list(const Json& body);
  Result<Json> get(const Json& body);
  void add(const std::string& user, const Json& body, Reply reply);
  void remove(const std::string& user, const Json& body, Reply reply);
  Result<Json> approve(const std::string& user, const Json& body);
  Result<Json> label(const std::string& user, const Json& body);
  Result<Json> rekey(const std::string& user, const Json& body);  // node_keys.cpp
  // metrics.query: the node's history (MetricsHistory).
  Result<Json> metricsQuery(const Json& body);

  // Deletes the identity, then the node's records and retained topics (also the end of a
  // purge). `reply` may be empty.
  void finishRemoval(const std::string& node, const std::string& user, Reply reply);
  // The node's identity is being deleted.
  bool removing(const std::string& node) const { return removing_.count(node) > 0; }

 private:
  Json summary(const NodeRecord& node) const;

  OpContext ctx_;
  NodeWatch& watch_;
  std::set<std::string> adding_;    // node.add in flight
  std::set<std::string> removing_;  // identity deletion in flight
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
