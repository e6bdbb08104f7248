// Online backup of the anchor's RocksDB store: works while pharos-anchor runs and holds the
// store's lock, and never writes into the store's directory (so running it as root cannot
// leave root-owned files behind in /var/lib/pharos/anchor).
//
// How: the store is opened as a RocksDB *secondary instance* (DB::OpenAsSecondary), which
// reads the primary's MANIFEST and WAL without the lock, catches up with the primary, and
// every key is copied from one iterator (one consistent version: atomic batches are either
// wholly in or wholly out) into a fresh RocksDB directory. The copy is a complete store:
// restoreCheckpoint() (store.h) restores it like a checkpoint.
//
// Threading: a plain function; call it from one thread. Safe against a concurrent writer in
// another process (the point of it).
#pragma once

#include <cstdint>
#include <string>

#include "pharos/status.h"

namespace pharos::anchor {

struct LiveBackupResult {
  uint64_t keys = 0;   // keys copied
  uint64_t bytes = 0;  // key + value bytes copied
};

// Copies the store in `data_dir` into `dest` (must not exist; created). `scratch_dir` holds
// the secondary instance's own files while it runs and is removed afterwards (default:
// `dest` + ".secondary").
Result<LiveBackupResult> backupLiveStore(const std::string& data_dir, const std::string& dest,
                                         const std::string& scratch_dir = {});

}  // namespace pharos::anchor
