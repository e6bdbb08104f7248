// glibc malloc tuning (see malloc_arenas.h).
#include "pharos/malloc_arenas.h"

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pharos {
namespace {

// True when the variable is set or the tunables string names the tunable.
bool environmentSets(const char* variable, const char* glibc_tunables, std::string_view tunable) {
  if (variable != nullptr && *variable != '\0') return true;
  return glibc_tunables != nullptr &&
         std::string_view(glibc_tunables).find(tunable) != std::string_view::npos;
}

}  // namespace

int mallocArenaCap(const char* malloc_arena_max, const char* glibc_tunables, int cap) {
  if (environmentSets(malloc_arena_max, glibc_tunables, "glibc.malloc.arena_max=")) return 0;
  return cap;
}

int limitMallocArenas(int cap) {
#if defined(__GLIBC__)
  cap = mallocArenaCap(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES"), cap);
  if (cap > 0 && ::mallopt(M_ARENA_MAX, cap) == 1) return cap;
#else
  (void)cap;
#endif
  return 0;
}

std::size_t mallocMmapThreshold(const char* malloc_mmap_threshold, const char* glibc_tunables) {
  if (environmentSets(malloc_mmap_threshold, glibc_tunables, "glibc.malloc.mmap_threshold=")) {
    return 0;
  }
  return kMallocMmapThreshold;
}

std::size_t fixMallocMmapThreshold() {
#if defined(__GLIBC__)
  std::size_t threshold =
      mallocMmapThreshold(std::getenv("MALLOC_MMAP_THRESHOLD_"), std::getenv("GLIBC_TUNABLES"));
  if (threshold > 0 && ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(threshold)) == 1) {
    return threshold;
  }
#endif
  return 0;
}

bool releaseFreeHeap() {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  return ::malloc_trim(0) == 1;
#else
  return false;
#endif
}

}  // namespace pharos
