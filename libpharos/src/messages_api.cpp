// The API envelope (see messages.h): request bodies with their MQTT 3.1.1 fallback fields,
// replyTo checks, and the {"v":1,"ok":…} responses.
#include "messages_util.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos {

Result<ApiRequest> decodeApiRequest(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  ApiRequest out;
  out.reply_to = codec::boundedStr(r, "replyTo", 512, "");
  if (!r.ok()) return r.status();
  out.body = json;
  auto it = json.find("correlation");
  if (it != json.end()) {
    out.correlation = *it;
    out.has_correlation = true;
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(ApiRequest, decodeApiRequest, kMaxPayloadBytes)

namespace {
// Ok when `reply_to` is a concrete topic of kind `kind` (and node `node`, for cmd-replies)
// whose user level is `user`; `where` names the required prefix in the messages.
Status checkReplyUnder(std::string_view reply_to, topics::Kind kind, std::string_view node,
                       std::string_view user, const std::string& where) {
  if (reply_to.find_first_of("+#") != std::string_view::npos ||
      reply_to.find('\0') != std::string_view::npos) {
    return Status::invalidArgument("replyTo: must be a topic without wildcards");
  }
  auto parsed = topics::parse(reply_to);
  if (!parsed || parsed->kind != kind || parsed->node != node) {
    return Status::invalidArgument("replyTo: must be under " + where);
  }
  if (parsed->user != user) {
    return Status::permissionDenied("replyTo: must be under " + where +
                                    ", not another user's replies");
  }
  return Status::ok();
}
}  // namespace

Status checkReplyTo(std::string_view reply_to, std::string_view user) {
  return checkReplyUnder(reply_to, topics::Kind::kReplies, "", user,
                         "pharos/v1/replies/" + std::string(user.substr(0, 64)) + "/");
}

Status checkCmdReplyTo(std::string_view reply_to, std::string_view node, std::string_view user) {
  return checkReplyUnder(reply_to, topics::Kind::kNodeCmdReplies, node, user,
                         "pharos/v1/nodes/" + std::string(node.substr(0, 64)) + "/cmd-replies/" +
                             std::string(user.substr(0, 64)) + "/");
}

Json okResponse(const Json& result, const Json& correlation) {
  Json out = codec::versioned();
  out["ok"] = true;
  out["result"] = result;
  if (!correlation.is_null()) out["correlation"] = correlation;
  return out;
}

Json errorResponse(const Status& status, const Json& correlation) {
  Json out = codec::versioned();
  out["ok"] = false;
  Json error = Json::object();
  if (status.isOk()) {
    error["code"] = codeName(Code::kInternal);
    error["message"] = "error response built from an ok status";
  } else {
    error["code"] = codeName(status.code());
    error["message"] = status.message();
  }
  if (!status.path().empty()) error["path"] = status.path();
  if (status.line() > 0) error["line"] = status.line();
  if (status.column() > 0) error["column"] = status.column();
  out["error"] = std::move(error);
  if (!correlation.is_null()) out["correlation"] = correlation;
  return out;
}

Result<ApiResponse> decodeApiResponse(const Json& json) {
  codec::Reader r(json, "");
  r.version();
  ApiResponse out;
  out.ok = r.boolean("ok");
  if (!r.ok()) return r.status();
  if (out.ok) {
    auto it = json.find("result");
    if (it != json.end()) out.result = *it;
  } else {
    codec::Reader e(r.object("error"), "error");
    if (!r.ok()) return r.status();
    std::string code =
        e.oneOf("code", {"invalid_argument", "not_found", "already_exists", "conflict", "too_large",
                         "unavailable", "permission_denied", "internal"});
    std::string message = e.str("message");
    std::string path = e.str("path", "");
    int line = codec::i32In(e, "line", 1, INT32_MAX, 0);
    int column = codec::i32In(e, "column", 1, INT32_MAX, 0);
    if (!e.ok()) return e.status();
    out.error = Status(codeFromName(code), message);
    if (!path.empty()) out.error.withPath(path);
    if (line > 0 || column > 0) out.error.withPosition(line, column);
  }
  auto it = json.find("correlation");
  if (it != json.end()) {
    out.correlation = *it;
    out.has_correlation = true;
  }
  return out;
}
PHAROS_DEFINE_PAYLOAD_DECODER(ApiResponse, decodeApiResponse, kMaxDocumentBytes)

}  // namespace pharos
