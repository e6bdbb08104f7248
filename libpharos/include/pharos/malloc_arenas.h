// glibc malloc tuning for the long-running daemons. glibc gives threads that allocate at the
// same time arenas of their own, up to 8 per core, and each keeps the memory freed into it:
// a daemon's worker, Paho, Docker events and RocksDB threads can hold tens of MiB that no one uses.
// glibc also raises its mmap threshold each time a large block is freed (up to 32 MiB), after
// which blocks such as RocksDB's memtable arena come from the heap and leave holes there when
// freed. The daemons cap the arenas at start (mallopt M_ARENA_MAX) and the anchor also fixes
// the mmap threshold (M_MMAP_THRESHOLD), unless the environment already sets them, which
// glibc applies itself: MALLOC_ARENA_MAX=N / MALLOC_MMAP_THRESHOLD_=N, or
// glibc.malloc.arena_max / glibc.malloc.mmap_threshold in GLIBC_TUNABLES (the units document
// both).
#pragma once

#include <cstddef>

namespace pharos {

inline constexpr int kMallocArenaMax = 2;
inline constexpr std::size_t kMallocMmapThreshold = 128 * 1024;  // glibc's initial value

// The cap to set, from the two environment variables (nullptr when unset): kMallocArenaMax,
// or 0 when the environment sets one (glibc's then stands).
int mallocArenaCap(const char* malloc_arena_max, const char* glibc_tunables);

// Reads the environment and applies mallocArenaCap (on glibc; elsewhere nothing). Returns the
// cap set, or 0 when none was set. Call first thing in main, before threads start.
int limitMallocArenas();

// The fixed mmap threshold to set, from MALLOC_MMAP_THRESHOLD_ and GLIBC_TUNABLES (nullptr
// when unset): kMallocMmapThreshold, or 0 when the environment sets one.
std::size_t mallocMmapThreshold(const char* malloc_mmap_threshold, const char* glibc_tunables);

// Reads the environment and fixes the mmap threshold (which also stops glibc's dynamic
// raising of it). Returns the threshold set, or 0 when none was set.
std::size_t fixMallocMmapThreshold();

}  // namespace pharos
