// The agent's session number (DESIGN.md section 2): max(last session + 1, Unix ms at
// connect), taken anew for every connection to the broker and persisted before that
// connection is made, so it grows across reconnects, restarts and clock-less boots alike and
// each connection's will names that connection's session. Pure function, thread-safe.
#pragma once

#include <cstdint>

namespace pharos::agent {

// The session of a new connection after `last` (the previous connection's, or the state
// file's at start) when the clock reads `now_ms`: never smaller than last + 1 (a clock that
// went backwards or a device without one), else the clock. Saturates at INT64_MAX.
int64_t nextSession(int64_t last, int64_t now_ms);

}  // namespace pharos::agent
