// glibc malloc tuning: arena cap 2 and a fixed 128 KiB mmap threshold by default; the
// environment's own settings (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES) are
// left to glibc.
#include "pharos/malloc_arenas.h"

#include <doctest/doctest.h>

#include <cstdlib>

namespace pharos {
namespace {

TEST_CASE("malloc arenas: capped at 2 unless the environment sets a cap") {
  CHECK(mallocArenaCap(nullptr, nullptr) == 2);
  CHECK(mallocArenaCap("", nullptr) == 2);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.tcache_count=0") == 2);
  CHECK(mallocArenaCap("4", nullptr) == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.arena_max=8") == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.check=0:glibc.malloc.arena_max=1") == 0);
}

TEST_CASE("malloc mmap threshold: fixed at 128 KiB unless the environment sets one") {
  CHECK(mallocMmapThreshold(nullptr, nullptr) == 128 * 1024);
  CHECK(mallocMmapThreshold("", "glibc.malloc.arena_max=2") == 128 * 1024);
  CHECK(mallocMmapThreshold("65536", nullptr) == 0);
  CHECK(mallocMmapThreshold(nullptr, "glibc.malloc.mmap_threshold=1048576") == 0);
}

TEST_CASE("malloc tuning: applied on glibc") {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer replaces glibc's allocator: its mallopt sets nothing, and nothing is
  // reported as set.
  CHECK(limitMallocArenas() == 0);
  CHECK(fixMallocMmapThreshold() == 0);
#elif defined(__GLIBC__)
  // The test runner's environment sets neither (ctest, tools/test.sh): the defaults apply.
  CHECK(limitMallocArenas() ==
        mallocArenaCap(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES")));
  CHECK(fixMallocMmapThreshold() ==
        mallocMmapThreshold(std::getenv("MALLOC_MMAP_THRESHOLD_"), std::getenv("GLIBC_TUNABLES")));
#else
  CHECK(limitMallocArenas() == 0);
  CHECK(fixMallocMmapThreshold() == 0);
#endif
}

}  // namespace
}  // namespace pharos
