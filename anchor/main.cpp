// pharos-anchor entry point: parses flags, installs the signal handlers (they only set a
// flag) and hands over to the service (anchor/service.h).
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "anchor/service.h"
#include "pharos/log.h"
#include "pharos/malloc_arenas.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void onSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  // Before any thread allocates: a flat resident size under churn (docs/reliability.md).
  const int arena_cap = pharos::limitMallocArenas();
  const std::size_t mmap_threshold = pharos::fixMallocMmapThreshold();
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("pharos-anchor %s\n", PHAROS_VERSION);
    return 0;
  }
  auto cmd = pharos::anchor::parseAnchorCommandLine(argc, argv);
  if (!cmd) {
    std::fprintf(stderr, "pharos-anchor: %s\n", cmd.status().message().c_str());
    return 2;
  }
  if (!cmd->help_text.empty()) {
    std::fputs(cmd->help_text.c_str(), stdout);
    return 0;
  }
  const auto& options = cmd->options;
  pharos::setupLogging("anchor", options.log_level);
  if (arena_cap > 0) spdlog::debug("glibc malloc arenas capped at {}", arena_cap);
  if (mmap_threshold > 0) spdlog::debug("glibc mmap threshold fixed at {} B", mmap_threshold);
  using Command = pharos::anchor::AnchorSettings::Command;
  if (options.command == Command::kBackup) return pharos::anchor::backupAnchor(options);
  if (options.command == Command::kRestore) return pharos::anchor::restoreAnchor(options);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return pharos::anchor::runAnchor(options, g_stop);
}
