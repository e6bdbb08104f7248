// pharos-agent process wiring (service.h). The main thread polls the stop flag and the
// link's state for systemd; the Agent runs on a growing/shrinking pool, container stops on
// a second one; the Paho link has its own I/O thread. The main thread also gives the heap's
// free pages back to the kernel every few seconds (pharos/malloc_arenas.h).
#include "agent/service.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "agent/agent.h"
#include "agent/docker_client.h"
#include "agent/state_file.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/log.h"
#include "pharos/malloc_arenas.h"
#include "pharos/sd_notify.h"

namespace pharos::agent {
namespace {
constexpr std::chrono::seconds kIdleThreadExit{2};
// A metrics tick or a reconcile pass frees most of what it allocated (the engine's JSON), in
// pages glibc keeps unless told: give them back this often (about a millisecond each time).
constexpr std::chrono::seconds kReleaseFreeHeapEvery{5};
}  // namespace

int runAgent(const AgentSettings& config, const sealed::KeyPair& keys,
             const volatile std::sig_atomic_t& stop) {
  SystemClock clock;
  // Workers grow with the work queued and end after kIdleThreadExit without any: an idle
  // agent keeps one worker and no stop thread.
  ThreadPoolExecutor executor("agent", 1, config.threads, kIdleThreadExit);
  ThreadPoolExecutor stops("agent-stop", 0, config.stop_threads, kIdleThreadExit);
  EngineDocker docker(config.docker_host);
  StateFile state_file(config.state_file);

  AgentOptions options;
  options.node_id = config.node_id;
  options.labels = config.labels;
  options.keys = keys;
  options.mqtt = mqttOptions(config);
  options.reconcile_interval = config.reconcile_interval;
  options.metrics_interval = config.metrics_interval;
  options.reconciler.data_dir = config.data_dir;
  options.reconciler.pull_jitter = config.pull_jitter;
  options.reconciler.health_timeout = config.health_timeout;

  {
    // systemd (Type=notify): READY=1 once connected, STATUS= on every connection change.
    std::atomic<MqttLink*> link{nullptr};
    Agent agent(
        options, executor, docker.api(), clock, state_file,
        [&link](MqttOptions o) {
          auto made = makePahoLink(std::move(o));
          link = made.get();
          return made;
        },
        &stops);
    spdlog::info("pharos-agent {} starting as node {} (broker {})", PHAROS_VERSION, config.node_id,
                 config.connection.broker_url);
    agent.start();
    // READY=1 only once connected to the broker ("ready only when connected and
    // serving"). Until then the unit is "activating" with a STATUS= line; the agent already
    // runs its apps from the state file (offline autonomy), and the unit's
    // TimeoutStartSec=infinity keeps systemd from killing an agent that boots offline.
    (void)sdNotifyStatus("connecting to " + config.connection.broker_url);
    bool ready = false;
    bool was_connected = false;
    auto watchdog = sdWatchdogInterval();
    auto last_watchdog = std::chrono::steady_clock::now();
    auto last_release = last_watchdog;
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      MqttLink* current = link.load();
      bool connected = current != nullptr && current->connected();
      if (connected != was_connected) {
        std::string text =
            (connected ? "connected to " : "connecting to ") + config.connection.broker_url;
        (void)(ready || !connected ? sdNotifyStatus(text) : sdNotifyReady(text));
        ready = ready || connected;
        was_connected = connected;
      }
      if (watchdog.count() > 0 && std::chrono::steady_clock::now() - last_watchdog >= watchdog) {
        (void)sdNotifyWatchdog();
        last_watchdog = std::chrono::steady_clock::now();
      }
      if (std::chrono::steady_clock::now() - last_release >= kReleaseFreeHeapEvery) {
        (void)releaseFreeHeap();
        last_release = std::chrono::steady_clock::now();
      }
    }
    (void)sdNotifyStopping("stopping");
    spdlog::info("stopping");
    agent.stop();
    executor.shutdown();  // no task of the agent runs past this point
    stops.shutdown();     // waits for a stop in progress (as the engine's stop would)
  }
  return 0;
}

}  // namespace pharos::agent
