// The group documents an agent subscribes to (DESIGN.md section 2, "Effective desired
// state"): groups/{g}/desired for every group its node document lists, and no other. A
// subscription the broker refuses (the anchor may grant the group's ACL just after it
// publishes the node document) is not kept, so the next update() retries it.
//
// Threading: the agent's strand.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "pharos/mqtt_link.h"

namespace pharos::agent {

class GroupSubscriptions {
 public:
  // Subscribes to the wanted groups not subscribed yet and unsubscribes from the others.
  void update(MqttLink& link, const std::vector<std::string>& wanted);
  // A message on groups/{group}/desired is for this agent only while subscribed.
  bool contains(const std::string& group) const { return subscribed_.count(group) > 0; }
  const std::set<std::string>& subscribed() const { return subscribed_; }

 private:
  std::set<std::string> subscribed_;
};

}  // namespace pharos::agent
