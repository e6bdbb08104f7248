// The values the agent's Docker interfaces (docker_client.h) exchange with the container
// engine: version facts, registry credentials and image references, image, container, network
// and volume descriptions, log and stats options, and engine events with their stream handle.
// Descriptions keep the engine's own JSON (`raw`) next to the fields the agent reads.
//
// Threading: plain values; EventStream is a handle owned by one thread.
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

}  // namespace pharos::agent
