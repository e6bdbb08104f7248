// The reconciler's removing side (see app_remover.h). Mutex held, released around every
// engine call.
#include "app_remover.h"

#include <spdlog/spdlog.h>

#include "agent/engine_spec.h"
#include "agent/volume_carry.h"

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

Status removeWithAnonymousVolumes(DockerApi docker, const std::string& id) {
  std::vector<std::string> anonymous;
  if (auto info = docker.containers.inspectContainer(id); info.isOk()) {
    anonymous = anonymousVolumeNames(info->raw);
  }
  Status st = docker.containers.removeContainer(id, true, true);
  if (!st.isOk()) return st;
  for (const std::string& volume : anonymous) {
    Status removed =
        docker.volumes.removeVolume(volume);  // in use elsewhere (conflict) or gone: kept
    if (!removed.isOk() && removed.code() != Code::kNotFound && removed.code() != Code::kConflict) {
      spdlog::warn("remove volume {}: {}", volume, removed.message());
    }
  }
  return st;
}

AppRemover::AppRemover(ReconcilerContext& ctx, AppTable& table, AppReporter& reporter,
                       ContainerSupervisor& supervisor, ContainerStopper& stopper,
                       AppImages& images)
    : ctx_(ctx),
      table_(table),
      reporter_(reporter),
      supervisor_(supervisor),
      stopper_(stopper),
      images_(images) {}

void AppRemover::noteDropped(const std::string& app, std::shared_ptr<const ComposeFile> file) {
  dropped_files_[app] = std::move(file);
}

void AppRemover::stopApp(AppRun& app, std::vector<ContainerSummary>& containers) {
  std::vector<ContainerSummary> running;
  for (const ContainerSummary& c : containers) {
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting ||
        c.state == ContainerState::kPaused)
      running.push_back(c);
  }
  if (stopper_.stopInOrder(app.desired.spec.name, app.stopping, running,
                           dependencyGraph(app.file.get()), true)) {
    app.stops_pending = true;
    app.stops_message = "stopping " + servicesOf(running);
  }
}

void AppRemover::removeApp(AppRun& app, std::vector<ContainerSummary>& containers) {
  const std::string& name = app.desired.spec.name;
  std::vector<ContainerSummary> running;
  for (const ContainerSummary& c : containers) {
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting)
      running.push_back(c);
  }
  if (stopper_.stopInOrder(name, app.stopping, running, dependencyGraph(app.file.get()), false)) {
    app.stops_pending = true;
    app.stops_message = "stopping " + servicesOf(running);
    return;
  }
  for (const ContainerSummary& c : containers) {
    supervisor_.expectExit(c.id);
    // Anonymous volumes go with `volumes: delete`; kept otherwise, as by `docker-compose down`.
    Status st = ctx_.engine([&] {
      return app.desired.spec.volumes == VolumePolicy::kDelete
                 ? removeWithAnonymousVolumes(ctx_.docker, c.id)
                 : ctx_.docker.containers.removeContainer(c.id, true);
    });
    if (st.isOk() || st.code() == Code::kNotFound) {
      reporter_.emit("container_removed", name, label(c.labels, kLabelService), "app removed");
    } else {
      app.failure = "remove " + c.name + ": " + st.message();
    }
  }
  std::vector<std::string> filters = {std::string(kLabelNode) + "=" + ctx_.options.node_id,
                                      std::string(kLabelApp) + "=" + name};
  if (auto nets = ctx_.engine([&] { return ctx_.docker.networks.listNetworks(filters); });
      nets.isOk()) {
    for (const NetworkInfo& n : *nets) {
      Status st = ctx_.engine(
          [&] { return ctx_.docker.networks.removeNetwork(n.id.empty() ? n.name : n.id); });
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove network " + n.name + ": " + st.message();
      }
    }
  }
  if (app.desired.spec.volumes == VolumePolicy::kDelete) {
    if (auto vols = ctx_.engine([&] { return ctx_.docker.volumes.listVolumes(filters); });
        vols.isOk()) {
      for (const VolumeInfo& v : *vols) {
        Status st = ctx_.engine([&] { return ctx_.docker.volumes.removeVolume(v.name); });
        if (st.isOk()) {
          reporter_.emit("volume_removed", name, "", "removed volume " + v.name);
        } else if (st.code() != Code::kNotFound) {
          app.failure = "remove volume " + v.name + ": " + st.message();
        }
      }
    }
  }
}

// ---- orphans ------------------------------------------------------------------------------

void AppRemover::runOrphanPass() {
  Lock lock(ctx_.mu);
  const std::string node_filter = std::string(kLabelNode) + "=" + ctx_.options.node_id;
  auto listed =
      ctx_.engine([&] { return ctx_.docker.containers.listContainers({node_filter}, true); });
  if (!listed.isOk()) return;
  std::map<std::string, std::vector<ContainerSummary>> orphans;
  for (const ContainerSummary& c : *listed) {
    std::string app = label(c.labels, kLabelApp);
    if (app.empty()) app = label(c.labels, kLabelProject);
    if (!table_.has(app)) orphans[app].push_back(c);
  }
  if (table_.frozen() || !table_.authoritative()) return;
  bool stops_pending = false;
  for (auto& [app, list] : orphans) {
    if (table_.has(app)) continue;  // desired again meanwhile
    std::vector<ContainerSummary> running;
    for (const ContainerSummary& c : list) {
      if (c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting)
        running.push_back(c);
    }
    // Apps dropped from the desired set stop in their file's order; unknown ones at once.
    auto file = dropped_files_.find(app);
    if (stopper_.stopOrphans(
            running,
            dependencyGraph(file == dropped_files_.end() ? nullptr : file->second.get()))) {
      stops_pending = true;
      continue;
    }
    for (const ContainerSummary& c : list) {
      supervisor_.expectExit(c.id);
      Status st = ctx_.engine([&] { return ctx_.docker.containers.removeContainer(c.id, true); });
      if (st.isOk()) {
        reporter_.emit("container_removed", app, label(c.labels, kLabelService),
                       "app no longer desired");
      }
    }
    const std::vector<std::string> filters = {node_filter, std::string(kLabelApp) + "=" + app};
    if (auto nets = ctx_.engine([&] { return ctx_.docker.networks.listNetworks(filters); });
        nets.isOk()) {
      for (const NetworkInfo& n : *nets) {
        (void)ctx_.engine(
            [&] { return ctx_.docker.networks.removeNetwork(n.id.empty() ? n.name : n.id); });
      }
    }
    dropped_files_.erase(app);
    reporter_.emit("app_removed", app, "", "app no longer desired");
  }
  if (!stops_pending) images_.prune();
}

}  // namespace pharos::agent
