// Reads one compose service: dispatches every key to its reader, refuses keys that cannot
// work on a device (with the reason) and unknown keys (naming them). Values are read onto
// an existing Service so that `extends` can start from its base: maps merge per key, port
// and expose lists append, mounts and devices merge per target, other keys replace.
// Pure functions: thread-safe.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

struct Refusal {
  std::string_view key;
  std::string_view reason;
};

constexpr Refusal kRefused[] = {
    {"build",
     "building images is not supported on devices; push the image to a registry and use "
     "image:"},
    {"env_file",
     "files are not available on devices; list the variables under environment: (deploy "
     "variables and secrets are interpolated into it)"},
    {"secrets",
     "file-based secrets are not available on devices; pass secrets as variables and "
     "interpolate them into environment:"},
    {"configs",
     "file-based configs are not available on devices; use environment: or bake the file "
     "into the image"},
    {"links",
     "legacy links are not supported; services reach each other by service name on the app "
     "network (add networks.<net>.aliases for extra names)"},
    {"external_links", "links to containers outside the app are not supported"},
    {"volumes_from",
     "volumes_from is not supported; declare a named volume and mount it in each service"},
};

constexpr std::string_view kUnsupported[] = {
    "annotations",
    "attach",
    "blkio_config",
    "cgroup",
    "cgroup_parent",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "gpus",
    "isolation",
    "label_file",
    "lifecycle",
    "mac_address",
    "mem_swappiness",
    "models",
    "net",
    "oom_kill_disable",
    "post_start",
    "pre_stop",
    "provider",
    "runtime",
    "storage_opt",
    "use_api_socket",
    "userns_mode",
    "uts",
    "volume_driver",
};

constexpr std::string_view kSupported[] = {
    "image",         "command",      "entrypoint",
    "environment",   "ports",        "expose",
    "volumes",       "tmpfs",        "networks",
    "network_mode",  "depends_on",   "restart",
    "healthcheck",   "labels",       "container_name",
    "hostname",      "domainname",   "user",
    "working_dir",   "privileged",   "read_only",
    "tty",           "stdin_open",   "init",
    "cap_add",       "cap_drop",     "devices",
    "logging",       "mem_limit",    "mem_reservation",
    "memswap_limit", "shm_size",     "cpus",
    "cpu_shares",    "pids_limit",   "oom_score_adj",
    "cpuset",        "deploy",       "stop_grace_period",
    "stop_signal",   "extra_hosts",  "dns",
    "dns_search",    "dns_opt",      "ulimits",
    "sysctls",       "security_opt", "ipc",
    "pid",           "group_add",    "platform",
    "profiles",      "pull_policy",  "scale",
};

YamlNode at(const YamlEntry& entry) {
  YamlNode node;
  node.line = entry.line;
  node.column = entry.column;
  return node;
}

Status readImage(const YamlNode& node, const std::string& path, std::string& out) {
  Result<std::string> image = readString(node, path);
  if (!image) return image.status();
  if (image->empty()) return errorAt(node, path, "must not be empty");
  if (image->size() > 512) return errorAt(node, path, "image reference too long");
  for (char c : *image) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return errorAt(node, path, "an image reference cannot contain whitespace");
    }
  }
  out = std::move(*image);
  return Status::ok();
}

Status readEnvironment(const YamlNode& node, const std::string& path, const ParseContext& context,
                       std::map<std::string, std::string>& out) {
  auto from_vars = [&](const std::string& name) {
    if (auto it = context.vars->find(name); it != context.vars->end()) {
      out[name] = it->second;
    } else {
      out.erase(name);
      context.warnings->push_back(joinPath(path, name) +
                                  ": no value and no such variable; left unset");
    }
  };
  if (node.isMap()) {
    for (const YamlEntry& entry : node.entries) {
      if (entry.key.empty() || entry.key.find('=') != std::string::npos) {
        return errorAt(at(entry), joinPath(path, entry.key), "invalid variable name");
      }
      if (entry.value.isNull()) {
        from_vars(entry.key);
        continue;
      }
      PHAROS_RETURN_IF_ERROR(refuseBool(entry.value, joinPath(path, entry.key)));
      Result<std::string> value = readString(entry.value, joinPath(path, entry.key));
      if (!value) return value.status();
      out[entry.key] = std::move(*value);
    }
    return Status::ok();
  }
  if (!node.isSequence()) return errorAt(node, path, "must be a mapping or a list of NAME=value");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    PHAROS_RETURN_IF_ERROR(requireStringItem(node.items[i], item_path));
    Result<std::string> item = readString(node.items[i], item_path);
    if (!item) return item.status();
    const size_t eq = item->find('=');
    const std::string name = item->substr(0, eq);
    if (name.empty()) return errorAt(node.items[i], item_path, "invalid variable name");
    if (eq == std::string::npos) {
      from_vars(name);
    } else {
      out[name] = item->substr(eq + 1);
    }
  }
  return Status::ok();
}

