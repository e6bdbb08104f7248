// The names of the agent commands, as they appear in nodes/{node}/cmd/{command}/{user}
// (docs/protocol.md). Their request bodies are LogsCommand and InspectCommand (api.h).
// Constants only: thread-safe.
#pragma once

#include <string_view>

namespace pharos::agent_commands {
inline constexpr std::string_view kLogs = "logs";
inline constexpr std::string_view kInspect = "inspect";
}  // namespace pharos::agent_commands
