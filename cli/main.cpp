// pharosctl: the command-line client of the Pharos management API. Everything lives in
// pharosctl_lib (cli/include/cli/runner.h); this only hands over the arguments.
#include <string>
#include <vector>

#include "cli/runner.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return pharos::cli::runPharosctl(args, pharos::cli::systemRunEnv());
}
