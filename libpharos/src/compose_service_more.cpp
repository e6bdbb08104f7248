// Readers for the service keys with their own syntax: ports (short and long), volume
// mounts (short and long), healthcheck, networks, depends_on, devices, ulimits, extra_hosts,
// restart. Pure functions: thread-safe.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

bool validResourceName(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Status readLongPort(const YamlNode& node, const std::string& path, std::vector<PortMapping>& out) {
  PHAROS_RETURN_IF_ERROR(checkKeys(
      node, path, {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}));
  const YamlNode* target = node.find("target");
  if (target == nullptr || target->isNull()) return errorAt(node, path, "target is required");
  Result<int64_t> container = readInt(*target, joinPath(path, "target"));
  if (!container) return container.status();
  if (*container < 1 || *container > 65535) {
    return errorAt(*target, joinPath(path, "target"), "must be a port between 1 and 65535");
  }
  PortMapping mapping;
  mapping.container_port = static_cast<uint16_t>(*container);
  if (const YamlNode* published = node.find("published");
      published != nullptr && !published->isNull()) {
    Result<std::string> text = readString(*published, joinPath(path, "published"));
    if (!text) return text.status();
    if (!text->empty()) {
      Result<std::vector<PortMapping>> parsed =
          parsePortSpec(*text + ":" + std::to_string(*container));
      if (!parsed || parsed->size() != 1 || text->find(':') != std::string::npos) {
        return errorAt(*published, joinPath(path, "published"),
                       "must be a port or a port range such as 8080 or \"8000-8010\"");
      }
      mapping.host_port = parsed->front().host_port;
    }
  }
  if (const YamlNode* ip = node.find("host_ip"); ip != nullptr && !ip->isNull()) {
    Result<std::string> text = readString(*ip, joinPath(path, "host_ip"));
    if (!text) return text.status();
    if (!isValidIp(*text)) return errorAt(*ip, joinPath(path, "host_ip"), "not an IP address");
    mapping.host_ip = *text;
  }
  if (const YamlNode* protocol = node.find("protocol");
      protocol != nullptr && !protocol->isNull()) {
    Result<std::string> text = readString(*protocol, joinPath(path, "protocol"));
    if (!text) return text.status();
    if (*text != "tcp" && *text != "udp" && *text != "sctp") {
      return errorAt(*protocol, joinPath(path, "protocol"), "must be tcp, udp or sctp");
    }
    mapping.protocol = *text;
  }
  if (const YamlNode* mode = node.find("mode"); mode != nullptr && !mode->isNull()) {
    Result<std::string> text = readString(*mode, joinPath(path, "mode"));
    if (!text) return text.status();
    if (*text != "host" && *text != "ingress") {
      return errorAt(*mode, joinPath(path, "mode"), "must be host or ingress");
    }
  }
  out.push_back(std::move(mapping));
  return Status::ok();
}

// Applies the comma-separated short-syntax mode ("ro,z", "rw,nocopy") to `mount`.
Status applyMountMode(const YamlNode& node, const std::string& path, std::string_view modes,
                      VolumeMount& mount) {
  bool saw_ro = false;
  bool saw_rw = false;
  while (!modes.empty()) {
    const size_t comma = modes.find(',');
    const std::string_view mode = modes.substr(0, comma);
    modes = comma == std::string_view::npos ? std::string_view() : modes.substr(comma + 1);
    if (mode == "ro") {
      saw_ro = true;
    } else if (mode == "rw") {
      saw_rw = true;
    } else if (mode == "z" || mode == "Z") {
      mount.selinux = std::string(mode);
    } else if (mode == "nocopy") {
      if (mount.type != MountType::kVolume) return errorAt(node, path, "nocopy applies to volumes");
      mount.nocopy = true;
    } else if (mode == "shared" || mode == "rshared" || mode == "slave" || mode == "rslave" ||
               mode == "private" || mode == "rprivate") {
      if (mount.type != MountType::kBind) {
        return errorAt(node, path, "propagation applies to bind mounts");
      }
      mount.bind_propagation = std::string(mode);
    } else if (mode == "cached" || mode == "consistent" || mode == "delegated") {
      // macOS consistency hints: no effect on Linux.
    } else {
      return errorAt(node, path, "unknown mount option '" + std::string(mode) + "'");
    }
  }
  if (saw_ro && saw_rw) return errorAt(node, path, "ro and rw together");
  mount.read_only = saw_ro;
  return Status::ok();
}

Status classifySource(const YamlNode& node, const std::string& path, const ParseContext& context,
                      const std::string& source, VolumeMount& mount) {
  if (source.empty()) {
    mount.type = MountType::kVolume;
    return Status::ok();
  }
  if (source[0] == '~') {
    return errorAt(node, path, "'~' has no meaning on a device; use an absolute path");
  }
  if (source[0] == '/' || source[0] == '.') {
    mount.type = MountType::kBind;
    mount.source = source;
    return Status::ok();
  }
  if (!validResourceName(source))
    return errorAt(node, path, "invalid volume name '" + source + "'");
  if (context.volumes->count(source) == 0) {
    return errorAt(node, path,
                   "volume '" + source + "' is not declared under the top-level volumes:");
  }
  mount.type = MountType::kVolume;
  mount.source = source;
  return Status::ok();
}

Status readShortMount(const YamlNode& node, const std::string& path, const ParseContext& context,
                      VolumeMount& mount) {
  const std::string& text = node.text;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return errorAt(node, path, "must be [source:]target[:mode]");
  if (parts.size() == 1) {
    mount.type = MountType::kVolume;
    mount.target = parts[0];
  } else {
    if (parts[0].empty()) return errorAt(node, path, "empty source");
    PHAROS_RETURN_IF_ERROR(classifySource(node, path, context, parts[0], mount));
    mount.target = parts[1];
  }
  if (mount.target.empty() || mount.target[0] != '/') {
    return errorAt(node, path, "the container path must be absolute");
  }
  if (parts.size() == 3) PHAROS_RETURN_IF_ERROR(applyMountMode(node, path, parts[2], mount));
  return Status::ok();
}

Status readLongMount(const YamlNode& node, const std::string& path, const ParseContext& context,
                     VolumeMount& mount) {
  PHAROS_RETURN_IF_ERROR(checkKeys(
      node, path,
      {"type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"}));
  const YamlNode* type = node.find("type");
  if (type == nullptr || type->isNull()) return errorAt(node, path, "type is required");
  Result<std::string> type_name = readString(*type, joinPath(path, "type"));
  if (!type_name) return type_name.status();
  std::string source;
  if (const YamlNode* src = node.find("source"); src != nullptr && !src->isNull()) {
    Result<std::string> text = readString(*src, joinPath(path, "source"));
    if (!text) return text.status();
    source = *text;
  }
  const YamlNode* target = node.find("target");
  if (target == nullptr || target->isNull()) return errorAt(node, path, "target is required");
  Result<std::string> target_text = readString(*target, joinPath(path, "target"));
  if (!target_text) return target_text.status();
  if (target_text->empty() || (*target_text)[0] != '/') {
    return errorAt(*target, joinPath(path, "target"), "must be an absolute container path");
  }
  mount.target = *target_text;
  if (*type_name == "volume") {
    PHAROS_RETURN_IF_ERROR(classifySource(node, joinPath(path, "source"), context, source, mount));
    if (mount.type != MountType::kVolume) {
      return errorAt(node, joinPath(path, "source"), "a volume source must be a volume name");
    }
  } else if (*type_name == "bind") {
    if (source.empty())
      return errorAt(node, joinPath(path, "source"), "a bind mount needs a source");
    PHAROS_RETURN_IF_ERROR(classifySource(node, joinPath(path, "source"), context, source, mount));
    if (mount.type != MountType::kBind) {
      return errorAt(node, joinPath(path, "source"), "a bind source must be a host path");
    }
  } else if (*type_name == "tmpfs") {
    if (!source.empty()) return errorAt(node, joinPath(path, "source"), "tmpfs takes no source");
    mount.type = MountType::kTmpfs;
  } else {
    return errorAt(*type, joinPath(path, "type"), "must be volume, bind or tmpfs");
  }
  if (const YamlNode* ro = node.find("read_only"); ro != nullptr && !ro->isNull()) {
    Result<bool> value = readBool(*ro, joinPath(path, "read_only"));
    if (!value) return value.status();
    mount.read_only = *value;
  }
  auto section = [&](const char* name, MountType wanted) -> Result<const YamlNode*> {
    const YamlNode* sub = node.find(name);
    if (sub == nullptr || sub->isNull()) return static_cast<const YamlNode*>(nullptr);
    if (mount.type != wanted) {
      return errorAt(*sub, joinPath(path, name),
                     std::string("applies to ") + mountTypeName(wanted) + " mounts only");
    }
    return sub;
  };
  Result<const YamlNode*> bind = section("bind", MountType::kBind);
  if (!bind) return bind.status();
  if (*bind != nullptr) {
    const std::string bind_path = joinPath(path, "bind");
    PHAROS_RETURN_IF_ERROR(
        checkKeys(**bind, bind_path, {"propagation", "create_host_path", "selinux"}));
    if (const YamlNode* v = (*bind)->find("propagation"); v != nullptr && !v->isNull()) {
      Result<std::string> text = readString(*v, joinPath(bind_path, "propagation"));
      if (!text) return text.status();
      VolumeMount probe;
      probe.type = MountType::kBind;
      PHAROS_RETURN_IF_ERROR(applyMountMode(*v, joinPath(bind_path, "propagation"), *text, probe));
      if (probe.bind_propagation.empty()) {
        return errorAt(*v, joinPath(bind_path, "propagation"), "unknown propagation");
      }
      mount.bind_propagation = probe.bind_propagation;
    }
    if (const YamlNode* v = (*bind)->find("create_host_path"); v != nullptr && !v->isNull()) {
      Result<bool> value = readBool(*v, joinPath(bind_path, "create_host_path"));
      if (!value) return value.status();
      mount.create_host_path = *value;
    }
    if (const YamlNode* v = (*bind)->find("selinux"); v != nullptr && !v->isNull()) {
      Result<std::string> text = readString(*v, joinPath(bind_path, "selinux"));
      if (!text) return text.status();
      if (*text != "z" && *text != "Z")
        return errorAt(*v, joinPath(bind_path, "selinux"), "must be z or Z");
      mount.selinux = *text;
    }
  }
  Result<const YamlNode*> volume = section("volume", MountType::kVolume);
  if (!volume) return volume.status();
  if (*volume != nullptr) {
    const std::string volume_path = joinPath(path, "volume");
    PHAROS_RETURN_IF_ERROR(checkKeys(**volume, volume_path, {"nocopy"}));
    if (const YamlNode* v = (*volume)->find("nocopy"); v != nullptr && !v->isNull()) {
      Result<bool> value = readBool(*v, joinPath(volume_path, "nocopy"));
      if (!value) return value.status();
      mount.nocopy = *value;
    }
  }
  Result<const YamlNode*> tmpfs = section("tmpfs", MountType::kTmpfs);
  if (!tmpfs) return tmpfs.status();
  if (*tmpfs != nullptr) {
    const std::string tmpfs_path = joinPath(path, "tmpfs");
    PHAROS_RETURN_IF_ERROR(checkKeys(**tmpfs, tmpfs_path, {"size", "mode"}));
    if (const YamlNode* v = (*tmpfs)->find("size"); v != nullptr && !v->isNull()) {
      Result<int64_t> size = readByteSize(*v, joinPath(tmpfs_path, "size"));
      if (!size) return size.status();
      mount.tmpfs_size = *size;
    }
    if (const YamlNode* v = (*tmpfs)->find("mode"); v != nullptr && !v->isNull()) {
      // Octal as in chmod: 1777, 0o1777 and 01777 mean the same.
      std::string_view digits = v->isScalar() ? std::string_view(v->text) : std::string_view();
      if (digits.rfind("0o", 0) == 0) digits.remove_prefix(2);
      const bool octal = !digits.empty() && digits.size() <= 5 &&
                         digits.find_first_not_of("01234567") == std::string_view::npos;
      const uint32_t mode =
          octal ? static_cast<uint32_t>(std::stoul(std::string(digits), nullptr, 8)) : 0;
      if (!octal || mode > 07777) {
        return errorAt(*v, joinPath(tmpfs_path, "mode"), "must be an octal mode such as 1777");
      }
      mount.tmpfs_mode = mode;
    }
  }
  return Status::ok();
}

}  // namespace

