// Unit tests of the API envelope (messages.h) and typed request codecs (api.h).
#include "pharos/api.h"

#include <doctest/doctest.h>

#include <string>

#include "pharos/messages.h"

namespace pharos {
namespace {

template <typename T, typename Decode>
void roundTrip(const T& value, Decode decode) {
  Json body = encode(value);
  CHECK(body["v"] == 1);
  auto back = decode(body);
  REQUIRE_MESSAGE(back.isOk(), back.status().toString());
  CHECK(*back == value);
}

// Decodes `body` and expects `code` with a message starting with `field`.
template <typename Decode>
void refused(Decode decode, const char* body, const std::string& field,
             Code code = Code::kInvalidArgument) {
  auto r = decode(Json::parse(body));
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == code);
  CHECK_MESSAGE(r.status().message().rfind(field, 0) == 0, r.status().message());
}

}  // namespace

TEST_CASE("the request envelope reads replyTo and correlation from the body") {
  auto r = decodeApiRequest(
      R"({"v":1,"name":"web","replyTo":"pharos/v1/replies/alice/x","correlation":{"id":7}})");
  REQUIRE(r.isOk());
  CHECK(r->reply_to == "pharos/v1/replies/alice/x");
  CHECK(r->has_correlation);
  CHECK(r->correlation == Json{{"id", 7}});
  CHECK(r->body["name"] == "web");

  auto plain = decodeApiRequest(R"({"v":1})");
  REQUIRE(plain.isOk());
  CHECK(plain->reply_to.empty());
  CHECK_FALSE(plain->has_correlation);
}

TEST_CASE("the request envelope refuses bad payloads") {
  CHECK(decodeApiRequest(R"({"name":"web"})").status().message().rfind("v:", 0) == 0);
  CHECK(decodeApiRequest(R"({"v":1,"replyTo":5})").status().message() ==
        "replyTo: must be a string");
  CHECK(decodeApiRequest("[]").status().code() == Code::kInvalidArgument);
  std::string big = R"({"v":1,"pad":")" + std::string(kMaxPayloadBytes, 'x') + "\"}";
  CHECK(decodeApiRequest(big).status().code() == Code::kTooLarge);
}

TEST_CASE("replyTo must be under the caller's own replies") {
  CHECK(checkReplyTo("pharos/v1/replies/alice/123", "alice").isOk());
  CHECK(checkReplyTo("pharos/v1/replies/alice/cli/abc/1", "alice").isOk());
  CHECK(checkReplyTo("pharos/v1/replies/bob/123", "alice").code() == Code::kPermissionDenied);
  CHECK(checkReplyTo("pharos/v1/replies/alice", "alice").code() == Code::kInvalidArgument);
  CHECK(checkReplyTo("pharos/v1/replies/alice/", "alice").code() == Code::kInvalidArgument);
  CHECK(checkReplyTo("pharos/v1/replies/alice/#", "alice").code() == Code::kInvalidArgument);
  CHECK(checkReplyTo("pharos/v1/replies/alice/+/x", "alice").code() == Code::kInvalidArgument);
  CHECK(checkReplyTo("pharos/v1/nodes/n1/desired", "alice").code() == Code::kInvalidArgument);
  CHECK(checkReplyTo("", "alice").code() == Code::kInvalidArgument);
}

TEST_CASE("a command's replyTo must be under the node's cmd-replies of the requester") {
  const std::string n1 = "pharos/v1/nodes/n1/cmd-replies/";
  CHECK(checkCmdReplyTo(n1 + "alice/pharosctl-1", "n1", "alice").isOk());
  CHECK(checkCmdReplyTo(n1 + "alice/a/b", "n1", "alice").isOk());
  CHECK(checkCmdReplyTo(n1 + "bob/x", "n1", "alice").code() == Code::kPermissionDenied);
  for (const std::string& bad : {n1 + "alice", n1 + "alice/", n1 + "alice/#", n1 + "alice/+/x",
                                 std::string("pharos/v1/nodes/n2/cmd-replies/alice/x"),
                                 std::string("pharos/v1/replies/alice/x"),
                                 std::string("pharos/v1/nodes/n1/status"), std::string()}) {
    CAPTURE(bad);
    CHECK(checkCmdReplyTo(bad, "n1", "alice").code() == Code::kInvalidArgument);
  }
}

