// The agent's heartbeat timer (docs/protocol.md "Health"): one beat at once, then one every
// interval while connected. The anchor turns a node NotReady when none arrives for
// 1.5 x keep-alive, so the default interval, keep-alive / 2, leaves one whole keep-alive for
// delays. What a beat sends is the caller's (NodePublisher::heartbeat).
//
// Threading: the timer runs on the executor it is given, not on the agent's strand: a
// heartbeat says what the MQTT keep-alive says (the process and its link are alive), whatever
// the core does. start() and stop() may be called from any thread; one chain of executor timers
// per start(), which stop() ends under the mutex, so a tick has either finished or sees that it
// must not run. The destructor stops: no beat runs after it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "pharos/executor.h"

namespace pharos::agent {

// The beat period: `configured` when set (at least 500 ms), else keep-alive / 2 (keep-alive
// capped at 3600 s), never less than 500 ms.
std::chrono::milliseconds heartbeatInterval(std::chrono::milliseconds configured,
                                            std::chrono::seconds keep_alive);

class Heartbeats {
 public:
  Heartbeats(Executor& executor, std::function<void()> beat)
      : executor_(executor), beat_(std::move(beat)) {}
  ~Heartbeats() { stop(); }
  Heartbeats(const Heartbeats&) = delete;
  Heartbeats& operator=(const Heartbeats&) = delete;

  // Beats now, then every `interval` until stop() (a running chain is replaced).
  void start(std::chrono::milliseconds interval);
  void stop();

 private:
  struct Chain {
    std::mutex mu;
    bool running = false;
    uint64_t generation = 0;  // of the running chain: a tick of an older one stops
    uint64_t timer = 0;       // the pending executor timer
    std::chrono::milliseconds interval{0};
  };
  static void tick(Heartbeats* self, const std::shared_ptr<Chain>& chain, uint64_t generation);

  Executor& executor_;
  std::function<void()> beat_;
  std::shared_ptr<Chain> chain_ = std::make_shared<Chain>();
};

}  // namespace pharos::agent
