// Canonical JSON of the compose model and the service config hash. Fields at their
// default value are left out, so adding a field to the model later does not change the
// hash of services that do not use it (and does not recreate their containers).
// Order-insensitive lists are sorted. Pure functions: thread-safe.
#include <sodium.h>

#include <algorithm>
#include <tuple>

#include "compose_internal.h"

namespace pharos {
namespace {

template <typename T>
void putIf(Json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

void putIf(Json& out, const char* key, const std::optional<Duration>& value) {
  if (value) out[key] = value->count();
}

void putIf(Json& out, const char* key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

void putIf(Json& out, const char* key, bool value) {
  if (value) out[key] = true;
}

void putIf(Json& out, const char* key, const std::vector<std::string>& value) {
  if (!value.empty()) out[key] = value;
}

void putIf(Json& out, const char* key, const std::map<std::string, std::string>& value) {
  if (!value.empty()) out[key] = value;
}

void putSorted(Json& out, const char* key, std::vector<std::string> value) {
  std::sort(value.begin(), value.end());
  putIf(out, key, value);
}

Json portJson(const PortMapping& port) {
  Json out = Json::object();
  out["target"] = port.container_port;
  out["protocol"] = port.protocol;
  putIf(out, "published", port.host_port);
  putIf(out, "host_ip", port.host_ip);
  return out;
}

Json mountJson(const VolumeMount& mount) {
  Json out = Json::object();
  out["type"] = mountTypeName(mount.type);
  out["target"] = mount.target;
  putIf(out, "source", mount.source);
  putIf(out, "read_only", mount.read_only);
  putIf(out, "tmpfs_size", mount.tmpfs_size);
  putIf(out, "tmpfs_mode", mount.tmpfs_mode);
  putIf(out, "propagation", mount.bind_propagation);
  putIf(out, "selinux", mount.selinux);
  if (mount.type == MountType::kBind && !mount.create_host_path) out["create_host_path"] = false;
  putIf(out, "nocopy", mount.nocopy);
  return out;
}

Json healthcheckJson(const Healthcheck& check) {
  Json out = Json::object();
  putIf(out, "disable", check.disable);
  putIf(out, "test", check.test);
  putIf(out, "interval", check.interval);
  putIf(out, "timeout", check.timeout);
  putIf(out, "start_period", check.start_period);
  putIf(out, "start_interval", check.start_interval);
  putIf(out, "retries", check.retries);
  return out;
}

}  // namespace

const char* mountTypeName(MountType type) {
  switch (type) {
    case MountType::kVolume:
      return "volume";
    case MountType::kBind:
      return "bind";
    case MountType::kTmpfs:
      return "tmpfs";
  }
  return "volume";
}

const char* dependencyConditionName(DependencyCondition condition) {
  switch (condition) {
    case DependencyCondition::kServiceStarted:
      return "service_started";
    case DependencyCondition::kServiceHealthy:
      return "service_healthy";
    case DependencyCondition::kServiceCompletedSuccessfully:
      return "service_completed_successfully";
  }
  return "service_started";
}

Json toJson(const Service& service) {
  Json out = Json::object();
  out["name"] = service.name;
  out["image"] = service.image;
  putIf(out, "command", service.command);
  putIf(out, "entrypoint", service.entrypoint);
  putIf(out, "environment", service.environment);
  if (!service.ports.empty()) {
    std::vector<PortMapping> ports = service.ports;
    std::sort(ports.begin(), ports.end(), [](const PortMapping& a, const PortMapping& b) {
      return std::tie(a.container_port, a.protocol, a.host_ip, a.host_port) <
             std::tie(b.container_port, b.protocol, b.host_ip, b.host_port);
    });
    Json& list = out["ports"] = Json::array();
    for (const PortMapping& port : ports) list.push_back(portJson(port));
  }
  putSorted(out, "expose", service.expose);
  if (!service.volumes.empty()) {
    std::vector<VolumeMount> volumes = service.volumes;
    std::sort(volumes.begin(), volumes.end(),
              [](const VolumeMount& a, const VolumeMount& b) { return a.target < b.target; });
    Json& list = out["volumes"] = Json::array();
    for (const VolumeMount& mount : volumes) list.push_back(mountJson(mount));
  }
  putIf(out, "tmpfs", service.tmpfs);
  if (!service.networks.empty()) {
    Json& networks = out["networks"] = Json::object();
    for (const auto& [name, network] : service.networks) {
      Json entry = Json::object();
      putIf(entry, "aliases", network.aliases);
      putIf(entry, "ipv4_address", network.ipv4_address);
      putIf(entry, "ipv6_address", network.ipv6_address);
      putIf(entry, "priority", network.priority);
      networks[name] = entry;
    }
  }
  putIf(out, "network_mode", service.network_mode);
  if (!service.depends_on.empty()) {
    Json& depends = out["depends_on"] = Json::object();
    for (const auto& [name, dependency] : service.depends_on) {
      depends[name] = {{"condition", dependencyConditionName(dependency.condition)},
                       {"restart", dependency.restart},
                       {"required", dependency.required}};
    }
  }
  if (service.restart) {
    out["restart"] = {{"name", service.restart->name},
                      {"max_retries", service.restart->max_retries}};
  }
  if (service.healthcheck) out["healthcheck"] = healthcheckJson(*service.healthcheck);
  putIf(out, "labels", service.labels);
  putIf(out, "container_name", service.container_name);
  putIf(out, "hostname", service.hostname);
  putIf(out, "domainname", service.domainname);
  putIf(out, "user", service.user);
  putIf(out, "working_dir", service.working_dir);
  putIf(out, "privileged", service.privileged);
  putSorted(out, "cap_add", service.cap_add);
  putSorted(out, "cap_drop", service.cap_drop);
  if (!service.devices.empty()) {
    std::vector<DeviceMapping> devices = service.devices;
    std::sort(devices.begin(), devices.end(), [](const DeviceMapping& a, const DeviceMapping& b) {
      return a.container_path < b.container_path;
    });
    Json& list = out["devices"] = Json::array();
    for (const DeviceMapping& device : devices) {
      list.push_back({{"source", device.host_path},
                      {"target", device.container_path},
                      {"permissions", device.permissions}});
    }
  }
  if (service.logging) {
    Json logging = Json::object();
    putIf(logging, "driver", service.logging->driver);
    putIf(logging, "options", service.logging->options);
    out["logging"] = logging;
  }
  putIf(out, "mem_limit", service.mem_limit);
  putIf(out, "memswap_limit", service.memswap_limit);
  putIf(out, "mem_reservation", service.mem_reservation);
  putIf(out, "cpus", service.cpus);
  putIf(out, "cpu_shares", service.cpu_shares);
  putIf(out, "pids_limit", service.pids_limit);
  putIf(out, "cpuset", service.cpuset);
  putIf(out, "oom_score_adj", service.oom_score_adj);
  putIf(out, "stop_grace_period", service.stop_grace_period);
  putIf(out, "stop_signal", service.stop_signal);
  if (!service.extra_hosts.empty()) {
    Json& list = out["extra_hosts"] = Json::array();
    for (const ExtraHost& host : service.extra_hosts) list.push_back(host.host + ":" + host.ip);
  }
  putIf(out, "dns", service.dns);
  putIf(out, "dns_search", service.dns_search);
  putIf(out, "dns_opt", service.dns_opt);
  if (!service.ulimits.empty()) {
    Json& ulimits = out["ulimits"] = Json::object();
    for (const auto& [name, limit] : service.ulimits) {
      ulimits[name] = {{"soft", limit.soft}, {"hard", limit.hard}};
    }
  }
  putIf(out, "sysctls", service.sysctls);
  putIf(out, "read_only", service.read_only);
  putIf(out, "tty", service.tty);
  putIf(out, "stdin_open", service.stdin_open);
  putIf(out, "init", service.init);
  putIf(out, "shm_size", service.shm_size);
  putSorted(out, "security_opt", service.security_opt);
  putIf(out, "ipc", service.ipc);
  putIf(out, "pid", service.pid);
  putSorted(out, "group_add", service.group_add);
  putIf(out, "platform", service.platform);
  putIf(out, "profiles", service.profiles);
  putIf(out, "pull_policy", service.pull_policy);
  return out;
}

Json toJson(const Network& network) {
  Json out = Json::object();
  putIf(out, "name", network.name);
  putIf(out, "driver", network.driver);
  putIf(out, "driver_opts", network.driver_opts);
  putIf(out, "external", network.external);
  putIf(out, "internal", network.internal);
  putIf(out, "attachable", network.attachable);
  putIf(out, "enable_ipv6", network.enable_ipv6);
  putIf(out, "ipam_driver", network.ipam_driver);
  if (!network.ipam_config.empty()) {
    Json& list = out["ipam_config"] = Json::array();
    for (const IpamConfig& config : network.ipam_config) {
      Json entry = Json::object();
      putIf(entry, "subnet", config.subnet);
      putIf(entry, "ip_range", config.ip_range);
      putIf(entry, "gateway", config.gateway);
      putIf(entry, "aux_addresses", config.aux_addresses);
      list.push_back(entry);
    }
  }
  putIf(out, "labels", network.labels);
  return out;
}

Json toJson(const Volume& volume) {
  Json out = Json::object();
  putIf(out, "name", volume.name);
  putIf(out, "driver", volume.driver);
  putIf(out, "driver_opts", volume.driver_opts);
  putIf(out, "external", volume.external);
  putIf(out, "labels", volume.labels);
  return out;
}

Json toJson(const ComposeFile& file) {
  Json out = Json::object();
  putIf(out, "name", file.name);
  Json& services = out["services"] = Json::object();
  for (const Service& service : file.services) services[service.name] = toJson(service);
  putIf(out, "inactive_services", file.inactive_services);
  Json& networks = out["networks"] = Json::object();
  for (const auto& [name, network] : file.networks) networks[name] = toJson(network);
  Json& volumes = out["volumes"] = Json::object();
  for (const auto& [name, volume] : file.volumes) volumes[name] = toJson(volume);
  out["warnings"] = file.warnings;
  return out;
}

std::string serviceConfigHash(const ComposeFile& file, const Service& service) {
  Json service_json = toJson(service);
  service_json.erase("depends_on");
  service_json.erase("profiles");
  service_json.erase("pull_policy");
  Json canonical = {{"v", 1}, {"service", service_json}};
  Json& networks = canonical["networks"] = Json::object();
  for (const auto& [name, attachment] : service.networks) {
    auto it = file.networks.find(name);
    networks[name] = it != file.networks.end() ? toJson(it->second) : Json::object();
  }
  Json& volumes = canonical["volumes"] = Json::object();
  for (const VolumeMount& mount : service.volumes) {
    if (mount.type != MountType::kVolume || mount.source.empty()) continue;
    auto it = file.volumes.find(mount.source);
    volumes[mount.source] = it != file.volumes.end() ? toJson(it->second) : Json::object();
  }
  const std::string text = dumpJson(canonical);
  // SHA-256 from libsodium (linked for sealed secrets anyway): an OpenSSL digest would make
  // the agent initialise all of OpenSSL (providers, config), ~1.4 MB resident, for one hash.
  static const bool sodium_ready = sodium_init() >= 0;  // thread-safe, idempotent
  if (!sodium_ready) return {};
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  const unsigned int length = crypto_hash_sha256_BYTES;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace pharos
