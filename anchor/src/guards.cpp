// Guards against forged or replayed input from clients the broker authenticated but the anchor
// does not trust (docs/security.md "Threat model"): a status or heartbeat whose session is
// far ahead of the anchor's clock (it would pin a node's health and hide its real death), a
// store that already holds such a session (healed at start), and requests left retained on
// api/... or nodes/+/cmd/... (the broker would replay them on every subscription). Each
// refusal is logged (rate-limited) and counted (securityCount). Runs on the anchor's strand.
#include <fmt/format.h>

#include "anchor/anchor.h"
#include "pharos/log.h"
#include "pharos/topics.h"

namespace pharos::anchor {

uint64_t Anchor::securityCount(const std::string& what) const {
  auto it = security_counts_.find(what);
  return it == security_counts_.end() ? 0 : it->second;
}

bool Anchor::tooFarAhead(int64_t session) const {
  int64_t now = clock_.nowMs();
  return session > now && session - now > config_.max_session_ahead.count();  // no overflow
}

bool Anchor::sessionBelievable(const std::string& node, int64_t session, const char* what) {
  if (!tooFarAhead(session)) return true;
  uint64_t n = ++security_counts_["session_ahead"];
  logMalformed(std::string("session of ") + what,
               topics::node(node, what == std::string("heartbeat") ? topics::NodeTopic::kHeartbeat
                                                                   : topics::NodeTopic::kStatus),
               Status::invalidArgument(fmt::format(
                   "session {} is more than {} s ahead of the anchor's clock; ignored ({} so far)",
                   session, config_.max_session_ahead.count() / 1000, n)));
  return false;
}

void Anchor::healSessions() {
  for (auto& [node, health] : reg_.health()) {
    if (!tooFarAhead(health.newest_ready_session) && !tooFarAhead(health.last_status.session) &&
        !tooFarAhead(health.health.session)) {
      continue;
    }
    uint64_t n = ++security_counts_["session_healed"];
    spdlog::warn(
        "node {}: stored session {} is ahead of the anchor's clock; reset, the node's next "
        "status decides its health ({} healed)",
        node, std::max(health.newest_ready_session, health.last_status.session), n);
    health.newest_ready_session = 0;
    health.last_status.session = 0;
    health.health.session = 0;
    dirty_health_.insert(node);
  }
  if (!dirty_health_.empty()) scheduleFlush();
}

bool Anchor::dropRetainedRequest(const MqttMessage& message) {
  if (!message.retained) return false;
  if (message.payload.empty()) return true;  // already cleared
  uint64_t n = ++security_counts_["retained_request"];
  logMalformed("retained request", message.topic,
               Status::invalidArgument(fmt::format(
                   "requests are never retained: not executed, cleared ({} so far)", n)));
  publishRetained(message.topic, "");
  return true;
}

}  // namespace pharos::anchor
