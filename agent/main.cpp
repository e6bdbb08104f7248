// pharos-agent entry point: parses flags, loads (or creates) the device key pair, installs
// the signal handlers (they only set a flag) and hands over to the service (agent/service.h).
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "agent/config.h"
#include "agent/service.h"
#include "pharos/log.h"
#include "pharos/malloc_arenas.h"
#include "pharos/paho_init.h"
#include "pharos/sealed.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;  // NOLINT: the one flag a signal handler may set
void onSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace pharos;
  using namespace pharos::agent;
  const int arena_cap = limitMallocArenas(kAgentMallocArenaMax);  // before any thread allocates
  const std::size_t mmap_threshold = fixMallocMmapThreshold();
  skipPahoOpenSslInit();  // before the first Paho client
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
  if (mmap_threshold > 0) spdlog::debug("glibc mmap threshold fixed at {}", mmap_threshold);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);

  return runAgent(config, *keys, g_stop);
}
