// Codecs of nodes/{node}/secrets: the sealed envelope on the wire (v2) and the plaintext
// content inside the box, with sealing and opening (messages.h, docs/protocol.md 3.9).
#include "messages_util.h"
#include "pharos/api.h"
#include "pharos/messages.h"
#include "pharos/sealed.h"

namespace pharos {

namespace {
constexpr int64_t kMaxI64 = INT64_MAX;
constexpr size_t kValueBytes = 64 << 10;  // one variable value or password
// base64 of the largest box a document may hold (the payload limit bounds it anyway).
constexpr size_t kMaxSealedText = kMaxDocumentBytes;

bool isKeyId(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

bool isPublicKeyText(std::string_view text) {
  auto raw = sealed::fromBase64(text);
  return raw && raw->size() == sealed::kPublicKeyBytes;
}

// ---- content (plaintext inside the box) ---------------------------------------------------
Json encode(const SecretsDoc& msg) {
  Json out = codec::versioned();
  out["node"] = msg.node;
  out["epoch"] = msg.epoch;
  out["generation"] = msg.generation;
  out["variables"] = codec::mapToJson(msg.variables);
  Json registries = Json::array();
  for (const auto& reg : msg.registries) {
    registries.push_back(
        Json{{"host", reg.host}, {"username", reg.username}, {"password", reg.password}});
  }
  out["registries"] = std::move(registries);
  return out;
}

Result<SecretsDoc> decodeSecretsContent(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  SecretsDoc out;
  out.node = codec::id(r, "node", IdKind::kNode);
  out.epoch = codec::epoch(r, "epoch");
  out.generation = codec::i64In(r, "generation", 0, kMaxI64);
  out.variables = codec::stringMap(r, "variables", codec::MapKeys::kVariable, kValueBytes);
  const Json& registries = r.arrayOr("registries");
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < registries.size(); ++i) {
    codec::Reader g(registries[i], codec::indexPath(r, "registries", i));
    RegistryAuth reg;
    reg.host = g.str("host");
    if (g.ok() && !isValidRegistryHost(reg.host)) {
      g.fail(Status::invalidArgument(g.path("host") + ": must be host[:port]"));
    }
    reg.username = codec::boundedStr(g, "username", 1024);
    reg.password = codec::boundedStr(g, "password", kValueBytes);
    if (!g.ok()) return g.status();
    out.registries.push_back(std::move(reg));
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(SecretsDoc, decodeSecretsContent, kMaxDocumentBytes)

// ---- envelope (the retained document) -----------------------------------------------------
Json encode(const SealedSecretsDoc& msg) {
  Json out{{"v", kSealedSecretsVersion}, {"epoch", msg.epoch}, {"generation", msg.generation}};
  if (!msg.withheld.empty()) {
    out["withheld"] = msg.withheld;
  } else {
    out["key_id"] = msg.key_id;
    out["sealed"] = msg.sealed;
  }
  return out;
}

Result<SealedSecretsDoc> decodeSealedSecrets(const Json& json) {
  codec::Reader r(json, "");
  // "v" must be 2 (JsonReader::version() knows only 1).
  const Json* v = r.raw("v");
  if (v == nullptr || !v->is_number_integer() || v->get<int64_t>() != kSealedSecretsVersion) {
    return Status::invalidArgument(
        "v: unsupported message version (a secrets document is version 2: sealed)");
  }
  SealedSecretsDoc out;
  out.epoch = codec::epoch(r, "epoch");
  out.generation = codec::i64In(r, "generation", 0, kMaxI64);
  out.withheld = codec::boundedStr(r, "withheld", 1024, "");
  if (!r.ok()) return r.status();
  if (!out.withheld.empty()) {
    if (r.raw("key_id") || r.raw("sealed")) {
      return Status::invalidArgument("withheld: a withheld document carries no key_id or sealed");
    }
    return out;
  }
  out.key_id = r.str("key_id");
  if (r.ok() && !isKeyId(out.key_id)) {
    r.fail(Status::invalidArgument("key_id: must be 16 lowercase hex digits"));
  }
  out.sealed = codec::boundedStr(r, "sealed", kMaxSealedText);
  if (r.ok()) {
    auto box = sealed::fromBase64(out.sealed);
    if (!box || box->size() < sealed::kSealOverhead) {
      r.fail(Status::invalidArgument("sealed: must be the base64 of a sealed box"));
    }
  }
  return codec::finish(r, std::move(out));
}
PHAROS_DEFINE_PAYLOAD_DECODER(SealedSecretsDoc, decodeSealedSecrets, kMaxDocumentBytes)

Result<SealedSecretsDoc> sealSecrets(const SecretsDoc& doc, std::string_view public_key) {
  std::string plaintext = dumpJson(encode(doc));
  auto box = sealed::seal(plaintext, public_key);
  std::fill(plaintext.begin(), plaintext.end(), '\0');
  if (!box) return box.status();
  return SealedSecretsDoc{doc.epoch, doc.generation, sealed::keyId(public_key),
                          sealed::toBase64(*box), ""};
}

Result<SecretsDoc> openSecrets(const SealedSecretsDoc& doc, const std::string& node,
                               std::string_view public_key, std::string_view secret_key) {
  if (!doc.withheld.empty()) {
    return Status::unavailable("withheld by the anchor: " + doc.withheld);
  }
  std::string own_id = sealed::keyId(public_key);
  if (doc.key_id != own_id) {
    return Status::permissionDenied("sealed to key " + doc.key_id + ", this device holds key " +
                                    own_id + " (re-key pending at the anchor?)");
  }
  auto box = sealed::fromBase64(doc.sealed);
  if (!box) return Status::invalidArgument("sealed: " + box.status().message());
  auto plaintext =
      sealed::open(*box, sealed::KeyPair{std::string(public_key), std::string(secret_key)});
  if (!plaintext) return Status::invalidArgument("sealed: " + plaintext.status().message());
  auto content = decodeSecretsContent(std::string_view(*plaintext));
  std::fill(plaintext->begin(), plaintext->end(), '\0');
  if (!content) return Status::invalidArgument("sealed content: " + content.status().message());
  if (content->node != node || content->epoch != doc.epoch ||
      content->generation != doc.generation) {
    return Status::invalidArgument("sealed content is for " + content->node + " at " +
                                   content->epoch + "/" + std::to_string(content->generation) +
                                   ", not the envelope's " + node + " at " + doc.epoch + "/" +
                                   std::to_string(doc.generation));
  }
  return content;
}

}  // namespace pharos