TEST_CASE("responses carry ok, result or error, and echo the correlation") {
  Json ok = okResponse(Json{{"nodes", Json::array()}}, Json("abc"));
  CHECK(ok == Json::parse(R"({"v":1,"ok":true,"result":{"nodes":[]},"correlation":"abc"})"));
  auto back = decodeApiResponse(dumpJson(ok));
  REQUIRE(back.isOk());
  CHECK(back->ok);
  CHECK(back->result == Json{{"nodes", Json::array()}});
  CHECK(back->correlation == "abc");

  Status s = Status::invalidArgument("services.web.image: must be a string");
  s.withPath("services.web.image").withPosition(4, 12);
  Json err = errorResponse(s);
  CHECK_FALSE(err.contains("correlation"));
  CHECK(err["error"] == Json::parse(R"({"code":"invalid_argument",
        "message":"services.web.image: must be a string","path":"services.web.image",
        "line":4,"column":12})"));
  auto eback = decodeApiResponse(err);
  REQUIRE(eback.isOk());
  CHECK_FALSE(eback->ok);
  CHECK(eback->error.code() == Code::kInvalidArgument);
  CHECK(eback->error.path() == "services.web.image");
  CHECK(eback->error.line() == 4);
  CHECK(eback->error.column() == 12);

  Json plain = errorResponse(Status::notFound("app 'x' not found"));
  CHECK_FALSE(plain["error"].contains("path"));
  CHECK_FALSE(plain["error"].contains("line"));
  CHECK(errorResponse(Status::ok())["error"]["code"] == "internal");
}

TEST_CASE("a response with an unknown error code is refused") {
  auto r = decodeApiResponse(R"({"v":1,"ok":false,"error":{"code":"oops","message":"m"}})");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().rfind("error.code:", 0) == 0);
}

TEST_CASE("every typed request round trips") {
  roundTrip(NameRequest{"n1"}, decodeNodeGet);
  roundTrip(NameRequest{"web"}, decodeAppGet);
  roundTrip(ListRequest{50, "abc"}, decodeAppList);
  roundTrip(NodeListRequest{"site=lyon", "line-1", Readiness::kReady, 10, "c"}, decodeNodeList);
  roundTrip(NodeAddRequest{"n1", {{"site", "lyon"}}}, decodeNodeAdd);
  roundTrip(NodeRemoveRequest{"n1", true}, decodeNodeRemove);
  roundTrip(NodeLabelRequest{"n1", {{"a", "b"}}, {"c"}}, decodeNodeLabel);
  roundTrip(GroupCreateRequest{"line-1", "site"}, decodeGroupCreate);
  roundTrip(GroupDeleteRequest{"line-1", true}, decodeGroupDelete);
  roundTrip(GroupMembersRequest{"line-1", {"n1", "n2"}, {"sub"}}, decodeGroupAdd);
  roundTrip(GroupMembersRequest{"line-1", {"n1"}, {}}, decodeGroupRemove);
  roundTrip(AppDeployRequest{"web",
                             {Target::Kind::kGroup, "line-1"},
                             "services: {}\n",
                             {{"PORT", "80"}},
                             {{"DB_PASSWORD", "x"}}},
            decodeAppDeploy);
  roundTrip(AppRemoveRequest{"web", VolumePolicy::kDelete}, decodeAppRemove);
  roundTrip(AppRollbackRequest{"web", 3}, decodeAppRollback);
  roundTrip(AppRollbackRequest{"web", 3, Json{{"waves", {"n1", "100%"}}}}, decodeAppRollback);
  roundTrip(NameRequest{"web"}, decodeRolloutCommand);
  roundTrip(RegistrySetRequest{"registry.local:5000", "u", "p", {Target::Kind::kNode, "n1"}},
            decodeRegistrySet);
  roundTrip(RegistryListRequest{}, decodeRegistryList);
  roundTrip(RegistryListRequest{Target{Target::Kind::kGroup, "g1"}}, decodeRegistryList);
  roundTrip(RegistryRemoveRequest{"registry.local:5000", {Target::Kind::kGroup, "g1"}},
            decodeRegistryRemove);
  roundTrip(EventsQueryRequest{"n1", "web", "container_died", 5, 9, 20}, decodeEventsQuery);
  roundTrip(EventsQueryRequest{"", "", "", 0, 9, 20}, decodeEventsQuery);
  LogsCommand logs;
  logs.app = "web";
  logs.service = "api";
  logs.tail = 50;
  logs.since = 7;
  roundTrip(logs, decodeLogsCommand);
  logs.follow = true;
  logs.max_lines = 20;
  logs.max_seconds = 60;
  logs.lease = 10;
  roundTrip(logs, decodeLogsCommand);
  LogsCommand stop;
  stop.stream = "s4";
  stop.action = "stop";
  roundTrip(stop, decodeLogsCommand);
  roundTrip(MetricsQueryRequest{"n1", 1000, 2000, 300, ""}, decodeMetricsQuery);
  roundTrip(MetricsQueryRequest{"n1", 1000, 2000, 0, "web"}, decodeMetricsQuery);
  roundTrip(InspectCommand{"web", ""}, decodeInspectCommand);
}

