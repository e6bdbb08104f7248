// Host facts: the architecture in nodes/{node}/info is the Debian name of the one the agent
// was built for (PHAROS_EXPECTED_ARCH, from the toolchain or dpkg), also when the binary runs
// under qemu-user, whose uname reports the emulated CPU's machine name (aarch64, armv7l).
#include "agent/host_facts.h"

#include <doctest/doctest.h>

#include <string>

namespace pharos::agent {
namespace {

TEST_CASE("host facts: arch is the Debian architecture the agent was built for") {
  const std::string expected = PHAROS_EXPECTED_ARCH;
  REQUIRE_MESSAGE(!expected.empty(), "the build names no Debian architecture");
  CHECK(std::string(buildArch()) == expected);
  NodeInfo info;
  fillHostInfo(info, "/tmp");
  CHECK(info.arch == expected);
  CHECK(!info.kernel.empty());
  CHECK(info.cpus > 0);
}

}  // namespace
}  // namespace pharos::agent
