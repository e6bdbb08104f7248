// The agent's seam to the container engine (Docker Engine API over a Unix socket), one narrow
// interface per group of the Engine API's resources: DockerSystem (version, ping, info, event
// stream), DockerImages, DockerContainers, DockerNetworks and DockerVolumes. A part takes the
// narrowest interface it uses; DockerApi holds one reference of each for the parts that need
// several. Two implementations: EngineDocker talks to a real engine with the agent's own
// HTTP/1.1 client (one transport shared by the five); FakeDockerClient (fake_docker.h) is an
// in-memory engine for unit tests and the fleet simulator. Every operation returns
// Status/Result; engine errors keep Docker's own message and map HTTP codes: 400 ->
// invalid_argument, 401/403 -> permission_denied, 404 -> not_found, 409 -> conflict
// (already_exists for a container/network/volume name in use on create), 5xx -> internal,
// engine unreachable (no socket, connection refused, timeout) -> unavailable.
//
// Threading: implementations are thread-safe; any method may be called from several
// threads at once (reconciler, metrics, command handlers). Calls block for the duration of
// the HTTP request. watchEvents() delivers events on the stream's own named thread
// ("docker-events") for the real client, and synchronously on the mutating caller's thread
// for the fake: callbacks must be quick (post to an executor) and must not call stop() or
// destroy the stream from inside the callback.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker_types.h"
#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos::agent {

// The engine itself: version negotiation, liveness, facts and the event stream.
class DockerSystem {
 public:
  virtual ~DockerSystem() = default;

  // Negotiates the API version (every later request uses it) and returns the engine facts.
  virtual Result<DockerVersion> version() = 0;
  virtual Status ping() = 0;
  // GET /info (NCPU, MemTotal, OperatingSystem, Driver, ...), the engine's document.
  virtual Result<Json> info() = 0;
  // Subscribes to GET /events. Reconnects with backoff (100 ms doubling to 5 s) when the
  // engine goes away, resuming from the last event's time; on_state reports each
  // connect/disconnect. Never fails: an unreachable engine is reported through on_state.
  virtual std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                                   EventStateCallback on_state = nullptr) = 0;
};

// Local images and pulls from registries.
class DockerImages {
 public:
  virtual ~DockerImages() = default;

  // Pulls `reference` (tag defaults to latest), consuming the progress stream to the end;
  // an error in the stream ({"error": ...}) fails the pull with that message.
  virtual Status pullImage(const std::string& reference,
                           const std::optional<RegistryAuth>& auth = std::nullopt) = 0;
  virtual Result<ImageInfo> inspectImage(const std::string& reference_or_id) = 0;
  virtual Status removeImage(const std::string& reference_or_id, bool force = false) = 0;
  // All images, or those matching `reference` (a docker reference filter, "repo:tag"/"repo").
  virtual Result<std::vector<ImageInfo>> listImages(const std::string& reference = "") = 0;
};

// Containers: their life cycle, inspection, logs and stats.
class DockerContainers {
 public:
  virtual ~DockerContainers() = default;

  // POST /containers/create?name=; `body` is the engine's create document (Image, Cmd, Env,
  // Labels, HostConfig, NetworkingConfig, ...). Returns the new id. A name in use ->
  // already_exists; an image missing locally -> not_found.
  virtual Result<std::string> createContainer(const std::string& name, const Json& body) = 0;
  // Starting a running container / stopping a stopped one is ok (HTTP 304).
  virtual Status startContainer(const std::string& id) = 0;
  // timeout: seconds before SIGKILL; nullopt = the container's own StopTimeout.
  virtual Status stopContainer(const std::string& id,
                               std::optional<int> timeout_s = std::nullopt) = 0;
  virtual Status restartContainer(const std::string& id,
                                  std::optional<int> timeout_s = std::nullopt) = 0;
  // Not running -> conflict.
  virtual Status killContainer(const std::string& id, const std::string& signal = "SIGKILL") = 0;
  virtual Status removeContainer(const std::string& id, bool force = false,
                                 bool volumes = false) = 0;
  virtual Result<ContainerInfo> inspectContainer(const std::string& id_or_name) = 0;
  // all=true (stopped ones too); label filters "key" or "key=value", all must match.
  virtual Result<std::vector<ContainerSummary>> listContainers(
      const std::vector<std::string>& label_filters, bool all = true) = 0;
  // Waits until the container is not running; returns its exit code. Bounded by `timeout`
  // (unavailable when it expires).
  virtual Result<int> waitContainer(const std::string& id, std::chrono::milliseconds timeout) = 0;
  // stdout and stderr interleaved as text (multiplexed streams demultiplexed; TTY raw).
  virtual Result<std::string> containerLogs(const std::string& id, const LogOptions& options) = 0;
  // One sample (stream=false). one_shot=true returns at once without a previous sample
  // (cpu_percent < 0); false lets the engine take two samples (about a second).
  virtual Result<ContainerStats> containerStats(const std::string& id, bool one_shot = true) = 0;
};

