// The Reconciler: builds its parts and routes its public methods to them (see reconciler.h).
// Each public method runs on the core strand and takes the parts' mutex.
#include "agent/reconciler.h"

#include <spdlog/spdlog.h>

#include "app_images.h"
#include "app_remover.h"
#include "app_reporter.h"
#include "app_table.h"
#include "apply_pass.h"
#include "container_stopper.h"
#include "container_supervisor.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

struct Reconciler::Parts {
  Parts(DockerApi docker, Executor& strand, Executor& blocking, Executor& stops, const Clock& clock,
        ReconcilerOptions options, EventSink events, std::function<void()> on_change)
      : ctx(docker, clock, std::move(options)),
        lanes(ctx, blocking,
              [this](const std::string& key) {
                if (key.empty()) {
                  remover.runOrphanPass();
                } else {
                  pass.run(key);
                }
              }),
        reporter(ctx, lanes, strand, std::move(events), std::move(on_change)),
        supervisor(ctx, lanes, table, reporter),
        images(ctx, blocking, lanes, table, reporter),
        stopper(ctx, stops, lanes, table, reporter, supervisor),
        remover(ctx, table, reporter, supervisor, stopper, images),
        pass(ctx, lanes, table, reporter, images, supervisor, stopper, remover) {}

  ReconcilerContext ctx;
  ReconcileLanes lanes;
  AppTable table;
  AppReporter reporter;
  ContainerSupervisor supervisor;
  AppImages images;
  ContainerStopper stopper;
  AppRemover remover;
  ApplyPass pass;
};

Reconciler::Reconciler(DockerApi docker, Executor& strand, Executor& blocking, const Clock& clock,
                       ReconcilerOptions options, EventSink events, std::function<void()> on_change,
                       Executor* stops)
    : parts_(std::make_unique<Parts>(docker, strand, blocking, stops ? *stops : blocking, clock,
                                     std::move(options), std::move(events), std::move(on_change))) {
}

Reconciler::~Reconciler() { shutdown(); }

void Reconciler::setDesired(std::vector<DesiredApp> apps, bool authoritative) {
  Parts& p = *parts_;
  Lock lock(p.ctx.mu);
  p.table.setAuthoritative(authoritative);
  std::set<std::string> names;
  for (DesiredApp& d : apps) {
    std::string name = d.spec.name;
    names.insert(name);
    std::string parse_error;
    if (!p.table.offer(std::move(d), parse_error)) continue;
    if (!parse_error.empty()) p.reporter.emit("bad_document", name, "", parse_error);
    p.lanes.schedule(name, std::chrono::milliseconds(0));
  }
  AppTable::Dropped dropped = p.table.dropAllBut(names);
  for (auto& [name, file] : dropped) {
    if (file) p.remover.noteDropped(name, std::move(file));
    p.lanes.cancel(name);
  }
  if (!dropped.empty() || authoritative) p.lanes.schedule("", std::chrono::milliseconds(0));
  p.reporter.changed();
}

bool Reconciler::frozen() const {
  Lock lock(parts_->ctx.mu);
  return parts_->table.frozen();
}

void Reconciler::setFrozen(bool frozen) {
  {
    Lock lock(parts_->ctx.mu);
    parts_->table.setFrozen(frozen);
  }
  if (!frozen) reconcileAll("unfrozen");
}

void Reconciler::setRegistries(std::vector<pharos::RegistryAuth> registries) {
  Lock lock(parts_->ctx.mu);
  parts_->images.setRegistries(std::move(registries));
}

void Reconciler::reconcileAll(const std::string& reason) {
  spdlog::debug("reconcile all: {}", reason);
  Parts& p = *parts_;
  Lock lock(p.ctx.mu);
  for (const auto& [name, app] : p.table.all())
    p.lanes.schedule(name, std::chrono::milliseconds(0));
  p.lanes.schedule("", std::chrono::milliseconds(0));
}

void Reconciler::reconcileApp(const std::string& app, const std::string& reason) {
  spdlog::debug("reconcile {}: {}", app, reason);
  Parts& p = *parts_;
  Lock lock(p.ctx.mu);
  p.lanes.schedule(p.table.has(app) ? app : std::string(), std::chrono::milliseconds(0));
}

void Reconciler::onContainerEvent(const DockerEvent& event) {
  Lock lock(parts_->ctx.mu);
  parts_->supervisor.onContainerEvent(event);
}

void Reconciler::engineLost() {
  Lock lock(parts_->ctx.mu);
  parts_->supervisor.engineLost();
}

void Reconciler::engineBack() {
  Lock lock(parts_->ctx.mu);
  parts_->supervisor.engineBack();
}

bool Reconciler::working() const {
  const Parts& p = *parts_;
  Lock lock(parts_->ctx.mu);
  return p.images.working() || p.pass.running() || p.lanes.appPassDue();
}

std::vector<AppState> Reconciler::appStates() const {
  Lock lock(parts_->ctx.mu);
  return parts_->reporter.appStates(parts_->table);
}

std::vector<Reconciler::Observed> Reconciler::observedContainers() const {
  Lock lock(parts_->ctx.mu);
  return parts_->table.observed();
}

void Reconciler::shutdown() { parts_->lanes.shutdown(); }

}  // namespace pharos::agent
