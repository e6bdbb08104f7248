// Maps Status codes to pharosctl's documented exit codes.
#include "cli/exit_codes.h"

namespace pharos::cli {

ExitCode exitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kNotFound:
      return ExitCode::kNotFound;
    case Code::kUnavailable:
      return ExitCode::kUnreachable;
    case Code::kPermissionDenied:
      return ExitCode::kDenied;
    case Code::kOk:
    case Code::kInvalidArgument:
    case Code::kAlreadyExists:
    case Code::kConflict:
    case Code::kTooLarge:
    case Code::kInternal:
      break;
  }
  return ExitCode::kError;
}

const char* exitCodeHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  other error (the anchor refused the request: invalid, conflict, ...)\n"
         "  2  usage error (bad arguments, unreadable file, bad configuration)\n"
         "  3  not found (node, group, app or revision)\n"
         "  4  rollout failed or --timeout passed (--wait)\n"
         "  5  broker unreachable, or the anchor/agent did not answer in time\n"
         "  6  login refused by the broker, or permission denied\n";
}

}  // namespace pharos::cli
