// The node-message inbox (inbox.h): node messages are handled in batches, in order, so an
// API request that arrives behind thousands of them (a restart's retained documents, a
// storm) is answered after one batch, not after the whole backlog.
#include "anchor/inbox.h"
#include "anchor_fixture.h"

using namespace pharos;
using namespace pharos::anchor;
using namespace pharos::anchor::testing;
using topics::NodeTopic;

namespace {

NodeMessage nodeMessage(const std::string& topic, const std::string& payload) {
  topics::Parsed parsed;
  parsed.kind = topics::Kind::kNode;
  parsed.node = topic;
  return NodeMessage{parsed, message(topic, payload)};
}

}  // namespace

TEST_CASE("the inbox asks for one drain at a time and hands out batches in order") {
  MessageInbox inbox;
  CHECK(inbox.push(nodeMessage("t/0", "0")));        // first push: post a drain
  CHECK_FALSE(inbox.push(nodeMessage("t/1", "1")));  // one is pending
  for (int i = 2; i < 5; ++i) CHECK_FALSE(inbox.push(nodeMessage("t/" + std::to_string(i), "")));
  std::vector<NodeMessage> batch;
  CHECK(inbox.takeBatch(2, batch));  // more remain: the caller posts another drain
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].message.topic == "t/0");
  CHECK(batch[1].message.topic == "t/1");
  CHECK(batch[1].topic.node == "t/1");              // with its topic as parsed before it was queued
  CHECK_FALSE(inbox.push(nodeMessage("t/5", "")));  // that drain is still pending
  CHECK(inbox.takeBatch(2, batch));
  CHECK(batch[0].message.topic == "t/2");
  CHECK_FALSE(inbox.takeBatch(10, batch));  // emptied: no drain pending any more
  REQUIRE(batch.size() == 2);
  CHECK(batch[1].message.topic == "t/5");
  CHECK(inbox.size() == 0);
  CHECK(inbox.push(nodeMessage("t/6", "")));  // so the next push asks for one
}

TEST_CASE("an API request is answered before a backlog of node messages is handled") {
  AnchorOptions config;
  config.inbox_batch = 10;
  AnchorFixture f(config);
  constexpr int kNodes = 300;
  f.broker().clearLog();
  for (int i = 0; i < kNodes; ++i) {
    std::string n = "n" + std::to_string(i);
    f.broker().publish(message(topics::node(n, NodeTopic::kInfo), infoPayload(n), true));
    f.broker().publish(
        message(topics::node(n, NodeTopic::kStatus), statusPayload(Readiness::kReady, 1), true));
  }
  Json reply = f.request("node.list", Json{{"limit", 10}});
  REQUIRE(reply["ok"] == true);
  // Every node registered in the end, in order...
  CHECK(f.anchor().registry().nodes().size() == static_cast<size_t>(kNodes));
  // ...but the reply went out while most of them still waited.
  auto log = f.broker().publishLog();
  size_t reply_at = log.size(), last_health = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    const auto& topic = log[i].message.topic;
    if (topic.rfind("pharos/v1/replies/ops/", 0) == 0 && reply_at == log.size()) reply_at = i;
    if (topic == topics::node("n" + std::to_string(kNodes - 1), NodeTopic::kHealth)) {
      last_health = i;
    }
  }
  REQUIRE(reply_at < log.size());
  CHECK(reply_at < last_health);
  CHECK(reply["result"]["nodes"].size() < 100);
}
