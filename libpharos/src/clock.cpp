// Clock implementations (see clock.h).
#include "pharos/clock.h"

namespace pharos {

int64_t SystemClock::nowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::chrono::steady_clock::time_point SystemClock::steadyNow() const {
  return std::chrono::steady_clock::now();
}

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
