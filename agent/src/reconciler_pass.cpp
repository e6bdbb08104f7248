// The reconciler's passes (see reconciler.h): one app per lane, the running case in depth
// (images, networks, volumes, depends_on, replacing what changed) and the observation of what
// runs. Supervision of an existing container is in reconciler_supervise.cpp, the phase in
// reconciler_phase.cpp; stopping, removal, orphans and image pruning in reconciler_remove.cpp.
// Run with mu_ held, released around every engine call (engine()).
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "agent/engine_spec.h"
#include "agent/volume_carry.h"
#include "reconciler_internal.h"

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
std::set<std::string> imagePaths(DockerClient& docker, const Service& service,
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

void Reconciler::runPass(const std::string& name) {
  Lock lock(mu_);
  auto it = apps_.find(name);
  if (it == apps_.end()) return;
  std::shared_ptr<AppRun> keep = it->second;  // lives on if setDesired drops it meanwhile
  AppRun& app = *keep;
  ++passes_running_;
  struct Done {
    Reconciler* self;
    AppRun& app;
    ~Done() {
      --self->passes_running_;
      if (app.detached) self->schedule("", std::chrono::milliseconds(0));  // leftovers
    }
  } done{this, app};
  adopt(app);
  app.failure.clear();
  app.waiting = false;
  app.waiting_message.clear();
  app.stops_pending = false;
  app.stops_message.clear();
  app.refused.clear();
  const std::vector<std::string> filters = {std::string(kLabelNode) + "=" + options_.node_id,
                                            std::string(kLabelApp) + "=" + name};
  auto listed = engine([&] { return docker_.listContainers(filters, true); });
  if (!listed.isOk()) {
    app.failure = "container engine: " + listed.status().message();
    computePhase(app);
    changed();
    return;
  }
  std::vector<ContainerSummary> containers = std::move(listed).value();
  if (!frozen_ && !app.detached) {
    switch (app.desired.spec.state) {
      case DesiredState::kRemoved:
        reconcileRemoved(app, containers);
        break;
      case DesiredState::kStopped:
        reconcileStopped(app, containers);
        break;
      case DesiredState::kRunning:
        reconcileRunning(app, containers);
        break;
    }
  }
  // Observe what is there now.
  auto now_listed = engine([&] { return docker_.listContainers(filters, true); });
  if (now_listed.isOk()) {
    std::set<std::string> seen;
    for (const ContainerSummary& c : *now_listed) {
      std::string svc = label(c.labels, kLabelService);
      if (svc.empty() || seen.count(svc)) continue;
      auto info = engine([&] { return docker_.inspectContainer(c.id); });
      if (!info.isOk()) continue;
      seen.insert(svc);
      ServiceRun& run = app.service(svc, options_.backoff);
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
    if (app.desired.spec.state == DesiredState::kRemoved && now_listed->empty() && !frozen_) {
      auto nets = engine([&] { return docker_.listNetworks(filters); });
      if (nets.isOk() && nets->empty()) {
        app.gone = true;
        if (!app.removal_reported && !app.services.empty()) {
          app.removal_reported = true;
          emit("app_removed", name, "",
               "app removed (revision " + std::to_string(app.desired.spec.revision) + ")");
        }
      }
    }
  }
  computePhase(app);
  changed();
  if (app.phase == AppPhase::kRunning || app.phase == AppPhase::kStopped)
    schedule("", std::chrono::seconds(5));
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

void Reconciler::reconcileRunning(AppRun& app, std::vector<ContainerSummary>& containers) {
  if (!app.file) return;                 // never parsed: nothing to do
  if (!app.parse_error.empty()) return;  // invalid compose: what runs stays as it is
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  if (!ensureImages(app)) return;
  if (options_.create_app_dirs) {
    std::string dir = appDir(name);
    engine([&] { makeDirs(dir); });
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
      expected_exits_.insert(c.id);
      Status st = engine([&] { return removeWithAnonymousVolumes(docker_, c.id); });
      if (st.isOk()) {
        emit("container_removed", name, svc, "service no longer in the compose file");
      } else {
        app.failure = "remove " + c.name + ": " + st.message();
      }
    }
    app.services.erase(svc);
  }

  std::string restart_counter = std::to_string(app.desired.spec.restart);
  for (const Service* service : file.startOrder()) {
    ServiceRun& run = app.service(service->name, options_.backoff);
    std::string hash = serviceConfigHash(file, *service);
    auto& list = by_service[service->name];
    // The primary container: the one with the expected name, else the first listed.
    const ContainerSummary* primary = primaryOf(list, containerName(name, *service));
    for (const ContainerSummary& c : list) {  // duplicates and leftover probes
      if (&c == primary) continue;
      expected_exits_.insert(c.id);
      if (engine([&] { return removeWithAnonymousVolumes(docker_, c.id); }).isOk()) {
        emit("container_removed", name, service->name, "duplicate container " + c.name);
      }
    }
    bool up_to_date = primary && label(primary->labels, kLabelConfigHash) == hash &&
                      label(primary->labels, kLabelRestartCounter) == restart_counter;
    if (up_to_date) {
      run.waiting_since.reset();
      std::string id = primary->id;
      auto info = engine([&] { return docker_.inspectContainer(id); });
      if (info.isOk()) superviseExisting(app, *service, run, *info);
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
        schedule(name, options_.dependency_poll);
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
        reportFailure(app, service->name, "create refused", probe.message());
        continue;
      }
      if (isUp(*primary)) {
        // Not stopped with the others (its dependencies were not ready then): stop it now;
        // what comes after it in start order waits for the next pass.
        stopInOrder(name, app.stopping, {*primary}, {}, false);
        app.stops_pending = stops_pending = true;
        app.stops_message = "stopping " + service->name + " to replace it";
        continue;
      }
      std::vector<std::string> old_anonymous;
      (void)engine([&] {
        if (auto old = docker_.inspectContainer(primary->id); old.isOk()) {
          carried =
              carriedVolumes(*service, volumeMounts(old->raw), imagePaths(docker_, *service, *old));
          old_anonymous = anonymousVolumeNames(old->raw);
        }
        return Status::ok();
      });
      expected_exits_.insert(primary->id);
      std::string id = primary->id;
      // Without -v: the carried volumes must outlive it; the others are removed below.
      Status st = engine([&] { return docker_.removeContainer(id, true); });
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove " + primary->name + ": " + st.message();
        continue;
      }
      for (const std::string& volume : old_anonymous) {
        bool kept = false;
        for (const auto& [path, carried_name] : carried) kept = kept || carried_name == volume;
        if (!kept) (void)engine([&] { return docker_.removeVolume(volume); });  // in use: kept
      }
      run.tracker.reset();
    }
    Status st = createAndStart(app, *service, hash, carried);
    if (!st.isOk()) {
      app.failure = st.message();
      reportFailure(app, service->name, "create/start failed", st.message());
      continue;
    }
    if (!reason.empty()) {
      emit("container_recreated", name, service->name, reason);
    } else {
      noteCreated(app, "container_created", service->name, "service " + service->name,
                  "service created");
    }
  }
}

