// Compose service -> Docker Engine API bodies, after docker-compose 1.29's
// Service._get_container_create_options / _get_container_host_config and docker-py's
// ContainerConfig / HostConfig (which drop unset keys). Pure functions: thread-safe.
#include "agent/engine_spec.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace pharos::agent {
namespace {

std::string portKey(uint16_t port, const std::string& protocol) {
  return std::to_string(port) + "/" + (protocol.empty() ? "tcp" : protocol);
}

// "8000-8010/udp" or "80" -> the port keys it exposes.
std::vector<std::string> exposeKeys(const std::string& spec) {
  std::string ports = spec;
  std::string protocol = "tcp";
  if (auto slash = spec.find('/'); slash != std::string::npos) {
    ports = spec.substr(0, slash);
    protocol = spec.substr(slash + 1);
  }
  std::vector<std::string> keys;
  auto dash = ports.find('-');
  try {
    if (dash == std::string::npos) {
      keys.push_back(std::to_string(std::stoi(ports)) + "/" + protocol);
    } else {
      int first = std::stoi(ports.substr(0, dash));
      int last = std::stoi(ports.substr(dash + 1));
      for (int p = first; p <= last && p - first < 65536; ++p) {
        keys.push_back(std::to_string(p) + "/" + protocol);
      }
    }
  } catch (const std::exception&) {
    // The compose parser validated expose; an unparsable entry is kept as written.
    keys.push_back(spec);
  }
  return keys;
}

std::string absoluteSource(const std::string& source, const std::string& working_dir) {
  if (source.empty() || source[0] == '/') return source;
  std::string rel = source;
  if (rel.rfind("./", 0) == 0) rel = rel.substr(2);
  if (rel == ".") rel.clear();
  std::string base = working_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return rel.empty() ? base : base + "/" + rel;
}

int64_t nanos(const Duration& d) { return static_cast<int64_t>(d.count()); }

Json healthcheckJson(const Healthcheck& hc) {
  Json out = Json::object();
  if (hc.disable) {
    out["Test"] = Json::array({"NONE"});
    return out;
  }
  if (!hc.test.empty()) out["Test"] = hc.test;
  if (hc.interval) out["Interval"] = nanos(*hc.interval);
  if (hc.timeout) out["Timeout"] = nanos(*hc.timeout);
  if (hc.retries) out["Retries"] = *hc.retries;
  if (hc.start_period) out["StartPeriod"] = nanos(*hc.start_period);
  if (hc.start_interval) out["StartInterval"] = nanos(*hc.start_interval);
  return out;
}

Json endpointConfig(const std::string& service_name, const ServiceNetwork& net) {
  std::set<std::string> aliases(net.aliases.begin(), net.aliases.end());
  aliases.insert(service_name);
  Json endpoint = Json::object();
  endpoint["Aliases"] = Json(std::vector<std::string>(aliases.begin(), aliases.end()));
  // docker-py's create_endpoint_config writes IPAMConfig only with an address in it.
  Json ipam = Json::object();
  if (!net.ipv4_address.empty()) ipam["IPv4Address"] = net.ipv4_address;
  if (!net.ipv6_address.empty()) ipam["IPv6Address"] = net.ipv6_address;
  if (!ipam.empty()) endpoint["IPAMConfig"] = ipam;
  return endpoint;
}

// Networks in compose 1.29's priority order: higher priority first, then by key.
std::vector<std::pair<std::string, const ServiceNetwork*>> prioritizedNetworks(
    const Service& service) {
  std::vector<std::pair<std::string, const ServiceNetwork*>> nets;
  for (const auto& [key, net] : service.networks) nets.emplace_back(key, &net);
  std::stable_sort(nets.begin(), nets.end(), [](const auto& a, const auto& b) {
    return a.second->priority.value_or(0) > b.second->priority.value_or(0);
  });
  return nets;
}

std::string networkEngineName(const ComposeFile& file, std::string_view project,
                              const std::string& key) {
  auto it = file.networks.find(key);
  if (it == file.networks.end()) return std::string(project) + "_" + key;
  return networkName(project, key, it->second);
}

std::string volumeEngineName(const ComposeFile& file, std::string_view project,
                             const std::string& key) {
  auto it = file.volumes.find(key);
  if (it == file.volumes.end()) return std::string(project) + "_" + key;
  return volumeName(project, key, it->second);
}

Json labelsWithPharos(const std::map<std::string, std::string>& own, const EngineContext& ctx) {
  Json labels = Json::object();
  for (const auto& [k, v] : own) labels[k] = v;
  labels[kLabelProject] = ctx.project;
  labels[kLabelComposeVersion] = kComposeVersion;
  labels[kLabelNode] = ctx.node_id;
  labels[kLabelApp] = ctx.project;
  return labels;
}

// Mounts, Binds and the Volumes map of the container (compose 1.29: short-syntax volumes
// become Binds plus a Volumes entry; what Binds cannot express becomes a Mount).
void mapVolumes(const ComposeFile& file, const Service& service, const EngineContext& ctx,
                Json& config, Json& host) {
  Json volumes = Json::object();
  Json binds = Json::array();
  Json mounts = Json::array();
  for (const VolumeMount& m : service.volumes) {
    std::string mode = m.read_only ? "ro" : "rw";
    if (!m.bind_propagation.empty()) mode += "," + m.bind_propagation;
    if (!m.selinux.empty()) mode += "," + m.selinux;
    switch (m.type) {
      case MountType::kVolume: {
        if (m.source.empty()) {  // anonymous volume, or the old container's on a recreate
          auto carried = ctx.carried_volumes.find(m.target);
          if (m.read_only || m.nocopy) {
            Json mount = {{"Type", "volume"}, {"Target", m.target}, {"ReadOnly", m.read_only}};
            if (carried != ctx.carried_volumes.end()) mount["Source"] = carried->second;
            if (m.nocopy) mount["VolumeOptions"] = {{"NoCopy", true}};
            mounts.push_back(std::move(mount));
            break;
          }
          volumes[m.target] = Json::object();
          if (carried != ctx.carried_volumes.end()) {
            binds.push_back(carried->second + ":" + m.target + ":" + mode);
          }
          break;
        }
        std::string name = volumeEngineName(file, ctx.project, m.source);
        if (m.nocopy) {
          Json mount = {{"Type", "volume"},
                        {"Source", name},
                        {"Target", m.target},
                        {"ReadOnly", m.read_only},
                        {"VolumeOptions", {{"NoCopy", true}}}};
          mounts.push_back(std::move(mount));
        } else {
          volumes[m.target] = Json::object();
          binds.push_back(name + ":" + m.target + ":" + mode);
        }
        break;
      }
      case MountType::kBind: {
        std::string source = absoluteSource(m.source, ctx.working_dir);
        if (!m.create_host_path) {
          Json mount = {{"Type", "bind"},
                        {"Source", source},
                        {"Target", m.target},
                        {"ReadOnly", m.read_only}};
          if (!m.bind_propagation.empty()) {
            mount["BindOptions"] = {{"Propagation", m.bind_propagation}};
          }
          mounts.push_back(std::move(mount));
        } else {
          volumes[m.target] = Json::object();
          binds.push_back(source + ":" + m.target + ":" + mode);
        }
        break;
      }
      case MountType::kTmpfs: {
        Json mount = {{"Type", "tmpfs"}, {"Target", m.target}, {"ReadOnly", m.read_only}};
        Json opts = Json::object();
        if (m.tmpfs_size) opts["SizeBytes"] = *m.tmpfs_size;
        if (m.tmpfs_mode) opts["Mode"] = *m.tmpfs_mode;
        if (!opts.empty()) mount["TmpfsOptions"] = opts;
        mounts.push_back(std::move(mount));
        break;
      }
    }
  }
  // The image's own VOLUME paths carried from the old container (compose 1.29 binds them
  // without adding them to Volumes: the engine merges the image's in).
  for (const auto& [target, name] : ctx.carried_volumes) {
    const bool declared = service.tmpfs.count(target) != 0 ||
                          std::any_of(service.volumes.begin(), service.volumes.end(),
                                      [&](const VolumeMount& m) { return m.target == target; });
    if (!declared) binds.push_back(name + ":" + target + ":rw");
  }
  if (!volumes.empty()) config["Volumes"] = volumes;
  // compose 1.29 always passes binds and volumes_from (possibly empty) to docker-py, which
  // writes Binds and VolumesFrom (volumes_from itself is refused by the compose model).
  host["Binds"] = binds;
  host["VolumesFrom"] = Json::array();
  if (!mounts.empty()) host["Mounts"] = mounts;
  if (!service.tmpfs.empty()) {
    Json tmpfs = Json::object();
    for (const auto& [path, opts] : service.tmpfs) tmpfs[path] = opts;
    host["Tmpfs"] = tmpfs;
  }
}

Json hostConfig(const ComposeFile& file, const Service& service, const EngineContext& ctx,
                Json& config) {
  Json host = Json::object();
  mapVolumes(file, service, ctx, config, host);

  // Ports: compose always writes PortBindings (empty when no ports).
  Json bindings = Json::object();
  for (const PortMapping& p : service.ports) {
    bindings[portKey(p.container_port, p.protocol)].push_back(
        {{"HostIp", p.host_ip}, {"HostPort", p.host_port}});
  }
  host["PortBindings"] = bindings;

  // Network mode.
  if (!service.network_mode.empty()) {
    const std::string& mode = service.network_mode;
    if (mode.rfind("service:", 0) == 0) {
      const Service* target = file.findService(mode.substr(8));
      host["NetworkMode"] = "container:" + (target ? containerName(ctx.project, *target)
                                                   : ctx.project + "_" + mode.substr(8) + "_1");
    } else {
      host["NetworkMode"] = mode;
    }
  } else {
    auto nets = prioritizedNetworks(service);
    host["NetworkMode"] =
        nets.empty() ? std::string("none") : networkEngineName(file, ctx.project, nets[0].first);
  }

  if (service.privileged) host["Privileged"] = true;
  RestartPolicy restart = effectiveRestartPolicy(service);
  host["RestartPolicy"] = {{"Name", restart.name}, {"MaximumRetryCount", restart.max_retries}};
  if (!service.cap_add.empty()) host["CapAdd"] = service.cap_add;
  if (!service.cap_drop.empty()) host["CapDrop"] = service.cap_drop;
  if (!service.devices.empty()) {
    Json devices = Json::array();
    for (const DeviceMapping& d : service.devices) {
      devices.push_back(
          {{"PathOnHost", d.host_path},
           {"PathInContainer", d.container_path.empty() ? d.host_path : d.container_path},
           {"CgroupPermissions", d.permissions.empty() ? "rwm" : d.permissions}});
    }
    host["Devices"] = devices;
  }
  if (!service.dns.empty()) host["Dns"] = service.dns;
  if (!service.dns_opt.empty()) host["DnsOptions"] = service.dns_opt;
  if (!service.dns_search.empty()) host["DnsSearch"] = service.dns_search;
  if (service.mem_limit) host["Memory"] = *service.mem_limit;
  if (service.mem_reservation && *service.mem_reservation) {
    host["MemoryReservation"] = *service.mem_reservation;
  }
  if (service.memswap_limit) host["MemorySwap"] = *service.memswap_limit;
  if (!service.ulimits.empty()) {
    Json ulimits = Json::array();
    for (const auto& [name, u] : service.ulimits) {
      ulimits.push_back({{"Name", name}, {"Soft", u.soft}, {"Hard", u.hard}});
    }
    host["Ulimits"] = ulimits;
  }
  // compose 1.29 always sends a LogConfig ({"Type": "", "Config": {}} = the daemon default).
  Json log_config = {{"Type", ""}, {"Config", Json::object()}};
  if (service.logging) {
    log_config["Type"] = service.logging->driver;
    for (const auto& [k, v] : service.logging->options) log_config["Config"][k] = v;
  }
  host["LogConfig"] = log_config;
  if (!service.extra_hosts.empty()) {
    Json hosts = Json::array();
    for (const ExtraHost& h : service.extra_hosts) hosts.push_back(h.host + ":" + h.ip);
    host["ExtraHosts"] = hosts;
  }
  if (service.read_only) host["ReadonlyRootfs"] = true;
  if (!service.pid.empty()) host["PidMode"] = service.pid;
  if (!service.ipc.empty()) host["IpcMode"] = service.ipc;
  if (!service.security_opt.empty()) host["SecurityOpt"] = service.security_opt;
  if (service.shm_size) host["ShmSize"] = *service.shm_size;
  if (!service.sysctls.empty()) {
    Json sysctls = Json::object();
    for (const auto& [k, v] : service.sysctls) sysctls[k] = v;
    host["Sysctls"] = sysctls;
  }
  if (service.pids_limit && *service.pids_limit) host["PidsLimit"] = *service.pids_limit;
  if (service.oom_score_adj && *service.oom_score_adj) host["OomScoreAdj"] = *service.oom_score_adj;
  if (!service.group_add.empty()) host["GroupAdd"] = service.group_add;
  if (service.init) host["Init"] = *service.init;
  if (service.cpus) host["NanoCpus"] = static_cast<int64_t>(std::llround(*service.cpus * 1e9));
  if (!service.cpuset.empty()) host["CpusetCpus"] = service.cpuset;
  if (service.cpu_shares && *service.cpu_shares) host["CpuShares"] = *service.cpu_shares;
  return host;
}

}  // namespace

