// encode_samples DIR: writes what the C++ encoders produce, one JSON file per sample, named
// <schema>--<name>.json (requests: api-request--<operation>--<name>.json), so
// tools/check_schemas.py can validate encoder output against schemas/*.schema.json (ctest
// schema_contract). Each sample is also decoded back here: an encoder whose output its own
// decoder refuses fails the run. Single-threaded.
#include <cstdio>
#include <fstream>
#include <string>

#include "pharos/api.h"
#include "pharos/app_history.h"
#include "pharos/group_tree.h"
#include "pharos/messages.h"
#include "pharos/sealed.h"

namespace {

using pharos::Json;

int g_failures = 0;  // NOLINT: a tool's single counter, main() only.

void write(const std::string& dir, const std::string& name, const Json& json,
           const pharos::Status& decoded) {
  std::ofstream out(dir + "/" + name + ".json", std::ios::binary);
  out << pharos::dumpJson(json) << "\n";
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s.json\n", dir.c_str(), name.c_str());
    ++g_failures;
  }
  if (!decoded.isOk()) {
    std::fprintf(stderr, "%s: own decoder refuses it: %s\n", name.c_str(),
                 decoded.toString().c_str());
    ++g_failures;
  }
}

template <typename T, typename D>
void sample(const std::string& dir, const std::string& name, const T& value, D decode) {
  Json json = pharos::encode(value);
  write(dir, name, json, decode(pharos::dumpJson(json)).status());
}

