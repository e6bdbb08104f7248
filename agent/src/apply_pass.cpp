// An app's pass and its running state (see apply_pass.h); what a service needs before it is
// created, and its creation, are in apply_pass_create.cpp. Mutex held, released around every
// engine call (ReconcilerContext::engine).
#include "apply_pass.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "agent/engine_spec.h"
#include "agent/volume_carry.h"

namespace pharos::agent {
namespace {

void makeDirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      spdlog::warn("cannot create {}: errno {}", part, errno);
      return;
    }
  }
}

// The VOLUME paths of the images of a service's old and new container (compose 1.29 reads
// the old container's image; the new one's counts too).
std::set<std::string> imagePaths(DockerImages& docker, const Service& service,
                                 const ContainerInfo& old) {
  std::set<std::string> paths;
  for (const std::string& image : {service.image, old.image_id}) {
    if (image.empty()) continue;
    if (auto info = docker.inspectImage(image); info.isOk()) {
      std::set<std::string> more = imageVolumePaths(info->raw);
      paths.insert(more.begin(), more.end());
    }
  }
  return paths;
}

}  // namespace

ApplyPass::ApplyPass(ReconcilerContext& ctx, ReconcileLanes& lanes, AppTable& table,
                     AppReporter& reporter, AppImages& images, ContainerSupervisor& supervisor,
                     ContainerStopper& stopper, AppRemover& remover)
    : ctx_(ctx),
      lanes_(lanes),
      table_(table),
      reporter_(reporter),
      images_(images),
      supervisor_(supervisor),
      stopper_(stopper),
      remover_(remover) {}

void ApplyPass::run(const std::string& name) {
  Lock lock(ctx_.mu);
  std::shared_ptr<AppRun> keep = table_.find(name);  // lives on if setDesired drops it meanwhile
  if (!keep) return;
  AppRun& app = *keep;
  ++passes_running_;
  struct Done {
    ApplyPass* self;
    AppRun& app;
    ~Done() {
      --self->passes_running_;
      if (app.detached) self->lanes_.schedule("", std::chrono::milliseconds(0));  // leftovers
    }
  } done{this, app};
  if (AppTable::adopt(app)) images_.retryFailed(app.file.get());
  app.failure.clear();
  app.waiting = false;
  app.waiting_message.clear();
  app.stops_pending = false;
  app.stops_message.clear();
  app.refused.clear();
  const std::vector<std::string> filters = {std::string(kLabelNode) + "=" + ctx_.options.node_id,
                                            std::string(kLabelApp) + "=" + name};
  auto listed = ctx_.engine([&] { return ctx_.docker.containers.listContainers(filters, true); });
  if (!listed.isOk()) {
    app.failure = "container engine: " + listed.status().message();
    reporter_.computePhase(app);
    reporter_.changed();
    return;
  }
  std::vector<ContainerSummary> containers = std::move(listed).value();
  if (!table_.frozen() && !app.detached) {
    switch (app.desired.spec.state) {
      case DesiredState::kRemoved:
        remover_.removeApp(app, containers);
        break;
      case DesiredState::kStopped:
        remover_.stopApp(app, containers);
        break;
      case DesiredState::kRunning:
        applyRunning(app, containers);
        break;
    }
  }
  // Observe what is there now.
  auto now_listed =
      ctx_.engine([&] { return ctx_.docker.containers.listContainers(filters, true); });
  if (now_listed.isOk()) {
    std::set<std::string> seen;
    for (const ContainerSummary& c : *now_listed) {
      std::string svc = label(c.labels, kLabelService);
      if (svc.empty() || seen.count(svc)) continue;
      auto info = ctx_.engine([&] { return ctx_.docker.containers.inspectContainer(c.id); });
      if (!info.isOk()) continue;
      seen.insert(svc);
      ServiceRun& run = app.service(svc, ctx_.options.backoff);
      run.info = std::move(info).value();
      // Kept for its typed fields: the engine's whole document (Config, HostConfig,
      // NetworkSettings, ...: a DOM of some 20 kB per container) is read only from a fresh
      // inspect (recreate, remove, logs, the app's containers command).
      run.info->raw = Json();
      run.container_id = run.info->id;
      run.ever_seen = true;
    }
    for (auto& [svc, run] : app.services) {
      if (!seen.count(svc)) run.info.reset();
    }
    if (app.desired.spec.state == DesiredState::kRemoved && now_listed->empty() &&
        !table_.frozen()) {
      auto nets = ctx_.engine([&] { return ctx_.docker.networks.listNetworks(filters); });
      if (nets.isOk() && nets->empty()) {
        app.gone = true;
        if (!app.removal_reported && !app.services.empty()) {
          app.removal_reported = true;
          reporter_.emit(
              "app_removed", name, "",
              "app removed (revision " + std::to_string(app.desired.spec.revision) + ")");
        }
      }
    }
  }
  reporter_.computePhase(app);
  reporter_.changed();
  if (app.phase == AppPhase::kRunning || app.phase == AppPhase::kStopped)
    lanes_.schedule("", std::chrono::seconds(5));
}

