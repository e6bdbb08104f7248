// Contract test: every example under schemas/examples/<schema>/{valid,invalid}/ goes through
// the C++ decoder of its schema; valid ones must decode, invalid ones must be refused. The
// same files are checked against the JSON Schemas by tools/check_schemas.py (ctest
// schema_contract), so schema and decoders cannot drift apart silently.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "pharos/api.h"
#include "pharos/app_history.h"
#include "pharos/group_tree.h"
#include "pharos/messages.h"

namespace pharos {
namespace {

namespace fs = std::filesystem;

// Request examples are requests by this user (see tools/check_schemas.py).
constexpr const char* kExampleUser = "alice";

using Decoder = std::function<Status(const std::string& text, const std::string& stem)>;

template <typename F>
Decoder plain(F decode) {
  return [decode](const std::string& text, const std::string&) { return decode(text).status(); };
}

Status decodeRequestExample(const std::string& text, const std::string& stem) {
  auto request = decodeApiRequest(text);
  if (!request) return request.status();
  std::string op = stem.substr(0, stem.find("--"));
  Status s;
  if (op == "cmd.logs") {
    s = decodeLogsCommand(request->body).status();
  } else if (op == "cmd.inspect") {
    s = decodeInspectCommand(request->body).status();
  } else {
    s = validateRequest(op, request->body);
  }
  if (!s.isOk()) return s;
  if (!request->reply_to.empty()) return checkReplyTo(request->reply_to, kExampleUser);
  return Status::ok();
}

std::map<std::string, Decoder> decoders() {
  return {
      {"status", plain([](const std::string& t) { return decodeNodeStatus(t); })},
      {"info", plain([](const std::string& t) { return decodeNodeInfo(t); })},
      {"state", plain([](const std::string& t) { return decodeNodeState(t); })},
      {"events", plain([](const std::string& t) { return decodeNodeEvent(t); })},
      {"metrics", plain([](const std::string& t) { return decodeNodeMetrics(t); })},
      {"heartbeat", plain([](const std::string& t) { return decodeNodeHeartbeat(t); })},
      {"health", plain([](const std::string& t) { return decodeNodeHealth(t); })},
      {"desired", plain([](const std::string& t) { return decodeDesired(t); })},
      {"group-desired", plain([](const std::string& t) { return decodeGroupDesired(t); })},
      {"secrets", plain([](const std::string& t) { return decodeSealedSecrets(t); })},
      {"secrets-content", plain([](const std::string& t) { return decodeSecretsContent(t); })},
      {"rollout", plain([](const std::string& t) { return decodeRolloutSummary(t); })},
      {"anchor-status", plain([](const std::string& t) { return decodeAnchorStatus(t); })},
      {"api-response", plain([](const std::string& t) { return decodeApiResponse(t); })},
      {"api-request", decodeRequestExample},
      {"app-history-result", plain([](const std::string& t) {
         auto json = parseJson(t, kMaxDocumentBytes);
         return json ? decodeAppHistoryResult(*json) : Result<AppHistoryResult>(json.status());
       })},
      {"group-get-result", plain([](const std::string& t) {
         auto json = parseJson(t, kMaxDocumentBytes);
         return json ? decodeGroupGetResult(*json) : Result<GroupGetResult>(json.status());
       })},
  };
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("every schema example is accepted or refused by the C++ decoders as it says") {
  fs::path root = fs::path(PHAROS_SOURCE_DIR) / "schemas" / "examples";
  REQUIRE(fs::is_directory(root));
  auto table = decoders();
  std::map<std::string, int> valid_count;
  std::map<std::string, int> invalid_count;
  for (const auto& schema_dir : fs::directory_iterator(root)) {
    if (!schema_dir.is_directory()) continue;
    std::string schema = schema_dir.path().filename().string();
    INFO("schema " << schema);
    auto it = table.find(schema);
    REQUIRE_MESSAGE(it != table.end(), "no decoder mapped for examples/" << schema);
    for (const char* kind : {"valid", "invalid"}) {
      fs::path dir = schema_dir.path() / kind;
      if (!fs::is_directory(dir)) continue;
      for (const auto& file : fs::directory_iterator(dir)) {
        if (file.path().extension() != ".json") continue;
        std::string stem = file.path().stem().string();
        Status s = it->second(readFile(file.path()), stem);
        if (std::string(kind) == "valid") {
          CHECK_MESSAGE(s.isOk(), schema << "/valid/" << stem << ": " << s.toString());
          ++valid_count[schema];
        } else {
          CHECK_MESSAGE(!s.isOk(), schema << "/invalid/" << stem << " was accepted");
          CHECK_MESSAGE(!s.message().empty(), schema << "/invalid/" << stem);
          ++invalid_count[schema];
        }
      }
    }
  }
  for (const auto& [schema, decoder] : table) {
    CHECK_MESSAGE(valid_count[schema] >= 2, "too few valid examples for " << schema);
    CHECK_MESSAGE(invalid_count[schema] >= 4, "too few invalid examples for " << schema);
  }
}

}  // namespace pharos
