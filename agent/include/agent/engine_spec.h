// Maps the normalised compose model (pharos/compose.h) onto Docker Engine API bodies exactly
// as Debian's docker-compose 1.29 creates them for the same file and project name: the
// container-create body (POST /containers/create), the network-create and volume-create
// bodies, and the labels by which the agent later finds what it manages. Pharos adds its own
// labels (io.pharos.*) and its default restart policy (unless-stopped when the file sets
// none, DESIGN.md section 3). Pure functions over values: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pharos/compose.h"
#include "pharos/json.h"

namespace pharos::agent {

// Label keys. Compose's own, so `docker-compose -p <app> ps` on the device lists them.
inline constexpr const char* kLabelProject = "com.docker.compose.project";
inline constexpr const char* kLabelService = "com.docker.compose.service";
inline constexpr const char* kLabelNumber = "com.docker.compose.container-number";
inline constexpr const char* kLabelOneOff = "com.docker.compose.oneoff";
inline constexpr const char* kLabelWorkingDir = "com.docker.compose.project.working_dir";
inline constexpr const char* kLabelComposeVersion = "com.docker.compose.version";
inline constexpr const char* kLabelComposeHash = "com.docker.compose.config-hash";
inline constexpr const char* kLabelComposeNetwork = "com.docker.compose.network";
inline constexpr const char* kLabelComposeVolume = "com.docker.compose.volume";
inline constexpr const char* kComposeVersion = "1.29.2";
// Pharos's own.
inline constexpr const char* kLabelNode = "io.pharos.node";
inline constexpr const char* kLabelApp = "io.pharos.app";
inline constexpr const char* kLabelRevision = "io.pharos.revision";
inline constexpr const char* kLabelConfigHash = "io.pharos.config-hash";
// Set by app.restart: a bump recreates the app's containers.
inline constexpr const char* kLabelRestartCounter = "io.pharos.restart";

// What the mapping needs besides the compose model.
struct EngineContext {
  std::string project;  // the app name (already a valid compose project name)
  std::string node_id;
  int64_t revision = 0;
  std::string config_hash;  // serviceConfigHash(file, service)
  int64_t restart_counter = 0;
  // The app's directory on the device: relative bind sources ("./data") resolve against it
  // and it is the compose working_dir label. Must be absolute.
  std::string working_dir;
  // On a recreate, the old container's volumes to reuse, by container path (carriedVolumes,
  // volume_carry.h): each is bound by name instead of getting a new anonymous volume.
  std::map<std::string, std::string> carried_volumes;
  bool operator==(const EngineContext&) const = default;
};

struct ContainerSpec {
  std::string name;  // container name: container_name, else <project>_<service>_1
  Json body;         // POST /containers/create body
  // Networks beyond the first: docker-compose 1.29 creates the container on its primary
  // network and connects the others before starting it. Pairs of network name and the
  // EndpointConfig body for POST /networks/{name}/connect.
  std::vector<std::pair<std::string, Json>> extra_networks;
};

// The engine name of a project network / named volume: its `name:` when set (external ones
// included), else "<project>_<key>".
std::string networkName(std::string_view project, const std::string& key, const Network& network);
std::string volumeName(std::string_view project, const std::string& key, const Volume& volume);
// The default container name "<project>_<service>_1", or container_name.
std::string containerName(std::string_view project, const Service& service);

// POST /networks/create body for a non-external project network. Attachable, as compose
// 1.29 creates every network (so `docker run --network <app>_default` works).
Json networkCreateBody(const EngineContext& ctx, const std::string& key, const Network& network);
// POST /volumes/create body for a non-external named volume.
Json volumeCreateBody(const EngineContext& ctx, const std::string& key, const Volume& volume);

// The container for one service. `file` supplies the networks and volumes the service uses.
ContainerSpec containerSpec(const ComposeFile& file, const Service& service,
                            const EngineContext& ctx);

// `spec`, built by containerSpec for `ctx` without carried volumes, given the volumes of
// ctx.carried_volumes: only the volume mapping (Volumes, Binds, Mounts) is redone, and the
// result is what containerSpec(file, service, ctx) gives. A recreate builds its body once,
// for the probe, and binds the old container's volumes into it just before the create.
void carryVolumes(ContainerSpec& spec, const ComposeFile& file, const Service& service,
                  const EngineContext& ctx);

// The restart policy Pharos gives Docker: the file's, else unless-stopped.
RestartPolicy effectiveRestartPolicy(const Service& service);

}  // namespace pharos::agent
