// Small helpers shared by the fleet (fleet.cpp) and the floor (floor.cpp) of pharos-fleetsim.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace pharos::fleetsim {

inline int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One JSON line on stdout, flushed (the bench reads it through a pipe).
inline void emitLine(const std::string& line) {
  static std::mutex mu;  // NOLINT: guards stdout only
  std::lock_guard lock(mu);
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace pharos::fleetsim
