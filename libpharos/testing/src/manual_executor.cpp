// ManualExecutor (see manual_executor.h).
#include "pharos/manual_executor.h"

#include <algorithm>

namespace pharos {

void ManualExecutor::post(Task task) {
  std::lock_guard lock(mu_);
  ready_.push_back(std::move(task));
}

uint64_t ManualExecutor::postDelayed(std::chrono::milliseconds delay, Task task) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  timers_.add(clock_.steadyNow() + delay, id, std::move(task));
  return id;
}

void ManualExecutor::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  timers_.cancel(id);
}

int ManualExecutor::runUntilIdle() {
  int count = 0;
  while (true) {
    Task task;
    {
      std::lock_guard lock(mu_);
      timers_.popDue(clock_.steadyNow(), ready_);
      if (ready_.empty()) return count;
      task = std::move(ready_.front());
      ready_.pop_front();
    }
    task();
    ++count;
  }
}

int ManualExecutor::advance(std::chrono::milliseconds by) {
  int count = runUntilIdle();
  auto step = std::chrono::milliseconds(10);
  for (auto done = std::chrono::milliseconds(0); done < by; done += step) {
    clock_.advance(std::min(step, by - done));
    count += runUntilIdle();
  }
  return count;
}

size_t ManualExecutor::pendingTimers() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

}  // namespace pharos