Status readPorts(const YamlNode& node, const std::string& path, std::vector<PortMapping>& out) {
  if (!node.isSequence()) return errorAt(node, path, "must be a list");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    const std::string item_path = indexPath(path, i);
    if (item.isMap()) {
      PHAROS_RETURN_IF_ERROR(readLongPort(item, item_path, out));
      continue;
    }
    if (!item.isScalar()) return errorAt(item, item_path, "must be a string or a mapping");
    Result<std::vector<PortMapping>> mappings = parsePortSpec(item.text);
    if (!mappings) return errorAt(item, item_path, mappings.status().message());
    if (out.size() + mappings->size() > 4096) return errorAt(item, item_path, "too many ports");
    out.insert(out.end(), mappings->begin(), mappings->end());
  }
  return Status::ok();
}

Status readVolumeMounts(const YamlNode& node, const std::string& path, const ParseContext& context,
                        std::vector<VolumeMount>& out) {
  if (!node.isSequence()) return errorAt(node, path, "must be a list");
  std::vector<std::string> seen;
  for (size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    const std::string item_path = indexPath(path, i);
    VolumeMount mount;
    if (item.isScalar()) {
      PHAROS_RETURN_IF_ERROR(readShortMount(item, item_path, context, mount));
    } else if (item.isMap()) {
      PHAROS_RETURN_IF_ERROR(readLongMount(item, item_path, context, mount));
    } else {
      return errorAt(item, item_path, "must be a string or a mapping");
    }
    if (std::find(seen.begin(), seen.end(), mount.target) != seen.end()) {
      return errorAt(item, item_path, "duplicate mount point '" + mount.target + "'");
    }
    seen.push_back(mount.target);
    auto existing = std::find_if(out.begin(), out.end(),
                                 [&](const VolumeMount& m) { return m.target == mount.target; });
    if (existing != out.end()) {
      *existing = std::move(mount);
    } else {
      out.push_back(std::move(mount));
    }
  }
  return Status::ok();
}

