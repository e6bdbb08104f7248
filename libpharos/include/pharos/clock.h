// Time sources. Code that needs "now" takes a Clock&, so tests use ManualClock and move
// time by hand instead of sleeping (after envoy's TimeSource). SystemClock is thread-safe;
// ManualClock is guarded by its own mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace pharos {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (for timestamps on the wire).
  virtual int64_t nowMs() const = 0;
  // Monotonic time for timeouts and backoff.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t nowMs() const override;
  std::chrono::steady_clock::time_point steadyNow() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : ms_(start_ms) {}
  int64_t nowMs() const override;
  std::chrono::steady_clock::time_point steadyNow() const override;
  void advance(std::chrono::milliseconds by);

 private:
  mutable std::mutex mu_;
  int64_t ms_;
  std::chrono::steady_clock::duration steady_{};
};

}  // namespace pharos
