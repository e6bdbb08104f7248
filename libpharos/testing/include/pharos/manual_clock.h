// ManualClock: a Clock that tests move by hand instead of sleeping (after envoy's
// TimeSource). Guarded by its own mutex: any thread may read it or advance it.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "pharos/clock.h"

namespace pharos {

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
