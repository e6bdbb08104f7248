// Volume mounts of a service: the short syntax ("name:/path:ro", "./x:/y", "/abs:/y:rshared",
// "/anonymous") and the long one (type volume|bind|tmpfs with its options), normalised to
// the same VolumeMount. Named volumes must be declared under the top-level volumes:.
// Pure functions: thread-safe.
#include <algorithm>
#include <string>
#include <vector>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

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
    // The long syntax creates no missing host path unless bind.create_host_path says so
    // (Compose Specification; compose 1.29 sends a bind Mount, which the engine refuses with
    // "bind source path does not exist"). The short syntax creates it, as docker does.
    mount.create_host_path = false;
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

}  // namespace pharos::compose_detail
