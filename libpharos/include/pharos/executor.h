// Executors run the agent's and anchor's core work. The core never owns threads: it posts
// tasks to an Executor it is given (DESIGN.md section 3, "Threads"), so a fleet simulator
// can run many agents on a few threads. Tasks posted to one Strand run one at a time, in
// order. ThreadPoolExecutor: named worker threads, delayed tasks, interruptible shutdown.
// Tests use ManualExecutor (libpharos/testing, pharos/manual_executor.h), which runs tasks
// only when the test says so.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pharos/clock.h"

namespace pharos {

using Task = std::function<void()>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(Task task) = 0;
  // Runs `task` after `delay`. Returns an id that cancel() accepts.
  virtual uint64_t postDelayed(std::chrono::milliseconds delay, Task task) = 0;
  virtual void cancel(uint64_t id) = 0;
};

// Serialises tasks on top of any executor: at most one task of a strand runs at a time.
class Strand : public Executor, public std::enable_shared_from_this<Strand> {
 public:
  static std::shared_ptr<Strand> create(Executor& base);
  void post(Task task) override;
  uint64_t postDelayed(std::chrono::milliseconds delay, Task task) override;
  void cancel(uint64_t id) override;

 private:
  explicit Strand(Executor& base) : base_(base) {}
  void drain();

  Executor& base_;
  std::mutex mu_;
  std::deque<Task> queue_;
  bool running_ = false;
};

// Delayed tasks by deadline (ties in posting order), with cancel by id in O(log n): an agent
// re-arms and cancels its timers constantly, and 500 hollow agents share one executor.
// Not thread-safe: its executor's mutex guards it.
class TimerQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // True when the new timer is now the earliest (a waiting thread must look again).
  bool add(TimePoint at, uint64_t id, Task task);
  void cancel(uint64_t id);
  // Appends every task due at `now`, earliest first.
  void popDue(TimePoint now, std::deque<Task>& out);
  bool empty() const { return by_time_.empty(); }
  TimePoint earliest() const { return by_time_.begin()->first.first; }
  size_t size() const { return by_time_.size(); }
  void clear();

 private:
  std::map<std::pair<TimePoint, uint64_t>, Task> by_time_;
  std::unordered_map<uint64_t, TimePoint> deadline_;
};

// Worker threads between `min_threads` and `max_threads`: it starts `min_threads`, adds one
// (up to the maximum) when a task is queued and no thread is free, and a thread above the
// minimum that found nothing to do for `idle_exit` ends. With min == max (the two-argument
// constructor) it is a fixed pool. Timers are served by the threads it has; with a minimum of
// zero, a timer starts a thread when none is left.
class ThreadPoolExecutor final : public Executor {
 public:
  ThreadPoolExecutor(std::string name, int threads);
  ThreadPoolExecutor(std::string name, int min_threads, int max_threads,
                     std::chrono::milliseconds idle_exit);
  ~ThreadPoolExecutor() override;
  void post(Task task) override;
  uint64_t postDelayed(std::chrono::milliseconds delay, Task task) override;
  void cancel(uint64_t id) override;
  // Stops accepting work, drops pending delayed tasks, joins the threads.
  void shutdown();
  // Threads running now (for tests and diagnostics).
  int threadCount();

 private:
  void run();
  void spawnLocked();  // mu_ held

  const std::string name_;
  const int min_threads_;
  const int max_threads_;
  const std::chrono::milliseconds idle_exit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> ready_;
  TimerQueue timers_;
  int deadline_waiters_ = 0;  // threads waiting for the earliest timer
  int idle_ = 0;              // threads waiting for work or a timer
  int alive_ = 0;             // threads started and not ended
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> finished_;  // ended threads, joined at the next spawn
};

}  // namespace pharos
