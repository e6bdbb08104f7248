// ApiServer (api_server.h) with no broker and no anchor: the operation table routes each
// ops:: constant to its row; an unknown name, a known operation without a row, a body that
// is not an object and a viewer's change are answered with an error, never run.
#include "anchor/api_server.h"

#include <doctest/doctest.h>

#include "anchor_fixture.h"
#include "pharos/api.h"
#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;

namespace {

struct Server {
  AnchorOptions config;
  FakeBrokerAdmin admin;
  ManualClock clock;
  Guards guards{config, clock};
  std::vector<MqttMessage> sent;
  ApiServer api{config, admin, clock, guards, [this](const MqttMessage& m) {
                  sent.push_back(m);
                  return Status::ok();
                }};
  std::vector<std::string> ran;  // "user op"

  Server() {
    api.addSync(ops::kNodeList, [this](const std::string& user, const Json&) -> Result<Json> {
      ran.push_back(user + " node.list");
      return Json{{"nodes", Json::array()}};
    });
    api.add(ops::kNodeAdd, [this](const std::string& user, const Json&, ApiServer::Reply reply) {
      ran.push_back(user + " node.add");
      reply(Json{{"name", "n1"}});
    });
  }

  Result<Json> run(const std::string& user, const std::string& op, Json body = Json::object()) {
    Result<Json> out = Status::internal("no answer");
    api.execute(user, op, body, [&](Result<Json> r) { out = std::move(r); });
    return out;
  }
};

}  // namespace

TEST_CASE("the table runs the row of the operation named") {
  Server s;
  CHECK(s.run("ops", "node.list").isOk());
  CHECK(s.run("ops", "node.add").isOk());
  CHECK(s.ran == std::vector<std::string>{"ops node.list", "ops node.add"});
}

TEST_CASE("requests the table refuses, one per line") {
  Server s;
  CHECK(s.run("ops", "").status().code() == Code::kInvalidArgument);          // bad name
  CHECK(s.run("ops", "node.fly").status().code() == Code::kInvalidArgument);  // unknown
  CHECK(s.run("ops", "app.get").status().code() == Code::kInternal);          // no row
  CHECK(s.run("ops", "node.list", Json::array()).status().code() == Code::kInvalidArgument);
  CHECK(s.run("viewer", "node.add").status().code() == Code::kPermissionDenied);  // broker role
  CHECK(s.ran.empty());
}

TEST_CASE("a viewer may run read operations") {
  Server s;
  CHECK(s.run("viewer", "node.list").isOk());
  CHECK(s.admin.lookups.empty());  // a read never asks the broker for the caller's role
}

TEST_CASE("every operation libpharos knows has a row in the anchor's table") {
  AnchorFixture f;
  for (std::string_view op : apiOperations()) {
    Json reply = f.request(std::string(op), Json::object());
    if (reply.value("ok", false)) continue;
    CHECK_MESSAGE(
        reply["error"]["message"].get<std::string>().find("not implemented") == std::string::npos,
        op);
  }
}
