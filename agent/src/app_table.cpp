// The reconciler's desired entries (see app_table.h).
#include "app_table.h"

namespace pharos::agent {

bool AppTable::offer(DesiredApp d, std::string& parse_error) {
  auto it = apps_.find(d.spec.name);
  if (it != apps_.end()) {
    const AppRun& held = *it->second;
    const DesiredApp& latest = held.next ? held.next->desired : held.desired;
    if (latest.spec == d.spec && latest.variables == d.variables) return false;
  }
  if (it == apps_.end()) it = apps_.emplace(d.spec.name, std::make_shared<AppRun>()).first;
  AppRun& app = *it->second;
  const DesiredApp& latest = app.next ? app.next->desired : app.desired;
  bool ever_parsed = app.file || !app.parse_error.empty() ||
                     (app.next && (app.next->file || !app.next->parse_error.empty()));
  AppRun::Next next;
  next.compose_changed =
      !ever_parsed || latest.spec.compose != d.spec.compose || latest.variables != d.variables;
  if (app.next && !next.compose_changed) {  // keep what the pending entry parsed
    next.file = app.next->file;
    next.parse_error = app.next->parse_error;
    next.compose_changed = app.next->compose_changed;
  } else if (next.compose_changed) {
    auto parsed = parseCompose(d.spec.compose, d.variables);
    if (parsed.isOk()) {
      next.file = std::make_shared<const ComposeFile>(std::move(parsed).value());
    } else {
      // Keep what runs (the previous file stays for reporting); nothing changes.
      next.parse_error = "invalid compose: " + parsed.status().message();
      if (parsed.status().line() > 0) {
        next.parse_error += " (line " + std::to_string(parsed.status().line()) + ", column " +
                            std::to_string(parsed.status().column()) + ")";
      }
      parse_error = next.parse_error;
    }
  }
  next.desired = std::move(d);
  app.next = std::move(next);
  return true;
}

AppTable::Dropped AppTable::dropAllBut(const std::set<std::string>& names) {
  Dropped dropped;
  for (auto it = apps_.begin(); it != apps_.end();) {
    if (names.count(it->first) == 0) {
      it->second->detached = true;
      dropped.emplace_back(it->first, it->second->file);
      it = apps_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

bool AppTable::adopt(AppRun& app) {
  if (!app.next) return false;
  AppRun::Next next = std::move(*app.next);
  app.next.reset();
  int64_t old_revision = app.desired.spec.revision;
  app.desired = std::move(next.desired);
  app.failure.clear();
  app.gone = false;
  app.failing = false;  // a new entry: a new failure episode
  app.failing_message.clear();
  if (app.desired.spec.state != DesiredState::kRemoved) app.removal_reported = false;
  if (next.compose_changed) {
    if (next.file) {
      app.file = std::move(next.file);
      app.parse_error.clear();
    } else {
      app.parse_error = next.parse_error;
    }
  }
  if (app.file && app.parse_error.empty() && old_revision != app.desired.spec.revision) {
    std::set<std::string> images;
    for (const Service& s : app.file->services) images.insert(s.image);
    if (old_revision != 0) app.previous_images = app.current_images;
    app.current_images = std::move(images);
  }
  return true;
}

std::shared_ptr<AppRun> AppTable::find(const std::string& name) const {
  auto it = apps_.find(name);
  return it == apps_.end() ? nullptr : it->second;
}

std::set<std::string> AppTable::appsUsing(const std::string& image) const {
  std::set<std::string> out;
  for (const auto& [name, app] : apps_) {
    for (const ComposeFile* file : {app->file.get(), app->next ? app->next->file.get() : nullptr}) {
      if (file == nullptr) continue;
      for (const Service& s : file->services) {
        if (s.image == image) out.insert(name);
      }
    }
  }
  return out;
}

std::vector<Reconciler::Observed> AppTable::observed() const {
  std::vector<Reconciler::Observed> out;
  for (const auto& [name, app] : apps_) {
    for (const auto& [svc, run] : app->services) {
      if (run.info) out.push_back(Reconciler::Observed{name, svc, *run.info});
    }
  }
  return out;
}

}  // namespace pharos::agent
