// FakeDockerClient: an in-memory Docker Engine behind the Docker interfaces (docker_client.h),
// one fake per interface (FakeSystem, FakeImages, FakeContainers, FakeNetworks, FakeVolumes)
// over one shared state; api() hands them out as a DockerApi. For unit tests and the fleet
// simulator's hollow agents. It keeps images (pulled from a simulated registry), containers
// with the engine's state machine (created -> running -> exited, restart policy, restart
// count, exit code, health), networks and volumes, and answers inspect/list in the engine's
// JSON shape for the fields the agent reads (Config.Labels, Config.Image, Image, State.*,
// RestartCount, HostConfig echo, NetworkSettings.Networks). Errors use the engine's codes and
// messages. Tests inject faults (failNext, setEngineUp, deleteImageBehindBack, and on
// containers() crashContainer, removeBehindBack) and read per-operation call counts.
//
// Threading: thread-safe, one mutex per instance. Events are delivered synchronously on the
// thread whose call caused them, after the mutex is released (so a callback may call back
// into the fake, but must not stop its own stream). No threads are created: 10,000
// instances in one process cost only their maps. Each resource fake lives as long as its
// FakeDockerClient.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker_client.h"
#include "pharos/clock.h"

namespace pharos::agent {

enum class DockerOp {
  kVersion,
  kPing,
  kInfo,
  kPullImage,
  kInspectImage,
  kRemoveImage,
  kListImages,
  kCreateContainer,
  kStartContainer,
  kStopContainer,
  kRestartContainer,
  kKillContainer,
  kRemoveContainer,
  kInspectContainer,
  kListContainers,
  kWaitContainer,
  kContainerLogs,
  kContainerStats,
  kCreateNetwork,
  kRemoveNetwork,
  kListNetworks,
  kInspectNetwork,
  kConnectNetwork,
  kDisconnectNetwork,
  kCreateVolume,
  kRemoveVolume,
  kListVolumes,
  kInspectVolume,
  kWatchEvents,
  kCount,
};
const char* dockerOpName(DockerOp op);
// True for operations that change engine state (pull, create, start, stop, restart, kill,
// remove, network/volume create/remove/connect/disconnect).
bool isMutatingOp(DockerOp op);

class FakeEngine;  // the shared state (src/fake_engine.h)

// The engine's system endpoints: version, ping, info, events.
class FakeSystem final : public DockerSystem {
 public:
  explicit FakeSystem(FakeEngine& engine) : e_(engine) {}
  Result<DockerVersion> version() override;
  Status ping() override;
  Result<Json> info() override;
  std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                           EventStateCallback on_state = nullptr) override;

 private:
  FakeEngine& e_;
};

// Images: pulled from the simulated registry (FakeDockerClient::addRegistryImage), tagged,
// removed with the engine's in-use rules.
class FakeImages final : public DockerImages {
 public:
  explicit FakeImages(FakeEngine& engine) : e_(engine) {}
  Status pullImage(const std::string& reference,
                   const std::optional<RegistryAuth>& auth = std::nullopt) override;
  Result<ImageInfo> inspectImage(const std::string& reference_or_id) override;
  Status removeImage(const std::string& reference_or_id, bool force = false) override;
  Result<std::vector<ImageInfo>> listImages(const std::string& reference = "") override;

 private:
  FakeEngine& e_;
};

// Containers with the engine's state machine (created -> running -> exited, restart policy,
// restart count, exit code, health), and what a test does to them behind the agent's back.
class FakeContainers final : public DockerContainers {
 public:
  explicit FakeContainers(FakeEngine& engine) : e_(engine) {}
  Result<std::string> createContainer(const std::string& name, const Json& body) override;
  Status startContainer(const std::string& id) override;
  Status stopContainer(const std::string& id, std::optional<int> timeout_s = std::nullopt) override;
  Status restartContainer(const std::string& id,
                          std::optional<int> timeout_s = std::nullopt) override;
  Status killContainer(const std::string& id, const std::string& signal = "SIGKILL") override;
  Status removeContainer(const std::string& id, bool force = false, bool volumes = false) override;
  Result<ContainerInfo> inspectContainer(const std::string& id_or_name) override;
  Result<std::vector<ContainerSummary>> listContainers(
      const std::vector<std::string>& label_filters, bool all = true) override;
  Result<int> waitContainer(const std::string& id, std::chrono::milliseconds timeout) override;
  Result<std::string> containerLogs(const std::string& id, const LogOptions& options) override;
  Result<ContainerStats> containerStats(const std::string& id, bool one_shot = true) override;

