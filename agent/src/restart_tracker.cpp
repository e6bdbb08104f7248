// RestartTracker (see restart_tracker.h).
#include "agent/restart_tracker.h"

#include <algorithm>

namespace pharos::agent {

void RestartTracker::recordDeath(TimePoint now) {
  deaths_.push_back(now);
  while (deaths_.size() > 64) deaths_.pop_front();
}

int RestartTracker::deathsInWindow(TimePoint now) const {
  int n = 0;
  for (auto t : deaths_) {
    if (now - t < config_.crash_window) ++n;
  }
  return n;
}

std::chrono::milliseconds RestartTracker::startDelay(TimePoint now) {
  if (!need_seen_) need_seen_ = now;
  TimePoint allowed = *need_seen_ + delay_;
  if (allowed <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(allowed - now);
}

void RestartTracker::recordAgentStart(TimePoint now) {
  delay_ = std::min(delay_ * 2, config_.max);
  last_start_ = now;
  need_seen_.reset();
  ++agent_starts_;
}

void RestartTracker::observeRunning(TimePoint now) {
  need_seen_.reset();
  if (last_start_ && now - *last_start_ >= config_.stable_after) {
    delay_ = config_.initial;
    last_start_.reset();
    agent_starts_ = 0;
  }
}

void RestartTracker::observeRunTime(std::chrono::milliseconds ran) {
  if (ran < config_.stable_after) return;
  delay_ = config_.initial;
  last_start_.reset();
  agent_starts_ = 0;
}

void RestartTracker::reset() {
  deaths_.clear();
  delay_ = config_.initial;
  need_seen_.reset();
  last_start_.reset();
  agent_starts_ = 0;
}

}  // namespace pharos::agent
