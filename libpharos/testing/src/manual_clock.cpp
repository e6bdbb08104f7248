// ManualClock (see manual_clock.h).
#include "pharos/manual_clock.h"

namespace pharos {

int64_t ManualClock::nowMs() const {
  std::lock_guard lock(mu_);
  return ms_;
}

std::chrono::steady_clock::time_point ManualClock::steadyNow() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::time_point(steady_);
}

void ManualClock::advance(std::chrono::milliseconds by) {
  std::lock_guard lock(mu_);
  ms_ += by.count();
  steady_ += by;
}

}  // namespace pharos