TEST_CASE("optional request fields take their defaults") {
  auto list = decodeNodeList(Json::parse(R"({"v":1})"));
  REQUIRE(list.isOk());
  CHECK(list->limit == kDefaultListLimit);
  CHECK_FALSE(list->health.has_value());
  auto remove = decodeAppRemove(Json::parse(R"({"v":1,"name":"web"})"));
  REQUIRE(remove.isOk());
  CHECK(remove->volumes == VolumePolicy::kKeep);
}

TEST_CASE("request decoders name the offending field") {
  refused(decodeNodeGet, R"({"v":1})", "name: is required");
  refused(decodeNodeGet, R"({"v":1,"name":7})", "name: must be a string");
  refused(decodeNodeGet, R"({"v":1,"name":"Node 1"})", "name: node name");
  refused(decodeAppGet, R"({"v":1,"name":"web.app"})", "name: app name");
  refused(decodeAppList, R"({"v":1,"limit":0})", "limit: must be between 1 and 1000");
  refused(decodeAppList, R"({"v":1,"limit":1001})", "limit:");
  refused(decodeNodeList, R"({"v":1,"health":"Fine"})", "health: must be one of");
  refused(decodeNodeList, R"({"v":1,"label":"Bad Key=x"})", "label:");
  refused(decodeNodeAdd, R"({"v":1,"name":"n1","labels":{"site":1}})",
          "labels.site: must be a string");
  refused(decodeNodeRemove, R"({"v":1,"name":"n1","purge":"yes"})", "purge: must be true");
  refused(decodeNodeLabel, R"({"v":1,"name":"n1"})", "set:");
  refused(decodeNodeLabel, R"({"v":1,"name":"n1","remove":["UPPER"]})", "remove[0]:");
  refused(decodeGroupCreate, R"({"v":1,"name":"g","parent":"g"})", "parent:");
  refused(decodeGroupAdd, R"({"v":1,"group":"g"})", "nodes:");
  refused(decodeGroupAdd, R"({"v":1,"group":"g","nodes":["n1",2]})", "nodes[1]: must be");
  refused(decodeGroupAdd, R"({"v":1,"group":"g","groups":["Sub"]})", "groups[0]: group name");
  refused(decodeAppDeploy, R"({"v":1,"name":"web","compose":"x"})", "target: is required");
  refused(decodeAppDeploy, R"({"v":1,"name":"web","compose":"x","target":{}})", "target:");
  refused(decodeAppDeploy,
          R"({"v":1,"name":"web","compose":"x","target":{"node":"a","group":"b"}})", "target:");
  refused(decodeAppDeploy, R"({"v":1,"name":"web","compose":"x","target":{"group":"G"}})",
          "target.group: group name");
  refused(decodeAppDeploy, R"({"v":1,"name":"web","target":{"node":"n1"}})",
          "compose: is required");
  refused(decodeAppDeploy, R"({"v":1,"name":"web","target":{"node":"n1"},"compose":""})",
          "compose: must not be empty");
  refused(decodeAppDeploy,
          R"({"v":1,"name":"web","target":{"node":"n1"},"compose":"x","secrets":{"a-b":"x"}})",
          "secrets.a-b:");
  refused(decodeAppRemove, R"({"v":1,"name":"web","volumes":"purge"})", "volumes:");
  refused(decodeAppRollback, R"({"v":1,"name":"web","revision":0})", "revision:");
  refused(decodeRegistrySet,
          R"({"v":1,"host":"a b","username":"u","password":"p","target":{"node":"n"}})", "host:");
  refused(decodeRegistrySet, R"({"v":1,"host":"h","password":"p","target":{"node":"n"}})",
          "username: is required");
  refused(decodeRegistryRemove, R"({"v":1,"host":"a b","target":{"node":"n"}})", "host:");
  refused(decodeRegistryRemove, R"({"v":1,"host":"h"})", "target: is required");
  refused(decodeRegistryList, R"({"v":1,"target":{"node":"N!"}})", "target.node:");
  refused(decodeEventsQuery, R"({"v":1,"since":-5})", "since:");
  refused(decodeEventsQuery, R"({"v":1,"until":"soon"})", "until:");
  refused(decodeEventsQuery, R"({"v":1,"until":0})", "until:");
  refused(decodeEventsQuery, R"({"v":1,"since":10,"until":9})", "until: earlier than since");
  refused(decodeLogsCommand, R"({"v":1,"app":"web"})", "service: is required");
  refused(decodeLogsCommand, R"({"v":1,"stream":"s1","action":"pause"})", "action:");
  refused(decodeLogsCommand, R"({"v":1,"stream":"S 1","action":"stop"})", "stream:");
  refused(decodeLogsCommand, R"({"v":1,"app":"web","service":"api","follow":true,"lease":1})",
          "lease:");
  refused(decodeLogsCommand,
          R"({"v":1,"app":"web","service":"api","follow":true,"max_lines":100001})", "max_lines:");
  refused(decodeMetricsQuery, R"({"v":1})", "node: is required");
  refused(decodeMetricsQuery, R"({"v":1,"node":"n1","from":5,"to":4})", "from:");
  refused(decodeMetricsQuery, R"({"v":1,"node":"n1","step":0})", "step:");
  refused(decodeMetricsQuery, R"({"v":1,"node":"n1","app":"has.dot"})", "app:");
}