// Services to replace (config hash or restart counter changed; the engine accepts the new
// body; dependencies ready or replaced with them) and services no longer in the file: their
// running containers are stopped, dependents first, all of a level at once. True while any
// still runs.
bool Reconciler::replaceChanged(AppRun& app, std::vector<ContainerSummary>& containers) {
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
      reportFailure(app, service->name, "create refused", probe.message());
      continue;
    }
    replacing.insert(service->name);
    if (isUp(*primary)) to_stop.push_back(*primary);
  }
  for (const ContainerSummary& c : containers) {
    if (!file.findService(label(c.labels, kLabelService)) && isUp(c)) to_stop.push_back(c);
  }
  if (!stopInOrder(name, app.stopping, to_stop, dependencyGraph(&file), false)) return false;
  std::string names;
  for (const ContainerSummary& c : to_stop) {
    names += (names.empty() ? "" : ", ") + label(c.labels, kLabelService);
  }
  app.stops_pending = true;
  app.stops_message = "stopping " + names + " to replace or remove them";
  return true;
}

Status Reconciler::probeCreate(AppRun& app, const Service& service, const std::string& hash) {
  ServiceRun& run = app.service(service.name, options_.backoff);
  if (run.probed_hash == hash) return Status::ok();
  const std::string& name = app.desired.spec.name;
  EngineContext context{name, options_.node_id,         app.desired.spec.revision,
                        hash, app.desired.spec.restart, appDir(name),
                        {}};
  ContainerSpec spec = containerSpec(*app.file, service, context);
  auto probe =
      engine([&] { return docker_.createContainer(spec.name + "_pharos_probe", spec.body); });
  if (!probe.isOk()) return probe.status();
  expected_exits_.insert(*probe);
  (void)engine([&] { return docker_.removeContainer(*probe, true, true); });  // and its volumes
  run.probed_hash = hash;
  run.probed = ServiceRun::Probed{std::move(context), std::move(spec)};
  return Status::ok();
}

