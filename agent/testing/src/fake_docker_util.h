// Internal to FakeDockerClient: deterministic ids, timestamps in the engine's format, name
// checks. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "agent/docker_client.h"

namespace pharos::agent {

// 64 hex digits derived from `seed` (same seed, same id: a registry image has one id in
// every fake engine of a fleet simulation).
std::string fakeHexId(const std::string& seed);
// "2026-11-25T23:00:00.123Z"; "0001-01-01T00:00:00Z" for 0.
std::string rfc3339(int64_t unix_ms);
// [a-zA-Z0-9][a-zA-Z0-9_.-]+, as the engine requires.
bool validContainerName(const std::string& name);
// `attributes` plus "signal".
Labels withSignal(Labels attributes, const std::string& signal);

}  // namespace pharos::agent
