// The agent's session number (DESIGN.md section 2): max(last session + 1, Unix ms at
// connect), taken anew for every connection to the broker and persisted before that
// connection is made, so it grows across reconnects, restarts and clock-less boots alike and
// each connection's will names that connection's session. nextSession is a pure function;
// SessionStore keeps the session and the documents' payloads in the state file together.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "agent/state_file.h"
#include "pharos/clock.h"
#include "pharos/status.h"

namespace pharos::agent {

// The session of a new connection after `last` (the previous connection's, or the state
// file's at start) when the clock reads `now_ms`: never smaller than last + 1 (a clock that
// went backwards or a device without one), else the clock. Saturates at INT64_MAX.
int64_t nextSession(int64_t last, int64_t now_ms);

// The state file's one writer: the documents' payloads, saved from the agent's strand, and
// the session, taken from the link's connect thread before each connection. Both write the
// whole file under one mutex from what was last written, so neither loses the other's part.
// Thread-safe.
class SessionStore {
 public:
  SessionStore(StateFile& file, const Clock& clock) : file_(file), clock_(clock) {}

  // Reads the state file (at start); on success its session becomes the current one.
  Result<PersistedState> load();
  // Writes the documents' payloads (`documents.last_session` is ignored) with the session.
  Status saveDocuments(PersistedState documents);
  // Takes the session of a new connection and writes it before the connection is made, so
  // a restart never reuses it. A failed write is logged; the session is taken all the same.
  int64_t takeSession();
  // The session of the current (or last) connection.
  int64_t session() const { return session_; }

 private:
  StateFile& file_;
  const Clock& clock_;
  std::mutex mu_;
  PersistedState saved_;  // what was last written
  std::atomic<int64_t> session_{0};
};

}  // namespace pharos::agent
