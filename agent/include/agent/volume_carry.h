// Anonymous volumes across a recreate, as docker-compose 1.29 handles them
// (service.py get_container_data_volumes / merge_volume_bindings): the new container of a
// service reuses the volumes the old one had at the paths where the new configuration wants
// an anonymous volume, or where the image declares a VOLUME that the configuration does not
// mount otherwise. The agent passes the result to containerSpec (EngineContext), which binds
// each carried volume by name. Pure functions over inspect documents: thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "pharos/compose.h"
#include "pharos/json.h"

namespace pharos::agent {

// Volume mounts of a container inspect document: container path -> volume name (Mounts with
// Type "volume"; binds and tmpfs are left out).
std::map<std::string, std::string> volumeMounts(const Json& container_raw);

// Names of the anonymous volumes a container uses: its volume mounts whose name the engine
// generated (64 hex digits), in path order.
std::vector<std::string> anonymousVolumeNames(const Json& container_raw);

// The VOLUME paths of an image inspect document (Config.Volumes, and ContainerConfig.Volumes
// of images built by the classic builder, which compose 1.29 reads).
std::set<std::string> imageVolumePaths(const Json& image_raw);

// Which of the old container's volumes the new one reuses, by container path: every old
// volume mount at a path where `service` declares an anonymous volume, or at a path in
// `image_paths` that `service` does not mount (volumes, tmpfs).
std::map<std::string, std::string> carriedVolumes(const Service& service,
                                                  const std::map<std::string, std::string>& old,
                                                  const std::set<std::string>& image_paths);

}  // namespace pharos::agent
