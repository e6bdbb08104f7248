// What the parts of the Reconciler (reconciler.h) share: the engine, the clock, the options
// and the one mutex that guards the state of every part. The parts are the lanes
// (reconcile_lanes.h), the desired entries (app_table.h), the reports (app_reporter.h), the
// images (app_images.h), the supervisor (container_supervisor.h), the stops
// (container_stopper.h), the removals (app_remover.h) and the apply pass (apply_pass.h); each
// owns its own fields. A part's methods run with the mutex held unless their comment says
// otherwise; a pass releases it around every engine call (engine()).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "agent/docker_client.h"
#include "agent/reconciler.h"
#include "pharos/clock.h"
#include "pharos/compose.h"

namespace pharos::agent {

using Lock = std::unique_lock<std::mutex>;

struct ReconcilerContext {
  ReconcilerContext(DockerApi docker_client, const Clock& clock_source, ReconcilerOptions opts)
      : docker(docker_client), clock(clock_source), options(std::move(opts)) {}

  // Runs an engine call with mu released (as leveldb's DBImpl does around I/O); re-locks
  // before returning.
  template <class F>
  auto engine(F&& call) -> decltype(call()) {
    mu.unlock();
    struct Relock {
      std::mutex& mu;
      ~Relock() { mu.lock(); }
    } relock{mu};
    return call();
  }

  DockerApi docker;
  const Clock& clock;
  const ReconcilerOptions options;
  std::mutex mu;
};

// A label's value, "" when absent.
inline std::string label(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// Removes a container (force) and then the anonymous volumes it used, where no other
// container uses them: those the engine made for it (rm -v) and those it had reused from an
// older container by name (which rm -v leaves). Returns the container removal's status.
Status removeWithAnonymousVolumes(DockerApi docker, const std::string& id);

// service -> the services it depends on (depends_on keys), from a compose file (null: none).
std::map<std::string, std::set<std::string>> dependencyGraph(const ComposeFile* file);

}  // namespace pharos::agent
