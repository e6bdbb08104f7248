// Session rule and health verdict (health.h). Pure functions.
#include "anchor/health.h"

namespace pharos::anchor {

bool acceptStatus(NodeHealthRecord& record, const NodeStatus& status) {
  if (status.session < record.newest_ready_session) return false;
  if (status.state == "Ready") record.newest_ready_session = status.session;
  record.last_status = status;
  return true;
}

HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms) {
  return updateVerdict(record, registration, now_ms, std::string());
}

HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable) {
  NodeHealth next;
  next.session = record.last_status.session;
  if (registration == Registration::kPending) {
    next.state = "Pending";
    next.reason = "awaiting approval (node.approve)";
  } else if (!unreachable.empty()) {
    next.state = "Unreachable";
    next.reason = unreachable;
  } else if (record.last_status.state.empty()) {
    next.state = "NotReady";
    next.reason = "never connected";
  } else {
    next.state = record.last_status.state;
    next.reason = record.last_status.reason;
  }
  NodeHealth& cur = record.health;
  if (cur.state == next.state) {
    if (cur.reason == next.reason && cur.session == next.session) return HealthChange::kNone;
    cur.reason = next.reason;
    cur.session = next.session;
    return HealthChange::kUpdated;
  }
  next.since = now_ms;
  cur = next;
  record.history.push_back(HealthTransition{cur.state, now_ms, cur.reason, cur.session});
  while (record.history.size() > kMaxHealthHistory) record.history.pop_front();
  return HealthChange::kTransition;
}

}  // namespace pharos::anchor
