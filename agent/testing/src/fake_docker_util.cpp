// Helpers of FakeDockerClient (see fake_docker_util.h). Pure functions: thread-safe.
#include "fake_docker_util.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace pharos::agent {

std::string fakeHexId(const std::string& seed) {
  // FNV-1a over the seed, then splitmix64 to fill 256 bits.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : seed) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string out;
  out.reserve(64);
  for (int i = 0; i < 4; ++i) {
    h += 0x9e3779b97f4a7c15ull;
    uint64_t z = h;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(z));
    out += buf;
  }
  return out;
}

std::string rfc3339(int64_t unix_ms) {
  if (unix_ms <= 0) return "0001-01-01T00:00:00Z";
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

bool validContainerName(const std::string& name) {
  if (name.size() < 2 || std::isalnum(static_cast<unsigned char>(name[0])) == 0) return false;
  for (unsigned char c : name) {
    if (std::isalnum(c) == 0 && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

Labels withSignal(Labels attributes, const std::string& signal) {
  attributes["signal"] = signal;
  return attributes;
}

}  // namespace pharos::agent
