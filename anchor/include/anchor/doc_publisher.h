// Publishes what the registry holds, retained: each document a committed transaction changed
// (rendered once, in touch order), an empty payload for each one it removed, a node's
// secrets document sealed to the node's trusted public key (or withheld), and health
// verdicts. It also knows whether the link is up: parts that publish summaries or check
// deadlines skip their work while it is down (everything is republished on reconnect).
//
// Threading: runs on the anchor's strand; `send` must be safe to call there.
#pragma once

#include <functional>
#include <string>

#include "anchor/registry.h"
#include "anchor/store.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

class DocPublisher {
 public:
  using Send = std::function<Status(const MqttMessage&)>;

  DocPublisher(Registry& reg, Store& store, Send send);

  // QoS 1, retained; a failure is logged (the document goes out again on reconnect).
  void retained(const std::string& topic, const std::string& payload);
  // The document's current generation, if the registry still holds it.
  void doc(const std::string& doc_key);
  // Clears the document's retained topic.
  void emptyDoc(const std::string& doc_key);
  // The node's health verdict, if it has one.
  void health(const std::string& node);
  // Commits `txn` and publishes the documents it changed (in touch order) and clears the
  // ones it removed. `sync` for acknowledged changes. `before_publish` runs between the
  // commit and the first publish (broker ACL changes the documents depend on).
  Status commit(Txn& txn, bool sync = true, const std::function<void()>& before_publish = {});

  bool connected() const { return connected_; }
  void setConnected(bool connected) { connected_ = connected; }

 private:
  // The node's secrets document sealed to its public key, or withheld.
  void sealedSecrets(const std::string& node, int64_t generation);

  Registry& reg_;
  Store& store_;
  Send send_;
  bool connected_ = false;
};

}  // namespace pharos::anchor
