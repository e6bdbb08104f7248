// The reconciler's passes (see reconciler.h): one app at a time, the running case in depth
// (images, networks, volumes, depends_on, recreate), observation of what runs and the
// per-app phase; the supervision of an existing container is in reconciler.cpp. Stopping, removal,
// orphans and image pruning are in reconciler_remove.cpp. Strand only.
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

bool isOneShot(const Service& s) {
  RestartPolicy p = effectiveRestartPolicy(s);
  return p.name == "no" || p.name == "on-failure";
}

}  // namespace

void Reconciler::runPass(const std::string& name) {
  auto it = apps_.find(name);
  if (it == apps_.end()) return;
  AppRun& app = *it->second;
  app.failure.clear();
  app.waiting = false;
  app.waiting_message.clear();
  auto listed = docker_.listContainers(
      {std::string(kLabelNode) + "=" + options_.node_id, std::string(kLabelApp) + "=" + name},
      true);
  if (!listed.isOk()) {
    app.failure = "container engine: " + listed.status().message();
    computePhase(app);
    changed();
    return;
  }
  std::vector<ContainerSummary> containers = std::move(listed).value();
  if (!frozen_) {
    const std::string& state = app.desired.spec.state;
    if (state == "removed") {
      reconcileRemoved(app, containers);
    } else if (state == "stopped") {
      reconcileStopped(app, containers);
    } else {
      reconcileRunning(app, containers);
    }
  }
  // Observe what is there now.
  auto now_listed = docker_.listContainers(
      {std::string(kLabelNode) + "=" + options_.node_id, std::string(kLabelApp) + "=" + name},
      true);
  if (now_listed.isOk()) {
    std::set<std::string> seen;
    for (const ContainerSummary& c : *now_listed) {
      std::string svc = label(c.labels, kLabelService);
      if (svc.empty() || seen.count(svc)) continue;
      auto info = docker_.inspectContainer(c.id);
      if (!info.isOk()) continue;
      seen.insert(svc);
      ServiceRun& run = app.service(svc, options_.backoff);
      run.info = std::move(info).value();
      run.container_id = run.info->id;
      run.ever_seen = true;
    }
    for (auto& [svc, run] : app.services) {
      if (!seen.count(svc)) run.info.reset();
    }
    if (app.desired.spec.state == "removed" && now_listed->empty() && !frozen_) {
      auto nets = docker_.listNetworks(
          {std::string(kLabelNode) + "=" + options_.node_id, std::string(kLabelApp) + "=" + name});
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
  if (app.phase == "Running" || app.phase == "Stopped") schedule("", std::chrono::seconds(5));
}

// ---- running ------------------------------------------------------------------------------

void Reconciler::reconcileRunning(AppRun& app, std::vector<ContainerSummary>& containers) {
  if (!app.file) return;                 // never parsed: nothing to do
  if (!app.parse_error.empty()) return;  // invalid compose: what runs stays as it is
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  if (!ensureImages(app)) return;
  if (options_.create_app_dirs) makeDirs(appDir(name));
  if (!ensureNetworksAndVolumes(app)) return;

  std::map<std::string, std::vector<ContainerSummary>> by_service;
  for (const ContainerSummary& c : containers) {
    by_service[label(c.labels, kLabelService)].push_back(c);
  }
  // Services no longer in the file.
  for (auto& [svc, list] : by_service) {
    if (file.findService(svc)) continue;
    for (const ContainerSummary& c : list) {
      expected_exits_.insert(c.id);
      Status st = removeWithAnonymousVolumes(docker_, c.id);
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
    std::string want_name = containerName(name, *service);
    auto& list = by_service[service->name];
    // The primary container: the one with the expected name, else the first listed.
    const ContainerSummary* primary = nullptr;
    for (const ContainerSummary& c : list) {
      if (c.name == want_name) primary = &c;
    }
    if (!primary && !list.empty()) primary = &list.front();
    for (const ContainerSummary& c : list) {  // duplicates and leftover probes
      if (&c == primary) continue;
      expected_exits_.insert(c.id);
      if (removeWithAnonymousVolumes(docker_, c.id).isOk()) {
        emit("container_removed", name, service->name, "duplicate container " + c.name);
      }
    }
    bool up_to_date = primary && label(primary->labels, kLabelConfigHash) == hash &&
                      label(primary->labels, kLabelRestartCounter) == restart_counter;
    if (up_to_date) {
      run.waiting_since.reset();
      auto info = docker_.inspectContainer(primary->id);
      if (info.isOk()) superviseExisting(app, *service, run, *info);
      continue;
    }
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
      std::vector<std::string> old_anonymous;
      if (auto old = docker_.inspectContainer(primary->id); old.isOk()) {
        carried =
            carriedVolumes(*service, volumeMounts(old->raw), imagePaths(docker_, *service, *old));
        old_anonymous = anonymousVolumeNames(old->raw);
      }
      // Refuse early (before touching the old one) when the engine rejects the new body.
      EngineContext ctx{name,   options_.node_id,         app.desired.spec.revision,
                        hash,   app.desired.spec.restart, appDir(name),
                        carried};
      ContainerSpec spec = containerSpec(file, *service, ctx);
      auto probe = docker_.createContainer(spec.name + "_pharos_probe", spec.body);
      if (!probe.isOk()) {
        app.failure = "create " + service->name + ": " + probe.status().message();
        reportFailure(app, service->name, "create refused", probe.status().message());
        continue;
      }
      expected_exits_.insert(*probe);
      (void)docker_.removeContainer(*probe, true, true);  // its own anonymous volumes too
      expected_exits_.insert(primary->id);
      if (primary->state == "running" || primary->state == "restarting") {
        Status st = docker_.stopContainer(primary->id);
        if (!st.isOk()) spdlog::warn("stop {}: {}", primary->name, st.message());
      }
      // Without -v: the carried volumes must outlive it; the others are removed below.
      Status st = docker_.removeContainer(primary->id, true);
      if (!st.isOk() && st.code() != Code::kNotFound) {
        app.failure = "remove " + primary->name + ": " + st.message();
        continue;
      }
      for (const std::string& volume : old_anonymous) {
        bool kept = false;
        for (const auto& [path, carried_name] : carried) kept = kept || carried_name == volume;
        if (!kept) (void)docker_.removeVolume(volume);  // in use elsewhere: the engine keeps it
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

Status Reconciler::createAndStart(AppRun& app, const Service& service, const std::string& hash,
                                  const std::map<std::string, std::string>& carried_volumes) {
  const std::string& name = app.desired.spec.name;
  EngineContext ctx{name,           options_.node_id,         app.desired.spec.revision,
                    hash,           app.desired.spec.restart, appDir(name),
                    carried_volumes};
  ContainerSpec spec = containerSpec(*app.file, service, ctx);
  auto created = docker_.createContainer(spec.name, spec.body);
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
    Status st = docker_.connectNetwork(network, *created, endpoint);
    if (!st.isOk()) {
      return Status(st.code(), "connect " + service.name + " to " + network + ": " + st.message());
    }
  }
  Status st = docker_.startContainer(*created);
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
    auto info = docker_.inspectContainer(containerName(app.desired.spec.name, *dep_service));
    std::string problem;
    if (!info.isOk()) {
      problem = "waiting for " + dep_name + " to be created";
    } else if (dep.condition == DependencyCondition::kServiceStarted) {
      if (info->state == "created") problem = "waiting for " + dep_name + " to start";
    } else if (dep.condition == DependencyCondition::kServiceHealthy) {
      if (!info->running) {
        problem = "waiting for " + dep_name + " to be healthy (it is " + info->state + ")";
      } else if (!info->health.empty() && info->health != "healthy") {
        problem = "waiting for " + dep_name + " to be healthy (it is " + info->health + ")";
      }
    } else {  // completed successfully
      if (info->running || info->restarting || info->state == "created") {
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
    auto info = docker_.inspectImage(s.image);
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
    auto found = docker_.inspectNetwork(net_name);
    if (found.isOk()) continue;
    if (found.status().code() != Code::kNotFound) {
      app.failure = "network " + net_name + ": " + found.status().message();
      return false;
    }
    if (net.external) {
      app.failure = "external network " + net_name + " does not exist";
      return false;
    }
    auto created = docker_.createNetwork(networkCreateBody(ctx, key, net));
    if (!created.isOk() && created.status().code() != Code::kAlreadyExists) {
      app.failure = "create network " + net_name + ": " + created.status().message();
      return false;
    }
    noteCreated(app, "network_created", "", "network " + net_name, "created network " + net_name);
  }
  for (const auto& [key, vol] : file.volumes) {
    std::string vol_name = volumeName(name, key, vol);
    auto found = docker_.inspectVolume(vol_name);
    if (found.isOk()) continue;
    if (found.status().code() != Code::kNotFound) {
      app.failure = "volume " + vol_name + ": " + found.status().message();
      return false;
    }
    if (vol.external) {
      app.failure = "external volume " + vol_name + " does not exist";
      return false;
    }
    auto created = docker_.createVolume(volumeCreateBody(ctx, key, vol));
    if (!created.isOk()) {
      app.failure = "create volume " + vol_name + ": " + created.status().message();
      return false;
    }
    noteCreated(app, "volume_created", "", "volume " + vol_name, "created volume " + vol_name);
  }
  return true;
}

// An engine failure is an event once, not on every retry of the periodic reconcile.
void Reconciler::reportFailure(AppRun& app, const std::string& service, const std::string& reason,
                               const std::string& message) {
  std::string key = service + ": " + message;
  if (app.reported_failure == key) return;
  app.reported_failure = key;
  emit("app_failed", app.desired.spec.name, service, reason, message);
}

// ---- phase ------------------------------------------------------------------------------

void Reconciler::computePhase(AppRun& app) {
  const std::string& name = app.desired.spec.name;
  const std::string& state = app.desired.spec.state;
  auto now = clock_.steadyNow();
  std::string phase;
  std::string message;
  if (state == "removed") {
    phase = "Removing";
    message = app.failure;
  } else if (!app.parse_error.empty()) {
    phase = "Failed";
    message = app.parse_error;
  } else if (state == "stopped") {
    phase = "Stopped";
    message = app.failure;
  } else if (!app.failure.empty()) {
    phase = "Failed";
    message = app.failure;
  } else if (app.pulling) {
    phase = "Pulling";
    message = "pulling images";
  } else if (!app.file) {
    phase = "Pending";
  } else {
    bool degraded = false;
    bool starting = app.waiting;
    std::string crash;
    for (const Service& s : app.file->services) {
      auto it = app.services.find(s.name);
      if (it == app.services.end() || !it->second.info) {
        starting = true;
        continue;
      }
      const ServiceRun& run = it->second;
      const ContainerInfo& info = *run.info;
      if (run.tracker.crashLooping(now)) {
        crash = s.name + " died " + std::to_string(run.tracker.deathsInWindow(now)) +
                " times within a minute";
        continue;
      }
      if (info.running) {
        if (info.health == "starting") starting = true;
        if (info.health == "unhealthy") {
          degraded = true;
          message = s.name + " is unhealthy";
        }
      } else if (info.restarting) {
        degraded = true;
        message = s.name + " is restarting";
      } else if (info.state == "created") {
        starting = true;
      } else if (!(isOneShot(s) && info.exit_code == 0)) {
        degraded = true;
        message = s.name + " exited with code " + std::to_string(info.exit_code);
      }
    }
    if (!crash.empty()) {
      phase = "CrashLoop";
      message = crash;
      // Re-evaluate when the window may have passed.
      schedule(name, std::chrono::seconds(15));
    } else if (degraded) {
      phase = "Degraded";
    } else if (starting) {
      phase = "Starting";
      if (app.waiting && message.empty()) message = app.waiting_message;
    } else {
      phase = "Running";
    }
  }
  if (phase != app.phase) {
    if (phase == "Failed" && app.reported_failure.empty()) {
      app.reported_failure = message;
      emit("app_failed", name, "", message);
    }
    if (phase == "CrashLoop") emit("crash_loop", name, "", message);
    if (phase == "Stopped") emit("app_stopped", name, "", "app state is stopped");
  }
  if (phase == "Running" && app.applied_revision != app.desired.spec.revision) {
    app.applied_revision = app.desired.spec.revision;
    emit("app_applied", name, "",
         "revision " + std::to_string(app.desired.spec.revision) + " running", takeCreated(app));
  }
  if (phase == "Running") app.reported_failure.clear();
  app.phase = phase;
  app.message = phase == "Running" ? std::string() : message;
}

}  // namespace pharos::agent
