// parseCompose: size check, the YAML adapter, interpolation, the top-level keys
// (networks and volumes first, so services can be checked against them), services with
// same-file `extends`, and the checks across services (depends_on cycles, duplicate
// container names, clashing host ports). Pure functions: thread-safe.
#include <algorithm>
#include <cctype>
#include <functional>

#include "compose_internal.h"
#include "pharos/ids.h"

namespace pharos {
namespace compose_detail {
namespace {

YamlNode keyNode(const YamlEntry& entry) {
  YamlNode node;
  node.line = entry.line;
  node.column = entry.column;
  return node;
}

// Builds services (resolving same-file `extends`) into `file.services` in file order.
class ServiceBuilder {
 public:
  ServiceBuilder(const YamlNode& services, const ParseContext& context)
      : services_(services), context_(context) {}

  Status build(const std::string& name, Service& out) {
    if (auto it = built_.find(name); it != built_.end()) {
      out = it->second;
      return Status::ok();
    }
    const YamlNode* node = services_.find(name);
    const std::string path = joinPath("services", name);
    PHAROS_RETURN_IF_ERROR(requireMap(*node, path));
    Service service;
    if (const YamlNode* extends = node->find("extends"); extends != nullptr && !extends->isNull()) {
      const std::string extends_path = joinPath(path, "extends");
      std::string base;
      if (extends->isScalar()) {
        base = extends->text;
      } else {
        PHAROS_RETURN_IF_ERROR(checkKeys(*extends, extends_path, {"service", "file"}));
        if (const YamlNode* file = extends->find("file"); file != nullptr && !file->isNull()) {
          return errorAt(*file, joinPath(extends_path, "file"),
                         "other files are not available on devices; extend a service of this "
                         "file or inline the base service");
        }
        const YamlNode* base_node = extends->find("service");
        if (base_node == nullptr) return errorAt(*extends, extends_path, "service is required");
        Result<std::string> text = readString(*base_node, joinPath(extends_path, "service"));
        if (!text) return text.status();
        base = *text;
      }
      if (services_.find(base) == nullptr) {
        return errorAt(*extends, extends_path, "unknown service '" + base + "'");
      }
      if (visiting_.count(base) != 0 || base == name) {
        return errorAt(*extends, extends_path, "extends cycle through '" + base + "'");
      }
      visiting_.insert(name);
      Status status = build(base, service);
      visiting_.erase(name);
      PHAROS_RETURN_IF_ERROR(status);
    }
    service.name = name;
    PHAROS_RETURN_IF_ERROR(readService(*node, path, context_, service));
    built_[name] = service;
    out = std::move(service);
    return Status::ok();
  }