// ---- running ------------------------------------------------------------------------------

namespace {

const ContainerSummary* primaryOf(const std::vector<ContainerSummary>& list,
                                  const std::string& want_name) {
  for (const ContainerSummary& c : list) {
    if (c.name == want_name) return &c;
  }
  return list.empty() ? nullptr : &list.front();
}

bool isUp(const ContainerSummary& c) {
  return c.state == ContainerState::kRunning || c.state == ContainerState::kRestarting;
}

}  // namespace

void ApplyPass::applyRunning(AppRun& app, std::vector<ContainerSummary>& containers) {
  if (!app.file) return;                 // never parsed: nothing to do
  if (!app.parse_error.empty()) return;  // invalid compose: what runs stays as it is
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  if (!ensureImages(app)) return;
  if (ctx_.options.create_app_dirs) {
    std::string dir = appDir(name);
    ctx_.engine([&] { makeDirs(dir); });
  }
  if (!ensureNetworksAndVolumes(app)) return;

  // Containers of changed services, and of services no longer in the file, stop first.
  bool stops_pending = replaceChanged(app, containers);
  std::map<std::string, std::vector<ContainerSummary>> by_service;
  for (const ContainerSummary& c : containers) {
    by_service[label(c.labels, kLabelService)].push_back(c);
  }
  for (auto& [svc, list] : by_service) {
    if (file.findService(svc) || stops_pending) continue;
    for (const ContainerSummary& c : list) {
      supervisor_.expectExit(c.id);
      Status st = ctx_.engine([&] { return removeWithAnonymousVolumes(ctx_.docker, c.id); });
      if (st.isOk()) {
        reporter_.emit("container_removed", name, svc, "service no longer in the compose file");
      } else {
        app.failure = "remove " + c.name + ": " + st.message();
      }
    }
    app.services.erase(svc);
  }

  std::string restart_counter = std::to_string(app.desired.spec.restart);
  for (const Service* service : file.startOrder()) {
    ServiceRun& run = app.service(service->name, ctx_.options.backoff);
    std::string hash = serviceConfigHash(file, *service);
    auto& list = by_service[service->name];
    // The primary container: the one with the expected name, else the first listed.
    const ContainerSummary* primary = primaryOf(list, containerName(name, *service));
    for (const ContainerSummary& c : list) {  // duplicates and leftover probes
      if (&c == primary) continue;
      supervisor_.expectExit(c.id);
      if (ctx_.engine([&] { return removeWithAnonymousVolumes(ctx_.docker, c.id); }).isOk()) {
        reporter_.emit("container_removed", name, service->name, "duplicate container " + c.name);
      }
    }
    bool up_to_date = primary && label(primary->labels, kLabelConfigHash) == hash &&
                      label(primary->labels, kLabelRestartCounter) == restart_counter;
    if (up_to_date) {
      run.waiting_since.reset();
      std::string id = primary->id;
      auto info = ctx_.engine([&] { return ctx_.docker.containers.inspectContainer(id); });
      if (info.isOk()) supervisor_.supervise(app, *service, run, *info);
      continue;
    }
    if (stops_pending) continue;  // replacements and creations wait for the stops
    std::string waiting_for;
    bool dep_failed = false;
    if (!dependenciesMet(app, *service, waiting_for, dep_failed)) {
      if (dep_failed) {
        app.failure = waiting_for;
      } else {
        app.waiting = true;
        if (app.waiting_message.empty()) app.waiting_message = waiting_for;
        lanes_.schedule(name, ctx_.options.dependency_poll);
      }
      continue;
    }
    run.waiting_since.reset();
    std::string reason;
    if (primary) {
      reason = label(primary->labels, kLabelConfigHash) != hash ? "configuration changed"
                                                                : "restart requested";
    } else if (run.ever_seen) {
      reason = "container removed outside Pharos";
    }
    std::map<std::string, std::string> carried;  // the old container's volumes to reuse
    if (primary) {
      if (app.refused.count(service->name)) continue;  // refused above, this pass
      // Refuse early (before touching the old one) when the engine rejects the new body.
      Status probe = probeCreate(app, *service, hash);
      if (!probe.isOk()) {
        app.failure = "create " + service->name + ": " + probe.message();
        reporter_.reportFailure(app, service->name, "create refused", probe.message());
        continue;
      }
      if (isUp(*primary)) {
        // Not stopped with the others (its dependencies were not ready then): stop it now;
        // what comes after it in start order waits for the next pass.
        stopper_.stopInOrder(name, app.stopping, {*primary}, {}, false);
        app.stops_pending = stops_pending = true;
        app.stops_message = "stopping " + service->name + " to replace it";
        continue;
      }
      std::vector<std::string> old_anonymous;
      (void)ctx_.engine([&] {
        if (auto old = ctx_.docker.containers.inspectContainer(primary->id); old.isOk()) {
          carried = carriedVolumes(*service, volumeMounts(old->raw),
                                   imagePaths(ctx_.docker.images, *service, *old));
          old_anonymous = anonymousVolumeNames(old->raw);
        }
        return Status::ok();
      });
      supervisor_.expectExit(primary->id);
      std::string id = primary->id;
      // Without -v: the carried volumes must outlive it; the others are removed below.
      Status st = ctx_.engine([&] { return ctx_.docker.containers.removeContainer(id, true); });
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove " + primary->name + ": " + st.message();
        continue;
      }
      for (const std::string& volume : old_anonymous) {
        bool kept = false;
        for (const auto& [path, carried_name] : carried) kept = kept || carried_name == volume;
        if (!kept)
          (void)ctx_.engine(
              [&] { return ctx_.docker.volumes.removeVolume(volume); });  // in use: kept
      }
      run.tracker.reset();
    }
    Status st = createAndStart(app, *service, hash, carried);
    if (!st.isOk()) {
      app.failure = st.message();
      reporter_.reportFailure(app, service->name, "create/start failed", st.message());
      continue;
    }
    if (!reason.empty()) {
      reporter_.emit("container_recreated", name, service->name, reason);
    } else {
      reporter_.noteCreated(app, "container_created", service->name, "service " + service->name,
                            "service created");
    }
  }
}

