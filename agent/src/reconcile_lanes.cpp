// The reconciler's lanes, timers and life gate (see reconcile_lanes.h).
#include "reconcile_lanes.h"

namespace pharos::agent {

ReconcileLanes::ReconcileLanes(ReconcilerContext& ctx, Executor& blocking, RunPass run)
    : ctx_(ctx), blocking_(blocking), run_(std::move(run)) {}

Task ReconcileLanes::guarded(Task task) const {
  return [life = life_, task = std::move(task)] {
    {
      std::lock_guard<std::mutex> lock(life->mu);
      if (!life->open) return;
      ++life->running;
    }
    task();
    {
      std::lock_guard<std::mutex> lock(life->mu);
      --life->running;
    }
    life->idle.notify_all();
  };
}

Task ReconcileLanes::whileOpen(Task task) const {
  return [life = std::weak_ptr<Life>(life_), task = std::move(task)] {
    if (auto l = life.lock(); !l || !l->open) return;
    task();
  };
}

void ReconcileLanes::shutdown() {
  {
    std::unique_lock<std::mutex> lock(life_->mu);
    life_->open = false;
    life_->idle.wait(lock, [&] { return life_->running == 0; });
  }
  Lock lock(ctx_.mu);
  for (auto& [key, id] : timers_) lane(key)->cancel(id);
  timers_.clear();
  timer_due_.clear();
}

std::shared_ptr<Strand> ReconcileLanes::lane(const std::string& key) {
  auto& l = lanes_[key];
  if (!l) l = Strand::create(blocking_);
  return l;
}

void ReconcileLanes::schedule(const std::string& key, std::chrono::milliseconds delay) {
  auto due = ctx_.clock.steadyNow() + delay;
  auto existing = timer_due_.find(key);
  if (existing != timer_due_.end()) {
    if (existing->second <= due) return;
    lane(key)->cancel(timers_[key]);
  }
  timers_[key] = lane(key)->postDelayed(delay, guarded([this, key] { runScheduled(key); }));
  timer_due_[key] = due;
}

void ReconcileLanes::cancel(const std::string& key) {
  auto t = timers_.find(key);
  if (t == timers_.end()) return;
  lane(key)->cancel(t->second);
  timers_.erase(t);
  timer_due_.erase(key);
}

bool ReconcileLanes::appPassDue() const {
  auto now = ctx_.clock.steadyNow();
  for (const auto& [key, due] : timer_due_) {
    if (!key.empty() && due <= now) return true;
  }
  return false;
}

void ReconcileLanes::runScheduled(const std::string& key) {
  {
    Lock lock(ctx_.mu);
    timers_.erase(key);
    timer_due_.erase(key);
  }
  run_(key);
}

}  // namespace pharos::agent
