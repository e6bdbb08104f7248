// The compose model: parses a docker-compose file (untrusted YAML text), interpolates
// variables the way docker-compose does, validates every key and normalises the result into
// plain typed structs that the anchor validates with and the agent maps onto the Docker
// Engine API. Errors are Status values whose message starts with the path of the offending
// key ("services.web.ports[1]: ...") and which carry path(), line() and column() (1-based)
// of the YAML node. Everything here is a pure function over values: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/json.h"
#include "pharos/status.h"

namespace pharos {

// Values for ${VAR} interpolation (per-node variables, deploy variables, secrets).
using Variables = std::map<std::string, std::string>;

// Bounds on untrusted input. Each limit is checked before the work it bounds.
struct ComposeLimits {
  size_t max_bytes = 512 * 1024;  // text size, checked before parsing (too_large)
  size_t max_services = 100;      // too_large
  // YAML nodes visited while converting, alias expansions included ("billion laughs").
  size_t max_nodes = 100000;  // too_large
  // Scalar bytes after alias expansion and interpolation.
  size_t max_expanded_bytes = 4 * 1024 * 1024;  // too_large
  int max_depth = 64;                           // nesting depth, invalid_argument
};

using Duration = std::chrono::nanoseconds;

// One published port. A short-syntax range ("8000-8001:80-81") becomes one mapping per port.
struct PortMapping {
  std::string host_ip;    // "" = all interfaces
  std::string host_port;  // "" = not published to a fixed port; "8080"; or a range "8000-8010"
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // "tcp" | "udp" | "sctp"
  bool operator==(const PortMapping&) const = default;
};

enum class MountType { kVolume, kBind, kTmpfs };
const char* mountTypeName(MountType type);  // "volume" | "bind" | "tmpfs"

struct VolumeMount {
  MountType type = MountType::kVolume;
  // kVolume: the key under top-level `volumes:` ("" = anonymous volume);
  // kBind: host path as written; a relative one ("./data") is relative to the app's
  // directory on the device, which the agent chooses; kTmpfs: "".
  std::string source;
  std::string target;  // absolute path in the container
  bool read_only = false;
  std::optional<int64_t> tmpfs_size;   // bytes (kTmpfs)
  std::optional<uint32_t> tmpfs_mode;  // octal mode (kTmpfs)
  std::string bind_propagation;  // "" | rprivate | private | rshared | shared | rslave | slave
  std::string selinux;           // "" | "z" | "Z"
  // kBind: create a missing host directory (short syntax; long syntax only with
  // bind.create_host_path: true).
  bool create_host_path = true;
  bool nocopy = false;  // kVolume
  bool operator==(const VolumeMount&) const = default;
};

struct ServiceNetwork {
  std::vector<std::string> aliases;
  std::string ipv4_address;
  std::string ipv6_address;
  std::optional<int64_t> priority;
  bool operator==(const ServiceNetwork&) const = default;
};

enum class DependencyCondition { kServiceStarted, kServiceHealthy, kServiceCompletedSuccessfully };
const char* dependencyConditionName(DependencyCondition condition);  // "service_started", ...

struct Dependency {
  DependencyCondition condition = DependencyCondition::kServiceStarted;
  bool restart = false;  // long form `restart:`
  bool required = true;  // long form `required:`
  bool operator==(const Dependency&) const = default;
};

struct RestartPolicy {
  std::string name;         // "no" | "always" | "on-failure" | "unless-stopped"
  int64_t max_retries = 0;  // "on-failure:N" or deploy.restart_policy.max_attempts
  bool operator==(const RestartPolicy&) const = default;
};

struct Healthcheck {
  bool disable = false;           // `disable: true` or test ["NONE"]
  std::vector<std::string> test;  // ["CMD", ...] | ["CMD-SHELL", "cmd"]; empty = the image's
  std::optional<Duration> interval;
  std::optional<Duration> timeout;
  std::optional<Duration> start_period;
  std::optional<Duration> start_interval;
  std::optional<int64_t> retries;
  bool operator==(const Healthcheck&) const = default;
};

struct Logging {
  std::string driver;  // "" = the daemon's default
  std::map<std::string, std::string> options;
  bool operator==(const Logging&) const = default;
};

struct DeviceMapping {
  std::string host_path;
  std::string container_path;
  std::string permissions = "rwm";
  bool operator==(const DeviceMapping&) const = default;
};

struct Ulimit {
  int64_t soft = 0;
  int64_t hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct ExtraHost {
  std::string host;
  std::string ip;
  bool operator==(const ExtraHost&) const = default;
};

// A service with every key normalised: short and long syntaxes give equal structs.
// Absent optional keys are std::nullopt / empty; the agent applies Docker's defaults,
// except restart, for which Pharos's default is "unless-stopped" (DESIGN.md section 3).
struct Service {
  std::string name;
  std::string image;
  std::optional<std::vector<std::string>> command;     // a string is shell-split
  std::optional<std::vector<std::string>> entrypoint;  // a string is shell-split
  // Variables listed without a value ("- FOO") take it from `vars`; when absent there they
  // are left out (and a warning recorded).
  std::map<std::string, std::string> environment;
  std::vector<PortMapping> ports;
  std::vector<std::string> expose;  // "80/tcp", "8000-8010/udp"
  std::vector<VolumeMount> volumes;
  std::map<std::string, std::string> tmpfs;  // container path -> options ("size=64m" or "")
  // Project networks by their key in ComposeFile::networks. When neither `networks` nor
  // `network_mode` is given this is {"default": {}}. Empty when network_mode is set.
  std::map<std::string, ServiceNetwork> networks;
  std::string network_mode;  // "" | "host" | "none" | "bridge" | "service:<name>"
  std::map<std::string, Dependency> depends_on;  // also implied by network_mode service:x
  std::optional<RestartPolicy> restart;          // deploy.restart_policy folded in (compose 1.29)
  std::optional<Healthcheck> healthcheck;
  std::map<std::string, std::string> labels;
  std::string container_name;
  std::string hostname;
  std::string domainname;
  std::string user;
  std::string working_dir;
  bool privileged = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<DeviceMapping> devices;
  std::optional<Logging> logging;
  // Resources; deploy.resources.limits/reservations are folded in (compose 1.29).
  std::optional<int64_t> mem_limit;        // bytes
  std::optional<int64_t> memswap_limit;    // bytes; -1 = unlimited
  std::optional<int64_t> mem_reservation;  // bytes
  std::optional<double> cpus;
  std::optional<int64_t> cpu_shares;
  std::optional<int64_t> pids_limit;
  std::string cpuset;
  std::optional<int64_t> oom_score_adj;
  std::optional<Duration> stop_grace_period;
  std::string stop_signal;
  std::vector<ExtraHost> extra_hosts;
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  std::map<std::string, Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  bool read_only = false;
  bool tty = false;
  bool stdin_open = false;
  std::optional<bool> init;
  std::optional<int64_t> shm_size;  // bytes
  std::vector<std::string> security_opt;
  std::string ipc;
  std::string pid;
  std::vector<std::string> group_add;
  std::string platform;
  // A service with profiles is active only when one of them is enabled (COMPOSE_PROFILES);
  // parseCompose leaves inactive services out of ComposeFile::services.
  std::vector<std::string> profiles;
  std::string pull_policy;  // "" | always | never | missing | if_not_present
};

struct IpamConfig {
  std::string subnet;
  std::string ip_range;
  std::string gateway;
  std::map<std::string, std::string> aux_addresses;
  bool operator==(const IpamConfig&) const = default;
};

struct Network {
  std::string name;    // explicit `name:`; "" = the agent names it "<project>_<key>"
  std::string driver;  // "" = bridge
  std::map<std::string, std::string> driver_opts;
  bool external = false;
  bool internal = false;
  bool attachable = false;
  bool enable_ipv6 = false;
  std::string ipam_driver;
  std::vector<IpamConfig> ipam_config;
  std::map<std::string, std::string> labels;
  bool operator==(const Network&) const = default;
};

struct Volume {
  std::string name;    // explicit `name:`; "" = the agent names it "<project>_<key>"
  std::string driver;  // "" = local
  std::map<std::string, std::string> driver_opts;
  bool external = false;
  std::map<std::string, std::string> labels;
  bool operator==(const Volume&) const = default;
};

struct ComposeFile {
  std::string name;               // top-level `name:` as written (the app name is used)
  std::vector<Service> services;  // the active services, in file order
  // Services left out because none of their `profiles` is enabled, in file order.
  std::vector<std::string> inactive_services;
  // Declared networks, plus "default" (a plain bridge) when a service uses it.
  std::map<std::string, Network> networks;
  std::map<std::string, Volume> volumes;
  // Non-fatal findings: missing variables, ignored keys ("services.web.deploy.placement").
  std::vector<std::string> warnings;