std::string networkName(std::string_view project, const std::string& key, const Network& network) {
  if (!network.name.empty()) return network.name;
  return std::string(project) + "_" + key;
}

std::string volumeName(std::string_view project, const std::string& key, const Volume& volume) {
  if (!volume.name.empty()) return volume.name;
  return std::string(project) + "_" + key;
}

std::string containerName(std::string_view project, const Service& service) {
  if (!service.container_name.empty()) return service.container_name;
  return std::string(project) + "_" + service.name + "_1";
}

RestartPolicy effectiveRestartPolicy(const Service& service) {
  if (service.restart && !service.restart->name.empty()) {
    RestartPolicy policy = *service.restart;
    if (policy.name != "on-failure") policy.max_retries = 0;
    return policy;
  }
  return RestartPolicy{"unless-stopped", 0};
}

Json networkCreateBody(const EngineContext& ctx, const std::string& key, const Network& network) {
  Json body = Json::object();
  body["Name"] = networkName(ctx.project, key, network);
  body["CheckDuplicate"] = true;
  body["Driver"] = network.driver.empty() ? std::string("bridge") : network.driver;
  Json options = Json::object();
  for (const auto& [k, v] : network.driver_opts) options[k] = v;
  body["Options"] = options;
  if (!network.ipam_driver.empty() || !network.ipam_config.empty()) {
    Json ipam = {
        {"Driver", network.ipam_driver.empty() ? std::string("default") : network.ipam_driver}};
    Json configs = Json::array();
    for (const IpamConfig& c : network.ipam_config) {
      Json entry = Json::object();
      if (!c.subnet.empty()) entry["Subnet"] = c.subnet;
      if (!c.ip_range.empty()) entry["IPRange"] = c.ip_range;
      if (!c.gateway.empty()) entry["Gateway"] = c.gateway;
      if (!c.aux_addresses.empty()) {
        Json aux = Json::object();
        for (const auto& [k, v] : c.aux_addresses) aux[k] = v;
        entry["AuxiliaryAddresses"] = aux;
      }
      configs.push_back(std::move(entry));
    }
    ipam["Config"] = configs;
    body["IPAM"] = ipam;
  }
  if (network.internal) body["Internal"] = true;
  body["Attachable"] = true;  // compose 1.29: every network, whatever `attachable:` says
  if (network.enable_ipv6) body["EnableIPv6"] = true;
  Json labels = labelsWithPharos(network.labels, ctx);
  labels[kLabelComposeNetwork] = network.name.empty() ? key : network.name;  // as compose 1.29
  body["Labels"] = labels;
  return body;
}

