// ManualExecutor: an Executor for tests that runs tasks only when the test calls
// runUntilIdle() or advance(); delayed tasks fall due on a ManualClock. Its queues are
// guarded by a mutex, so other threads may post; tasks run on the thread that drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include "pharos/executor.h"
#include "pharos/manual_clock.h"

namespace pharos {

class ManualExecutor final : public Executor {
 public:
  explicit ManualExecutor(ManualClock& clock) : clock_(clock) {}
  void post(Task task) override;
  uint64_t postDelayed(std::chrono::milliseconds delay, Task task) override;
  void cancel(uint64_t id) override;
  // Runs ready tasks (and timers due at the clock's current time) until none is left.
  // Returns the number of tasks run.
  int runUntilIdle();
  // Advances the clock by `by` in steps, running what becomes due.
  int advance(std::chrono::milliseconds by);
  size_t pendingTimers() const;

 private:
  ManualClock& clock_;
  mutable std::mutex mu_;
  std::deque<Task> ready_;
  TimerQueue timers_;
  uint64_t next_id_ = 1;
};

}  // namespace pharos
