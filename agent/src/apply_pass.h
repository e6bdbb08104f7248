// An app's pass (reconciler.h): on the app's lane, it adopts the app's new desired entry,
// lists the app's containers, acts on the difference to the desired state and records what
// runs, its phase and the events of the change. The running state is done here in depth:
// images, networks, volumes, depends_on, replacing what changed (a new container is created
// under a probe name first, so a refused create leaves the running one untouched; a recreated
// one reuses the old one's volumes); existing containers go to the supervisor, the stopped and
// removed states to the AppRemover. Guarded by the reconciler's mutex, released around every
// engine call.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app_images.h"
#include "app_remover.h"
#include "app_reporter.h"
#include "app_run.h"
#include "app_table.h"
#include "container_stopper.h"
#include "container_supervisor.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

class ApplyPass {
 public:
  ApplyPass(ReconcilerContext& ctx, ReconcileLanes& lanes, AppTable& table, AppReporter& reporter,
            AppImages& images, ContainerSupervisor& supervisor, ContainerStopper& stopper,
            AppRemover& remover);

  // The pass of app `name`, on its lane; mutex not held.
  void run(const std::string& name);
  // A pass is running.
  bool running() const { return passes_running_ > 0; }

 private:
  // apply_pass.cpp: the running state.
  void applyRunning(AppRun& app, std::vector<ContainerSummary>& containers);
  bool replaceChanged(AppRun& app, std::vector<ContainerSummary>& containers);
  // apply_pass_create.cpp: what a service needs before it is created, and its creation.
  bool ensureImages(AppRun& app);
  bool ensureNetworksAndVolumes(AppRun& app);
  bool dependenciesMet(AppRun& app, const Service& service, std::string& waiting_for, bool& failed);
  Status probeCreate(AppRun& app, const Service& service, const std::string& hash);
  Status createAndStart(AppRun& app, const Service& service, const std::string& hash,
                        const std::map<std::string, std::string>& carried_volumes);
  std::string appDir(const std::string& app) const;

  ReconcilerContext& ctx_;
  ReconcileLanes& lanes_;
  AppTable& table_;
  AppReporter& reporter_;
  AppImages& images_;
  ContainerSupervisor& supervisor_;
  ContainerStopper& stopper_;
  AppRemover& remover_;
  int passes_running_ = 0;
};

}  // namespace pharos::agent
