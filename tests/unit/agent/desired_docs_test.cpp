// DesiredDocs (desired_docs.h) on its own: documents offered as payloads, with effects that
// record what the agent would do. No broker, no engine.
#include "agent/desired_docs.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pharos/clock.h"
#include "pharos/json.h"
#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::agent;

namespace {

struct Docs {
  ManualClock clock;
  std::vector<std::string> events;  // kinds
  int persists = 0;
  int recomputes = 0;
  int reports = 0;
  int groups_listed = 0;
  DesiredDocs docs{
      clock,
      DesiredDocs::Effects{[this](const std::string& kind, const std::string&, const std::string&,
                                  const std::string&) { events.push_back(kind); },
                           [this] { ++persists; }, [this] { ++recomputes; }, [this] { ++reports; },
                           [this] { ++groups_listed; }, [](const std::vector<RegistryAuth>&) {},
                           [](const std::string&) -> Result<SecretsDoc> {
                             return Status::permissionDenied("no key pair");
                           }}};
};

std::string nodeDoc(int64_t generation, std::vector<std::string> groups = {}) {
  DesiredDoc doc;
  doc.epoch = "e1";
  doc.generation = generation;
  doc.groups = std::move(groups);
  return dumpJson(encode(doc));
}

std::string groupDoc(int64_t generation) {
  DesiredDoc doc;
  doc.epoch = "e1";
  doc.generation = generation;
  return dumpJson(encodeGroupDesired(doc));
}

}  // namespace

TEST_CASE("a node document is applied once per generation and kept for the state file") {
  Docs d;
  d.docs.offerNode(nodeDoc(2), false);
  REQUIRE(d.docs.node().has_value());
  CHECK(d.docs.node()->generation == 2);
  CHECK(d.persists == 1);
  CHECK(d.recomputes == 1);
  d.docs.offerNode(nodeDoc(2), false);  // the same generation again
  d.docs.offerNode(nodeDoc(1), false);  // an older one
  CHECK(d.recomputes == 1);
  PersistedState st;
  d.docs.persisted(st);
  CHECK(st.node_desired == nodeDoc(2));
}

TEST_CASE("a document read back from the state file is not written again") {
  Docs d;
  d.docs.offerNode(nodeDoc(1), true);
  CHECK(d.docs.node().has_value());
  CHECK(d.persists == 0);
  CHECK(d.recomputes == 1);
}

TEST_CASE("a bad node document is refused and reported; the held one stays") {
  Docs d;
  d.docs.offerNode(nodeDoc(1), false);
  d.docs.offerNode("{\"v\":1,\"epoch\":7}", false);
  CHECK(d.docs.node()->generation == 1);
  CHECK(d.docs.badDocuments().count("node") == 1);
  CHECK(d.events == std::vector<std::string>{"bad_document"});
  CHECK(d.reports == 1);
  d.docs.offerNode(nodeDoc(2), false);
  CHECK(d.docs.badDocuments().empty());
}

TEST_CASE("a newly listed group is awaited until its document arrives") {
  Docs d;
  d.docs.offerNode(nodeDoc(1, {"line-a"}), false);
  CHECK(d.groups_listed == 1);
  CHECK(d.docs.awaiting().count("line-a") == 1);
  d.docs.offerGroup("line-a", groupDoc(1), false);
  CHECK(d.docs.awaiting().empty());
  CHECK(d.docs.groups().count("line-a") == 1);
}

TEST_CASE("a group the node document no longer lists is dropped with its payload") {
  Docs d;
  d.docs.offerNode(nodeDoc(1, {"line-a"}), false);
  d.docs.offerGroup("line-a", groupDoc(1), false);
  d.docs.offerNode(nodeDoc(2), false);
  CHECK(d.docs.groups().empty());
  PersistedState st;
  d.docs.persisted(st);
  CHECK(st.group_desired.empty());
}

TEST_CASE("a deleted node document leaves nothing held and says so") {
  Docs d;
  d.docs.offerNode(nodeDoc(1), false);
  d.docs.offerNode("", false);
  CHECK_FALSE(d.docs.node().has_value());
  CHECK(d.events == std::vector<std::string>{"node_document_deleted"});
}

TEST_CASE("secrets that cannot be opened, with none held, block the apps as they are") {
  Docs d;
  d.docs.offerSecrets("{\"v\":2,\"epoch\":\"e1\",\"generation\":1,\"withheld\":\"no key\"}", false);
  CHECK_FALSE(d.docs.secrets().has_value());
  CHECK(d.docs.badDocuments().count("secrets") == 1);
  CHECK(d.recomputes == 1);  // the agent freezes the reconciler
}
