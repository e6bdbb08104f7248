// Volumes as docker-compose 1.29 handles them, over FakeDockerClient: a recreate reuses the
// old container's anonymous volumes (declared in the file or by the image) and leaks none;
// an app removed with volumes: delete leaves no volume, with keep its anonymous ones stay.
// Also the fake engine's own volume rules the reconciler relies on (rm -v, bind sources).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "agent/volume_carry.h"
#include "reconciler_rig.h"

namespace pharos::agent {
namespace {

using namespace reconciler_testing;  // NOLINT: the rig's names read as the tests' own

const char* kAnonymous = R"(
services:
  db:
    image: busybox
    environment: {LEVEL: "1"}
    volumes: [/data]
)";

// Container path -> volume name of a container's volume mounts.
std::map<std::string, std::string> mountsOf(Rig& rig, const std::string& container) {
  auto info = rig.docker.containers().inspectContainer(container);
  REQUIRE(info.isOk());
  return volumeMounts(info->raw);
}

size_t volumeCount(Rig& rig) { return rig.docker.volumes().listVolumes({})->size(); }

TEST_CASE("an env change recreates the container with the old anonymous volume, leaking none") {
  Rig rig;
  rig.apply({desired(kAnonymous)});
  const std::map<std::string, std::string> before = mountsOf(rig, "shop_db_1");
  REQUIRE(before.count("/data") == 1);
  const size_t volumes = volumeCount(rig);
  const std::string old_id = rig.service("shop", "db").container_id;

  rig.apply({desired(replaceAll(kAnonymous, "LEVEL: \"1\"", "LEVEL: \"2\""), 2)});
  CHECK(rig.service("shop", "db").container_id != old_id);
  CHECK(rig.hasEvent("container_recreated", "db"));
  CHECK(mountsOf(rig, "shop_db_1") == before);
  CHECK(volumeCount(rig) == volumes);  // neither the old container's nor the probe's
  auto info = rig.docker.containers().inspectContainer("shop_db_1");
  CHECK(info->raw["HostConfig"]["Binds"] == Json::array({before.at("/data") + ":/data:rw"}));
}

TEST_CASE("a recreate keeps the data of a VOLUME the image declares") {
  Rig rig;
  rig.docker.addRegistryImage("127.0.0.1:5000/store:1", {}, {"/var/lib/store"});
  const std::string yaml =
      "services:\n  store:\n    image: 127.0.0.1:5000/store:1\n    environment: {A: x}\n";
  rig.apply({desired(yaml)});
  const std::map<std::string, std::string> before = mountsOf(rig, "shop_store_1");
  REQUIRE(before.count("/var/lib/store") == 1);
  const size_t volumes = volumeCount(rig);
  rig.apply({desired(replaceAll(yaml, "A: x", "A: y"), 2)});
  CHECK(mountsOf(rig, "shop_store_1") == before);
  CHECK(volumeCount(rig) == volumes);
}

TEST_CASE("a recreate that mounts something else at the path drops the old anonymous volume") {
  Rig rig;
  rig.apply({desired(kAnonymous)});
  const std::string old_volume = mountsOf(rig, "shop_db_1").at("/data");
  rig.apply({desired(
      replaceAll(kAnonymous, "[/data]", "[\"named:/data\"]") + "volumes:\n  named: {}\n", 2)});
  CHECK(mountsOf(rig, "shop_db_1").at("/data") == "shop_named");
  CHECK(rig.docker.volumes().inspectVolume(old_volume).status().code() == Code::kNotFound);
}

TEST_CASE("a recreate without the anonymous volume in the file removes it") {
  Rig rig;
  rig.apply({desired(kAnonymous)});
  rig.apply({desired(replaceAll(kAnonymous, "LEVEL: \"1\"", "LEVEL: \"2\""), 2)});
  const std::string volume = mountsOf(rig, "shop_db_1").at("/data");  // carried once already
  rig.apply({desired("services:\n  db:\n    image: busybox\n", 3)});
  CHECK(mountsOf(rig, "shop_db_1").empty());
  CHECK(rig.docker.volumes().inspectVolume(volume).status().code() == Code::kNotFound);
  CHECK(volumeCount(rig) == 0);
}

TEST_CASE("a service dropped from the file leaves no anonymous volume") {
  Rig rig;
  const std::string both = std::string(kAnonymous) + "  web: {image: busybox}\n";
  rig.apply({desired(both)});
  rig.apply({desired(replaceAll(both, "LEVEL: \"1\"", "LEVEL: \"2\""), 2)});
  REQUIRE(volumeCount(rig) == 1);
  rig.apply({desired("services:\n  web: {image: busybox}\n", 3)});
  CHECK(volumeCount(rig) == 0);
}

TEST_CASE("removal keeps anonymous volumes with volumes: keep and removes them with delete") {
  for (VolumePolicy policy : {VolumePolicy::kKeep, VolumePolicy::kDelete}) {
    CAPTURE(policy);
    Rig rig;
    const std::string text =
        replaceAll(kAnonymous, "[/data]", "[/data, \"named:/named\"]") + "volumes:\n  named: {}\n";
    rig.apply({desired(text)});
    // Once recreated, the anonymous volume is bound by name, which rm -v leaves alone.
    rig.apply({desired(replaceAll(text, "LEVEL: \"1\"", "LEVEL: \"2\""), 2)});
    REQUIRE(volumeCount(rig) == 2);
    DesiredApp gone = desired(text, 3, DesiredState::kRemoved);
    gone.spec.volumes = policy;
    rig.apply({gone});
    CHECK(rig.docker.containerCount() == 0);
    CHECK(volumeCount(rig) == (policy == VolumePolicy::kKeep ? 2u : 0u));
  }
}

TEST_CASE("a long-syntax bind to a missing path fails the app with the engine's message") {
  Rig rig;
  rig.apply({desired(R"(
services:
  web:
    image: busybox
    volumes: [{type: bind, source: /nonexistent/pharos-test, target: /in}]
)")});
  CHECK(rig.app("shop").phase == AppPhase::kFailed);
  CHECK(rig.app("shop").message.find("bind source path does not exist: /nonexistent/pharos-test") !=
        std::string::npos);
  CHECK(rig.docker.containerCount() == 0);
}

TEST_CASE("the fake engine: rm -v removes the volumes made for the container, not named ones") {
  FakeDockerClient docker;
  docker.addRegistryImage("busybox:latest", {}, {"/image"});
  REQUIRE(docker.images().pullImage("busybox").isOk());
  Json body = {{"Image", "busybox"},
               {"Volumes", {{"/anon", Json::object()}}},
               {"HostConfig", {{"Binds", {"kept:/kept:rw"}}}}};
  auto first = docker.containers().createContainer("first", body);
  REQUIRE_MESSAGE(first.isOk(), first.status().toString());
  auto info = docker.containers().inspectContainer(*first);
  std::map<std::string, std::string> mounts = volumeMounts(info->raw);
  REQUIRE(mounts.size() == 3);
  CHECK(mounts.at("/kept") == "kept");
  CHECK(anonymousVolumeNames(info->raw).size() == 2);
  // A second container reuses the first's anonymous /anon by name.
  Json reuse = {{"Image", "busybox"},
                {"HostConfig", {{"Binds", {mounts.at("/anon") + ":/anon:rw"}}}}};
  auto second = docker.containers().createContainer("second", reuse);
  REQUIRE(second.isOk());
  REQUIRE(docker.containers().removeContainer(*first, true, true).isOk());
  CHECK(docker.volumes().inspectVolume(mounts.at("/anon")).isOk());  // in use by the second
  CHECK_FALSE(docker.volumes().inspectVolume(mounts.at("/image")).isOk());
  CHECK(docker.volumes().inspectVolume("kept").isOk());
  REQUIRE(docker.containers().removeContainer(*second, true, true).isOk());
  CHECK(docker.volumes()
            .inspectVolume(mounts.at("/anon"))
            .isOk());  // the second named it: rm -v leaves it
  CHECK(docker.volumes().inspectVolume("kept").isOk());
}

}  // namespace
}  // namespace pharos::agent
