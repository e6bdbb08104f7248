// The heartbeat timer (see heartbeats.h).
#include "agent/heartbeats.h"

#include <algorithm>

namespace pharos::agent {

std::chrono::milliseconds heartbeatInterval(std::chrono::milliseconds configured,
                                            std::chrono::seconds keep_alive) {
  if (configured.count() > 0) return std::max(configured, std::chrono::milliseconds(500));
  auto capped = std::min(keep_alive, std::chrono::seconds(3600));
  return std::max(std::chrono::milliseconds(capped) / 2, std::chrono::milliseconds(500));
}

void Heartbeats::start(std::chrono::milliseconds interval) {
  stop();
  uint64_t generation = 0;
  {
    std::lock_guard lock(chain_->mu);
    chain_->running = true;
    chain_->interval = interval;
    generation = ++chain_->generation;
  }
  tick(this, chain_, generation);
}

void Heartbeats::stop() {
  std::lock_guard lock(chain_->mu);
  chain_->running = false;
  ++chain_->generation;
  if (chain_->timer) executor_.cancel(chain_->timer);
  chain_->timer = 0;
}

void Heartbeats::tick(Heartbeats* self, const std::shared_ptr<Chain>& chain, uint64_t generation) {
  std::lock_guard lock(chain->mu);
  // Checked before `self` is used: a stopped chain may outlive its owner.
  if (!chain->running || chain->generation != generation) return;
  self->beat_();
  chain->timer = self->executor_.postDelayed(
      chain->interval, [self, chain, generation] { tick(self, chain, generation); });
}

}  // namespace pharos::agent