Json volumeCreateBody(const EngineContext& ctx, const std::string& key, const Volume& volume) {
  Json body = Json::object();
  body["Name"] = volumeName(ctx.project, key, volume);
  body["Driver"] = volume.driver.empty() ? std::string("local") : volume.driver;
  // docker-py sends DriverOpts only when the file sets driver_opts (the engine then shows
  // Options: null, as for a volume docker-compose 1.29 made).
  if (!volume.driver_opts.empty()) {
    Json options = Json::object();
    for (const auto& [k, v] : volume.driver_opts) options[k] = v;
    body["DriverOpts"] = options;
  }
  Json labels = labelsWithPharos(volume.labels, ctx);
  labels[kLabelComposeVolume] = volume.name.empty() ? key : volume.name;  // as compose 1.29
  body["Labels"] = labels;
  return body;
}

void carryVolumes(ContainerSpec& spec, const ComposeFile& file, const Service& service,
                  const EngineContext& ctx) {
  // Carried volumes never change whether Volumes or Mounts are empty: mapVolumes rewrites
  // exactly the keys it wrote the first time.
  mapVolumes(file, service, ctx, spec.body, spec.body["HostConfig"]);
}

ContainerSpec containerSpec(const ComposeFile& file, const Service& service,
                            const EngineContext& ctx) {
  ContainerSpec spec;
  spec.name = containerName(ctx.project, service);
  Json config = Json::object();

  if (!service.hostname.empty()) config["Hostname"] = service.hostname;
  if (!service.domainname.empty()) config["Domainname"] = service.domainname;
  if (!service.user.empty()) config["User"] = service.user;
  config["Tty"] = service.tty;
  config["OpenStdin"] = service.stdin_open;
  config["StdinOnce"] = false;
  config["AttachStdin"] = false;
  config["AttachStdout"] = false;
  config["AttachStderr"] = false;

  Json env = Json::array();
  for (const auto& [k, v] : service.environment) env.push_back(k + "=" + v);
  config["Env"] = env;
  if (service.command) config["Cmd"] = *service.command;
  if (service.entrypoint) config["Entrypoint"] = *service.entrypoint;
  config["Image"] = service.image;
  if (!service.working_dir.empty()) config["WorkingDir"] = service.working_dir;
  config["NetworkDisabled"] = false;

  // ExposedPorts: published and exposed ports (compose 1.29 build_container_ports).
  if (!service.ports.empty() || !service.expose.empty()) {
    Json exposed = Json::object();
    for (const PortMapping& p : service.ports) {
      exposed[portKey(p.container_port, p.protocol)] = Json::object();
    }
    for (const std::string& e : service.expose) {
      for (const std::string& key : exposeKeys(e)) exposed[key] = Json::object();
    }
    config["ExposedPorts"] = exposed;
  }

  Json labels = Json::object();
  for (const auto& [k, v] : service.labels) labels[k] = v;
  labels[kLabelProject] = ctx.project;
  labels[kLabelService] = service.name;
  labels[kLabelOneOff] = "False";
  labels[kLabelNumber] = "1";
  labels[kLabelComposeVersion] = kComposeVersion;
  labels[kLabelComposeHash] = ctx.config_hash;
  if (!ctx.working_dir.empty()) labels[kLabelWorkingDir] = ctx.working_dir;
  labels[kLabelNode] = ctx.node_id;
  labels[kLabelApp] = ctx.project;
  labels[kLabelRevision] = std::to_string(ctx.revision);
  labels[kLabelConfigHash] = ctx.config_hash;
  labels[kLabelRestartCounter] = std::to_string(ctx.restart_counter);
  config["Labels"] = labels;

  if (!service.stop_signal.empty()) config["StopSignal"] = service.stop_signal;
  if (service.stop_grace_period) {
    // Engine takes whole seconds; round a sub-second grace period up so it is not zero.
    int64_t ns = nanos(*service.stop_grace_period);
    config["StopTimeout"] = (ns + 999'999'999) / 1'000'000'000;
  }
  if (service.healthcheck) config["Healthcheck"] = healthcheckJson(*service.healthcheck);

  config["HostConfig"] = hostConfig(file, service, ctx, config);

  // Networking: the primary network at create time, the others connected afterwards.
  if (service.network_mode.empty()) {
    auto nets = prioritizedNetworks(service);
    for (size_t i = 0; i < nets.size(); ++i) {
      std::string name = networkEngineName(file, ctx.project, nets[i].first);
      Json endpoint = endpointConfig(service.name, *nets[i].second);
      if (i == 0) {
        config["NetworkingConfig"] = {{"EndpointsConfig", {{name, endpoint}}}};
      } else {
        spec.extra_networks.emplace_back(name, std::move(endpoint));
      }
    }
  }
  spec.body = std::move(config);
  return spec;
}

}  // namespace pharos::agent
