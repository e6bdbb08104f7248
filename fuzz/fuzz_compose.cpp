// libFuzzer entry for the compose parser: arbitrary bytes go through parseCompose with a
// small variable map; when the text parses, every service is also serialised and hashed.
// Nothing may crash, hang or leak, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pharos/compose.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const pharos::Variables vars = {
      {"PHAROS_NODE_ID", "node-1"}, {"PHAROS_LABEL_LINE", "l1"}, {"TAG", "1.0"}, {"EMPTY", ""}};
  pharos::ComposeLimits limits;
  limits.max_nodes = 20000;  // keep each run fast; the logic is the same at the default
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, vars, limits);
  if (parsed) {
    for (const pharos::Service& service : parsed->services) {
      (void)pharos::serviceConfigHash(*parsed, service);
    }
    (void)pharos::toJson(*parsed).dump();
    (void)parsed->startOrder();
  }
  return 0;
}
