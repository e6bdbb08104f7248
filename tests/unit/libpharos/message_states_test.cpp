// Unit tests of the state enums' wire names (messages.h): every value has one name that reads
// back as itself, unknown names read as nothing, and a decoder names the field it refuses.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pharos/messages.h"

namespace pharos {
namespace {

template <typename E>
void roundTrips(const std::vector<std::pair<E, std::string>>& table) {
  for (const auto& [value, name] : table) {
    CAPTURE(name);
    CHECK(toWire(value) == name);
    CHECK(fromWire<E>(name) == value);
  }
}

}  // namespace

TEST_CASE("every state has one wire name that reads back as itself") {
  roundTrips<Readiness>({{Readiness::kReady, "Ready"},
                         {Readiness::kNotReady, "NotReady"},
                         {Readiness::kUnreachable, "Unreachable"},
                         {Readiness::kPending, "Pending"}});
  roundTrips<DesiredState>({{DesiredState::kRunning, "running"},
                            {DesiredState::kStopped, "stopped"},
                            {DesiredState::kRemoved, "removed"}});
  roundTrips<VolumePolicy>({{VolumePolicy::kKeep, "keep"}, {VolumePolicy::kDelete, "delete"}});
  roundTrips<AppPhase>({{AppPhase::kPending, "Pending"},
                        {AppPhase::kPulling, "Pulling"},
                        {AppPhase::kStarting, "Starting"},
                        {AppPhase::kRunning, "Running"},
                        {AppPhase::kDegraded, "Degraded"},
                        {AppPhase::kCrashLoop, "CrashLoop"},
                        {AppPhase::kFailed, "Failed"},
                        {AppPhase::kStopped, "Stopped"},
                        {AppPhase::kRemoving, "Removing"}});
  roundTrips<ContainerState>({{ContainerState::kNone, ""},
                              {ContainerState::kCreated, "created"},
                              {ContainerState::kRunning, "running"},
                              {ContainerState::kRestarting, "restarting"},
                              {ContainerState::kPaused, "paused"},
                              {ContainerState::kExited, "exited"},
                              {ContainerState::kRemoving, "removing"},
                              {ContainerState::kDead, "dead"},
                              {ContainerState::kMissing, "missing"}});
}

TEST_CASE("an unknown or differently cased wire name reads as no state") {
  CHECK_FALSE(fromWire<Readiness>("ready").has_value());
  CHECK_FALSE(fromWire<Readiness>("").has_value());
  CHECK_FALSE(fromWire<DesiredState>("Running").has_value());
  CHECK_FALSE(fromWire<DesiredState>("paused").has_value());
  CHECK_FALSE(fromWire<VolumePolicy>("purge").has_value());
  CHECK_FALSE(fromWire<AppPhase>("running").has_value());
  CHECK_FALSE(fromWire<AppPhase>("Unknown").has_value());
  CHECK_FALSE(fromWire<ContainerState>("Running").has_value());
  CHECK_FALSE(fromWire<ContainerState>("frozen").has_value());
}

TEST_CASE("a decoder refuses an unknown state naming the field and the allowed names") {
  auto phase = decodeNodeState(R"({"v":1,"applied":[],"apps":[{"name":"web","revision":1,
      "phase":"Exploded","services":[]}],"ts":1})");
  REQUIRE_FALSE(phase.isOk());
  CHECK(phase.status().message() ==
        "apps[0].phase: must be one of Pending, Pulling, Starting, Running, Degraded, CrashLoop, "
        "Failed, Stopped, Removing");
  auto status = decodeNodeStatus(R"({"v":1,"state":"Unreachable","session":1,"ts":1})");
  REQUIRE_FALSE(status.isOk());
  CHECK(status.status().message() == "state: must be one of Ready, NotReady");
  auto volumes = decodeDesired(R"({"v":1,"epoch":"e","generation":1,"apps":[{"name":"web",
      "revision":1,"state":"removed","volumes":"purge"}]})");
  REQUIRE_FALSE(volumes.isOk());
  CHECK(volumes.status().message() == "apps[0].volumes: must be one of keep, delete");
}

}  // namespace pharos
