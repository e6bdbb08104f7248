// The top-level networks: and volumes: of a compose file, normalised to Network and
// Volume (external ones included; the legacy `external: {name: x}` form too).
// Pure functions: thread-safe.
#include <algorithm>
#include <cctype>
#include <string>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

YamlNode keyNode(const YamlEntry& entry) {
  YamlNode node;
  node.line = entry.line;
  node.column = entry.column;
  return node;
}

Status readStringMap(const YamlNode& node, const std::string& path,
                     std::map<std::string, std::string>& out, MapValues rule = MapValues::kNoBool) {
  Result<std::map<std::string, std::string>> values = readKeyValues(node, path, '=', "", rule);
  if (!values) return values.status();
  out = std::move(*values);
  return Status::ok();
}

Status readExternal(const YamlNode& node, const std::string& path, bool& external,
                    std::string& name) {
  if (node.isMap()) {  // legacy `external: {name: x}`
    PHAROS_RETURN_IF_ERROR(checkKeys(node, path, {"name"}));
    external = true;
    if (const YamlNode* n = node.find("name"); n != nullptr && !n->isNull()) {
      Result<std::string> text = readString(*n, joinPath(path, "name"));
      if (!text) return text.status();
      name = *text;
    }
    return Status::ok();
  }
  Result<bool> value = readBool(node, path);
  if (!value) return value.status();
  external = *value;
  return Status::ok();
}

bool validSubnet(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos || !isValidIp(text.substr(0, slash))) return false;
  const std::string prefix = text.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char c) { return std::isdigit(c); })) {
    return false;
  }
  return std::stoi(prefix) <= (text.find(':') == std::string::npos ? 32 : 128);
}

Status readIpam(const YamlNode& node, const std::string& path, Network& network) {
  PHAROS_RETURN_IF_ERROR(checkKeys(node, path, {"driver", "config", "options"}));
  if (const YamlNode* v = node.find("driver"); v != nullptr && !v->isNull()) {
    Result<std::string> driver = readString(*v, joinPath(path, "driver"));
    if (!driver) return driver.status();
    network.ipam_driver = *driver;
  }
  if (const YamlNode* v = node.find("options"); v != nullptr && !v->isNull()) {
    return errorAt(*v, joinPath(path, "options"), "not supported by Pharos");
  }
  const YamlNode* config = node.find("config");
  if (config == nullptr || config->isNull()) return Status::ok();
  const std::string config_path = joinPath(path, "config");
  if (!config->isSequence()) return errorAt(*config, config_path, "must be a list");
  for (size_t i = 0; i < config->items.size(); ++i) {
    const YamlNode& item = config->items[i];
    const std::string p = indexPath(config_path, i);
    PHAROS_RETURN_IF_ERROR(checkKeys(item, p, {"subnet", "ip_range", "gateway", "aux_addresses"}));
    IpamConfig ipam;
    for (const YamlEntry& entry : item.entries) {
      const std::string fp = joinPath(p, entry.key);
      if (entry.value.isNull() || entry.key.rfind("x-", 0) == 0) continue;
      if (entry.key == "aux_addresses") {
        PHAROS_RETURN_IF_ERROR(readStringMap(entry.value, fp, ipam.aux_addresses));
        continue;
      }
      Result<std::string> text = readString(entry.value, fp);
      if (!text) return text.status();
      if (entry.key == "gateway") {
        if (!isValidIp(*text)) return errorAt(entry.value, fp, "not an IP address");
        ipam.gateway = *text;
      } else {
        if (!validSubnet(*text))
          return errorAt(entry.value, fp, "must be a CIDR such as 10.5.0.0/16");
        (entry.key == "subnet" ? ipam.subnet : ipam.ip_range) = *text;
      }
    }
    network.ipam_config.push_back(std::move(ipam));
  }
  return Status::ok();
}

}  // namespace