Status readLabels(const YamlNode& node, const std::string& path,
                  std::map<std::string, std::string>& out) {
  Result<std::map<std::string, std::string>> labels =
      readKeyValues(node, path, '=', "", MapValues::kBoolAsPython);
  if (!labels) return labels.status();
  for (auto& [key, value] : *labels) {
    if (key.rfind("com.docker.compose.", 0) == 0 || key.rfind("io.pharos.", 0) == 0) {
      return errorAt(node, joinPath(path, key),
                     "labels under com.docker.compose. and io.pharos. are set by Pharos");
    }
    out[key] = value;
  }
  return Status::ok();
}

Status readCapabilities(const YamlNode& node, const std::string& path,
                        std::vector<std::string>& out) {
  Result<std::vector<std::string>> caps = readStringList(node, path, false);
  if (!caps) return caps.status();
  out.clear();
  for (size_t i = 0; i < caps->size(); ++i) {
    std::string cap = (*caps)[i];
    for (char& c : cap) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (cap.rfind("CAP_", 0) == 0) cap.erase(0, 4);
    const bool valid = !cap.empty() && std::all_of(cap.begin(), cap.end(), [](char c) {
      return std::isupper(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!valid) return errorAt(node.items[i], indexPath(path, i), "invalid capability");
    if (std::find(out.begin(), out.end(), cap) == out.end()) out.push_back(cap);
  }
  return Status::ok();
}

Status readExpose(const YamlNode& node, const std::string& path, std::vector<std::string>& out) {
  Result<std::vector<std::string>> items = readStringList(node, path, false);
  if (!items) return items.status();
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    Result<std::vector<PortMapping>> ports = parsePortSpec(item);
    if (item.find(':') != std::string::npos || !ports || ports->empty()) {
      return errorAt(node.items[i], indexPath(path, i),
                     "must be a container port or range such as 80, \"8000-8010\" or \"53/udp\"");
    }
    const std::string port = item.substr(0, item.find('/'));
    const std::string normalised = port + "/" + ports->front().protocol;
    if (std::find(out.begin(), out.end(), normalised) == out.end()) out.push_back(normalised);
  }
  return Status::ok();
}

Status readTmpfs(const YamlNode& node, const std::string& path,
                 std::map<std::string, std::string>& out) {
  Result<std::vector<std::string>> items = readStringList(node, path, true);
  if (!items) return items.status();
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const size_t colon = item.find(':');
    const std::string target = item.substr(0, colon);
    const YamlNode& item_node = node.isSequence() ? node.items[i] : node;
    const std::string item_path = node.isSequence() ? indexPath(path, i) : path;
    if (target.empty() || target[0] != '/') {
      return errorAt(item_node, item_path, "must be an absolute container path");
    }
    out[target] = colon == std::string::npos ? "" : item.substr(colon + 1);
  }
  return Status::ok();
}

Status readLogging(const YamlNode& node, const std::string& path, Logging& out) {
  PHAROS_RETURN_IF_ERROR(checkKeys(node, path, {"driver", "options"}));
  if (const YamlNode* driver = node.find("driver"); driver != nullptr && !driver->isNull()) {
    Result<std::string> value = readString(*driver, joinPath(path, "driver"));
    if (!value) return value.status();
    out.driver = std::move(*value);
  }
  if (const YamlNode* options = node.find("options"); options != nullptr && !options->isNull()) {
    if (!options->isMap()) return errorAt(*options, joinPath(path, "options"), "must be a mapping");
    Result<std::map<std::string, std::string>> values =
        readKeyValues(*options, joinPath(path, "options"), '=');
    if (!values) return values.status();
    for (auto& [key, value] : *values) out.options[key] = value;
  }
  return Status::ok();
}

Status readNetworkMode(const YamlNode& node, const std::string& path, const ParseContext& context,
                       Service& service) {
  Result<std::string> mode = readString(node, path);
  if (!mode) return mode.status();
  if (*mode == "host" || *mode == "none" || *mode == "bridge") {
    service.network_mode = *mode;
    return Status::ok();
  }
  if (mode->rfind("service:", 0) == 0) {
    const std::string other = mode->substr(8);
    if (context.service_names.count(other) == 0) {
      return errorAt(node, path, "unknown service '" + other + "'");
    }
    if (other == service.name) return errorAt(node, path, "a service cannot use its own network");
    service.network_mode = *mode;
    return Status::ok();
  }
  if (mode->rfind("container:", 0) == 0) {
    return errorAt(node, path, "containers outside the app are not supported; use service:<name>");
  }
  return errorAt(node, path, "must be host, none, bridge or service:<name>");
}

