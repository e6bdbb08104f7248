// Time sources. Code that needs "now" takes a Clock&, so tests use ManualClock
// (libpharos/testing, pharos/manual_clock.h) and move time by hand instead of sleeping
// (after envoy's TimeSource). SystemClock is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

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

}  // namespace pharos
