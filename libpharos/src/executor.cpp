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
  {
    std::lock_guard lock(mu_);
    if (stopping_) return 0;
    id = next_id_++;
    timers_.emplace(std::chrono::steady_clock::now() + delay, std::make_pair(id, std::move(task)));
  }
  cv_.notify_all();
  return id;
}

void ThreadPoolExecutor::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
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
    auto now = std::chrono::steady_clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      ready_.push_back(std::move(timers_.begin()->second.second));
      timers_.erase(timers_.begin());
    }
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
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
      const auto deadline = timers_.begin()->first;
      cv_.wait_until(lock, deadline);
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
  timers_.emplace(clock_.steadyNow() + delay, std::make_pair(id, std::move(task)));
  return id;
}

void ManualExecutor::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

int ManualExecutor::runUntilIdle() {
  int count = 0;
  while (true) {
    Task task;
    {
      std::lock_guard lock(mu_);
      auto now = clock_.steadyNow();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        ready_.push_back(std::move(timers_.begin()->second.second));
        timers_.erase(timers_.begin());
      }
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