// Services to replace (config hash or restart counter changed; the engine accepts the new
// body; dependencies ready or replaced with them) and services no longer in the file: their
// running containers are stopped, dependents first, all of a level at once. True while any
// still runs.
bool ApplyPass::replaceChanged(AppRun& app, std::vector<ContainerSummary>& containers) {
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  std::string restart_counter = std::to_string(app.desired.spec.restart);
  std::map<std::string, std::vector<ContainerSummary>> by_service;
  for (const ContainerSummary& c : containers) {
    by_service[label(c.labels, kLabelService)].push_back(c);
  }
  std::vector<ContainerSummary> to_stop;
  std::set<std::string> replacing;
  for (const Service* service : file.startOrder()) {
    const ContainerSummary* primary =
        primaryOf(by_service[service->name], containerName(name, *service));
    if (!primary) continue;
    std::string hash = serviceConfigHash(file, *service);
    if (label(primary->labels, kLabelConfigHash) == hash &&
        label(primary->labels, kLabelRestartCounter) == restart_counter) {
      continue;
    }
    bool with_dependency = std::any_of(service->depends_on.begin(), service->depends_on.end(),
                                       [&](const auto& d) { return replacing.count(d.first) > 0; });
    std::string waiting_for;
    bool failed = false;
    if (!with_dependency && !dependenciesMet(app, *service, waiting_for, failed)) continue;
    Status probe = probeCreate(app, *service, hash);
    if (!probe.isOk()) {  // the old one keeps running
      app.refused.insert(service->name);
      app.failure = "create " + service->name + ": " + probe.message();
      reporter_.reportFailure(app, service->name, "create refused", probe.message());
      continue;
    }
    replacing.insert(service->name);
    if (isUp(*primary)) to_stop.push_back(*primary);
  }
  for (const ContainerSummary& c : containers) {
    if (!file.findService(label(c.labels, kLabelService)) && isUp(c)) to_stop.push_back(c);
  }
  if (!stopper_.stopInOrder(name, app.stopping, to_stop, dependencyGraph(&file), false))
    return false;
  std::string names;
  for (const ContainerSummary& c : to_stop) {
    names += (names.empty() ? "" : ", ") + label(c.labels, kLabelService);
  }
  app.stops_pending = true;
  app.stops_message = "stopping " + names + " to replace or remove them";
  return true;
}

}  // namespace pharos::agent
