// Untrusted input the broker lets through (guards.h). Runs on the anchor's strand.
#include "anchor/guards.h"

#include <fmt/format.h>

#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {

uint64_t Guards::securityCount(const std::string& what) const {
  auto it = security_counts_.find(what);
  return it == security_counts_.end() ? 0 : it->second;
}

uint64_t Guards::count(const std::string& what, uint64_t n) { return security_counts_[what] += n; }

bool Guards::tooFarAhead(int64_t session) const {
  int64_t now = clock_.nowMs();
  return session > now && session - now > config_.max_session_ahead.count();  // no overflow
}

bool Guards::sessionBelievable(const std::string& node, int64_t session, const char* what) {
  if (!tooFarAhead(session)) return true;
  uint64_t n = count("session_ahead");
  logMalformed(std::string("session of ") + what,
               topics::node(node, what == std::string("heartbeat") ? topics::NodeTopic::kHeartbeat
                                                                   : topics::NodeTopic::kStatus),
               Status::invalidArgument(fmt::format(
                   "session {} is more than {} s ahead of the anchor's clock; ignored ({} so far)",
                   session, config_.max_session_ahead.count() / 1000, n)));
  return false;
}

std::vector<std::string> Guards::healSessions(Registry& reg) {
  std::vector<std::string> healed;
  for (auto& [node, health] : reg.health()) {
    if (!tooFarAhead(health.newest_ready_session) && !tooFarAhead(health.lastSession()) &&
        !tooFarAhead(health.health.session)) {
      continue;
    }
    uint64_t n = count("session_healed");
    spdlog::warn(
        "node {}: stored session {} is ahead of the anchor's clock; reset, the node's next "
        "status decides its health ({} healed)",
        node, std::max(health.newest_ready_session, health.lastSession()), n);
    health.newest_ready_session = 0;
    if (health.last_status) health.last_status->session = 0;
    health.health.session = 0;
    healed.push_back(node);
  }
  return healed;
}

bool Guards::dropRetainedRequest(const MqttMessage& message, DocPublisher& publisher) {
  if (!message.retained) return false;
  if (message.payload.empty()) return true;  // already cleared
  uint64_t n = count("retained_request");
  logMalformed("retained request", message.topic,
               Status::invalidArgument(fmt::format(
                   "requests are never retained: not executed, cleared ({} so far)", n)));
  publisher.retained(message.topic, "");
  return true;
}

void Guards::logMalformed(const std::string& what, const std::string& topic, const Status& status) {
  int64_t now = clock_.nowMs();
  int64_t& last = malformed_logged_[what];
  int64_t& dropped = malformed_dropped_[what];
  if (last != 0 && now - last < config_.malformed_log_interval.count()) {
    ++dropped;
    return;
  }
  last = now;
  std::string shown = topic.substr(0, 200);
  if (dropped > 0) {
    spdlog::warn("dropped malformed {} on '{}': {} ({} more since the last report)", what, shown,
                 status.message().substr(0, 300), dropped);
  } else {
    spdlog::warn("dropped malformed {} on '{}': {}", what, shown, status.message().substr(0, 300));
  }
  dropped = 0;
}

}  // namespace pharos::anchor