Status readNetworks(const YamlNode& node, std::map<std::string, Network>& out) {
  const std::string path = "networks";
  PHAROS_RETURN_IF_ERROR(requireMap(node, path));
  for (const YamlEntry& entry : node.entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    const std::string p = joinPath(path, entry.key);
    if (!validResourceName(entry.key)) return errorAt(keyNode(entry), p, "invalid network name");
    Network network;
    const YamlNode& value = entry.value;
    if (!value.isNull()) {
      PHAROS_RETURN_IF_ERROR(checkKeys(value, p,
                                       {"driver", "driver_opts", "external", "internal",
                                        "attachable", "enable_ipv6", "ipam", "labels", "name"}));
      for (const YamlEntry& field : value.entries) {
        const std::string fp = joinPath(p, field.key);
        const YamlNode& v = field.value;
        if (v.isNull() || field.key.rfind("x-", 0) == 0) continue;
        Status status;
        if (field.key == "driver" || field.key == "name") {
          Result<std::string> text = readString(v, fp);
          if (!text) return text.status();
          (field.key == "driver" ? network.driver : network.name) = *text;
          if (field.key == "name" && !validResourceName(*text)) {
            return errorAt(v, fp, "invalid network name");
          }
        } else if (field.key == "driver_opts") {
          status = readStringMap(v, fp, network.driver_opts);
        } else if (field.key == "labels") {
          status = readStringMap(v, fp, network.labels, MapValues::kBoolAsPython);
        } else if (field.key == "external") {
          status = readExternal(v, fp, network.external, network.name);
        } else if (field.key == "ipam") {
          status = readIpam(v, fp, network);
        } else {
          Result<bool> flag = readBool(v, fp);
          if (!flag) return flag.status();
          (field.key == "internal"     ? network.internal
           : field.key == "attachable" ? network.attachable
                                       : network.enable_ipv6) = *flag;
        }
        PHAROS_RETURN_IF_ERROR(status);
      }
      if (network.external) {
        for (const YamlEntry& field : value.entries) {
          if (field.key != "external" && field.key != "name" && field.key.rfind("x-", 0) != 0) {
            return errorAt(keyNode(field), joinPath(p, field.key),
                           "an external network cannot set other keys");
          }
        }
      }
    }
    out[entry.key] = std::move(network);
  }
  return Status::ok();
}

Status readVolumes(const YamlNode& node, std::map<std::string, Volume>& out) {
  const std::string path = "volumes";
  PHAROS_RETURN_IF_ERROR(requireMap(node, path));
  for (const YamlEntry& entry : node.entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    const std::string p = joinPath(path, entry.key);
    if (!validResourceName(entry.key)) return errorAt(keyNode(entry), p, "invalid volume name");
    Volume volume;
    const YamlNode& value = entry.value;
    if (!value.isNull()) {
      PHAROS_RETURN_IF_ERROR(
          checkKeys(value, p, {"driver", "driver_opts", "external", "labels", "name"}));
      for (const YamlEntry& field : value.entries) {
        const std::string fp = joinPath(p, field.key);
        const YamlNode& v = field.value;
        if (v.isNull() || field.key.rfind("x-", 0) == 0) continue;
        if (field.key == "driver" || field.key == "name") {
          Result<std::string> text = readString(v, fp);
          if (!text) return text.status();
          (field.key == "driver" ? volume.driver : volume.name) = *text;
          if (field.key == "name" && !validResourceName(*text)) {
            return errorAt(v, fp, "invalid volume name");
          }
        } else if (field.key == "driver_opts") {
          PHAROS_RETURN_IF_ERROR(readStringMap(v, fp, volume.driver_opts));
        } else if (field.key == "labels") {
          PHAROS_RETURN_IF_ERROR(readStringMap(v, fp, volume.labels, MapValues::kBoolAsPython));
        } else {
          PHAROS_RETURN_IF_ERROR(readExternal(v, fp, volume.external, volume.name));
        }
      }
      if (volume.external && (!volume.driver.empty() || !volume.driver_opts.empty())) {
        return errorAt(value, p, "an external volume cannot set driver or driver_opts");
      }
    }
    out[entry.key] = std::move(volume);
  }
  return Status::ok();
}

}  // namespace pharos::compose_detail