Status readHealthcheck(const YamlNode& node, const std::string& path, Healthcheck& out) {
  PHAROS_RETURN_IF_ERROR(checkKeys(
      node, path,
      {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}));
  for (const YamlEntry& entry : node.entries) {
    const std::string p = joinPath(path, entry.key);
    const YamlNode& value = entry.value;
    if (value.isNull() || entry.key.rfind("x-", 0) == 0) continue;
    if (entry.key == "test") {
      if (value.isScalar()) {
        if (value.text.empty()) return errorAt(value, p, "must not be empty");
        out.test = {"CMD-SHELL", value.text};
        continue;
      }
      Result<std::vector<std::string>> test = readStringList(value, p, false);
      if (!test) return test.status();
      if (test->empty()) return errorAt(value, p, "must not be empty");
      const std::string& kind = test->front();
      if (kind == "NONE") {
        out.disable = true;
        out.test.clear();
        continue;
      }
      if ((kind != "CMD" && kind != "CMD-SHELL") || test->size() < 2) {
        return errorAt(value, p,
                       "a list must start with CMD, CMD-SHELL or NONE and name a command");
      }
      out.test = std::move(*test);
    } else if (entry.key == "retries") {
      Result<int64_t> retries = readInt(value, p);
      if (!retries) return retries.status();
      if (*retries < 0) return errorAt(value, p, "must not be negative");
      out.retries = *retries;
    } else if (entry.key == "disable") {
      Result<bool> disable = readBool(value, p);
      if (!disable) return disable.status();
      if (*disable && node.find("test") != nullptr && !node.find("test")->isNull()) {
        return errorAt(value, p, "disable: true cannot be combined with test");
      }
      out.disable = *disable;
    } else {
      Result<Duration> duration = readDuration(value, p);
      if (!duration) return duration.status();
      if (entry.key == "interval") out.interval = *duration;
      if (entry.key == "timeout") out.timeout = *duration;
      if (entry.key == "start_period") out.start_period = *duration;
      if (entry.key == "start_interval") out.start_interval = *duration;
    }
  }
  return Status::ok();
}