Status Reconciler::createAndStart(AppRun& app, const Service& service, const std::string& hash,
                                  const std::map<std::string, std::string>& carried_volumes) {
  const std::string& name = app.desired.spec.name;
  EngineContext context{name, options_.node_id,         app.desired.spec.revision,
                        hash, app.desired.spec.restart, appDir(name),
                        {}};
  // A recreate's body was built for its probe: reused, with the old container's volumes.
  std::optional<ServiceRun::Probed> probed;
  probed.swap(app.service(service.name, options_.backoff).probed);
  ContainerSpec spec;
  if (probed && probed->context == context) {
    spec = std::move(probed->spec);
    if (!carried_volumes.empty()) {
      context.carried_volumes = carried_volumes;
      carryVolumes(spec, *app.file, service, context);
    }
  } else {
    context.carried_volumes = carried_volumes;
    spec = containerSpec(*app.file, service, context);
  }
  auto created = engine([&] { return docker_.createContainer(spec.name, spec.body); });
  if (!created.isOk()) {
    if (created.status().code() == Code::kAlreadyExists) {
      return Status::conflict("create " + service.name + ": the name " + spec.name +
                              " is used by a container Pharos does not manage");
    }
    return Status(created.status().code(),
                  "create " + service.name + ": " + created.status().message());
  }
  ServiceRun& run = app.service(service.name, options_.backoff);
  run.container_id = *created;
  run.ever_seen = true;
  for (const auto& [network, endpoint] : spec.extra_networks) {
    Status st = engine([&] { return docker_.connectNetwork(network, *created, endpoint); });
    if (!st.isOk()) {
      return Status(st.code(), "connect " + service.name + " to " + network + ": " + st.message());
    }
  }
  Status st = engine([&] { return docker_.startContainer(*created); });
  if (!st.isOk()) return Status(st.code(), "start " + service.name + ": " + st.message());
  return Status::ok();
}

bool Reconciler::dependenciesMet(AppRun& app, const Service& service, std::string& waiting_for,
                                 bool& failed) {
  auto now = clock_.steadyNow();
  ServiceRun& run = app.service(service.name, options_.backoff);
  for (const auto& [dep_name, dep] : service.depends_on) {
    const Service* dep_service = app.file->findService(dep_name);
    if (!dep_service) continue;
    std::string dep_container = containerName(app.desired.spec.name, *dep_service);
    auto info = engine([&] { return docker_.inspectContainer(dep_container); });
    std::string problem;
    if (!info.isOk()) {
      problem = "waiting for " + dep_name + " to be created";
    } else if (dep.condition == DependencyCondition::kServiceStarted) {
      if (info->state == ContainerState::kCreated)
        problem = "waiting for " + dep_name + " to start";
    } else if (dep.condition == DependencyCondition::kServiceHealthy) {
      if (!info->running) {
        problem = "waiting for " + dep_name + " to be healthy (it is " + toWire(info->state) + ")";
      } else if (!info->health.empty() && info->health != "healthy") {
        problem = "waiting for " + dep_name + " to be healthy (it is " + info->health + ")";
      }
    } else {  // completed successfully
      if (info->running || info->restarting || info->state == ContainerState::kCreated) {
        problem = "waiting for " + dep_name + " to complete";
      } else if (info->exit_code != 0) {
        failed = true;
        waiting_for =
            "dependency " + dep_name + " exited with code " + std::to_string(info->exit_code);
        return false;
      }
    }
    if (!problem.empty()) {
      if (!run.waiting_since) run.waiting_since = now;
      if (now - *run.waiting_since >= options_.health_timeout) {
        failed = true;
        waiting_for = service.name + ": timed out " + problem;
      } else {
        waiting_for = service.name + ": " + problem;
      }
      return false;
    }
  }
  return true;
}

