// The reconciler's removing side (see reconciler.h): apps in state stopped and removed, the
// orphan pass (managed containers of apps no longer desired) and image pruning. Stops go in
// reverse depends_on order on the stop executor (stopInOrder); the pass that finds them
// still running returns, and the stop's end runs it again. Run with mu_ held, released
// around every engine call.
#include <spdlog/spdlog.h>

#include "agent/engine_spec.h"
#include "agent/volume_carry.h"
#include "reconciler_internal.h"

namespace pharos::agent {

namespace {

std::string servicesOf(const std::vector<ContainerSummary>& list) {
  std::string out;
  for (const ContainerSummary& c : list) {
    out += (out.empty() ? "" : ", ") + label(c.labels, kLabelService);
  }
  return out;
}

}  // namespace

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
  std::vector<ContainerSummary> running;
  for (const ContainerSummary& c : containers) {
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting ||
        c.state == ContainerState::kPaused)
      running.push_back(c);
  }
  if (stopInOrder(app.desired.spec.name, app.stopping, running, dependencyGraph(app.file.get()),
                  true)) {
    app.stops_pending = true;
    app.stops_message = "stopping " + servicesOf(running);
  }
}

void Reconciler::reconcileRemoved(AppRun& app, std::vector<ContainerSummary>& containers) {
  const std::string& name = app.desired.spec.name;
  std::vector<ContainerSummary> running;
  for (const ContainerSummary& c : containers) {
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting)
      running.push_back(c);
  }
  if (stopInOrder(name, app.stopping, running, dependencyGraph(app.file.get()), false)) {
    app.stops_pending = true;
    app.stops_message = "stopping " + servicesOf(running);
    return;
  }
  for (const ContainerSummary& c : containers) {
    expected_exits_.insert(c.id);
    // Anonymous volumes go with `volumes: delete`; kept otherwise, as by `docker-compose down`.
    Status st = engine([&] {
      return app.desired.spec.volumes == VolumePolicy::kDelete
                 ? removeWithAnonymousVolumes(docker_, c.id)
                 : docker_.removeContainer(c.id, true);
    });
    if (st.isOk() || st.code() == Code::kNotFound) {
      emit("container_removed", name, label(c.labels, kLabelService), "app removed");
    } else {
      app.failure = "remove " + c.name + ": " + st.message();
    }
  }
  std::vector<std::string> filters = {std::string(kLabelNode) + "=" + options_.node_id,
                                      std::string(kLabelApp) + "=" + name};
  if (auto nets = engine([&] { return docker_.listNetworks(filters); }); nets.isOk()) {
    for (const NetworkInfo& n : *nets) {
      Status st = engine([&] { return docker_.removeNetwork(n.id.empty() ? n.name : n.id); });
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove network " + n.name + ": " + st.message();
      }
    }
  }
  if (app.desired.spec.volumes == VolumePolicy::kDelete) {
    if (auto vols = engine([&] { return docker_.listVolumes(filters); }); vols.isOk()) {
      for (const VolumeInfo& v : *vols) {
        Status st = engine([&] { return docker_.removeVolume(v.name); });
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
  Lock lock(mu_);
  const std::string node_filter = std::string(kLabelNode) + "=" + options_.node_id;
  auto listed = engine([&] { return docker_.listContainers({node_filter}, true); });
  if (!listed.isOk()) return;
  std::map<std::string, std::vector<ContainerSummary>> orphans;
  for (const ContainerSummary& c : *listed) {
    std::string app = label(c.labels, kLabelApp);
    if (app.empty()) app = label(c.labels, kLabelProject);
    if (!apps_.count(app)) orphans[app].push_back(c);
  }
  if (frozen_ || !authoritative_) return;
  bool stops_pending = false;
  for (auto& [app, list] : orphans) {
    if (apps_.count(app)) continue;  // desired again meanwhile
    std::vector<ContainerSummary> running;
    for (const ContainerSummary& c : list) {
      if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting)
        running.push_back(c);
    }
    // Apps dropped from the desired set stop in their file's order; unknown ones at once.
    auto file = dropped_files_.find(app);
    if (stopInOrder("", orphan_stopping_, running,
                    dependencyGraph(file == dropped_files_.end() ? nullptr : file->second.get()),
                    false)) {
      stops_pending = true;
      continue;
    }
    for (const ContainerSummary& c : list) {
      expected_exits_.insert(c.id);
      Status st = engine([&] { return docker_.removeContainer(c.id, true); });
      if (st.isOk()) {
        emit("container_removed", app, label(c.labels, kLabelService), "app no longer desired");
      }
    }
    const std::vector<std::string> filters = {node_filter, std::string(kLabelApp) + "=" + app};
    if (auto nets = engine([&] { return docker_.listNetworks(filters); }); nets.isOk()) {
      for (const NetworkInfo& n : *nets) {
        (void)engine([&] { return docker_.removeNetwork(n.id.empty() ? n.name : n.id); });
      }
    }
    dropped_files_.erase(app);
    emit("app_removed", app, "", "app no longer desired");
  }
  if (!stops_pending) pruneImages();
}

void Reconciler::pruneImages() {
  if (frozen_ || !authoritative_ || pulls_running_ > 0) return;
  std::set<std::string> keep;
  for (const auto& [name, app] : apps_) {
    if (app->phase != AppPhase::kRunning && app->phase != AppPhase::kStopped &&
        app->desired.spec.state != DesiredState::kRemoved)
      return;  // settle first: an app still converging may need its images
    if (app->desired.spec.state == DesiredState::kRemoved) continue;
    keep.insert(app->current_images.begin(), app->current_images.end());
    keep.insert(app->previous_images.begin(), app->previous_images.end());
    if (app->file) {
      for (const Service& s : app->file->services) keep.insert(s.image);
    }
    if (app->next && app->next->file) {
      for (const Service& s : app->next->file->services) keep.insert(s.image);
    }
  }
  std::vector<std::string> unused;
  for (const auto& [image, apps] : known_images_) {
    if (!keep.count(image)) unused.push_back(image);
  }
  for (const std::string& image : unused) {
    if (!appsUsing(image).empty()) continue;  // desired again while mu_ was released
    Status st = engine([&] { return docker_.removeImage(image, false); });
    auto it = known_images_.find(image);
    if (it == known_images_.end()) continue;
    if (st.isOk()) {
      // Named after the apps that needed it, so each app's events show it went.
      std::set<std::string> named = it->second.empty() ? std::set<std::string>{""} : it->second;
      for (const std::string& app : named) {
        emit("image_pruned", app, "", "image " + image + " no longer used");
      }
    }
    // In use by another container (conflict) or gone: either way, stop tracking it.
    known_images_.erase(it);
  }
}

}  // namespace pharos::agent
