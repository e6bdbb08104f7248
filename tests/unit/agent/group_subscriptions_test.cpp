// GroupSubscriptions (group_subscriptions.h) over a recording link: subscribes to what the node
// document lists, drops what it no longer lists, retries what the broker refused.
#include "agent/group_subscriptions.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "pharos/topics.h"

using namespace pharos;
using namespace pharos::agent;

namespace {

// Records subscriptions; refuses the filters in `refused`.
struct RecordingLink : MqttLink {
  std::set<std::string> subscribed;
  std::set<std::string> refused;
  int subscribes = 0;
  void onMessage(MessageHandler) override {}
  void onConnection(ConnectionHandler) override {}
  Status connect() override { return Status::ok(); }
  void disconnect() override {}
  bool connected() const override { return true; }
  Status publish(const MqttMessage&) override { return Status::ok(); }
  Status subscribe(const std::string& filter, int) override {
    ++subscribes;
    if (refused.count(filter)) return Status::permissionDenied("not allowed");
    subscribed.insert(filter);
    return Status::ok();
  }
  Status unsubscribe(const std::string& filter) override {
    subscribed.erase(filter);
    return Status::ok();
  }
};

}  // namespace

TEST_CASE("group subscriptions follow the groups the node document lists") {
  RecordingLink link;
  GroupSubscriptions groups;
  groups.update(link, {"line-a", "site"});
  CHECK(link.subscribed ==
        std::set<std::string>{topics::groupDesired("line-a"), topics::groupDesired("site")});
  CHECK(groups.contains("line-a"));
  groups.update(link, {"site", "line-b"});
  CHECK(link.subscribed ==
        std::set<std::string>{topics::groupDesired("line-b"), topics::groupDesired("site")});
  CHECK_FALSE(groups.contains("line-a"));
  CHECK(link.subscribes == 3);  // "site" is not subscribed again
  groups.update(link, {});
  CHECK(link.subscribed.empty());
  CHECK(groups.subscribed().empty());
}

TEST_CASE("a group subscription the broker refused is retried by the next update") {
  RecordingLink link;
  link.refused = {topics::groupDesired("line-a")};
  GroupSubscriptions groups;
  groups.update(link, {"line-a"});
  CHECK_FALSE(groups.contains("line-a"));  // its documents are not taken
  link.refused.clear();
  groups.update(link, {"line-a"});
  CHECK(groups.contains("line-a"));
  CHECK(link.subscribed.count(topics::groupDesired("line-a")) == 1);
}
