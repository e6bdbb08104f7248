// The agent's local state file: the last desired documents (node and groups), the secrets
// document and the session counter, so the agent applies its apps at boot even when the
// broker is unreachable (DESIGN.md section 3, "Offline autonomy"). Written atomically: a
// temporary file in the same folder, fsync, rename over the old one, fsync of the folder.
// The file holds secrets: it is created with mode 0600. An empty path keeps everything in
// memory (fleet simulator). Not thread-safe: owned by the agent core's strand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "pharos/status.h"

namespace pharos::agent {

// Raw payloads as they arrived (re-decoded at load with the same decoders as the wire).
struct PersistedState {
  std::optional<std::string> node_desired;
  std::optional<std::string> secrets;
  std::map<std::string, std::string> group_desired;  // group name -> payload
  int64_t last_session = 0;
  bool operator==(const PersistedState&) const = default;
};

class StateFile {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // not_found when the file does not exist (first boot); invalid_argument naming the
  // problem when it is truncated or garbage; unavailable/internal for I/O errors.
  Result<PersistedState> load();
  Status save(const PersistedState& state);

 private:
  std::string path_;
  std::optional<PersistedState> memory_;  // used when path_ is empty
};

}  // namespace pharos::agent
