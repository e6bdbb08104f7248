// DockerClient: the agent's seam to the container engine (Docker Engine API over a Unix
// socket). Two implementations: makeEngineDockerClient() talks to a real engine with the
// agent's own HTTP/1.1 client; FakeDockerClient (fake_docker.h) is an in-memory engine for
// unit tests and the fleet simulator. Every operation returns Status/Result; engine errors
// keep Docker's own message and map HTTP codes: 400 -> invalid_argument, 401/403 ->
// permission_denied, 404 -> not_found, 409 -> conflict (already_exists for a
// container/network/volume name in use on create), 5xx -> internal, engine unreachable (no
// socket, connection refused, timeout) -> unavailable.
//
// Threading: implementations are thread-safe; any method may be called from several
// threads at once (reconciler, metrics, command handlers). Calls block for the duration of
// the HTTP request. watchEvents() delivers events on the stream's own named thread
// ("docker-events") for the real client, and synchronously on the mutating caller's thread
// for the fake: callbacks must be quick (post to an executor) and must not call stop() or
// destroy the stream from inside the callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pharos/json.h"
#include "pharos/messages.h"
#include "pharos/status.h"

namespace pharos::agent {

using Labels = std::map<std::string, std::string>;

// GET /version. `api_version` is what the client uses after negotiation:
// min(engine ApiVersion, kMaxDockerApiVersion).
struct DockerVersion {
  std::string version;             // engine version, "20.10.24+dfsg1"
  std::string api_version;         // negotiated, "1.41"
  std::string engine_api_version;  // what the engine reported as its ApiVersion
  std::string min_api_version;
  std::string os;    // "linux"
  std::string arch;  // "amd64"
  std::string kernel_version;
};

inline constexpr const char* kMaxDockerApiVersion = "1.41";

// Credentials for a private registry, sent as the X-Registry-Auth header on pulls.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server_address;  // "registry.example:5000"; empty = derived from the image
};

// An image reference split the way POST /images/create wants it.
// "127.0.0.1:5000/a/b:2" -> {repository "127.0.0.1:5000/a/b", tag "2"};
// "busybox" -> {"busybox", "latest"}; "x@sha256:..." -> {"x", "", digest "sha256:..."}.
struct ImageRef {
  std::string repository;
  std::string tag;
  std::string digest;
  // The registry host part ("127.0.0.1:5000"), or "docker.io" when the reference has none.
  std::string registry() const;
  // repository:tag or repository@digest.
  std::string str() const;
};
ImageRef parseImageRef(const std::string& reference);

// Base64url of {"username","password","serveraddress"}, as X-Registry-Auth expects.
std::string encodeRegistryAuth(const RegistryAuth& auth);

struct ImageInfo {
  std::string id;  // "sha256:..."
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  Labels labels;  // Config.Labels (list) / Labels (inspect)
  int64_t size = 0;
  Json raw;  // the engine's document (inspect: full; list: the summary)
};

struct ContainerSummary {
  std::string id;
  std::string name;   // first of Names, without the leading '/'
  std::string image;  // the reference it was created from
  std::string image_id;
  ContainerState state = ContainerState::kNone;  // State (kNone: unknown to this agent)
  std::string status;  // human text: "Up 3 minutes", "Exited (1) 2 seconds ago"
  Labels labels;
  int64_t created = 0;  // Unix seconds
};

// GET /containers/{id}/json, with the fields the agent reads typed; `raw` holds the rest
// (Config, HostConfig, NetworkSettings, Mounts, ...) in the engine's shape.
struct ContainerInfo {
  std::string id;
  std::string name;                              // without the leading '/'
  std::string image;                             // Config.Image
  std::string image_id;                          // Image ("sha256:...")
  ContainerState state = ContainerState::kNone;  // State.Status
  std::string health;  // State.Health.Status: "" (no healthcheck), starting, healthy, unhealthy
  bool running = false;
  bool restarting = false;
  bool oom_killed = false;
  int exit_code = 0;
  int restart_count = 0;
  std::string error;        // State.Error
  std::string started_at;   // RFC 3339
  std::string finished_at;  // RFC 3339 ("0001-01-01T00:00:00Z" when never)
  Labels labels;            // Config.Labels
  Json raw;
};
// Fills the typed fields from an inspect document (shared by the real and fake clients).
Result<ContainerInfo> containerInfoFromJson(Json raw);