  // The container's process exits with `exit_code` (a crash). Emits die; the restart policy
  // then applies as the engine would (always/unless-stopped, on-failure with its limit):
  // restart count +1 and start again at once. Not running -> not_found/conflict.
  Status crashContainer(const std::string& id, int exit_code);
  // Removes a container (force) as someone else would, emitting its events; not counted.
  Status removeBehindBack(const std::string& id);
  // Sets State.Health.Status (starting/healthy/unhealthy) and emits health_status.
  Status setHealth(const std::string& id, const std::string& health);
  // Log text a container has written (returned by containerLogs, tail/since ignored for
  // since), and the numbers containerStats returns.
  void appendLogs(const std::string& id, const std::string& text);
  void setStats(const std::string& id, const ContainerStats& stats);
  // The create body of a container (by id or name) as the Engine API received it; nullopt
  // when no such container exists.
  std::optional<Json> createBody(const std::string& id_or_name);
  // Slow stops (a long stop_grace_period): while held, stopContainer() of a running container
  // blocks, before it changes anything, until releaseStops() (or holdStops(false)).
  // heldStops() names the containers whose stop waits now; waitForHeldStops() waits (real
  // time, at most `timeout`) until at least `count` do. Tests run the stops on a thread pool.
  void holdStops(bool hold);
  void releaseStops();
  std::vector<std::string> heldStops() const;
  bool waitForHeldStops(size_t count, std::chrono::milliseconds timeout) const;

 private:
  FakeEngine& e_;
};

// Networks: the built-in bridge/host/none, user networks, attachments with aliases.
class FakeNetworks final : public DockerNetworks {
 public:
  explicit FakeNetworks(FakeEngine& engine) : e_(engine) {}
  Result<std::string> createNetwork(const Json& body) override;
  Status removeNetwork(const std::string& id_or_name) override;
  Result<std::vector<NetworkInfo>> listNetworks(
      const std::vector<std::string>& label_filters) override;
  Result<NetworkInfo> inspectNetwork(const std::string& id_or_name) override;
  Status connectNetwork(const std::string& network, const std::string& container,
                        const Json& endpoint_config) override;
  Status disconnectNetwork(const std::string& network, const std::string& container,
                           bool force = false) override;

 private:
  FakeEngine& e_;
};

// Volumes: created on demand or by name, refused removal while in use.
class FakeVolumes final : public DockerVolumes {
 public:
  explicit FakeVolumes(FakeEngine& engine) : e_(engine) {}
  Result<VolumeInfo> createVolume(const Json& body) override;
  Status removeVolume(const std::string& name, bool force = false) override;
  Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) override;
  Result<VolumeInfo> inspectVolume(const std::string& name) override;

 private:
  FakeEngine& e_;
};

// One in-memory engine: its five resource fakes over one state, the simulated registry, and
// the engine-wide controls and counters.
class FakeDockerClient final {
 public:
  // `clock` stamps events and State.StartedAt/FinishedAt; null = the system clock. The
  // clock must outlive the fake.
  explicit FakeDockerClient(const Clock* clock = nullptr);
  ~FakeDockerClient();
  FakeDockerClient(const FakeDockerClient&) = delete;
  FakeDockerClient& operator=(const FakeDockerClient&) = delete;

  FakeSystem& system() { return system_; }
  FakeImages& images() { return images_; }
  FakeContainers& containers() { return containers_; }
  FakeNetworks& networks() { return networks_; }
  FakeVolumes& volumes() { return volumes_; }
  // Every interface of this one engine.
  DockerApi api() { return DockerApi{system_, images_, containers_, networks_, volumes_}; }

  // --- simulated registry and local images
  // Makes `reference` pullable. Calling it again with other labels publishes a new image
  // (new id) under the same tag, as a registry push would.
  // `volumes` are the image's VOLUME paths (Config.Volumes): each container made from it
  // gets an anonymous volume there unless its body mounts something at that path.
  void addRegistryImage(const std::string& reference, const Labels& labels = {},
                        const std::vector<std::string>& volumes = {});
  // Makes pulls of `reference` fail with `status` until cleared (Status::ok() clears).
  void setPullFailure(const std::string& reference, Status status);
  // The credentials the last pull of `reference` was given (nullopt: none, or no pull yet).
  std::optional<RegistryAuth> lastPullAuth(const std::string& reference) const;
  // Puts an image in the local store directly (as `docker build`/`load` would).
  void addLocalImage(const std::string& reference, const Labels& labels = {});
  // Deletes a local image tag behind the agent's back (even while containers use it, as
  // `docker rmi -f` does). Emits image untag/delete events.
  void deleteImageBehindBack(const std::string& reference);

  // --- the engine
  // The next `times` calls of `op` fail with `status` (counted as calls, no effect).
  void failNext(DockerOp op, Status status, int times = 1);
  // Engine down: every call returns unavailable and event streams report the loss; up
  // again: streams report ok. Containers keep their state.
  void setEngineUp(bool up);
  // A daemon restart: running containers stop; those with restart policy always, or
  // unless-stopped not stopped by a user, start again (restart count unchanged, as the
  // engine does); event streams see a disconnect and a reconnect.
  void restartDaemon();

  // --- counters
  int calls(DockerOp op) const;
  // Sum of calls of mutating operations (isMutatingOp).
  int mutatingCalls() const;
  void resetCounters();
  size_t containerCount() const;

 private:
  std::unique_ptr<FakeEngine> engine_;
  FakeEngine& e_;
  FakeSystem system_;
  FakeImages images_;
  FakeContainers containers_;
  FakeNetworks networks_;
  FakeVolumes volumes_;
};

}  // namespace pharos::agent