  const Service* findService(std::string_view service_name) const;
  // Services with their dependencies first (depends_on, network_mode service:x); ties in
  // file order. The parser refuses cycles, so every service appears exactly once.
  std::vector<const Service*> startOrder() const;
};

// Parses, interpolates (docker-compose syntax: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default},
// ${VAR:?message}, ${VAR?message}, $$), validates and normalises a compose file.
// Profiles: `vars` may hold COMPOSE_PROFILES, the enabled profiles separated by commas (as
// docker-compose reads it from its environment). A service with `profiles` none of which is
// enabled is inactive: left out of `services`. An active service that depends on an inactive
// one (depends_on, network_mode service:x) is an error naming both, unless the dependency
// says `required: false`.
// Error codes: too_large (size/services/nodes/expansion limits), invalid_argument otherwise.
Result<ComposeFile> parseCompose(std::string_view yaml_text, const Variables& vars,
                                 const ComposeLimits& limits = {});

// Canonical JSON of a normalised service: object keys sorted, order-insensitive lists
// (ports, volumes, expose, cap_add, cap_drop, security_opt, devices) sorted. Durations in
// nanoseconds, sizes in bytes.
Json toJson(const Service& service);
Json toJson(const Network& network);
Json toJson(const Volume& volume);
// {"services": {name: ...}, "inactive_services"?: [...], "networks": ..., "volumes": ...,
//  "warnings": [...]}
Json toJson(const ComposeFile& file);

// SHA-256 (hex) over the canonical JSON of the service (without depends_on, profiles and
// pull_policy, which do not change the container) and of the networks and named volumes it
// uses. Equal for equivalent files (key order, short vs long syntax); different for any
// change that needs the container recreated. The agent stores it as io.pharos.config-hash.
std::string serviceConfigHash(const ComposeFile& file, const Service& service);

// An app name usable as a compose project name (DESIGN.md section 2: no '.').
Status validateProjectName(std::string_view name);

// Building blocks, exposed for tests and callers. Errors carry only the reason (no path).
// ${...} interpolation of one string; names of unset variables without a default are
// appended to `missing` when given.
Result<std::string> interpolateVariables(std::string_view text, const Variables& vars,
                                         std::vector<std::string>* missing = nullptr);
// Compose durations: "1m30s", "10s", "1.5h", "500ms", "20us", "0". A unit is required.
Result<Duration> parseDuration(std::string_view text);
// Byte sizes: "512m", "1g", "1gb", "64MiB", "100k", "1024" (binary units).
Result<int64_t> parseByteSize(std::string_view text);
// Short port syntax: "80", "8080:80", "127.0.0.1:8080:80/udp", "8000-8001:80-81", "[::1]:80:80".
Result<std::vector<PortMapping>> parsePortSpec(std::string_view spec);
// POSIX-shell-like word splitting (like Python's shlex.split used by docker-compose).
Result<std::vector<std::string>> shellSplit(std::string_view text);

}  // namespace pharos
