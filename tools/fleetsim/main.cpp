// pharos-fleetsim: LOAD GENERATOR for the scale benchmarks (bench/scale.py); nothing in the
// product uses it. Parses the command line, runs the fleet until SIGTERM/SIGINT (the handler
// only sets a flag), then stops every hollow agent cleanly.
#include <atomic>
#include <csignal>
#include <cstdio>

#include "fleet.h"

namespace {
std::atomic<bool> g_stop{false};  // NOLINT: the one flag a signal handler may set
void onSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  std::string help;
  auto options = pharos::fleetsim::parseFleetOptions(argc, argv, help);
  if (!options.isOk()) {
    std::fprintf(stderr, "pharos-fleetsim: %s\n", options.status().message().c_str());
    return 2;
  }
  if (!help.empty()) {
    std::fputs(help.c_str(), stdout);
    return 0;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return pharos::fleetsim::runFleet(*options, g_stop);
}
