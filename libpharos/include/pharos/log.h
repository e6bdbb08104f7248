// Logging: spdlog behind one set-up function. Components log with
// spdlog::info(...) etc. Secrets are never passed to a log call (security.md).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace pharos {

// level: trace|debug|info|warn|error. `name` prefixes every line (e.g. "agent").
void setupLogging(const std::string& name, const std::string& level);

}  // namespace pharos
