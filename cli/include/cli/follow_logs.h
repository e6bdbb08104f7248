// pharosctl logs --follow: one log stream of an agent (docs/protocol.md "Log streams"),
// printed as its answers arrive, renewed while it runs, stopped on Ctrl-C (the agent is told
// to stop, its last lines are printed, exit 0) or ended by the agent's limits.
//
// Threading: the command's thread only.
#pragma once

#include "cli/command_line.h"
#include "cli/runner.h"
#include "cli/session.h"

namespace pharos::cli {

int followLogs(Session& session, const Invocation& inv, const RunEnv& env);

}  // namespace pharos::cli
