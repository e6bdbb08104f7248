// Node health (DESIGN.md section 3, "Health"): the agent's retained status plus its last
// will give the raw signal; the anchor applies the session rule (a NotReady whose session is
// older than the newest Ready is ignored, so a late will of a previous connection cannot
// mark a reconnected node down), approval (Pending) and records every transition.
// Pure functions over a NodeHealthRecord: thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "anchor/model.h"

namespace pharos::anchor {

// Applies the session rule. Returns false (and changes nothing) when the status must be
// ignored: a NotReady (or Ready) older than the newest Ready seen.
bool acceptStatus(NodeHealthRecord& record, const NodeStatus& status);

enum class HealthChange { kNone, kUpdated, kTransition };

// Recomputes the published verdict from the registration and the last accepted status.
// kTransition when the state changed (appended to history, `since` = now), kUpdated when
// only reason or session changed.
HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms);
// As above; a non-empty `unreachable` (the node's line broker lost its bridge) makes an
// accepted node Unreachable with that reason whatever its last status says.
HealthChange updateVerdict(NodeHealthRecord& record, Registration registration, int64_t now_ms,
                           const std::string& unreachable);

}  // namespace pharos::anchor
