// The `deploy:` key, applied to a plain container the way docker-compose 1.29 does:
// resources.limits become cpus/mem_limit/pids_limit, reservations.memory becomes
// mem_reservation, restart_policy replaces `restart`. Swarm-only settings are recorded as
// warnings; scaling is refused. Pure functions: thread-safe.
#include <cmath>

#include "compose_internal.h"

namespace pharos::compose_detail {
namespace {

void ignored(const ParseContext& context, const std::string& path) {
  context.warnings->push_back(path + ": ignored (swarm-only setting)");
}

Status readResources(const YamlNode& node, const std::string& path, const ParseContext& context,
                     Service& service) {
  PHAROS_RETURN_IF_ERROR(checkKeys(node, path, {"limits", "reservations"}));
  if (const YamlNode* limits = node.find("limits"); limits != nullptr && !limits->isNull()) {
    const std::string p = joinPath(path, "limits");
    PHAROS_RETURN_IF_ERROR(checkKeys(*limits, p, {"cpus", "memory", "pids"}));
    if (const YamlNode* v = limits->find("cpus"); v != nullptr && !v->isNull()) {
      Result<double> cpus = readDouble(*v, joinPath(p, "cpus"));
      if (!cpus) return cpus.status();
      if (!std::isfinite(*cpus) || *cpus <= 0 || *cpus > 4096) {
        return errorAt(*v, joinPath(p, "cpus"), "must be a positive number of CPUs");
      }
      service.cpus = *cpus;
    }
    if (const YamlNode* v = limits->find("memory"); v != nullptr && !v->isNull()) {
      Result<int64_t> memory = readByteSize(*v, joinPath(p, "memory"));
      if (!memory) return memory.status();
      service.mem_limit = *memory;
    }
    if (const YamlNode* v = limits->find("pids"); v != nullptr && !v->isNull()) {
      Result<int64_t> pids = readInt(*v, joinPath(p, "pids"));
      if (!pids) return pids.status();
      if (*pids < -1) return errorAt(*v, joinPath(p, "pids"), "must be -1 or more");
      service.pids_limit = *pids;
    }
  }
  if (const YamlNode* reservations = node.find("reservations");
      reservations != nullptr && !reservations->isNull()) {
    const std::string p = joinPath(path, "reservations");
    PHAROS_RETURN_IF_ERROR(
        checkKeys(*reservations, p, {"cpus", "memory", "devices", "generic_resources"}));
    if (const YamlNode* v = reservations->find("memory"); v != nullptr && !v->isNull()) {
      Result<int64_t> memory = readByteSize(*v, joinPath(p, "memory"));
      if (!memory) return memory.status();
      service.mem_reservation = *memory;
    }
    if (const YamlNode* v = reservations->find("cpus"); v != nullptr && !v->isNull()) {
      Result<double> cpus = readDouble(*v, joinPath(p, "cpus"));
      if (!cpus) return cpus.status();
      context.warnings->push_back(joinPath(p, "cpus") +
                                  ": ignored (Docker has no CPU reservation for containers)");
    }
    for (const char* key : {"devices", "generic_resources"}) {
      if (const YamlNode* v = reservations->find(key); v != nullptr && !v->isNull()) {
        return errorAt(*v, joinPath(p, key), "device reservations (GPUs) are not supported");
      }
    }
  }
  return Status::ok();
}

Status readRestartPolicy(const YamlNode& node, const std::string& path, const ParseContext& context,
                         Service& service) {
  PHAROS_RETURN_IF_ERROR(checkKeys(node, path, {"condition", "delay", "max_attempts", "window"}));
  RestartPolicy policy{"always", 0};
  if (const YamlNode* v = node.find("condition"); v != nullptr && !v->isNull()) {
    Result<std::string> condition = readString(*v, joinPath(path, "condition"));
    if (!condition) return condition.status();
    if (*condition == "any") {
      policy.name = "always";
    } else if (*condition == "on-failure") {
      policy.name = "on-failure";
    } else if (*condition == "none") {
      policy.name = "no";
    } else {
      return errorAt(*v, joinPath(path, "condition"), "must be none, on-failure or any");
    }
  }
  if (const YamlNode* v = node.find("max_attempts"); v != nullptr && !v->isNull()) {
    Result<int64_t> attempts = readInt(*v, joinPath(path, "max_attempts"));
    if (!attempts) return attempts.status();
    if (*attempts < 0) return errorAt(*v, joinPath(path, "max_attempts"), "must not be negative");
    if (policy.name == "on-failure") policy.max_retries = *attempts;
  }
  for (const char* key : {"delay", "window"}) {
    if (const YamlNode* v = node.find(key); v != nullptr && !v->isNull()) {
      Result<Duration> duration = readDuration(*v, joinPath(path, key));
      if (!duration) return duration.status();
      ignored(context, joinPath(path, key));
    }
  }
  service.restart = policy;
  return Status::ok();
}

}  // namespace

Status readDeploy(const YamlNode& node, const std::string& path, const ParseContext& context,
                  Service& service) {
  PHAROS_RETURN_IF_ERROR(
      checkKeys(node, path,
                {"resources", "restart_policy", "replicas", "mode", "labels", "placement",
                 "update_config", "rollback_config", "endpoint_mode"}));
  for (const YamlEntry& entry : node.entries) {
    const std::string p = joinPath(path, entry.key);
    const YamlNode& value = entry.value;
    if (value.isNull() || entry.key.rfind("x-", 0) == 0) continue;
    if (entry.key == "resources") {
      PHAROS_RETURN_IF_ERROR(readResources(value, p, context, service));
    } else if (entry.key == "restart_policy") {
      PHAROS_RETURN_IF_ERROR(readRestartPolicy(value, p, context, service));
    } else if (entry.key == "replicas") {
      Result<int64_t> replicas = readInt(value, p);
      if (!replicas) return replicas.status();
      if (*replicas != 1) return errorAt(value, p, "scaling a service is not supported; use 1");
    } else if (entry.key == "mode") {
      Result<std::string> mode = readString(value, p);
      if (!mode) return mode.status();
      if (*mode != "replicated")
        return errorAt(value, p, "only replicated (one container) is supported");
    } else {
      ignored(context, p);
    }
  }
  return Status::ok();
}

}  // namespace pharos::compose_detail
