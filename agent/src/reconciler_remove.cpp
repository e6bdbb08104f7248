// The reconciler's removing side (see reconciler.h): apps in state stopped and removed, the
// orphan pass (managed containers of apps no longer desired) and image pruning. Strand only.
#include <spdlog/spdlog.h>

#include "agent/engine_spec.h"
#include "agent/volume_carry.h"
#include "reconciler_internal.h"

namespace pharos::agent {

Status removeWithAnonymousVolumes(DockerClient& docker, const std::string& id) {
  std::vector<std::string> anonymous;
  if (auto info = docker.inspectContainer(id); info.isOk()) {
    anonymous = anonymousVolumeNames(info->raw);
  }
  Status st = docker.removeContainer(id, true, true);
  if (!st.isOk()) return st;
  for (const std::string& volume : anonymous) {
    Status removed = docker.removeVolume(volume);  // in use elsewhere (conflict) or gone: kept
    if (!removed.isOk() && removed.code() != Code::kNotFound && removed.code() != Code::kConflict) {
      spdlog::warn("remove volume {}: {}", volume, removed.message());
    }
  }
  return st;
}

// ---- stopped and removed ----------------------------------------------------------------

void Reconciler::reconcileStopped(AppRun& app, std::vector<ContainerSummary>& containers) {
  const std::string& name = app.desired.spec.name;
  for (const ContainerSummary& c : containers) {
    if (c.state != "running" && c.state != "restarting" && c.state != "paused") continue;
    expected_stops_.insert(c.id);
    Status st = docker_.stopContainer(c.id);
    std::string svc = label(c.labels, kLabelService);
    if (st.isOk()) {
      app.service(svc, options_.backoff).stopped_by_agent = true;
      emit("container_stopped", name, svc, "app state is stopped");
    } else {
      app.failure = "stop " + c.name + ": " + st.message();
    }
  }
}

void Reconciler::reconcileRemoved(AppRun& app, std::vector<ContainerSummary>& containers) {
  const std::string& name = app.desired.spec.name;
  for (const ContainerSummary& c : containers) {
    expected_exits_.insert(c.id);
    if (c.state == "running" || c.state == "restarting") (void)docker_.stopContainer(c.id);
    // Anonymous volumes go with `volumes: delete`; kept otherwise, as by `docker-compose down`.
    Status st = app.desired.spec.volumes == "delete" ? removeWithAnonymousVolumes(docker_, c.id)
                                                     : docker_.removeContainer(c.id, true);
    if (st.isOk() || st.code() == Code::kNotFound) {
      emit("container_removed", name, label(c.labels, kLabelService), "app removed");
    } else {
      app.failure = "remove " + c.name + ": " + st.message();
    }
  }
  std::vector<std::string> filters = {std::string(kLabelNode) + "=" + options_.node_id,
                                      std::string(kLabelApp) + "=" + name};
  if (auto nets = docker_.listNetworks(filters); nets.isOk()) {
    for (const NetworkInfo& n : *nets) {
      Status st = docker_.removeNetwork(n.id.empty() ? n.name : n.id);
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove network " + n.name + ": " + st.message();
      }
    }
  }
  if (app.desired.spec.volumes == "delete") {
    if (auto vols = docker_.listVolumes(filters); vols.isOk()) {
      for (const VolumeInfo& v : *vols) {
        Status st = docker_.removeVolume(v.name);
        if (st.isOk()) {
          emit("volume_removed", name, "", "removed volume " + v.name);
        } else if (st.code() != Code::kNotFound) {
          app.failure = "remove volume " + v.name + ": " + st.message();
        }
      }
    }
  }
}

// ---- orphans ------------------------------------------------------------------------------

void Reconciler::runOrphanPass() {
  auto listed = docker_.listContainers({std::string(kLabelNode) + "=" + options_.node_id}, true);
  if (!listed.isOk()) return;
  std::map<std::string, std::vector<ContainerSummary>> orphans;
  for (const ContainerSummary& c : *listed) {
    std::string app = label(c.labels, kLabelApp);
    if (app.empty()) app = label(c.labels, kLabelProject);
    if (!apps_.count(app)) orphans[app].push_back(c);
  }
  if (frozen_ || !authoritative_) return;
  for (auto& [app, list] : orphans) {
    for (const ContainerSummary& c : list) {
      expected_exits_.insert(c.id);
      if (c.state == "running" || c.state == "restarting") (void)docker_.stopContainer(c.id);
      Status st = docker_.removeContainer(c.id, true);
      if (st.isOk()) {
        emit("container_removed", app, label(c.labels, kLabelService), "app no longer desired");
      }
    }
    if (auto nets = docker_.listNetworks(
            {std::string(kLabelNode) + "=" + options_.node_id, std::string(kLabelApp) + "=" + app});
        nets.isOk()) {
      for (const NetworkInfo& n : *nets) (void)docker_.removeNetwork(n.id.empty() ? n.name : n.id);
    }
    emit("app_removed", app, "", "app no longer desired");
  }
  pruneImages();
}

void Reconciler::pruneImages() {
  if (frozen_ || !authoritative_ || pulls_running_ > 0) return;
  std::set<std::string> keep;
  for (const auto& [name, app] : apps_) {
    if (app->phase != "Running" && app->phase != "Stopped" && app->desired.spec.state != "removed")
      return;  // settle first: an app still converging may need its images
    if (app->desired.spec.state == "removed") continue;
    keep.insert(app->current_images.begin(), app->current_images.end());
    keep.insert(app->previous_images.begin(), app->previous_images.end());
    if (app->file) {
      for (const Service& s : app->file->services) keep.insert(s.image);
    }
  }
  for (auto it = known_images_.begin(); it != known_images_.end();) {
    if (keep.count(*it)) {
      ++it;
      continue;
    }
    Status st = docker_.removeImage(*it, false);
    if (st.isOk()) emit("image_pruned", "", "", "image " + *it + " no longer used");
    // In use by another container (conflict) or gone: either way, stop tracking it.
    it = known_images_.erase(it);
  }
}

}  // namespace pharos::agent
