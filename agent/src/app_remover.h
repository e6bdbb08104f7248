// The reconciler's removing side: apps in state stopped (their containers stopped, dependents
// first) and removed (stopped, then containers, networks and, with `volumes: delete`, volumes
// removed), and the orphan pass over the managed containers of apps no longer desired (in
// their last file's stop order), which ends in image pruning. The pass that finds stops still
// running returns; the stop's end runs it again. Guarded by the reconciler's mutex, released
// around every engine call.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app_images.h"
#include "app_reporter.h"
#include "app_run.h"
#include "app_table.h"
#include "container_stopper.h"
#include "container_supervisor.h"
#include "reconciler_context.h"

namespace pharos::agent {

class AppRemover {
 public:
  AppRemover(ReconcilerContext& ctx, AppTable& table, AppReporter& reporter,
             ContainerSupervisor& supervisor, ContainerStopper& stopper, AppImages& images);

  // One pass of an app whose desired state is stopped / removed, over its `containers`.
  void stopApp(AppRun& app, std::vector<ContainerSummary>& containers);
  void removeApp(AppRun& app, std::vector<ContainerSummary>& containers);
  // The app was dropped from the desired set: its containers stop in `file`'s order.
  void noteDropped(const std::string& app, std::shared_ptr<const ComposeFile> file);
  // The orphan pass, on its lane; mutex not held.
  void runOrphanPass();

 private:
  ReconcilerContext& ctx_;
  AppTable& table_;
  AppReporter& reporter_;
  ContainerSupervisor& supervisor_;
  ContainerStopper& stopper_;
  AppImages& images_;
  // The compose files of apps dropped from the desired set (their stop order).
  std::map<std::string, std::shared_ptr<const ComposeFile>> dropped_files_;
};

}  // namespace pharos::agent