struct LogOptions {
  int tail = -1;      // last N lines; -1 = all
  int64_t since = 0;  // Unix seconds; 0 = from the start
  bool stdout_stream = true;
  bool stderr_stream = true;
  bool timestamps = false;
  size_t max_bytes = 1 << 20;  // output is cut (at a line end when possible) beyond this
};

// One stats sample. cpu_percent is computed like `docker stats` when the engine supplied a
// previous sample (precpu), else it is negative; memory_usage excludes the page cache
// (usage - inactive_file / total_inactive_file), as `docker stats` shows it.
struct ContainerStats {
  double cpu_percent = -1;
  uint64_t cpu_total_ns = 0;   // cpu_stats.cpu_usage.total_usage
  uint64_t system_cpu_ns = 0;  // cpu_stats.system_cpu_usage
  uint32_t online_cpus = 0;
  uint64_t memory_usage = 0;
  uint64_t memory_limit = 0;
  uint64_t pids = 0;
  uint64_t net_rx_bytes = 0;
  uint64_t net_tx_bytes = 0;
};

struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;
  bool internal = false;
  Labels labels;
  std::vector<std::string> containers;  // ids of attached containers (inspect only)
  Json raw;
};

struct VolumeInfo {
  std::string name;
  std::string driver;
  std::string mountpoint;
  Labels labels;
  Json raw;
};

// A message from GET /events.
struct DockerEvent {
  std::string type;    // container, image, network, volume, daemon, ...
  std::string action;  // create, start, die, destroy, health_status: healthy, pull, ...
  std::string id;      // Actor.ID
  Labels attributes;   // Actor.Attributes (container labels, name, image, exitCode, ...)
  int64_t time_nano = 0;
};

struct EventFilter {
  std::vector<std::string> types;   // "container", "image", "network", "volume"; empty = all
  std::vector<std::string> labels;  // "key" or "key=value"; network events carry no labels,
                                    // so a label filter drops them
};

using EventCallback = std::function<void(const DockerEvent&)>;
// Connection state of an event stream: ok when (re)connected, the error when the engine was
// lost. After a reconnect the caller should reconcile fully: events in the gap may be lost.
using EventStateCallback = std::function<void(const Status&)>;

// A running subscription. Destroying it stops it (promptly: the transfer is aborted, the
// thread joined). stop() is idempotent.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual void stop() = 0;
};

class DockerClient {
 public:
  virtual ~DockerClient() = default;

  // --- engine
  // Negotiates the API version (every later request uses it) and returns the engine facts.
  virtual Result<DockerVersion> version() = 0;
  virtual Status ping() = 0;
  // GET /info (NCPU, MemTotal, OperatingSystem, Driver, ...), the engine's document.
  virtual Result<Json> info() = 0;

  // --- images
  // Pulls `reference` (tag defaults to latest), consuming the progress stream to the end;
  // an error in the stream ({"error": ...}) fails the pull with that message.
  virtual Status pullImage(const std::string& reference,
                           const std::optional<RegistryAuth>& auth = std::nullopt) = 0;
  virtual Result<ImageInfo> inspectImage(const std::string& reference_or_id) = 0;
  virtual Status removeImage(const std::string& reference_or_id, bool force = false) = 0;
  // All images, or those matching `reference` (a docker reference filter, "repo:tag"/"repo").
  virtual Result<std::vector<ImageInfo>> listImages(const std::string& reference = "") = 0;

  // --- containers
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

  // --- networks
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

  // --- volumes
  // POST /volumes/create; body has Name, Driver, DriverOpts, Labels. Creating an existing
  // volume returns it (the engine's behaviour).
  virtual Result<VolumeInfo> createVolume(const Json& body) = 0;
  virtual Status removeVolume(const std::string& name, bool force = false) = 0;
  virtual Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) = 0;
  virtual Result<VolumeInfo> inspectVolume(const std::string& name) = 0;

  // --- events
  // Subscribes to GET /events. Reconnects with backoff (100 ms doubling to 5 s) when the
  // engine goes away, resuming from the last event's time; on_state reports each
  // connect/disconnect. Never fails: an unreachable engine is reported through on_state.
  virtual std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                                   EventStateCallback on_state = nullptr) = 0;
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
std::unique_ptr<DockerClient> makeEngineDockerClient(std::string docker_host);
std::unique_ptr<DockerClient> makeEngineDockerClient(EngineDockerOptions options);

// DOCKER_HOST resolution shared by the agent's config: explicit value, else the environment,
// else the default socket. Returns the socket path of a unix:// host, invalid_argument else.
Result<std::string> dockerSocketPath(const std::string& docker_host);

}  // namespace pharos::agent
