// libFuzzer target for the wire message decoders (messages.h, api.h): the input is parsed
// once and fed to every decoder; whatever decodes must encode to something that decodes
// back to an equal value. Crashes, sanitizer reports and round-trip mismatches are bugs.
// Seeds: fuzz/corpus/messages (the schema examples). Single-threaded, as libFuzzer runs it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pharos/api.h"
#include "pharos/messages.h"

namespace {

using pharos::Json;

// Decodes, and when that succeeds checks encode -> text -> decode gives the same value.
template <typename Decode>
void roundTrip(const Json& json, Decode decode) {
  auto first = decode(json);
  if (!first) return;
  std::string text = pharos::dumpJson(pharos::encode(*first));
  auto second = decode(std::string_view(text));
  if (!second || !(*second == *first)) __builtin_trap();
}

template <typename Decode>
void requestRoundTrip(const Json& json, Decode decode) {
  auto first = decode(json);
  if (!first) return;
  auto second = decode(pharos::encode(*first));
  if (!second || !(*second == *first)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pharos;  // NOLINT(google-build-using-namespace)
  std::string_view payload(reinterpret_cast<const char*>(data), size);

  // The payload overloads (size limit, parse) once, the Json overloads for the rest.
  (void)decodeNodeState(payload);
  (void)decodeApiRequest(payload);
  (void)checkReplyTo(payload, "alice");
  auto parsed = parseJson(payload);
  if (!parsed) return 0;
  const Json& json = *parsed;

  roundTrip(json, [](const auto& in) { return decodeNodeStatus(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeInfo(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeState(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeEvent(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeMetrics(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeHeartbeat(in); });
  roundTrip(json, [](const auto& in) { return decodeNodeHealth(in); });
  roundTrip(json, [](const auto& in) { return decodeDesired(in); });
  roundTrip(json, [](const auto& in) { return decodeSealedSecrets(in); });
  roundTrip(json, [](const auto& in) { return decodeSecretsContent(in); });
  roundTrip(json, [](const auto& in) { return decodeRolloutSummary(in); });
  roundTrip(json, [](const auto& in) { return decodeAnchorStatus(in); });
  if (auto group = decodeGroupDesired(json)) {
    auto again = decodeGroupDesired(encodeGroupDesired(*group));
    if (!again || !(*again == *group)) __builtin_trap();
  }
  if (auto response = decodeApiResponse(json)) {
    Json back = response->ok ? okResponse(response->result, response->correlation)
                             : errorResponse(response->error, response->correlation);
    auto again = decodeApiResponse(back);
    if (!again || again->ok != response->ok) __builtin_trap();
  }
  if (auto request = decodeApiRequest(json)) {
    for (auto op : apiOperations()) (void)validateRequest(op, request->body);
    if (!request->reply_to.empty()) (void)checkReplyTo(request->reply_to, "alice");
  }
  requestRoundTrip(json, decodeNodeList);
  requestRoundTrip(json, decodeNodeGet);
  requestRoundTrip(json, decodeNodeAdd);
  requestRoundTrip(json, decodeNodeRemove);
  requestRoundTrip(json, decodeNodeLabel);
  requestRoundTrip(json, decodeGroupCreate);
  requestRoundTrip(json, decodeGroupDelete);
  requestRoundTrip(json, decodeGroupList);
  requestRoundTrip(json, decodeGroupAdd);
  requestRoundTrip(json, decodeAppDeploy);
  requestRoundTrip(json, decodeAppRemove);
  requestRoundTrip(json, decodeAppRollback);
  requestRoundTrip(json, decodeRegistrySet);
  requestRoundTrip(json, decodeEventsQuery);
  requestRoundTrip(json, decodeLogsCommand);
  requestRoundTrip(json, decodeInspectCommand);
  return 0;
}
