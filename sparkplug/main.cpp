// pharos-sparkplug entry point: parses the options, installs the signal handlers (they only
// set a flag) and hands over to the session loop (sparkplug/service.h).
#include <csignal>
#include <cstdio>

#include "pharos/log.h"
#include "sparkplug/service.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void onSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  auto cmd = pharos::sparkplug::parseSparkplugCommandLine(argc, argv);
  if (!cmd) {
    std::fprintf(stderr, "pharos-sparkplug: %s\n", cmd.status().message().c_str());
    return 2;
  }
  if (cmd->version) {
    std::printf("pharos-sparkplug %s\n", PHAROS_VERSION);
    return 0;
  }
  if (!cmd->help_text.empty()) {
    std::fputs(cmd->help_text.c_str(), stdout);
    return 0;
  }
  pharos::setupLogging("sparkplug", cmd->options.log_level);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return pharos::sparkplug::runSparkplug(cmd->options, g_stop);
}