 private:
  const YamlNode& services_;
  const ParseContext& context_;
  std::set<std::string> visiting_;
  std::map<std::string, Service> built_;
};

// Checks one service after its keys are read; `node` is its YAML mapping.
Status finishService(const YamlNode& node, const std::string& path, ComposeFile& file,
                     Service& service) {
  if (service.image.empty()) {
    return errorAt(node, path,
                   "image is required (images are not built on devices; push the image to a "
                   "registry and use image:)");
  }
  if (!service.network_mode.empty()) {
    if (!service.networks.empty()) {
      const YamlNode* networks = node.find("networks");
      return errorAt(networks != nullptr ? *networks : node, joinPath(path, "networks"),
                     "cannot be combined with network_mode");
    }
    if (service.network_mode.rfind("service:", 0) == 0) {
      service.depends_on.try_emplace(service.network_mode.substr(8));
    }
    if (service.network_mode == "host" && !service.ports.empty()) {
      file.warnings.push_back(path + ".ports: ignored with network_mode: host");
    }
  } else if (service.networks.empty()) {
    service.networks["default"] = ServiceNetwork{};
  }
  if (service.networks.count("default") != 0) file.networks.try_emplace("default");
  std::vector<std::string> targets;
  for (const VolumeMount& mount : service.volumes) targets.push_back(mount.target);
  for (const auto& [target, options] : service.tmpfs) {
    if (std::find(targets.begin(), targets.end(), target) != targets.end()) {
      const YamlNode* tmpfs = node.find("tmpfs");
      return errorAt(tmpfs != nullptr ? *tmpfs : node, joinPath(path, "tmpfs"),
                     "duplicate mount point '" + target + "'");
    }
  }
  return Status::ok();
}

const YamlNode& nodeOr(const YamlNode& node, const char* key) {
  const YamlNode* found = node.find(key);
  return found != nullptr ? *found : node;
}

// A host address that listens on every interface: it clashes with any other address.
bool isWildcard(const std::string& ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; }

Status checkAcrossServices(const YamlNode& services, const ComposeFile& file) {
  std::map<std::string, std::string> container_names;
  // "8080/tcp" -> host address -> service
  std::map<std::string, std::map<std::string, std::string>> published;
  for (const Service& service : file.services) {
    const YamlNode& node = *services.find(service.name);
    const std::string path = joinPath("services", service.name);
    if (!service.container_name.empty()) {
      auto [it, inserted] = container_names.emplace(service.container_name, service.name);
      if (!inserted) {
        return errorAt(nodeOr(node, "container_name"), joinPath(path, "container_name"),
                       "'" + service.container_name + "' is already used by service " + it->second);
      }
    }
    for (const PortMapping& port : service.ports) {
      if (port.host_port.empty() || port.host_port.find('-') != std::string::npos) continue;
      const std::string key = port.host_port + "/" + port.protocol;
      std::map<std::string, std::string>& by_address = published[key];
      const std::string* clash = nullptr;
      if (isWildcard(port.host_ip) && !by_address.empty()) {
        clash = &by_address.begin()->second;
      } else if (auto it = by_address.find(port.host_ip); it != by_address.end()) {
        clash = &it->second;
      } else {
        for (const char* wildcard : {"", "0.0.0.0", "::"}) {
          if (auto w = by_address.find(wildcard); w != by_address.end()) clash = &w->second;
        }
      }
      if (clash != nullptr) {
        return errorAt(nodeOr(node, "ports"), joinPath(path, "ports"),
                       "host port " + key +
                           (*clash == service.name ? std::string(" is published twice")
                                                   : " is already published by service " + *clash));
      }
      by_address.emplace(port.host_ip, service.name);
    }
  }
  // depends_on cycles: depth-first search with colours.
  std::map<std::string, int> colour;
  std::vector<std::string> stack;
  std::function<Status(const Service&)> visit = [&](const Service& service) -> Status {
    colour[service.name] = 1;
    stack.push_back(service.name);
    for (const auto& [dependency, condition] : service.depends_on) {
      if (dependency == service.name || colour[dependency] == 1) {
        std::string cycle;
        auto from = std::find(stack.begin(), stack.end(), dependency);
        for (auto it = from; it != stack.end(); ++it) cycle += *it + " -> ";
        cycle += dependency;
        const std::string path = joinPath("services", service.name);
        return errorAt(nodeOr(*services.find(service.name), "depends_on"),
                       joinPath(path, "depends_on"), "dependency cycle: " + cycle);
      }
      const Service* next = file.findService(dependency);  // null: inactive, not required
      if (next != nullptr && colour[dependency] == 0) PHAROS_RETURN_IF_ERROR(visit(*next));
    }
    stack.pop_back();
    colour[service.name] = 2;
    return Status::ok();
  };
  for (const Service& service : file.services) {
    if (colour[service.name] == 0) PHAROS_RETURN_IF_ERROR(visit(service));
  }
  return Status::ok();
}

// The profiles enabled by COMPOSE_PROFILES ("a,b"; blanks around names ignored).
std::set<std::string> enabledProfiles(const Variables& vars) {
  std::set<std::string> out;
  auto it = vars.find("COMPOSE_PROFILES");
  if (it == vars.end()) return out;
  std::string_view text = it->second;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) {
      name.remove_prefix(1);
    }
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) {
      name.remove_suffix(1);
    }
    if (!name.empty()) out.emplace(name);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// Moves services none of whose profiles is enabled to file.inactive_services, after
// refusing an active service's required dependency on one of them (compose: "Service "x" was
// pulled in as a dependency of service "y" but is not enabled by the active profiles").
Status applyProfiles(const YamlNode& services, const Variables& vars, ComposeFile& file) {
  const std::set<std::string> enabled = enabledProfiles(vars);
  auto active = [&](const Service& service) {
    return service.profiles.empty() ||
           std::any_of(service.profiles.begin(), service.profiles.end(),
                       [&](const std::string& profile) { return enabled.count(profile) != 0; });
  };
  for (const Service& service : file.services) {
    if (!active(service)) continue;
    for (const auto& [name, dependency] : service.depends_on) {
      const Service* target = file.findService(name);
      if (target == nullptr || active(*target) || !dependency.required) continue;
      const std::string path = joinPath("services", service.name);
      const YamlNode& node = *services.find(service.name);
      const bool by_network = service.network_mode == "service:" + name;
      return errorAt(
          nodeOr(node, by_network ? "network_mode" : "depends_on"),
          joinPath(path, by_network ? "network_mode" : "depends_on"),
          "service '" + name + "' is not enabled by the active profiles (it has " +
              "profiles: " + joined(target->profiles) + "; COMPOSE_PROFILES: " +
              (enabled.empty() ? std::string("none") : joined({enabled.begin(), enabled.end()})) +
              "); enable one of its profiles or give both services a common profile");
    }
  }
  std::vector<Service> kept;
  for (Service& service : file.services) {
    if (active(service)) {
      kept.push_back(std::move(service));
    } else {
      file.inactive_services.push_back(service.name);
    }
  }
  file.services = std::move(kept);
  return Status::ok();
}

constexpr std::string_view kTopLevel[] = {"version", "name", "services", "networks", "volumes"};

Status readTopLevel(const YamlNode& root, const Variables& vars, const ComposeLimits& limits,
                    ComposeFile& file) {
  if (!root.isMap()) return errorAt(root, "", "a compose file must be a mapping of top-level keys");
  for (const YamlEntry& entry : root.entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    if (std::find(std::begin(kTopLevel), std::end(kTopLevel), entry.key) != std::end(kTopLevel)) {
      continue;
    }
    if (entry.key == "secrets" || entry.key == "configs") {
      return errorAt(keyNode(entry), entry.key,
                     "file-based secrets and configs are not available on devices; pass values "
                     "as variables");
    }
    if (entry.key == "include") {
      return errorAt(keyNode(entry), entry.key, "other files are not available on devices");
    }
    return errorAt(keyNode(entry), entry.key, "unknown key");
  }
  if (const YamlNode* name = root.find("name"); name != nullptr && !name->isNull()) {
    Result<std::string> text = readString(*name, "name");
    if (!text) return text.status();
    file.name = *text;
  }
  if (const YamlNode* version = root.find("version"); version != nullptr && !version->isNull()) {
    Result<std::string> text = readString(*version, "version");
    if (!text) return text.status();
  }
  if (const YamlNode* networks = root.find("networks");
      networks != nullptr && !networks->isNull()) {
    PHAROS_RETURN_IF_ERROR(readNetworks(*networks, file.networks));
  }
  if (const YamlNode* volumes = root.find("volumes"); volumes != nullptr && !volumes->isNull()) {
    PHAROS_RETURN_IF_ERROR(readVolumes(*volumes, file.volumes));
  }
  const YamlNode* services = root.find("services");
  if (services == nullptr || services->isNull()) {
    return errorAt(root, "services", "at least one service is required");
  }
  PHAROS_RETURN_IF_ERROR(requireMap(*services, "services"));
  ParseContext context;
  context.vars = &vars;
  context.networks = &file.networks;
  context.volumes = &file.volumes;
  context.warnings = &file.warnings;
  for (const YamlEntry& entry : services->entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    const std::string path = joinPath("services", entry.key);
    Status valid = validateId(IdKind::kService, entry.key, path);
    if (!valid.isOk()) {
      return Status::invalidArgument(valid.message())
          .withPath(path)
          .withPosition(entry.line, entry.column);
    }
    context.service_names.insert(entry.key);
  }
  if (context.service_names.empty())
    return errorAt(*services, "services", "at least one service is required");
  if (context.service_names.size() > limits.max_services) {
    return Status::tooLarge("services: more than " + std::to_string(limits.max_services) +
                            " services")
        .withPath("services")
        .withPosition(services->line, services->column);
  }
  const std::map<std::string, Network> declared_networks = file.networks;
  context.networks = &declared_networks;
  ServiceBuilder builder(*services, context);
  for (const YamlEntry& entry : services->entries) {
    if (entry.key.rfind("x-", 0) == 0) continue;
    Service service;
    PHAROS_RETURN_IF_ERROR(builder.build(entry.key, service));
    PHAROS_RETURN_IF_ERROR(
        finishService(entry.value, joinPath("services", entry.key), file, service));
    file.services.push_back(std::move(service));
  }
  PHAROS_RETURN_IF_ERROR(applyProfiles(*services, vars, file));
  return checkAcrossServices(*services, file);
}

// Offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t invalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    const uint32_t minimum = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return std::string_view::npos;
}

Status checkUtf8(std::string_view text) {
  const size_t bad = invalidUtf8(text);
  if (bad == std::string_view::npos) return Status::ok();
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < bad; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return Status::invalidArgument("invalid UTF-8 at line " + std::to_string(line) + ", column " +
                                 std::to_string(column))
      .withPosition(line, column);
}

}  // namespace
}  // namespace compose_detail

