// Readers for the service keys with their own syntax: ports (short and long), healthcheck,
// networks, depends_on, devices, ulimits, extra_hosts, restart (volume mounts are in
// compose_mounts.cpp). Pure functions: thread-safe.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

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
      PHAROS_RETURN_IF_ERROR(refuseBool(entry.value, p));
      Result<std::string> ip = readString(entry.value, p);
      if (!ip) return ip.status();
      PHAROS_RETURN_IF_ERROR(add(entry.value, p, entry.key, *ip));
    }
    return Status::ok();
  }
  if (!node.isSequence()) return errorAt(node, path, "must be a list of host:ip or a mapping");
  for (size_t i = 0; i < node.items.size(); ++i) {
    const std::string p = indexPath(path, i);
    PHAROS_RETURN_IF_ERROR(requireStringItem(node.items[i], p));
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