template <typename T, typename D>
void request(const std::string& dir, std::string_view op, const std::string& name, const T& value,
             D decode) {
  Json json = pharos::encode(value);
  pharos::Status s = decode(json).status();
  if (s.isOk() && op.substr(0, 4) != "cmd.") s = pharos::validateRequest(op, json);
  write(dir, "api-request--" + std::string(op) + "--" + name, json, s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  using namespace pharos;  // NOLINT(google-build-using-namespace): a tool's main.
  auto str = [](const auto& fn) { return [fn](const std::string& t) { return fn(t); }; };

  sample(dir, "status--ready", NodeStatus{Readiness::kReady, 1700000000123, "", 1700000000130},
         str([](const std::string& t) { return decodeNodeStatus(t); }));
  sample(dir, "status--will", NodeStatus{Readiness::kNotReady, 1700000000123, "will", 1},
         str([](const std::string& t) { return decodeNodeStatus(t); }));
  sample(dir, "heartbeat--two-seconds", NodeHeartbeat{1700000000123, 2, 1700000001130},
         str([](const std::string& t) { return decodeNodeHeartbeat(t); }));
  NodeInfo info{"0.1.0",
                "press-07",
                "Debian GNU/Linux 12",
                "x86_64",
                "6.1",
                "20.10.24",
                "1.41",
                4,
                8LL << 30,
                64LL << 30,
                {"10.1.3.7"},
                "tcp://127.0.0.1:1883",
                {{"site", "lyon"}},
                sealed::toBase64(sealed::generateKeyPair().public_key),
                1700000000000};
  sample(dir, "info--full", info, [](const std::string& t) { return decodeNodeInfo(t); });
  sample(dir, "info--empty", NodeInfo{"0.1.0", "h", "", "", "", "", "", 0, 0, 0, {}, "", {}, "", 0},
         [](const std::string& t) { return decodeNodeInfo(t); });

  NodeState state;
  state.applied = {{"node", "7f3c2a", 12}, {"group:line-3", "7f3c2a", 4}, {"secrets", "e", 1}};
  state.apps = {
      {"vision",
       3,
       AppPhase::kRunning,
       "",
       {{"camera", "4f2a", ContainerState::kRunning, "healthy", 0, 0, "camera:1.4", "sha256:aa"},
        {"migrate", "", ContainerState::kExited, "", 0, 0, "m:1", ""}}},
      {"historian", 1, AppPhase::kCrashLoop, "db exited 1", {}}};
  state.ts = 5;
  sample(dir, "state--two-apps", state, [](const std::string& t) { return decodeNodeState(t); });
  sample(dir, "state--empty", NodeState{}, [](const std::string& t) { return decodeNodeState(t); });

  sample(dir, "events--container-died",
         NodeEvent{"container_died", "vision", "camera", "exit_code=137", "OOM", 6},
         [](const std::string& t) { return decodeNodeEvent(t); });
  sample(dir, "events--node-level", NodeEvent{"state_file", "", "", "", "", 6},
         [](const std::string& t) { return decodeNodeEvent(t); });

  NodeMetrics metrics{37.5, 1, 2, 3, 4, 0.5, 0.25, 0.125, {{"vision", "camera", "4f", 2.5, 9}}, 7};
  sample(dir, "metrics--with-containers", metrics,
         [](const std::string& t) { return decodeNodeMetrics(t); });
  sample(dir, "metrics--zero", NodeMetrics{},
         [](const std::string& t) { return decodeNodeMetrics(t); });

  sample(dir, "health--not-ready", NodeHealth{Readiness::kNotReady, 8, "will", 1700000000123},
         [](const std::string& t) { return decodeNodeHealth(t); });
  sample(dir, "health--pending", NodeHealth{Readiness::kPending, 8, "", 0},
         [](const std::string& t) { return decodeNodeHealth(t); });

  DesiredDoc desired;
  desired.epoch = "7f3c2a";
  desired.generation = 12;
  desired.labels = {{"site", "lyon"}};
  desired.groups = {"line-3"};
  desired.apps = {{"vision",
                   3,
                   "services:\n  camera:\n    image: camera\n",
                   DesiredState::kRunning,
                   {{"CAMERA_TAG", "1.4"}},
                   0,
                   VolumePolicy::kKeep},
                  {"old-app", 7, "", DesiredState::kRemoved, {}, 0, VolumePolicy::kDelete}};
  sample(dir, "desired--node", desired, [](const std::string& t) { return decodeDesired(t); });
  DesiredDoc group = desired;
  group.labels.clear();
  group.groups.clear();
  write(dir, "group-desired--one-app", encodeGroupDesired(group),
        decodeGroupDesired(encodeGroupDesired(group)).status());
  DesiredDoc staged = group;
  staged.apps[0].revision = 4;
  staged.apps[0].staged = StagedApp{
      AppRevisionSpec{
          3, "services:\n  camera:\n    image: camera:1.4\n", DesiredState::kRunning, {}, 0},
      {"press-07"},
      kRolloutPositions / 10};
  staged.apps.pop_back();
  write(dir, "group-desired--staged", encodeGroupDesired(staged),
        decodeGroupDesired(encodeGroupDesired(staged)).status());
  DesiredDoc staged_node = desired;
  staged_node.apps[0].staged = StagedApp{std::nullopt, {}, kRolloutPositions};
  sample(dir, "desired--staged-first-deployment", staged_node,
         [](const std::string& t) { return decodeDesired(t); });
  write(dir, "group-desired--empty", encodeGroupDesired(DesiredDoc{"e", 0, {}, {}, {}}),
        decodeGroupDesired(encodeGroupDesired(DesiredDoc{"e", 0, {}, {}, {}})).status());

  SecretsDoc secrets{
      "press-07", "7f3c2a", 2, {{"DB_PASSWORD", "x"}}, {{"registry.local:5000", "u", "p"}}};
  sample(dir, "secrets-content--full", secrets,
         [](const std::string& t) { return decodeSecretsContent(t); });
  auto sealed_secrets = sealSecrets(secrets, sealed::generateKeyPair().public_key);
  if (!sealed_secrets) {
    std::fprintf(stderr, "sealSecrets: %s\n", sealed_secrets.status().toString().c_str());
    ++g_failures;
  } else {
    sample(dir, "secrets--sealed", *sealed_secrets,
           [](const std::string& t) { return decodeSealedSecrets(t); });
  }

  RolloutSummary rollout{"vision",
                         "group",
                         "line-3",
                         3,
                         3,
                         1,
                         0,
                         1,
                         1,
                         0,
                         {{"press-07", "failed", "pull failed"}, {"press-09", "running", ""}},
                         true,
                         9};
  sample(dir, "rollout--group", rollout,
         [](const std::string& t) { return decodeRolloutSummary(t); });

  sample(dir, "anchor-status--online", AnchorStatus{"online", 1},
         [](const std::string& t) { return decodeAnchorStatus(t); });

  Json ok = okResponse(Json{{"name", "vision"}}, Json{{"id", 1}});
  write(dir, "api-response--ok", ok, decodeApiResponse(ok).status());
  Status err = Status::invalidArgument("services.web.image: must be a string");
  err.withPath("services.web.image").withPosition(3, 12);
  Json bad = errorResponse(err, Json("c"));
  write(dir, "api-response--error", bad, decodeApiResponse(bad).status());
  Json plain = errorResponse(Status::notFound("app 'x' not found"));
  write(dir, "api-response--not-found", plain, decodeApiResponse(plain).status());

  request(dir, ops::kNodeList, "filters",
          NodeListRequest{"site=lyon", "line-3", Readiness::kReady, 5, "c"}, decodeNodeList);
  request(dir, ops::kNodeList, "default", NodeListRequest{}, decodeNodeList);
  request(dir, ops::kNodeGet, "plain", NameRequest{"press-07"}, decodeNodeGet);
  request(dir, ops::kNodeRekey, "key-id", NodeRekeyRequest{"press-07", "3f9a0c1d2e4b5a68", ""},
          decodeNodeRekey);
  request(dir, ops::kNodeAdd, "labels", NodeAddRequest{"n1", {{"site", "a"}}}, decodeNodeAdd);
  request(dir, ops::kNodeRemove, "purge", NodeRemoveRequest{"n1", true}, decodeNodeRemove);
  request(dir, ops::kNodeApprove, "plain", NameRequest{"n1"}, decodeNodeApprove);
  request(dir, ops::kNodeLabel, "set", NodeLabelRequest{"n1", {{"a", "b"}}, {}}, decodeNodeLabel);
  request(dir, ops::kGroupCreate, "top", GroupCreateRequest{"lyon", ""}, decodeGroupCreate);
  request(dir, ops::kGroupCreate, "nested", GroupCreateRequest{"line-3", "lyon"},
          decodeGroupCreate);
  request(dir, ops::kGroupDelete, "plain", GroupDeleteRequest{"lyon", false}, decodeGroupDelete);
  request(dir, ops::kGroupList, "page", ListRequest{10, "x"}, decodeGroupList);
  request(dir, ops::kGroupGet, "plain", GroupGetRequest{"lyon"}, decodeGroupGet);
  request(dir, ops::kGroupGet, "depth", GroupGetRequest{"lyon", 3}, decodeGroupGet);
  GroupGetResult tree;
  tree.name = "lyon";
  tree.groups = {"line-3"};
  tree.apps = {"historian"};
  tree.effective_node_count = 2;
  tree.created = 1700000000000;
  tree.ancestors = {{"france"}};
  tree.parents = {"france"};
  tree.tree = {"lyon",
               {},
               {"historian"},
               {{"line-3", {"press-07"}, {"vision"}, {{"cell-1", {}, {}, {}, true}}, false}},
               false};
  tree.depth = 2;
  tree.truncated = true;
  write(dir, "group-get-result--tree", encode(tree), decodeGroupGetResult(encode(tree)).status());
  GroupGetResult top;
  top.name = "france";
  top.tree.name = "france";
  write(dir, "group-get-result--empty", encode(top), decodeGroupGetResult(encode(top)).status());
  AppHistoryResult history;
  history.name = "vision";
  AppRevisionEntry staged_rev;
  staged_rev.revision = 4;
  staged_rev.target = {Target::Kind::kGroup, "line-3"};
  staged_rev.ts = 1700000200000;
  staged_rev.user = "ops";
  staged_rev.note = "deploy (staged)";
  staged_rev.variables = {{"LEVEL", "debug"}};
  staged_rev.compose_bytes = 405;
  staged_rev.compose_hash = "0a1b2c3d4e5f6071";
  RolloutOutcome outcome;
  outcome.kind = "staged";
  outcome.previous_revision = 3;
  outcome.user = "ops";
  outcome.started = 1700000200000;
  outcome.ended = 1700000260000;
  outcome.phase = "rolled_back";
  outcome.wave = 1;
  outcome.waves = 3;
  outcome.steps = {"press-07", "50%", "100%"};
  outcome.window = "daily 22:00-06:00";
  outcome.reason = "wave 1: 1 node(s) failed";
  staged_rev.rollout = outcome;
  AppRevisionEntry plain_rev;
  plain_rev.revision = 3;
  plain_rev.target = {Target::Kind::kNode, "press-07"};
  plain_rev.ts = 1700000100000;
  plain_rev.current = true;
  RolloutOutcome plain_outcome;
  plain_outcome.kind = "plain";
  plain_outcome.previous_revision = 2;
  plain_outcome.user = "alice";
  plain_outcome.started = 1700000100000;
  plain_rev.rollout = plain_outcome;
  AppRevisionEntry unrecorded = plain_rev;
  unrecorded.revision = 2;
  unrecorded.current = false;
  unrecorded.rollout.reset();
  history.revisions = {staged_rev, plain_rev, unrecorded};
  write(dir, "app-history-result--staged", encode(history),
        decodeAppHistoryResult(encode(history)).status());
  request(dir, ops::kGroupAdd, "nodes", GroupMembersRequest{"lyon", {"n1", "n2"}, {}},
          decodeGroupAdd);
  request(dir, ops::kGroupRemove, "groups", GroupMembersRequest{"lyon", {}, {"line-3"}},
          decodeGroupRemove);
  request(
      dir, ops::kAppDeploy, "group",
      AppDeployRequest{
          "vision", {Target::Kind::kGroup, "line-3"}, "services: {}\n", {{"A", "1"}}, {{"S", "2"}}},
      decodeAppDeploy);
  request(dir, ops::kAppDeploy, "node",
          AppDeployRequest{"web", {Target::Kind::kNode, "n1"}, "services: {}\n", {}, {}},
          decodeAppDeploy);
  request(dir, ops::kAppRemove, "plain", AppRemoveRequest{"web", VolumePolicy::kKeep},
          decodeAppRemove);
  request(dir, ops::kAppStart, "plain", NameRequest{"web"}, decodeAppStart);
  request(dir, ops::kAppStop, "plain", NameRequest{"web"}, decodeAppStop);
  request(dir, ops::kAppRestart, "plain", NameRequest{"web"}, decodeAppRestart);
  request(dir, ops::kAppList, "plain", ListRequest{}, decodeAppList);
  request(dir, ops::kAppGet, "plain", NameRequest{"web"}, decodeAppGet);
  request(dir, ops::kAppHistory, "plain", NameRequest{"web"}, decodeAppHistory);
  request(dir, ops::kAppRollback, "plain", AppRollbackRequest{"web", 2}, decodeAppRollback);
  request(dir, ops::kRegistrySet, "node",
          RegistrySetRequest{"registry.local:5000", "u", "p", {Target::Kind::kNode, "n1"}},
          decodeRegistrySet);
  request(dir, ops::kRegistryList, "all", RegistryListRequest{}, decodeRegistryList);
  request(dir, ops::kRegistryList, "group",
          RegistryListRequest{Target{Target::Kind::kGroup, "line1"}}, decodeRegistryList);
  request(dir, ops::kRegistryRemove, "node",
          RegistryRemoveRequest{"registry.local:5000", {Target::Kind::kNode, "n1"}},
          decodeRegistryRemove);
  request(dir, ops::kEventsQuery, "all", EventsQueryRequest{}, decodeEventsQuery);
  request(dir, ops::kEventsQuery, "filters",
          EventsQueryRequest{"n1", "web", "container_died", 5, 0, 10}, decodeEventsQuery);
  request(dir, ops::kEventsQuery, "range",
          EventsQueryRequest{"", "", "", 1'764'000'000'000, 1'764'003'600'000, 500},
          decodeEventsQuery);
  LogsCommand logs;
  logs.app = "web";
  logs.service = "api";
  logs.tail = 50;
  request(dir, "cmd.logs", "tail", logs, decodeLogsCommand);
  logs.follow = true;
  logs.max_lines = 500;
  request(dir, "cmd.logs", "follow", logs, decodeLogsCommand);
  request(dir, "cmd.inspect", "service", InspectCommand{"web", "api"}, decodeInspectCommand);

  return g_failures == 0 ? 0 : 1;
}
