// The agent's group document subscriptions (see group_subscriptions.h).
#include "agent/group_subscriptions.h"

#include <spdlog/spdlog.h>

#include "pharos/topics.h"

namespace pharos::agent {

void GroupSubscriptions::update(MqttLink& link, const std::vector<std::string>& wanted) {
  std::set<std::string> want(wanted.begin(), wanted.end());
  for (auto it = subscribed_.begin(); it != subscribed_.end();) {
    if (want.count(*it)) {
      ++it;
      continue;
    }
    (void)link.unsubscribe(topics::groupDesired(*it));
    it = subscribed_.erase(it);
  }
  for (const std::string& g : want) {
    if (subscribed_.insert(g).second) {
      Status st = link.subscribe(topics::groupDesired(g), 1);
      if (!st.isOk()) {
        spdlog::warn("subscribe to group {}: {} (will retry)", g, st.message());
        subscribed_.erase(g);
      }
    }
  }
}

}  // namespace pharos::agent