Status readNamespaceMode(const YamlNode& node, const std::string& path, bool ipc,
                         std::string& out) {
  Result<std::string> mode = readString(node, path);
  if (!mode) return mode.status();
  const bool valid = ipc ? (*mode == "host" || *mode == "private" || *mode == "shareable" ||
                            *mode == "none" || mode->empty())
                         : (*mode == "host" || mode->empty());
  if (!valid) {
    return errorAt(node, path, ipc ? "must be host, private, shareable or none" : "must be host");
  }
  out = std::move(*mode);
  return Status::ok();
}

template <typename T, typename Reader>
Status readOptional(const YamlNode& node, const std::string& path, std::optional<T>& out,
                    Reader reader) {
  Result<T> value = reader(node, path);
  if (!value) return value.status();
  out = std::move(*value);
  return Status::ok();
}

Status readStringField(const YamlNode& node, const std::string& path, std::string& out) {
  Result<std::string> value = readString(node, path);
  if (!value) return value.status();
  out = std::move(*value);
  return Status::ok();
}

Status readBoolField(const YamlNode& node, const std::string& path, bool& out) {
  Result<bool> value = readBool(node, path);
  if (!value) return value.status();
  out = *value;
  return Status::ok();
}

Status readListField(const YamlNode& node, const std::string& path, bool allow_single,
                     std::vector<std::string>& out) {
  Result<std::vector<std::string>> value = readStringList(node, path, allow_single);
  if (!value) return value.status();
  out = std::move(*value);
  return Status::ok();
}

Status readIntInRange(const YamlNode& node, const std::string& path, int64_t low, int64_t high,
                      std::optional<int64_t>& out) {
  Result<int64_t> value = readInt(node, path);
  if (!value) return value.status();
  if (*value < low || *value > high) {
    return errorAt(node, path,
                   "must be between " + std::to_string(low) + " and " + std::to_string(high));
  }
  out = *value;
  return Status::ok();
}

