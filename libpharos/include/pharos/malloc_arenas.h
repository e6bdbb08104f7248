// glibc malloc tuning for the long-running daemons. glibc gives threads that allocate at the
// same time arenas of their own, up to 8 per core, and each keeps the memory freed into it:
// a daemon's worker, Paho, Docker events and RocksDB threads can hold tens of MiB that no one uses.
// glibc also raises its mmap threshold each time a large block is freed (up to 32 MiB), after
// which blocks such as RocksDB's memtable arena come from the heap and leave holes there when
// freed. The daemons cap the arenas at start (mallopt M_ARENA_MAX; the anchor at 2, the agent
// at 1) and fix the mmap threshold (M_MMAP_THRESHOLD), unless the environment already sets
// them, which
// glibc applies itself: MALLOC_ARENA_MAX=N / MALLOC_MMAP_THRESHOLD_=N, or
// glibc.malloc.arena_max / glibc.malloc.mmap_threshold in GLIBC_TUNABLES (the units document
// both). glibc only gives back the free memory at the top of a heap by itself; the agent, whose
// bursts (a metrics tick, a reconcile pass over the engine's JSON) free far more than they
// keep, returns the free pages inside its heaps too, from time to time (releaseFreeHeap).
#pragma once

#include <cstddef>

namespace pharos {

inline constexpr int kMallocArenaMax = 2;
// The agent's few threads seldom allocate at the same time: one arena, the main heap.
inline constexpr int kAgentMallocArenaMax = 1;
inline constexpr std::size_t kMallocMmapThreshold = 128 * 1024;  // glibc's initial value

// The cap to set, from the two environment variables (nullptr when unset): `cap`, or 0 when
// the environment sets one (glibc's then stands).
int mallocArenaCap(const char* malloc_arena_max, const char* glibc_tunables,
                   int cap = kMallocArenaMax);

// Reads the environment and applies mallocArenaCap (on glibc; elsewhere nothing). Returns the
// cap set, or 0 when none was set. Call first thing in main, before threads start.
int limitMallocArenas(int cap = kMallocArenaMax);

// The fixed mmap threshold to set, from MALLOC_MMAP_THRESHOLD_ and GLIBC_TUNABLES (nullptr
// when unset): kMallocMmapThreshold, or 0 when the environment sets one.
std::size_t mallocMmapThreshold(const char* malloc_mmap_threshold, const char* glibc_tunables);

// Reads the environment and fixes the mmap threshold (which also stops glibc's dynamic
// raising of it). Returns the threshold set, or 0 when none was set.
std::size_t fixMallocMmapThreshold();

// Gives the free memory of every arena back to the kernel: the top of each heap and the free
// pages inside it (glibc's malloc_trim(0); it walks the free lists, about a millisecond for a
// heap of a few MiB). Returns true when some memory was given back; false elsewhere, and
// under AddressSanitizer, whose allocator is not glibc's.
bool releaseFreeHeap();

}  // namespace pharos
