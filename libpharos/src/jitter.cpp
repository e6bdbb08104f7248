#include "pharos/jitter.h"

#include <algorithm>
#include <functional>
#include <random>
#include <string>

namespace pharos {

uint64_t entropySeed(std::string_view salt) {
  std::random_device rd;
  uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  seed ^= std::hash<std::string_view>{}(salt)*0x9E3779B97F4A7C15ULL;
  seed ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return seed ? seed : 1;
}

Jitter::Jitter(uint64_t seed) : state_(seed ? seed : 1) {}

uint64_t Jitter::next() {
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  return state_;
}

std::chrono::milliseconds Jitter::below(std::chrono::milliseconds max) {
  if (max.count() <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(next() % static_cast<uint64_t>(max.count()));
}

std::chrono::milliseconds Jitter::around(std::chrono::milliseconds base, double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  auto spread = static_cast<int64_t>(static_cast<double>(base.count()) * fraction);
  if (base.count() <= 0 || spread <= 0) return base;
  return base - std::chrono::milliseconds(spread) +
         below(std::chrono::milliseconds(2 * spread + 1));
}

}  // namespace pharos