Status readServiceNetworks(const YamlNode& node, const std::string& path,
                           const ParseContext& context,
                           std::map<std::string, ServiceNetwork>& out) {
  out.clear();
  auto declared = [&](const std::string& name, const YamlNode& at, const std::string& at_path) {
    if (name == "default" || context.networks->count(name) != 0) return Status::ok();
    return errorAt(at, at_path,
                   "network '" + name + "' is not declared under the top-level networks:");
  };
  if (node.isSequence()) {
    for (size_t i = 0; i < node.items.size(); ++i) {
      Result<std::string> name = readString(node.items[i], indexPath(path, i));
      if (!name) return name.status();
      PHAROS_RETURN_IF_ERROR(declared(*name, node.items[i], indexPath(path, i)));
      out[*name] = ServiceNetwork{};
    }
    return Status::ok();
  }
  if (!node.isMap()) return errorAt(node, path, "must be a list or a mapping");
  for (const YamlEntry& entry : node.entries) {
    const std::string p = joinPath(path, entry.key);
    YamlNode key_at;
    key_at.line = entry.line;
    key_at.column = entry.column;
    PHAROS_RETURN_IF_ERROR(declared(entry.key, key_at, p));
    ServiceNetwork network;
    if (!entry.value.isNull()) {
      PHAROS_RETURN_IF_ERROR(
          checkKeys(entry.value, p,
                    {"aliases", "ipv4_address", "ipv6_address", "priority", "link_local_ips"}));
      for (const YamlEntry& field : entry.value.entries) {
        const std::string fp = joinPath(p, field.key);
        if (field.value.isNull() || field.key.rfind("x-", 0) == 0) continue;
        if (field.key == "aliases") {
          Result<std::vector<std::string>> aliases = readStringList(field.value, fp, false);
          if (!aliases) return aliases.status();
          network.aliases = std::move(*aliases);
        } else if (field.key == "ipv4_address" || field.key == "ipv6_address") {
          Result<std::string> ip = readString(field.value, fp);
          if (!ip) return ip.status();
          if (!isValidIp(*ip)) return errorAt(field.value, fp, "not an IP address");
          (field.key == "ipv4_address" ? network.ipv4_address : network.ipv6_address) = *ip;
        } else if (field.key == "priority") {
          Result<int64_t> priority = readInt(field.value, fp);
          if (!priority) return priority.status();
          network.priority = *priority;
        } else {
          return errorAt(field.value, fp, "not supported by Pharos");
        }
      }
    }
    out[entry.key] = std::move(network);
  }
  return Status::ok();
}

