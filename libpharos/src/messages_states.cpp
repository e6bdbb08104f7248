// Wire names of the state enums the messages carry (messages.h): one table per enum, read in
// both directions. Pure functions over constant tables: thread-safe.
#include "pharos/messages.h"

namespace pharos {

namespace {
template <typename E>
struct WireName {
  E value;
  const char* name;
};

constexpr WireName<Readiness> kReadiness[] = {
    {Readiness::kReady, "Ready"},
    {Readiness::kNotReady, "NotReady"},
    {Readiness::kUnreachable, "Unreachable"},
    {Readiness::kPending, "Pending"},
};

constexpr WireName<DesiredState> kDesiredStates[] = {
    {DesiredState::kRunning, "running"},
    {DesiredState::kStopped, "stopped"},
    {DesiredState::kRemoved, "removed"},
};

constexpr WireName<VolumePolicy> kVolumePolicies[] = {
    {VolumePolicy::kKeep, "keep"},
    {VolumePolicy::kDelete, "delete"},
};

constexpr WireName<AppPhase> kAppPhases[] = {
    {AppPhase::kPending, "Pending"},   {AppPhase::kPulling, "Pulling"},
    {AppPhase::kStarting, "Starting"}, {AppPhase::kRunning, "Running"},
    {AppPhase::kDegraded, "Degraded"}, {AppPhase::kCrashLoop, "CrashLoop"},
    {AppPhase::kFailed, "Failed"},     {AppPhase::kStopped, "Stopped"},
    {AppPhase::kRemoving, "Removing"},
};

constexpr WireName<ContainerState> kContainerStates[] = {
    {ContainerState::kNone, ""},
    {ContainerState::kCreated, "created"},
    {ContainerState::kRunning, "running"},
    {ContainerState::kRestarting, "restarting"},
    {ContainerState::kPaused, "paused"},
    {ContainerState::kExited, "exited"},
    {ContainerState::kRemoving, "removing"},
    {ContainerState::kDead, "dead"},
    {ContainerState::kMissing, "missing"},
};

// Every enumerator has a row, so the fallback is never reached.
template <typename E, size_t N>
const char* nameOf(const WireName<E> (&table)[N], E value) {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return table[0].name;
}

template <typename E, size_t N>
std::optional<E> valueOf(const WireName<E> (&table)[N], std::string_view name) {
  for (const auto& row : table) {
    if (name == row.name) return row.value;
  }
  return std::nullopt;
}
}  // namespace

const char* toWire(Readiness value) { return nameOf(kReadiness, value); }
const char* toWire(DesiredState value) { return nameOf(kDesiredStates, value); }
const char* toWire(VolumePolicy value) { return nameOf(kVolumePolicies, value); }
const char* toWire(AppPhase value) { return nameOf(kAppPhases, value); }
const char* toWire(ContainerState value) { return nameOf(kContainerStates, value); }

template <>
std::optional<Readiness> fromWire<Readiness>(std::string_view name) {
  return valueOf(kReadiness, name);
}
template <>
std::optional<DesiredState> fromWire<DesiredState>(std::string_view name) {
  return valueOf(kDesiredStates, name);
}
template <>
std::optional<VolumePolicy> fromWire<VolumePolicy>(std::string_view name) {
  return valueOf(kVolumePolicies, name);
}
template <>
std::optional<AppPhase> fromWire<AppPhase>(std::string_view name) {
  return valueOf(kAppPhases, name);
}
template <>
std::optional<ContainerState> fromWire<ContainerState>(std::string_view name) {
  return valueOf(kContainerStates, name);
}

}  // namespace pharos
