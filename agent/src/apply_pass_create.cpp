// What a service of an app's pass needs before it is created (images, networks, volumes, its
// dependencies' conditions) and its creation: the probe create that tests the new body
// before the old container is touched, and the create and start (see apply_pass.h). Mutex
// held, released around every engine call.
#include "agent/engine_spec.h"
#include "agent/volume_carry.h"
#include "apply_pass.h"

namespace pharos::agent {

Status ApplyPass::probeCreate(AppRun& app, const Service& service, const std::string& hash) {
  ServiceRun& run = app.service(service.name, ctx_.options.backoff);
  if (run.probed_hash == hash) return Status::ok();
  const std::string& name = app.desired.spec.name;
  EngineContext context{name, ctx_.options.node_id,     app.desired.spec.revision,
                        hash, app.desired.spec.restart, appDir(name),
                        {}};
  ContainerSpec spec = containerSpec(*app.file, service, context);
  auto probe = ctx_.engine([&] {
    return ctx_.docker.containers.createContainer(spec.name + "_pharos_probe", spec.body);
  });
  if (!probe.isOk()) return probe.status();
  supervisor_.expectExit(*probe);
  (void)ctx_.engine([&] {
    return ctx_.docker.containers.removeContainer(*probe, true, true);
  });  // and its volumes
  run.probed_hash = hash;
  run.probed = ServiceRun::Probed{std::move(context), std::move(spec)};
  return Status::ok();
}

Status ApplyPass::createAndStart(AppRun& app, const Service& service, const std::string& hash,
                                 const std::map<std::string, std::string>& carried_volumes) {
  const std::string& name = app.desired.spec.name;
  EngineContext context{name, ctx_.options.node_id,     app.desired.spec.revision,
                        hash, app.desired.spec.restart, appDir(name),
                        {}};
  // A recreate's body was built for its probe: reused, with the old container's volumes.
  std::optional<ServiceRun::Probed> probed;
  probed.swap(app.service(service.name, ctx_.options.backoff).probed);
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
  auto created =
      ctx_.engine([&] { return ctx_.docker.containers.createContainer(spec.name, spec.body); });
  if (!created.isOk()) {
    if (created.status().code() == Code::kAlreadyExists) {
      return Status::conflict("create " + service.name + ": the name " + spec.name +
                              " is used by a container Pharos does not manage");
    }
    return Status(created.status().code(),
                  "create " + service.name + ": " + created.status().message());
  }
  ServiceRun& run = app.service(service.name, ctx_.options.backoff);
  run.container_id = *created;
  run.ever_seen = true;
  for (const auto& [network, endpoint] : spec.extra_networks) {
    Status st = ctx_.engine(
        [&] { return ctx_.docker.networks.connectNetwork(network, *created, endpoint); });
    if (!st.isOk()) {
      return Status(st.code(), "connect " + service.name + " to " + network + ": " + st.message());
    }
  }
  Status st = ctx_.engine([&] { return ctx_.docker.containers.startContainer(*created); });
  if (!st.isOk()) return Status(st.code(), "start " + service.name + ": " + st.message());
  return Status::ok();
}

bool ApplyPass::dependenciesMet(AppRun& app, const Service& service, std::string& waiting_for,
                                bool& failed) {
  auto now = ctx_.clock.steadyNow();
  ServiceRun& run = app.service(service.name, ctx_.options.backoff);
  for (const auto& [dep_name, dep] : service.depends_on) {
    const Service* dep_service = app.file->findService(dep_name);
    if (!dep_service) continue;
    std::string dep_container = containerName(app.desired.spec.name, *dep_service);
    auto info = ctx_.engine([&] { return ctx_.docker.containers.inspectContainer(dep_container); });
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
      if (now - *run.waiting_since >= ctx_.options.health_timeout) {
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

bool ApplyPass::ensureImages(AppRun& app) {
  bool missing = false;
  std::string failed;
  for (const Service& s : app.file->services) {
    auto info = ctx_.engine([&] { return ctx_.docker.images.inspectImage(s.image); });
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
    if (auto message = images_.failedPull(s.image)) {
      failed = "pull " + s.image + ": " + *message;
      continue;
    }
    images_.request(s.image);
  }
  if (!failed.empty()) {
    app.failure = failed;
    app.pulling = false;
    return false;
  }
  app.pulling = missing;
  return !missing;
}

bool ApplyPass::ensureNetworksAndVolumes(AppRun& app) {
  const ComposeFile& file = *app.file;
  const std::string& name = app.desired.spec.name;
  EngineContext ctx{name, ctx_.options.node_id,     app.desired.spec.revision,
                    "",   app.desired.spec.restart, appDir(name),
                    {}};
  for (const auto& [key, net] : file.networks) {
    bool used = false;
    for (const Service& s : file.services) used = used || s.networks.count(key) > 0;
    if (!used) continue;
    std::string net_name = networkName(name, key, net);
    auto found = ctx_.engine([&] { return ctx_.docker.networks.inspectNetwork(net_name); });
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
    auto created = ctx_.engine([&] { return ctx_.docker.networks.createNetwork(body); });
    if (!created.isOk() && created.status().code() != Code::kAlreadyExists) {
      app.failure = "create network " + net_name + ": " + created.status().message();
      return false;
    }
    reporter_.noteCreated(app, "network_created", "", "network " + net_name,
                          "created network " + net_name);
  }
  for (const auto& [key, vol] : file.volumes) {
    std::string vol_name = volumeName(name, key, vol);
    auto found = ctx_.engine([&] { return ctx_.docker.volumes.inspectVolume(vol_name); });
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
    auto created = ctx_.engine([&] { return ctx_.docker.volumes.createVolume(body); });
    if (!created.isOk()) {
      app.failure = "create volume " + vol_name + ": " + created.status().message();
      return false;
    }
    reporter_.noteCreated(app, "volume_created", "", "volume " + vol_name,
                          "created volume " + vol_name);
  }
  return true;
}

std::string ApplyPass::appDir(const std::string& app) const {
  std::string base = ctx_.options.data_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/apps/" + app;
}

}  // namespace pharos::agent
