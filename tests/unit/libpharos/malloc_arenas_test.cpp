// glibc malloc tuning: arena cap 2 (the agent's 1) and a fixed 128 KiB mmap threshold by
// default; the environment's own settings (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_,
// GLIBC_TUNABLES) are left to glibc. releaseFreeHeap gives free pages inside the heap back.
#include "pharos/malloc_arenas.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace pharos {
namespace {

TEST_CASE("malloc arenas: capped at 2 unless the environment sets a cap") {
  CHECK(mallocArenaCap(nullptr, nullptr) == 2);
  CHECK(mallocArenaCap("", nullptr) == 2);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.tcache_count=0") == 2);
  CHECK(mallocArenaCap("4", nullptr) == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.arena_max=8") == 0);
  CHECK(mallocArenaCap(nullptr, "glibc.malloc.check=0:glibc.malloc.arena_max=1") == 0);
  CHECK(mallocArenaCap(nullptr, nullptr, kAgentMallocArenaMax) == 1);
  CHECK(mallocArenaCap("2", nullptr, kAgentMallocArenaMax) == 0);
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

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
long residentKb() {
  long size = 0;
  long resident = 0;
  std::ifstream("/proc/self/statm") >> size >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}
#endif

TEST_CASE("releaseFreeHeap: the free pages inside the heap go back to the kernel") {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  // 8 MiB of 4 KiB blocks (under the mmap threshold: from the heap), every page written; then
  // all freed but the last, which keeps glibc from giving back the heap's top by itself.
  constexpr int kBlocks = 2048;
  constexpr std::size_t kBlock = 4096;
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(kBlock)));  // NOLINT: glibc's heap itself
    REQUIRE(blocks.back() != nullptr);
    std::memset(blocks.back(), 1, kBlock);
  }
  for (int i = 0; i + 1 < kBlocks; ++i) std::free(blocks[i]);  // NOLINT
  const long before = residentKb();
  CHECK(releaseFreeHeap());
  const long after = residentKb();
  std::free(blocks.back());  // NOLINT
  INFO("resident before " << before << " kB, after " << after << " kB");
  CHECK(before - after >= 4 * 1024);
#else
  CHECK_FALSE(releaseFreeHeap());  // not glibc's allocator: nothing to give back this way
#endif
}

}  // namespace
}  // namespace pharos
