// FakeDockerClient: an in-memory Docker Engine behind the Docker interfaces (docker_client.h;
// api() hands them out as a DockerApi, and the fake converts to each narrow one), for unit
// tests and the fleet simulator's hollow agents. It keeps images (pulled from a simulated
// registry), containers with the engine's state machine (created -> running -> exited,
// restart policy, restart count, exit code, health), networks and volumes, and answers
// inspect/list in the engine's JSON shape for the fields the agent reads (Config.Labels,
// Config.Image, Image, State.*, RestartCount, HostConfig echo, NetworkSettings.Networks).
// Errors use the engine's codes and messages. Tests inject faults (failNext, crashContainer,
// removeBehindBack, deleteImageBehindBack, setEngineUp) and read per-operation call counts.
//
// Threading: thread-safe, one mutex per instance. Events are delivered synchronously on the
// thread whose call caused them, after the mutex is released (so a callback may call back
// into the fake, but must not stop its own stream). No threads are created: 10,000
// instances in one process cost only their maps.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
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

class FakeDockerClient final : public DockerSystem,
                               public DockerImages,
                               public DockerContainers,
                               public DockerNetworks,
                               public DockerVolumes {
 public:
  // `clock` stamps events and State.StartedAt/FinishedAt; null = the system clock. The
  // clock must outlive the fake.
  explicit FakeDockerClient(const Clock* clock = nullptr);
  ~FakeDockerClient() override;

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

  // --- fault injection
  // The next `times` calls of `op` fail with `status` (counted as calls, no effect).
  void failNext(DockerOp op, Status status, int times = 1);
  // The container's process exits with `exit_code` (a crash). Emits die; the restart policy
  // then applies as the engine would (always/unless-stopped, on-failure with its limit):
  // restart count +1 and start again at once. Not running -> not_found/conflict.
  Status crashContainer(const std::string& id, int exit_code);
  // Removes a container (force) as someone else would, emitting its events; not counted.
  Status removeBehindBack(const std::string& id);
  // Sets State.Health.Status (starting/healthy/unhealthy) and emits health_status.
  Status setHealth(const std::string& id, const std::string& health);
  // Engine down: every call returns unavailable and event streams report the loss; up
  // again: streams report ok. Containers keep their state.
  void setEngineUp(bool up);
  // A daemon restart: running containers stop; those with restart policy always, or
  // unless-stopped not stopped by a user, start again (restart count unchanged, as the
  // engine does); event streams see a disconnect and a reconnect.
  void restartDaemon();
  // Log text a container has written (returned by containerLogs, tail/since ignored for
  // since), and the numbers containerStats returns.
  void appendLogs(const std::string& id, const std::string& text);
  void setStats(const std::string& id, const ContainerStats& stats);
  // Slow stops (a long stop_grace_period): while held, stopContainer() of a running container
  // blocks, before it changes anything, until releaseStops() (or holdStops(false)).
  // heldStops() names the containers whose stop waits now; waitForHeldStops() waits (real
  // time, at most `timeout`) until at least `count` do. Tests run the stops on a thread pool.
  void holdStops(bool hold);
  void releaseStops();
  std::vector<std::string> heldStops() const;
  bool waitForHeldStops(size_t count, std::chrono::milliseconds timeout) const;

  // The create body of a container (by id or name) as the Engine API received it; nullopt
  // when no such container exists.
  std::optional<Json> createBody(const std::string& id_or_name);

  // Every interface of this one engine.
  DockerApi api() { return DockerApi{*this, *this, *this, *this, *this}; }

  // --- counters
  int calls(DockerOp op) const;
  // Sum of calls of mutating operations (isMutatingOp).
  int mutatingCalls() const;
  void resetCounters();
  size_t containerCount() const;

  // --- DockerSystem, DockerImages, DockerContainers, DockerNetworks, DockerVolumes
  Result<DockerVersion> version() override;
  Status ping() override;
  Result<Json> info() override;
  Status pullImage(const std::string& reference,
                   const std::optional<RegistryAuth>& auth = std::nullopt) override;
  Result<ImageInfo> inspectImage(const std::string& reference_or_id) override;
  Status removeImage(const std::string& reference_or_id, bool force = false) override;
  Result<std::vector<ImageInfo>> listImages(const std::string& reference = "") override;
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
  Result<std::string> createNetwork(const Json& body) override;
  Status removeNetwork(const std::string& id_or_name) override;
  Result<std::vector<NetworkInfo>> listNetworks(
      const std::vector<std::string>& label_filters) override;
  Result<NetworkInfo> inspectNetwork(const std::string& id_or_name) override;
  Status connectNetwork(const std::string& network, const std::string& container,
                        const Json& endpoint_config) override;
  Status disconnectNetwork(const std::string& network, const std::string& container,
                           bool force = false) override;
  Result<VolumeInfo> createVolume(const Json& body) override;
  Status removeVolume(const std::string& name, bool force = false) override;
  Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) override;
  Result<VolumeInfo> inspectVolume(const std::string& name) override;
  std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                           EventStateCallback on_state = nullptr) override;

  struct Subscriber;  // public for the implementation's helpers

 private:
  struct Image {
    std::string id;
    Labels labels;
    std::vector<std::string> tags;
    std::vector<std::string> volume_paths;
    int64_t created_ms = 0;
  };
  struct MountedVolume {
    std::string name;
    std::string path;
    bool anonymous = false;  // made for this container (rm -v removes it when unused)
  };
  struct Endpoint {
    std::string network_id;
    std::vector<std::string> aliases;
    std::string ip;
  };
  struct Container {
    std::string id;
    std::string name;
    Json body;  // the create body as given
    std::string image_ref;
    std::string image_id;
    Labels labels;
    ContainerState state = ContainerState::kCreated;
    std::string health;  // "" = no healthcheck
    int exit_code = 0;
    int restart_count = 0;
    int exits = 0;  // how many times it exited (waiters wake on a change)
    int last_exit_code = 0;
    bool oom_killed = false;
    bool stopped_by_user = false;
    int64_t created_ms = 0;
    int64_t started_ms = 0;
    int64_t finished_ms = 0;
    std::map<std::string, Endpoint> endpoints;  // network name -> endpoint
    std::vector<MountedVolume> volumes;         // volumes it mounts
    std::string logs;
    ContainerStats stats;
  };
  struct Network {
    std::string id;
    std::string name;
    std::string driver;
    bool internal = false;
    Labels labels;
    Json body;
    int64_t created_ms = 0;
    bool builtin = false;
  };
  struct Volume {
    std::string name;
    std::string driver;
    Labels labels;
    Json body;
    int64_t created_ms = 0;
  };
  using Pending = std::vector<DockerEvent>;

  // Counts the call and applies failNext/engine-down. Caller holds mu_.
  Status enter(DockerOp op);
  int64_t nowMs() const;
  std::string newId();
  void emit(Pending& out, const std::string& type, const std::string& action, const std::string& id,
            Labels attributes);
  void deliver(const Pending& events);
  void deliverState(const Status& status);
  std::string normalizeRef(const std::string& reference) const;
  Image* findImage(const std::string& reference_or_id);
  Container* findContainer(const std::string& id_or_name);
  Network* findNetwork(const std::string& id_or_name);
  ContainerInfo containerInfoLocked(const Container& c) const;
  NetworkInfo networkInfoLocked(const Network& n) const;
  VolumeInfo volumeInfoLocked(const Volume& v) const;
  Labels containerAttributes(const Container& c) const;
  void startLocked(Container& c, Pending& out);
  void exitLocked(Container& c, int exit_code, Pending& out);
  bool shouldRestart(const Container& c) const;
  void removeContainerLocked(const std::string& id, Pending& out);
  // The volumes of a new container, as the engine mounts them: Binds "name:/path" and Mounts
  // of type volume (created on demand), anonymous volumes for the Volumes of the body and of
  // the image that nothing else mounts; a bind Mount whose source is missing is refused.
  Status mountVolumesLocked(Container& c, const Json& body, const Image& image, Pending& out);
  bool volumeInUseLocked(const std::string& name) const;
  Status attachLocked(Container& c, const std::string& network, const Json& endpoint_config,
                      Pending& out);
  void tagLocked(const std::string& ref, Image image);
  void untagLocked(const std::string& ref, Pending& out);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  mutable std::condition_variable stops_cv_;  // held stops: released / newly held
  bool hold_stops_ = false;
  uint64_t stop_release_ = 0;  // bumped by releaseStops()
  std::vector<std::string> held_stops_;
  bool up_ = true;
  uint64_t next_id_ = 1;
  std::array<int, static_cast<size_t>(DockerOp::kCount)> calls_{};
  std::map<DockerOp, std::deque<Status>> failures_;
  std::map<std::string, Image> registry_;                          // normalized ref -> image
  std::map<std::string, Status> pull_failures_;                    // normalized ref -> error
  std::map<std::string, std::optional<RegistryAuth>> pull_auths_;  // normalized ref -> last
  std::map<std::string, Image> images_;                            // image id -> image
  std::map<std::string, std::string> tags_;                        // normalized ref -> image id
  std::map<std::string, Container> containers_;                    // id -> container
  std::map<std::string, std::string> names_;                       // name -> id
  std::map<std::string, Network> networks_;                        // id -> network
  std::map<std::string, Volume> volumes_;                          // name -> volume
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
};

}  // namespace pharos::agent