TEST_CASE("size bounds of requests answer too_large") {
  Json deploy = encode(AppDeployRequest{
      "web", {Target::Kind::kNode, "n1"}, std::string(kMaxComposeBytes + 1, '#'), {}, {}});
  auto r = decodeAppDeploy(deploy);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK(r.status().message().rfind("compose:", 0) == 0);

  GroupMembersRequest many{"g", {}, {}};
  for (int i = 0; i <= kMaxMembersPerCall; ++i) many.nodes.push_back("n" + std::to_string(i));
  auto m = decodeGroupAdd(encode(many));
  REQUIRE_FALSE(m.isOk());
  CHECK(m.status().code() == Code::kTooLarge);
  many.nodes.pop_back();
  CHECK(decodeGroupAdd(encode(many)).isOk());
}

TEST_CASE("the operation table knows every operation and which ones only read") {
  CHECK(apiOperations().size() == 31);
  for (auto op : apiOperations()) CHECK(isKnownOperation(op));
  CHECK_FALSE(isKnownOperation("app.explode"));
  CHECK(isReadOperation("node.list"));
  CHECK(isReadOperation("app.history"));
  CHECK(isReadOperation("events.query"));
  CHECK(isReadOperation("registry.list"));
  CHECK_FALSE(isReadOperation("registry.remove"));
  CHECK_FALSE(isReadOperation("app.deploy"));
  CHECK_FALSE(isReadOperation("node.label"));
  CHECK_FALSE(isReadOperation("rollout.abort"));
  CHECK(validateRequest("app.get", Json::parse(R"({"v":1,"name":"web"})")).isOk());
  CHECK(validateRequest("app.get", Json::parse(R"({"v":1})")).message() == "name: is required");
  CHECK(validateRequest("app.explode", Json::object()).message() ==
        "operation 'app.explode': unknown");
}

}  // namespace pharos
