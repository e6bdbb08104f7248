// libFuzzer target for the Sparkplug B payload decoder (sparkplug/payload.h) and topic parser:
// whatever decodes must encode and decode back to the same payload (compared from the second
// round trip on: a value that does not fit its datatype is normalised by the first). Crashes,
// sanitizer reports and round-trip mismatches are bugs. Seeds: fuzz/corpus/sparkplug.
// Single-threaded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sparkplug/payload.h"
#include "sparkplug/topics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pharos::sparkplug;  // NOLINT(google-build-using-namespace)
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)parseTopic(input);
  auto first = decodePayload(input, 1 << 20, 10000);
  if (!first) return 0;
  auto second = decodePayload(encodePayload(*first), 1 << 22, 10000);
  if (!second) __builtin_trap();
  auto third = decodePayload(encodePayload(*second), 1 << 22, 10000);
  // Compared as bytes: a NaN value is not equal to itself.
  if (!third || encodePayload(*third) != encodePayload(*second)) __builtin_trap();
  return 0;
}