Status readDependsOn(const YamlNode& node, const std::string& path, const ParseContext& context,
                     std::map<std::string, Dependency>& out) {
  out.clear();
  auto known = [&](const std::string& name, const YamlNode& at, const std::string& at_path) {
    if (context.service_names.count(name) != 0) return Status::ok();
    return errorAt(at, at_path, "unknown service '" + name + "'");
  };
  if (node.isSequence()) {
    for (size_t i = 0; i < node.items.size(); ++i) {
      Result<std::string> name = readString(node.items[i], indexPath(path, i));
      if (!name) return name.status();
      PHAROS_RETURN_IF_ERROR(known(*name, node.items[i], indexPath(path, i)));
      out[*name] = Dependency{};
    }
    return Status::ok();
  }
  if (!node.isMap()) return errorAt(node, path, "must be a list or a mapping");
  for (const YamlEntry& entry : node.entries) {
    const std::string p = joinPath(path, entry.key);
    YamlNode key_at;
    key_at.line = entry.line;
    key_at.column = entry.column;
    PHAROS_RETURN_IF_ERROR(known(entry.key, key_at, p));
    Dependency dependency;
    if (!entry.value.isNull()) {
      PHAROS_RETURN_IF_ERROR(checkKeys(entry.value, p, {"condition", "restart", "required"}));
      if (const YamlNode* v = entry.value.find("condition"); v != nullptr && !v->isNull()) {
        Result<std::string> condition = readString(*v, joinPath(p, "condition"));
        if (!condition) return condition.status();
        if (*condition == "service_started") {
          dependency.condition = DependencyCondition::kServiceStarted;
        } else if (*condition == "service_healthy") {
          dependency.condition = DependencyCondition::kServiceHealthy;
        } else if (*condition == "service_completed_successfully") {
          dependency.condition = DependencyCondition::kServiceCompletedSuccessfully;
        } else {
          return errorAt(*v, joinPath(p, "condition"),
                         "must be service_started, service_healthy or "
                         "service_completed_successfully");
        }
      }
      for (const char* flag : {"restart", "required"}) {
        if (const YamlNode* v = entry.value.find(flag); v != nullptr && !v->isNull()) {
          Result<bool> value = readBool(*v, joinPath(p, flag));
          if (!value) return value.status();
          (std::string_view(flag) == "restart" ? dependency.restart : dependency.required) = *value;
        }
      }
    }
    out[entry.key] = dependency;
  }
  return Status::ok();
}