bool Reconciler::ensureImages(AppRun& app) {
  bool missing = false;
  std::string failed;
  for (const Service& s : app.file->services) {
    auto info = engine([&] { return docker_.inspectImage(s.image); });
    if (info.isOk()) continue;
    if (info.status().code() != Code::kNotFound) {
      failed = "inspect image " + s.image + ": " + info.status().message();
      continue;
    }
    missing = true;
    if (s.pull_policy == "never") {
      failed = "image " + s.image + " is not present and " + s.name + " has pull_policy: never";
      continue;
    }
    auto job = pulls_.find(s.image);
    if (job != pulls_.end() && job->second->state == PullJob::State::kFailed &&
        clock_.steadyNow() < job->second->retry_at) {
      failed = "pull " + s.image + ": " + job->second->message;
      continue;
    }
    requestPull(s.image);
  }
  if (!failed.empty()) {
    app.failure = failed;
    app.pulling = false;
    return false;
  }
  app.pulling = missing;
  return !missing;
}

bool Reconciler::ensureNetworksAndVolumes(AppRun& app) {
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  EngineContext ctx{name, options_.node_id,         app.desired.spec.revision,
                    "",   app.desired.spec.restart, appDir(name),
                    {}};
  for (const auto& [key, net] : file.networks) {
    bool used = false;
    for (const Service& s : file.services) used = used || s.networks.count(key) > 0;
    if (!used) continue;
    std::string net_name = networkName(name, key, net);
    auto found = engine([&] { return docker_.inspectNetwork(net_name); });
    if (found.isOk()) continue;
    if (found.status().code() != Code::kNotFound) {
      app.failure = "network " + net_name + ": " + found.status().message();
      return false;
    }
    if (net.external) {
      app.failure = "external network " + net_name + " does not exist";
      return false;
    }
    Json body = networkCreateBody(ctx, key, net);
    auto created = engine([&] { return docker_.createNetwork(body); });
    if (!created.isOk() && created.status().code() != Code::kAlreadyExists) {
      app.failure = "create network " + net_name + ": " + created.status().message();
      return false;
    }
    noteCreated(app, "network_created", "", "network " + net_name, "created network " + net_name);
  }
  for (const auto& [key, vol] : file.volumes) {
    std::string vol_name = volumeName(name, key, vol);
    auto found = engine([&] { return docker_.inspectVolume(vol_name); });
    if (found.isOk()) continue;
    if (found.status().code() != Code::kNotFound) {
      app.failure = "volume " + vol_name + ": " + found.status().message();
      return false;
    }
    if (vol.external) {
      app.failure = "external volume " + vol_name + " does not exist";
      return false;
    }
    Json body = volumeCreateBody(ctx, key, vol);
    auto created = engine([&] { return docker_.createVolume(body); });
    if (!created.isOk()) {
      app.failure = "create volume " + vol_name + ": " + created.status().message();
      return false;
    }
    noteCreated(app, "volume_created", "", "volume " + vol_name, "created volume " + vol_name);
  }
  return true;
}

}  // namespace pharos::agent