// Networks and the containers' endpoints on them.
class DockerNetworks {
 public:
  virtual ~DockerNetworks() = default;

  // POST /networks/create; body has Name, Driver, Labels, Internal, Attachable, IPAM, ...
  // Returns the id. A name in use -> already_exists (CheckDuplicate is set).
  virtual Result<std::string> createNetwork(const Json& body) = 0;
  virtual Status removeNetwork(const std::string& id_or_name) = 0;
  virtual Result<std::vector<NetworkInfo>> listNetworks(
      const std::vector<std::string>& label_filters) = 0;
  virtual Result<NetworkInfo> inspectNetwork(const std::string& id_or_name) = 0;
  // POST /networks/{network}/connect with an EndpointConfig body (Aliases, IPAMConfig, ...);
  // an empty object for none.
  virtual Status connectNetwork(const std::string& network, const std::string& container,
                                const Json& endpoint_config) = 0;
  Status connectNetworkWithAliases(const std::string& network, const std::string& container,
                                   const std::vector<std::string>& aliases) {
    Json endpoint = Json::object();
    if (!aliases.empty()) endpoint["Aliases"] = aliases;
    return connectNetwork(network, container, endpoint);
  }
  virtual Status disconnectNetwork(const std::string& network, const std::string& container,
                                   bool force = false) = 0;
};

// Named volumes.
class DockerVolumes {
 public:
  virtual ~DockerVolumes() = default;

  // POST /volumes/create; body has Name, Driver, DriverOpts, Labels. Creating an existing
  // volume returns it (the engine's behaviour).
  virtual Result<VolumeInfo> createVolume(const Json& body) = 0;
  virtual Status removeVolume(const std::string& name, bool force = false) = 0;
  virtual Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) = 0;
  virtual Result<VolumeInfo> inspectVolume(const std::string& name) = 0;
};

// One engine's interfaces together, for the parts that use several (the agent, the
// reconciler). Copyable; the referenced clients must outlive every copy.
struct DockerApi {
  DockerSystem& system;
  DockerImages& images;
  DockerContainers& containers;
  DockerNetworks& networks;
  DockerVolumes& volumes;
};

// The Engine API client. docker_host: "unix:///path/docker.sock"; empty = $DOCKER_HOST, else
// unix:///var/run/docker.sock. Only unix:// hosts are supported (others fail every call
// with invalid_argument). request_timeout bounds ordinary calls (pulls and waits use their
// own limits).
struct EngineDockerOptions {
  std::string docker_host;
  std::chrono::milliseconds request_timeout{60000};
  std::chrono::milliseconds connect_timeout{5000};
  // A pull fails when no byte arrived for this long.
  std::chrono::milliseconds pull_stall_timeout{120000};
};

// The real engine's clients, one per interface above, over one shared transport
// (docker_engine_*.cpp). Not copyable; api() is valid while it lives.
class EngineDocker {
 public:
  explicit EngineDocker(EngineDockerOptions options);
  explicit EngineDocker(std::string docker_host);
  ~EngineDocker();
  EngineDocker(const EngineDocker&) = delete;
  EngineDocker& operator=(const EngineDocker&) = delete;

  DockerApi api() const;

 private:
  struct Clients;
  std::unique_ptr<Clients> clients_;
};

// DOCKER_HOST resolution shared by the agent's config: explicit value, else the environment,
// else the default socket. Returns the socket path of a unix:// host, invalid_argument else.
Result<std::string> dockerSocketPath(const std::string& docker_host);

}  // namespace pharos::agent