Result<ComposeFile> parseCompose(std::string_view yaml_text, const Variables& vars,
                                 const ComposeLimits& limits) {
  if (yaml_text.size() > limits.max_bytes) {
    return Status::tooLarge("compose file is " + std::to_string(yaml_text.size()) +
                            " bytes; the limit is " + std::to_string(limits.max_bytes));
  }
  PHAROS_RETURN_IF_ERROR(compose_detail::checkUtf8(yaml_text));
  size_t expanded_bytes = 0;
  Result<compose_detail::YamlNode> root =
      compose_detail::loadYaml(yaml_text, limits, &expanded_bytes);
  if (!root) return root.status();
  ComposeFile file;
  PHAROS_RETURN_IF_ERROR(
      compose_detail::interpolateTree(*root, vars, limits, expanded_bytes, file.warnings));
  PHAROS_RETURN_IF_ERROR(compose_detail::readTopLevel(*root, vars, limits, file));
  return file;
}

const Service* ComposeFile::findService(std::string_view service_name) const {
  for (const Service& service : services) {
    if (service.name == service_name) return &service;
  }
  return nullptr;
}

std::vector<const Service*> ComposeFile::startOrder() const {
  std::vector<const Service*> order;
  std::set<std::string> placed;
  while (order.size() < services.size()) {
    bool progress = false;
    for (const Service& service : services) {
      if (placed.count(service.name) != 0) continue;
      const bool ready = std::all_of(
          service.depends_on.begin(), service.depends_on.end(), [&](const auto& dependency) {
            return placed.count(dependency.first) != 0 || findService(dependency.first) == nullptr;
          });
      if (!ready) continue;
      order.push_back(&service);
      placed.insert(service.name);
      progress = true;
      break;
    }
    if (!progress) {  // a cycle (not produced by parseCompose): append the rest in file order
      for (const Service& service : services) {
        if (placed.insert(service.name).second) order.push_back(&service);
      }
    }
  }
  return order;
}

Status validateProjectName(std::string_view name) { return validateId(IdKind::kApp, name, "name"); }

}  // namespace pharos
