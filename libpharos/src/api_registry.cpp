// The registry credential request bodies (api.h): registry.set, registry.list and
// registry.remove.
#include "api_codec.h"
#include "messages_util.h"
#include "pharos/api.h"

namespace pharos {

namespace {
constexpr size_t kPasswordBytes = 64 << 10;

std::string hostField(codec::Reader& r) {
  std::string host = r.str("host");
  if (r.ok() && !isValidRegistryHost(host)) {
    r.fail(Status::invalidArgument("host: must be host[:port]").withPath("host"));
  }
  return host;
}
}  // namespace

Json encode(const RegistrySetRequest& req) {
  return api_codec::withV(Json{{"host", req.host},
                               {"username", req.username},
                               {"password", req.password},
                               {"target", api_codec::encodeTarget(req.target)}});
}

Result<RegistrySetRequest> decodeRegistrySet(const Json& body) {
  codec::Reader r(body, "");
  RegistrySetRequest out;
  out.host = hostField(r);
  out.username = codec::boundedStr(r, "username", 1024);
  out.password = codec::boundedStr(r, "password", kPasswordBytes);
  out.target = api_codec::decodeTarget(r);
  return codec::finish(r, std::move(out));
}

Json encode(const RegistryListRequest& req) {
  Json out = Json::object();
  if (req.target) out["target"] = api_codec::encodeTarget(*req.target);
  return api_codec::withV(std::move(out));
}

Result<RegistryListRequest> decodeRegistryList(const Json& body) {
  codec::Reader r(body, "");
  RegistryListRequest out;
  if (r.has("target")) out.target = api_codec::decodeTarget(r);
  return codec::finish(r, std::move(out));
}

Json encode(const RegistryRemoveRequest& req) {
  return api_codec::withV(
      Json{{"host", req.host}, {"target", api_codec::encodeTarget(req.target)}});
}

Result<RegistryRemoveRequest> decodeRegistryRemove(const Json& body) {
  codec::Reader r(body, "");
  RegistryRemoveRequest out;
  out.host = hostField(r);
  out.target = api_codec::decodeTarget(r);
  return codec::finish(r, std::move(out));
}

}  // namespace pharos
