// glibc malloc arenas. glibc gives threads that allocate at the same time arenas of their own,
// up to 8 per core, and each keeps the memory freed into it: on a 64-bit device the agent's
// worker, Paho and Docker events threads can hold tens of MiB that no one uses. The agent caps the
// arenas at start (mallopt M_ARENA_MAX) unless its environment already sets a cap, which
// glibc applies itself: MALLOC_ARENA_MAX=N, or glibc.malloc.arena_max in GLIBC_TUNABLES
// (pharos-agent.service documents both).
#pragma once

namespace pharos::agent {

inline constexpr int kMallocArenaMax = 2;

// The cap the agent sets, from the two environment variables (nullptr when unset):
// kMallocArenaMax, or 0 when the environment sets one (glibc's then stands).
int mallocArenaCap(const char* malloc_arena_max, const char* glibc_tunables);

// Reads the environment and applies mallocArenaCap (on glibc; elsewhere nothing). Returns the
// cap set, or 0 when none was set. Call first thing in main, before threads start.
int limitMallocArenas();

}  // namespace pharos::agent
