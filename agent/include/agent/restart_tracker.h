// Per-service bookkeeping of the failover supervisor (DESIGN.md section 3, "Failover"):
// container deaths seen (Docker's restarts included, from the events stream), the agent's
// own restarts with their exponential backoff (100 ms doubling to 1 min), and the CrashLoop
// verdict (repeated deaths within a window). Time comes from the caller (steady clock), so
// tests drive it with ManualClock. Plain value type: not thread-safe (the agent's strand).
#pragma once

#include <chrono>
#include <deque>
#include <optional>

namespace pharos::agent {

struct RestartBackoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{60'000};
  // CrashLoop when at least `crash_threshold` deaths fall within `crash_window`.
  std::chrono::milliseconds crash_window{60'000};
  int crash_threshold = 3;
  // A container that ran this long since its own start resets the backoff.
  std::chrono::milliseconds stable_after{60'000};
};

class RestartTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit RestartTracker(RestartBackoff config = {}) : config_(config), delay_(config.initial) {}

  void recordDeath(TimePoint now);
  int deathsInWindow(TimePoint now) const;
  bool crashLooping(TimePoint now) const { return deathsInWindow(now) >= config_.crash_threshold; }

  // The container should run but is not running and Docker will not restart it. Returns
  // how long to wait before the agent may start it (zero: now). The first call after a
  // death marks the moment the need was seen.
  std::chrono::milliseconds startDelay(TimePoint now);
  // The agent started the container: the next start waits twice as long (up to max).
  void recordAgentStart(TimePoint now);
  // The container is running; after `stable_after` since the agent's last start the
  // backoff returns to its initial value.
  void observeRunning(TimePoint now);
  // The container ran for `ran` since its own start (Docker's StartedAt; up to its exit when
  // it has exited): `stable_after` or more returns the backoff to its initial value, however
  // late the agent looks (a death 62 s after a start does not double the backoff).
  void observeRunTime(std::chrono::milliseconds ran);
  std::chrono::milliseconds currentDelay() const { return delay_; }
  int agentStarts() const { return agent_starts_; }
  void reset();

 private:
  RestartBackoff config_;
  std::deque<TimePoint> deaths_;
  std::chrono::milliseconds delay_;
  std::optional<TimePoint> need_seen_;
  std::optional<TimePoint> last_start_;
  int agent_starts_ = 0;
};

}  // namespace pharos::agent
