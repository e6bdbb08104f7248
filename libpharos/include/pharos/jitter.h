// Randomised delays that keep a fleet from acting in step: devices that power up together
// would otherwise pull, reconcile and report in the same second for ever after.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace pharos {

// A seed that differs between processes and between agents created in the same millisecond
// (the fleet simulator starts hundreds at once): the OS entropy source mixed with `salt`,
// normally the node id. Never 0.
uint64_t entropySeed(std::string_view salt);

// A small PRNG (xorshift64) for delays; not for anything secret. Not thread-safe: each
// owner keeps its own, used from its strand.
class Jitter {
 public:
  explicit Jitter(uint64_t seed);  // 0 is replaced by 1 (xorshift never leaves 0)

  uint64_t next();
  // Uniform in [0, max); 0 when max <= 0.
  std::chrono::milliseconds below(std::chrono::milliseconds max);
  // Uniform in [base * (1 - fraction), base * (1 + fraction)], fraction clamped to [0, 1]:
  // the period of a repeating timer, whose mean stays `base`.
  std::chrono::milliseconds around(std::chrono::milliseconds base, double fraction);

 private:
  uint64_t state_;
};

}  // namespace pharos
