// ThreadPoolExecutor under concurrency: delayed tasks run once, cancelled ones never, while
// several pool threads wait on timers that others run or cancel (a waiting thread once kept
// a reference to an erased timer's deadline; ASan reported a heap-use-after-free).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "pharos/executor.h"

namespace pharos {
namespace {

using std::chrono::milliseconds;

bool waitFor(const std::atomic<int>& value, int expected, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (value.load() < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  return value.load() == expected;
}

TEST_CASE("Delayed tasks run once and cancelled ones never while threads race on timers") {
  ThreadPoolExecutor pool("test-pool", 4);
  std::atomic<int> ran{0};
  std::atomic<int> cancelled_ran{0};  // a 2+ ms timer may fire before its cancel on a slow host
  constexpr int kRounds = 300;
  int expected = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<uint64_t> to_cancel;
    for (int i = 0; i < 4; ++i) {
      pool.postDelayed(milliseconds(1 + i % 3), [&ran] { ran.fetch_add(1); });
      ++expected;
      to_cancel.push_back(
          pool.postDelayed(milliseconds(2 + i % 5), [&cancelled_ran] { cancelled_ran++; }));
    }
    // Cancelling erases timers other threads may be waiting on.
    for (uint64_t id : to_cancel) pool.cancel(id);
    if (round % 50 == 0) std::this_thread::sleep_for(milliseconds(3));
  }
  CHECK(waitFor(ran, expected, milliseconds(10'000)));
  pool.shutdown();
  CHECK(ran.load() == expected);  // each exactly once
}

TEST_CASE("A timer cancelled while every pool thread waits on it never runs") {
  ThreadPoolExecutor pool("test-pool", 3);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    uint64_t id = pool.postDelayed(milliseconds(50), [&ran] { ran++; });
    std::this_thread::sleep_for(milliseconds(1));  // the threads now wait on its deadline
    pool.cancel(id);
  }
  std::atomic<int> marker{0};
  pool.postDelayed(milliseconds(60), [&marker] { marker++; });
  CHECK(waitFor(marker, 1, milliseconds(5'000)));
  CHECK(ran.load() == 0);
  pool.shutdown();
}

TEST_CASE("A new earliest timer wakes a thread that waits for a later one") {
  ThreadPoolExecutor pool("test-pool", 2);
  std::atomic<int> late{0};
  std::atomic<int> early{0};
  pool.postDelayed(milliseconds(5'000), [&late] { late++; });
  std::this_thread::sleep_for(milliseconds(20));  // both threads now wait 5 s
  auto start = std::chrono::steady_clock::now();
  pool.postDelayed(milliseconds(10), [&early] { early++; });
  CHECK(waitFor(early, 1, milliseconds(2'000)));
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2'000));
  CHECK(late.load() == 0);
  pool.shutdown();
}

TEST_CASE("Timers that fall due together run on idle threads at once, not one after another") {
  ThreadPoolExecutor pool("test-pool", 2);
  std::this_thread::sleep_for(milliseconds(20));  // both threads idle, no timer
  std::atomic<int> second_started{0};
  std::atomic<bool> overlapped{false};
  // Only the first timer is a new earliest deadline; the second, due at the same moment,
  // wakes nobody. The first waits for the second to start on the other thread.
  pool.postDelayed(milliseconds(30),
                   [&] { overlapped = waitFor(second_started, 1, milliseconds(2'000)); });
  pool.postDelayed(milliseconds(30), [&] { second_started++; });
  CHECK(waitFor(second_started, 1, milliseconds(5'000)));
  std::this_thread::sleep_for(milliseconds(10));
  pool.shutdown();
  CHECK(overlapped.load());
}

bool waitUntil(const std::function<bool()>& predicate, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  return predicate();
}

TEST_CASE("An elastic pool grows to its maximum under load and shrinks back when idle") {
  ThreadPoolExecutor pool("test-pool", 1, 3, milliseconds(50));
  CHECK(pool.threadCount() == 1);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<bool> release{false};
  for (int i = 0; i < 6; ++i) {
    pool.post([&] {
      int now = ++running;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
      --running;
    });
  }
  CHECK(waitFor(peak, 3, milliseconds(5'000)));  // three at once: grew to the maximum
  CHECK(pool.threadCount() == 3);
  release = true;
  CHECK(waitUntil([&] { return pool.threadCount() == 1; }, milliseconds(5'000)));
  CHECK(peak.load() == 3);  // never above the maximum
  std::atomic<int> after{0};
  pool.post([&after] { after++; });  // the remaining thread still takes work
  CHECK(waitFor(after, 1, milliseconds(5'000)));
  pool.shutdown();
}

TEST_CASE("A pool with no minimum starts a thread for a timer and ends it when done") {
  ThreadPoolExecutor pool("test-pool", 0, 2, milliseconds(30));
  CHECK(pool.threadCount() == 0);
  std::atomic<int> ran{0};
  pool.postDelayed(milliseconds(100), [&ran] { ran++; });
  CHECK(pool.threadCount() == 1);
  std::this_thread::sleep_for(milliseconds(60));  // idle past idle_exit: a timer keeps it
  CHECK(pool.threadCount() == 1);
  CHECK(waitFor(ran, 1, milliseconds(5'000)));
  CHECK(waitUntil([&] { return pool.threadCount() == 0; }, milliseconds(5'000)));
  pool.post([&ran] { ran++; });  // and a task starts one again
  CHECK(waitFor(ran, 2, milliseconds(5'000)));
  pool.shutdown();
  CHECK(pool.threadCount() <= 1);
}

TEST_CASE("TimerQueue: deadline order, posting order on ties, cancel by id") {
  using TP = TimerQueue::TimePoint;
  TimerQueue q;
  TP t0{};
  std::vector<int> order;
  CHECK(q.add(t0 + milliseconds(30), 1, [&order] { order.push_back(1); }));
  CHECK(q.add(t0 + milliseconds(10), 2, [&order] { order.push_back(2); }));
  CHECK_FALSE(q.add(t0 + milliseconds(10), 3, [&order] { order.push_back(3); }));
  CHECK_FALSE(q.add(t0 + milliseconds(20), 4, [&order] { order.push_back(4); }));
  q.cancel(4);
  q.cancel(4);   // twice: no effect
  q.cancel(99);  // unknown: no effect
  CHECK(q.size() == 3);
  CHECK(q.earliest() == t0 + milliseconds(10));
  std::deque<Task> due;
  q.popDue(t0 + milliseconds(9), due);
  CHECK(due.empty());
  q.popDue(t0 + milliseconds(30), due);
  CHECK(q.empty());
  for (auto& task : due) task();
  CHECK(order == std::vector<int>{2, 3, 1});
  q.cancel(1);  // already popped: no effect
  CHECK(q.add(t0, 5, [] {}));
  q.clear();
  CHECK(q.empty());
}

}  // namespace
}  // namespace pharos