Status readDevices(const YamlNode& node, const std::string& path, std::vector<DeviceMapping>& out) {
  if (!node.isSequence()) return errorAt(node, path, "must be a list");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    const std::string p = indexPath(path, i);
    DeviceMapping device;
    if (item.isMap()) {
      PHAROS_RETURN_IF_ERROR(checkKeys(item, p, {"source", "target", "permissions"}));
      for (const char* field : {"source", "target", "permissions"}) {
        const YamlNode* v = item.find(field);
        if (v == nullptr || v->isNull()) continue;
        Result<std::string> text = readString(*v, joinPath(p, field));
        if (!text) return text.status();
        std::string_view name(field);
        (name == "source"   ? device.host_path
         : name == "target" ? device.container_path
                            : device.permissions) = *text;
      }
      if (device.container_path.empty()) device.container_path = device.host_path;
    } else {
      Result<std::string> text = readString(item, p);
      if (!text) return text.status();
      std::vector<std::string> parts;
      size_t start = 0;
      while (true) {
        const size_t colon = text->find(':', start);
        parts.push_back(text->substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
      if (parts.size() > 3) return errorAt(item, p, "must be host[:container[:permissions]]");
      device.host_path = parts[0];
      device.container_path = parts.size() > 1 ? parts[1] : parts[0];
      if (parts.size() == 3) device.permissions = parts[2];
    }
    if (device.host_path.empty() || device.host_path[0] != '/' || device.container_path.empty() ||
        device.container_path[0] != '/') {
      return errorAt(item, p, "device paths must be absolute (CDI devices are not supported)");
    }
    const std::string& perms = device.permissions;
    if (perms.empty() || perms.size() > 3 || perms.find_first_not_of("rwm") != std::string::npos) {
      return errorAt(item, p, "permissions must be a combination of r, w and m");
    }
    auto existing = std::find_if(out.begin(), out.end(), [&](const DeviceMapping& d) {
      return d.container_path == device.container_path;
    });
    if (existing != out.end()) {
      *existing = std::move(device);
    } else {
      out.push_back(std::move(device));
    }
  }
  return Status::ok();
}

Status readUlimits(const YamlNode& node, const std::string& path,
                   std::map<std::string, Ulimit>& out) {
  static constexpr std::string_view kNames[] = {
      "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
      "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  if (!node.isMap()) return errorAt(node, path, "must be a mapping");
  for (const YamlEntry& entry : node.entries) {
    const std::string p = joinPath(path, entry.key);
    if (entry.key.rfind("x-", 0) == 0) continue;
    if (std::find(std::begin(kNames), std::end(kNames), entry.key) == std::end(kNames)) {
      YamlNode key_at;
      key_at.line = entry.line;
      key_at.column = entry.column;
      return errorAt(key_at, p, "unknown ulimit");
    }
    Ulimit limit;
    if (entry.value.isScalar()) {
      Result<int64_t> value = readInt(entry.value, p);
      if (!value) return value.status();
      limit.soft = limit.hard = *value;
    } else {
      PHAROS_RETURN_IF_ERROR(checkKeys(entry.value, p, {"soft", "hard"}));
      const YamlNode* soft = entry.value.find("soft");
      const YamlNode* hard = entry.value.find("hard");
      if (soft == nullptr || hard == nullptr) return errorAt(entry.value, p, "needs soft and hard");
      Result<int64_t> soft_value = readInt(*soft, joinPath(p, "soft"));
      if (!soft_value) return soft_value.status();
      Result<int64_t> hard_value = readInt(*hard, joinPath(p, "hard"));
      if (!hard_value) return hard_value.status();
      limit.soft = *soft_value;
      limit.hard = *hard_value;
    }
    if (limit.soft < -1 || limit.hard < -1) return errorAt(entry.value, p, "must not be negative");
    if (limit.hard != -1 && (limit.soft == -1 || limit.soft > limit.hard)) {
      return errorAt(entry.value, p, "soft must not exceed hard");
    }
    out[entry.key] = limit;
  }
  return Status::ok();
}

Status readExtraHosts(const YamlNode& node, const std::string& path, std::vector<ExtraHost>& out) {
  auto add = [&](const YamlNode& at, const std::string& p, std::string host, std::string ip) {
    if (host.empty()) return errorAt(at, p, "empty host name");
    if (ip != "host-gateway" && !isValidIp(ip)) {
      return errorAt(at, p, "'" + ip + "' is not an IP address (or host-gateway)");
    }
    ExtraHost entry{std::move(host), std::move(ip)};
    if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(std::move(entry));
    return Status::ok();
  };
  if (node.isMap()) {
    for (const YamlEntry& entry : node.entries) {
      const std::string p = joinPath(path, entry.key);
      Result<std::string> ip = readString(entry.value, p);
      if (!ip) return ip.status();
      PHAROS_RETURN_IF_ERROR(add(entry.value, p, entry.key, *ip));
    }
    return Status::ok();
  }
  if (!node.isSequence()) return errorAt(node, path, "must be a list of host:ip or a mapping");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const std::string p = indexPath(path, i);
    Result<std::string> text = readString(node.items[i], p);
    if (!text) return text.status();
    size_t at = text->find('=');
    if (at == std::string::npos) at = text->find(':');
    if (at == std::string::npos) return errorAt(node.items[i], p, "must be host:ip");
    std::string ip = text->substr(at + 1);
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    PHAROS_RETURN_IF_ERROR(add(node.items[i], p, text->substr(0, at), ip));
  }
  return Status::ok();
}

Result<RestartPolicy> parseRestart(const YamlNode& node, const std::string& path) {
  Result<std::string> text = readString(node, path);
  if (!text) return text.status();
  if (*text == "no" || *text == "always" || *text == "unless-stopped" || *text == "on-failure") {
    return RestartPolicy{*text, 0};
  }
  if (text->rfind("on-failure:", 0) == 0) {
    YamlNode count = node;
    count.text = text->substr(11);
    Result<int64_t> retries = readInt(count, path);
    if (retries && *retries >= 0) return RestartPolicy{"on-failure", *retries};
  }
  return errorAt(node, path, "must be no, always, on-failure[:N] or unless-stopped");
}

}  // namespace pharos::compose_detail
