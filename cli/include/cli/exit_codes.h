// pharosctl's exit codes: the contract scripts rely on (docs/cli.md, `pharosctl --help`).
// Pure functions, thread-safe.
#pragma once

#include "pharos/status.h"

namespace pharos::cli {

enum class ExitCode : int {
  kOk = 0,
  kError = 1,          // any other error (invalid request refused by the anchor, conflict, ...)
  kUsage = 2,          // bad command line, unreadable input file, bad configuration
  kNotFound = 3,       // the node, group, app (or revision) does not exist
  kRolloutFailed = 4,  // --wait: a target failed, or the timeout passed first
  kUnreachable = 5,    // broker unreachable, or the anchor/agent did not answer in time
  kDenied = 6,         // the broker refused the login, or the operation is not permitted
};

inline int toInt(ExitCode code) { return static_cast<int>(code); }

// The exit code of a failed request or connection (never kOk: an ok Status is kError, a bug).
ExitCode exitCodeFor(const Status& status);

// The help text block that documents the codes (shown by `pharosctl --help`).
const char* exitCodeHelp();

}  // namespace pharos::cli