Status readKey(const YamlEntry& entry, const std::string& path, const ParseContext& context,
               Service& service) {
  const std::string& key = entry.key;
  const YamlNode& value = entry.value;
  const std::string p = joinPath(path, key);
  if (std::find(std::begin(kSupported), std::end(kSupported), key) == std::end(kSupported)) {
    for (const Refusal& refusal : kRefused) {
      if (key == refusal.key) return errorAt(at(entry), p, refusal.reason);
    }
    for (std::string_view unsupported : kUnsupported) {
      if (key == unsupported) return errorAt(at(entry), p, "not supported by Pharos");
    }
    return errorAt(at(entry), p, "unknown key");
  }
  if (value.isNull()) return Status::ok();  // `key:` with no value leaves the key unset
  if (key == "image") return readImage(value, p, service.image);
  if (key == "command" || key == "entrypoint") {
    Result<std::vector<std::string>> words = readCommand(value, p);
    if (!words) return words.status();
    (key == "command" ? service.command : service.entrypoint) = std::move(*words);
    return Status::ok();
  }
  if (key == "environment") return readEnvironment(value, p, context, service.environment);
  if (key == "ports") return readPorts(value, p, service.ports);
  if (key == "expose") return readExpose(value, p, service.expose);
  if (key == "volumes") return readVolumeMounts(value, p, context, service.volumes);
  if (key == "tmpfs") return readTmpfs(value, p, service.tmpfs);
  if (key == "networks") return readServiceNetworks(value, p, context, service.networks);
  if (key == "network_mode") return readNetworkMode(value, p, context, service);
  if (key == "depends_on") return readDependsOn(value, p, context, service.depends_on);
  if (key == "restart") return readOptional(value, p, service.restart, parseRestart);
  if (key == "healthcheck") {
    Healthcheck check = service.healthcheck.value_or(Healthcheck{});
    PHAROS_RETURN_IF_ERROR(readHealthcheck(value, p, check));
    service.healthcheck = std::move(check);
    return Status::ok();
  }
  if (key == "labels") return readLabels(value, p, service.labels);
  if (key == "container_name") {
    PHAROS_RETURN_IF_ERROR(readStringField(value, p, service.container_name));
    if (!validResourceName(service.container_name)) {
      return errorAt(value, p, "must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    }
    return Status::ok();
  }
  if (key == "hostname") return readStringField(value, p, service.hostname);
  if (key == "domainname") return readStringField(value, p, service.domainname);
  if (key == "user") return readStringField(value, p, service.user);
  if (key == "working_dir") {
    PHAROS_RETURN_IF_ERROR(readStringField(value, p, service.working_dir));
    if (!service.working_dir.empty() && service.working_dir[0] != '/') {
      return errorAt(value, p, "must be an absolute path");
    }
    return Status::ok();
  }
  if (key == "privileged") return readBoolField(value, p, service.privileged);
  if (key == "read_only") return readBoolField(value, p, service.read_only);
  if (key == "tty") return readBoolField(value, p, service.tty);
  if (key == "stdin_open") return readBoolField(value, p, service.stdin_open);
  if (key == "init") return readOptional(value, p, service.init, readBool);
  if (key == "cap_add") return readCapabilities(value, p, service.cap_add);
  if (key == "cap_drop") return readCapabilities(value, p, service.cap_drop);
  if (key == "devices") return readDevices(value, p, service.devices);
  if (key == "logging") {
    Logging logging = service.logging.value_or(Logging{});
    PHAROS_RETURN_IF_ERROR(readLogging(value, p, logging));
    service.logging = std::move(logging);
    return Status::ok();
  }
  if (key == "mem_limit") return readOptional(value, p, service.mem_limit, readByteSize);
  if (key == "mem_reservation")
    return readOptional(value, p, service.mem_reservation, readByteSize);
  if (key == "memswap_limit") {
    if (value.isScalar() && value.text == "-1") {
      service.memswap_limit = -1;
      return Status::ok();
    }
    return readOptional(value, p, service.memswap_limit, readByteSize);
  }
  if (key == "shm_size") return readOptional(value, p, service.shm_size, readByteSize);
  if (key == "cpus") {
    Result<double> cpus = readDouble(value, p);
    if (!cpus) return cpus.status();
    if (!std::isfinite(*cpus) || *cpus < 0 || *cpus > 4096) {
      return errorAt(value, p, "must be a number of CPUs (0 = no limit)");
    }
    service.cpus = *cpus;
    return Status::ok();
  }
  if (key == "cpu_shares") return readIntInRange(value, p, 0, 262144, service.cpu_shares);
  if (key == "pids_limit") return readIntInRange(value, p, -1, INT64_MAX, service.pids_limit);
  if (key == "oom_score_adj") return readIntInRange(value, p, -1000, 1000, service.oom_score_adj);
  if (key == "cpuset") return readStringField(value, p, service.cpuset);
  if (key == "deploy") return readDeploy(value, p, context, service);
  if (key == "stop_grace_period") {
    return readOptional(value, p, service.stop_grace_period, readDuration);
  }
  if (key == "stop_signal") return readStringField(value, p, service.stop_signal);
  if (key == "extra_hosts") return readExtraHosts(value, p, service.extra_hosts);
  if (key == "dns") return readListField(value, p, true, service.dns);
  if (key == "dns_search") return readListField(value, p, true, service.dns_search);
  if (key == "dns_opt") return readListField(value, p, false, service.dns_opt);
  if (key == "ulimits") return readUlimits(value, p, service.ulimits);
  if (key == "sysctls") {
    Result<std::map<std::string, std::string>> sysctls = readKeyValues(value, p, '=');
    if (!sysctls) return sysctls.status();
    for (auto& [name, setting] : *sysctls) service.sysctls[name] = setting;
    return Status::ok();
  }
  if (key == "security_opt") return readListField(value, p, false, service.security_opt);
  if (key == "ipc") return readNamespaceMode(value, p, true, service.ipc);
  if (key == "pid") return readNamespaceMode(value, p, false, service.pid);
  if (key == "group_add") return readListField(value, p, false, service.group_add);
  if (key == "platform") return readStringField(value, p, service.platform);
  if (key == "profiles") return readListField(value, p, false, service.profiles);
  if (key == "pull_policy") {
    PHAROS_RETURN_IF_ERROR(readStringField(value, p, service.pull_policy));
    const std::string& policy = service.pull_policy;
    if (policy == "build") return errorAt(value, p, "building images is not supported on devices");
    if (policy != "always" && policy != "never" && policy != "missing" &&
        policy != "if_not_present") {
      return errorAt(value, p, "must be always, never, missing or if_not_present");
    }
    return Status::ok();
  }
  if (key == "scale") {
    Result<int64_t> scale = readInt(value, p);
    if (!scale) return scale.status();
    if (*scale != 1) return errorAt(value, p, "scaling a service is not supported; use 1");
    return Status::ok();
  }
  return Status::internal(p + ": supported key without a reader");
}

}  // namespace

Status readService(const YamlNode& node, const std::string& path, const ParseContext& context,
                   Service& service) {
  PHAROS_RETURN_IF_ERROR(requireMap(node, path));
  for (const YamlEntry& entry : node.entries) {
    if (entry.key.rfind("x-", 0) == 0 || entry.key == "extends") continue;
    PHAROS_RETURN_IF_ERROR(readKey(entry, path, context, service));
  }
  return Status::ok();
}

}  // namespace pharos::compose_detail
