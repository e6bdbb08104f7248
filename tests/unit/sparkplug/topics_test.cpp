// Sparkplug topics: builders, the parser, and the topics it must refuse.
#include "sparkplug/topics.h"

#include <doctest/doctest.h>

using namespace pharos::sparkplug;

TEST_CASE("builds the Sparkplug B namespace") {
  CHECK(nodeTopic("plant", MessageType::kNBirth, "site") == "spBv1.0/plant/NBIRTH/site");
  CHECK(deviceTopic("plant", MessageType::kDData, "site", "press-1") ==
        "spBv1.0/plant/DDATA/site/press-1");
  CHECK(stateTopic("scada") == "spBv1.0/STATE/scada");
}

TEST_CASE("parses node, device and STATE topics") {
  auto n = parseTopic("spBv1.0/plant/NCMD/site");
  REQUIRE(n);
  CHECK(n->type == MessageType::kNCmd);
  CHECK(n->group == "plant");
  CHECK(n->edge == "site");
  auto d = parseTopic("spBv1.0/plant/DCMD/site/press-1");
  REQUIRE(d);
  CHECK(d->type == MessageType::kDCmd);
  CHECK(d->device == "press-1");
  auto s = parseTopic("spBv1.0/STATE/scada");
  REQUIRE(s);
  CHECK(s->type == MessageType::kState);
  CHECK(s->host == "scada");
}

TEST_CASE("refuses topics that are not Sparkplug B") {
  for (const char* bad :
       {"", "spBv1.0", "spBv1.0/plant", "spAv1.0/plant/NCMD/site", "spBv1.0/plant/NCMD/site/dev",
        "spBv1.0/plant/DCMD/site", "spBv1.0/plant/XCMD/site", "spBv1.0/plant/NCMD/",
        "spBv1.0/STATE", "spBv1.0/STATE/a/b", "spBv1.0//NCMD/site"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseTopic(bad));
  }
  CHECK_FALSE(checkId("a+b", "id").isOk());
  CHECK_FALSE(checkId("a#", "id").isOk());
  CHECK_FALSE(checkId(std::string(129, 'a'), "id").isOk());
  CHECK(checkId("press-1", "id").isOk());
}
