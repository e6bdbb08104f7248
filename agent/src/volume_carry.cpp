// Anonymous volumes across a recreate (see volume_carry.h). Pure functions: thread-safe.
#include "agent/volume_carry.h"

#include <algorithm>
#include <cctype>

namespace pharos::agent {
namespace {

std::string stringField(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool generatedName(const std::string& name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

void addVolumePaths(const Json& config, std::set<std::string>& out) {
  if (!config.is_object()) return;
  auto volumes = config.find("Volumes");
  if (volumes == config.end() || !volumes->is_object()) return;
  for (const auto& [path, unused] : volumes->items()) out.insert(path);
}

}  // namespace

std::map<std::string, std::string> volumeMounts(const Json& container_raw) {
  std::map<std::string, std::string> out;
  if (!container_raw.is_object()) return out;
  auto mounts = container_raw.find("Mounts");
  if (mounts == container_raw.end() || !mounts->is_array()) return out;
  for (const Json& mount : *mounts) {
    if (stringField(mount, "Type") != "volume") continue;
    std::string name = stringField(mount, "Name");
    std::string path = stringField(mount, "Destination");
    if (!name.empty() && !path.empty()) out[path] = std::move(name);
  }
  return out;
}

std::vector<std::string> anonymousVolumeNames(const Json& container_raw) {
  std::vector<std::string> out;
  for (const auto& [path, name] : volumeMounts(container_raw)) {
    if (generatedName(name)) out.push_back(name);
  }
  return out;
}

std::set<std::string> imageVolumePaths(const Json& image_raw) {
  std::set<std::string> out;
  if (!image_raw.is_object()) return out;
  for (const char* key : {"Config", "ContainerConfig"}) {
    auto config = image_raw.find(key);
    if (config != image_raw.end()) addVolumePaths(*config, out);
  }
  return out;
}

std::map<std::string, std::string> carriedVolumes(const Service& service,
                                                  const std::map<std::string, std::string>& old,
                                                  const std::set<std::string>& image_paths) {
  std::map<std::string, std::string> out;
  for (const auto& [path, name] : old) {
    if (service.tmpfs.count(path) != 0) continue;
    auto mount = std::find_if(service.volumes.begin(), service.volumes.end(),
                              [&](const VolumeMount& m) { return m.target == path; });
    const bool anonymous = mount != service.volumes.end() && mount->type == MountType::kVolume &&
                           mount->source.empty();
    const bool image_only = mount == service.volumes.end() && image_paths.count(path) != 0;
    if (anonymous || image_only) out[path] = name;
  }
  return out;
}

}  // namespace pharos::agent
