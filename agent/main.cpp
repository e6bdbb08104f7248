// pharos-agent: builds the object graph (config, thread pools, Paho link, Docker
// client, state file, Agent) and waits for SIGTERM/SIGINT, whose handler only sets a flag.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/docker_client.h"
#include "agent/state_file.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/log.h"
#include "pharos/malloc_arenas.h"
#include "pharos/paho_init.h"
#include "pharos/sd_notify.h"
#include "pharos/sealed.h"

namespace {
constexpr std::chrono::seconds kIdleThreadExit{2};
volatile std::sig_atomic_t g_stop = 0;  // NOLINT: the one flag a signal handler may set
void onSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace pharos;
  using namespace pharos::agent;
  const int arena_cap = limitMallocArenas();  // before any thread allocates
  skipPahoOpenSslInit();                      // before the first Paho client
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("pharos-agent %s\n", PHAROS_VERSION);
    return 0;
  }
  auto cmdline = parseCommandLine(argc, argv);
  if (!cmdline.isOk()) {
    std::fprintf(stderr, "pharos-agent: %s\n", cmdline.status().message().c_str());
    return 2;
  }
  if (!cmdline->help_text.empty()) {
    std::fputs(cmdline->help_text.c_str(), stdout);
    return 0;
  }
  const AgentSettings& config = cmdline->config;
  // The device key pair for sealed secrets: created on first start, never leaves the device.
  if (cmdline->rekey && ::unlink(config.node_key_file.c_str()) != 0 && errno != ENOENT) {
    std::fprintf(stderr, "pharos-agent: node_key_file: cannot remove %s: %s\n",
                 config.node_key_file.c_str(), std::strerror(errno));
    return 2;
  }
  bool key_created = false;
  auto secret_key = sealed::loadOrCreateKeyFile(
      config.node_key_file, sealed::kSecretKeyBytes,
      [] { return sealed::generateKeyPair().secret_key; }, &key_created);
  auto keys = secret_key ? sealed::keyPairFromSecret(*secret_key)
                         : Result<sealed::KeyPair>(secret_key.status());
  if (!keys) {
    std::fprintf(stderr, "pharos-agent: node_key_file: %s\n", keys.status().message().c_str());
    return 2;
  }
  if (cmdline->print_public_key || cmdline->rekey) {
    std::printf("%s\n", sealed::toBase64(keys->public_key).c_str());
    if (cmdline->rekey) {
      std::fprintf(stderr, "new key id %s; accept it with: pharosctl node rekey %s --key-id %s\n",
                   sealed::keyId(keys->public_key).c_str(), config.node_id.c_str(),
                   sealed::keyId(keys->public_key).c_str());
    }
    return 0;
  }
  setupLogging("agent", config.log_level);
  if (key_created) spdlog::info("created the device key pair in {}", config.node_key_file);
  spdlog::info("sealed secrets: public key id {} ({})", sealed::keyId(keys->public_key),
               config.node_key_file);
  if (arena_cap > 0) spdlog::debug("glibc malloc arenas capped at {}", arena_cap);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  // Workers grow with the work queued and end after kIdleThreadExit without any: an idle
  // agent keeps one worker and no stop thread.
  ThreadPoolExecutor executor("agent", 1, config.threads, kIdleThreadExit);
  ThreadPoolExecutor stops("agent-stop", 0, config.stop_threads, kIdleThreadExit);
  auto docker = makeEngineDockerClient(config.docker_host);
  StateFile state_file(config.state_file);

  AgentOptions options;
  options.node_id = config.node_id;
  options.labels = config.labels;
  options.keys = *keys;
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
        options, executor, *docker, clock, state_file,
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
    while (!g_stop) {
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
    }
    (void)sdNotifyStopping("stopping");
    spdlog::info("stopping");
    agent.stop();
    executor.shutdown();  // no task of the agent runs past this point
    stops.shutdown();     // waits for a stop in progress (as the engine's stop would)
  }
  return 0;
}
