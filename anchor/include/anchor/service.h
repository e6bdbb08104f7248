// The pharos-anchor process around the core: builds the object graph (RocksDB store,
// Paho link, Mosquitto broker admin, thread pool + strand, Anchor), runs until `stop` is
// set (by the signal handler), shuts down cleanly (anchor/status offline, then a clean
// disconnect). Also the backup / restore subcommands. Called from main.cpp only.
#pragma once

#include <atomic>
#include <csignal>

#include "anchor/options.h"

namespace pharos::anchor {

// Exit codes: 0 ok, 1 runtime failure (store unusable, broker refused), 2 bad config.
int runAnchor(const AnchorSettings& options, const volatile std::sig_atomic_t& stop);
// Checkpoint of the store (and a copy of the broker's dynamic-security file) into a dir.
int backupAnchor(const AnchorSettings& options);
// Restores a backup into --data-dir and gives the store a new epoch.
int restoreAnchor(const AnchorSettings& options);

}  // namespace pharos::anchor
