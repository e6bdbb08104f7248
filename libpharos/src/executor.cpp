// Executor implementations (see executor.h).
#include "pharos/executor.h"

#include <pthread.h>

namespace pharos {

std::shared_ptr<Strand> Strand::create(Executor& base) {
  return std::shared_ptr<Strand>(new Strand(base));
}

void Strand::post(Task task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
    if (running_) return;
    running_ = true;
  }
  std::weak_ptr<Strand> weak = weak_from_this();
  base_.post([weak] {
    if (auto self = weak.lock()) self->drain();
  });
}

void Strand::drain() {
  while (true) {
    Task task;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        running_ = false;
        return;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

uint64_t Strand::postDelayed(std::chrono::milliseconds delay, Task task) {
  std::weak_ptr<Strand> weak = weak_from_this();
  return base_.postDelayed(delay, [weak, task = std::move(task)]() mutable {
    if (auto self = weak.lock()) self->post(std::move(task));
  });
}

void Strand::cancel(uint64_t id) { base_.cancel(id); }

bool TimerQueue::add(TimePoint at, uint64_t id, Task task) {
  bool earliest = by_time_.empty() || at < by_time_.begin()->first.first;
  by_time_.emplace(std::make_pair(at, id), std::move(task));
  deadline_.emplace(id, at);
  return earliest;
}

void TimerQueue::cancel(uint64_t id) {
  auto it = deadline_.find(id);
  if (it == deadline_.end()) return;
  by_time_.erase(std::make_pair(it->second, id));
  deadline_.erase(it);
}

void TimerQueue::popDue(TimePoint now, std::deque<Task>& out) {
  while (!by_time_.empty() && by_time_.begin()->first.first <= now) {
    auto first = by_time_.begin();
    deadline_.erase(first->first.second);
    out.push_back(std::move(first->second));
    by_time_.erase(first);
  }
}

void TimerQueue::clear() {
  by_time_.clear();
  deadline_.clear();
}

ThreadPoolExecutor::ThreadPoolExecutor(std::string name, int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
  }
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(); }

void ThreadPoolExecutor::post(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ready_.push_back(std::move(task));
  }
  cv_.notify_one();
}

uint64_t ThreadPoolExecutor::postDelayed(std::chrono::milliseconds delay, Task task) {
  uint64_t id;
  bool earliest;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return 0;
    id = next_id_++;
    earliest = timers_.add(std::chrono::steady_clock::now() + delay, id, std::move(task));
    // Only a new earliest deadline changes what a waiting thread waits for, and only when
    // some thread waits for a deadline at all; one thread is enough to take it.
    earliest = earliest || deadline_waiters_ == 0;
  }
  if (earliest) cv_.notify_one();
  return id;
}

void ThreadPoolExecutor::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  timers_.cancel(id);
}

void ThreadPoolExecutor::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    timers_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  threads_.clear();
}

void ThreadPoolExecutor::run() {
  std::unique_lock lock(mu_);
  while (true) {
    timers_.popDue(std::chrono::steady_clock::now(), ready_);
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      // Hand what is left to an idle thread instead of leaving it until this task ends:
      // ready tasks (several timers fell due at once), or timers nobody waits for now.
      bool wake = !ready_.empty() || (!timers_.empty() && deadline_waiters_ == 0);
      lock.unlock();
      if (wake) cv_.notify_one();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      // A copy: wait_until reads the deadline again after waking, when another thread may
      // have run or cancelled (erased) that timer.
      const auto deadline = timers_.earliest();
      ++deadline_waiters_;
      cv_.wait_until(lock, deadline);
      --deadline_waiters_;
    }
  }
}

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
