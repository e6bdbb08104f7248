// malloc arena cap: 2 by default; the environment's own cap (MALLOC_ARENA_MAX or
// glibc.malloc.arena_max in GLIBC_TUNABLES) is left to glibc.
#include "agent/malloc_arenas.h"

#include <doctest/doctest.h>

#include <cstdlib>

namespace pharos::agent {
namespace {

TEST_CASE("malloc arenas: capped at 2 unless the environment sets a cap") {
  CHECK(mallocArenaCap(nullptr, nullptr) == 2);
  CHECK(mallocArenaCap("", nullptr) == 2);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.tcache_count=0") == 2);
  CHECK(mallocArenaCap("4", nullptr) == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.arena_max=8") == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.check=0:glibc.malloc.arena_max=1") == 0);
}

TEST_CASE("malloc arenas: limitMallocArenas sets the cap on glibc") {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer replaces glibc's allocator: its mallopt sets nothing, and the cap is
  // reported as not set.
  CHECK(limitMallocArenas() == 0);
#elif defined(__GLIBC__)
  // The test runner's environment sets no cap (ctest, tools/test.sh): the default applies.
  CHECK(limitMallocArenas() ==
        mallocArenaCap(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES")));
#else
  CHECK(limitMallocArenas() == 0);
#endif
}

}  // namespace
}  // namespace pharos::agent
