// glibc malloc arena cap (see malloc_arenas.h).
#include "agent/malloc_arenas.h"

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pharos::agent {

int mallocArenaCap(const char* malloc_arena_max, const char* glibc_tunables) {
  if (malloc_arena_max != nullptr && *malloc_arena_max != '\0') return 0;
  if (glibc_tunables != nullptr &&
      std::string_view(glibc_tunables).find("glibc.malloc.arena_max=") != std::string_view::npos) {
    return 0;
  }
  return kMallocArenaMax;
}

int limitMallocArenas() {
#if defined(__GLIBC__)
  int cap = mallocArenaCap(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES"));
  if (cap > 0 && ::mallopt(M_ARENA_MAX, cap) == 1) return cap;
#endif
  return 0;
}

}  // namespace pharos::agent
