// Executor implementations (see executor.h).
#include "pharos/executor.h"

#include <pthread.h>

#include <algorithm>

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

ThreadPoolExecutor::ThreadPoolExecutor(std::string name, int threads)
    : ThreadPoolExecutor(std::move(name), threads, threads, std::chrono::milliseconds(0)) {}

ThreadPoolExecutor::ThreadPoolExecutor(std::string name, int min_threads, int max_threads,
                                       std::chrono::milliseconds idle_exit)
    : name_(std::move(name)),
      min_threads_(std::max(0, min_threads)),
      max_threads_(std::max({1, min_threads, max_threads})),
      idle_exit_(idle_exit) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < min_threads_; ++i) spawnLocked();
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(); }

void ThreadPoolExecutor::spawnLocked() {
  if (stopping_ || alive_ >= max_threads_) return;
  // Ended threads have left run() and need mu_ no more: joining them here is brief.
  for (auto id : finished_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [id](const std::thread& t) { return t.get_id() == id; });
    if (it == threads_.end()) continue;
    it->join();
    threads_.erase(it);
  }
  finished_.clear();
  threads_.emplace_back([this] { run(); });
  pthread_setname_np(threads_.back().native_handle(), name_.substr(0, 15).c_str());
  ++alive_;
}

int ThreadPoolExecutor::threadCount() {
  std::lock_guard lock(mu_);
  return alive_;
}

void ThreadPoolExecutor::post(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ready_.push_back(std::move(task));
    if (static_cast<int>(ready_.size()) > idle_) spawnLocked();
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
    if (alive_ == 0) spawnLocked();
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
  // No thread is added once stopping_ is set: threads_ no longer changes.
  for (auto& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  std::lock_guard lock(mu_);
  threads_.clear();
  finished_.clear();
}

void ThreadPoolExecutor::run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  auto idle_since = Clock::now();
  while (true) {
    timers_.popDue(Clock::now(), ready_);
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      // Hand what is left to an idle thread instead of leaving it until this task ends:
      // ready tasks (several timers fell due at once), or timers nobody waits for now.
      bool wake = !ready_.empty() || (!timers_.empty() && deadline_waiters_ == 0);
      if (!ready_.empty() && idle_ == 0) spawnLocked();
      lock.unlock();
      if (wake) cv_.notify_one();
      task();
      lock.lock();
      idle_since = Clock::now();
      continue;
    }
    if (stopping_) return;
    // A thread above the minimum may end once idle long enough; the last one stays while
    // timers are pending (a minimum of zero ends it when they are gone).
    const bool may_end =
        alive_ > min_threads_ && (alive_ > 1 || timers_.empty()) && idle_exit_.count() > 0;
    if (may_end && Clock::now() - idle_since >= idle_exit_) {
      --alive_;
      finished_.push_back(std::this_thread::get_id());
      const bool hand_over = !timers_.empty();
      lock.unlock();
      if (hand_over) cv_.notify_one();  // it may have been the one waiting for the deadline
      return;
    }
    ++idle_;
    if (timers_.empty()) {
      if (may_end) {
        cv_.wait_until(lock, idle_since + idle_exit_);
      } else {
        cv_.wait(lock);
      }
    } else {
      // A copy: wait_until reads the deadline again after waking, when another thread may
      // have run or cancelled (erased) that timer.
      auto deadline = timers_.earliest();
      if (may_end) deadline = std::min(deadline, idle_since + idle_exit_);
      ++deadline_waiters_;
      cv_.wait_until(lock, deadline);
      --deadline_waiters_;
    }
    --idle_;
  }
}

}  // namespace pharos
