// FakeDockerClient behaves like the Docker Engine for the fields and errors the agent uses:
// image pulls from a simulated registry, the container state machine with restart
// policies, networks, volumes, events and fault injection. Also covers the shared helpers
// (image references, registry auth encoding, DOCKER_HOST parsing).
#include "agent/fake_docker.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "pharos/clock.h"
#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::agent;

namespace {

constexpr const char* kImage = "127.0.0.1:5000/pharos-test/busybox:1";

Json serviceBody(const std::string& image, const std::string& restart = "unless-stopped") {
  return Json{{"Image", image},
              {"Labels", {{"com.docker.compose.project", "app"}, {"io.pharos.node", "n1"}}},
              {"HostConfig", {{"RestartPolicy", {{"Name", restart}, {"MaximumRetryCount", 0}}}}}};
}

// createContainer that must succeed (a failed Result has no value to read).
std::string mustCreate(FakeDockerClient& docker, const std::string& name, const Json& body) {
  auto id = docker.containers().createContainer(name, body);
  REQUIRE_MESSAGE(id.isOk(), id.status().toString());
  return *id;
}

struct Recorder {
  std::mutex mu;
  std::vector<DockerEvent> events;
  std::vector<Status> states;
  EventCallback onEvent() {
    return [this](const DockerEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
    };
  }
  EventStateCallback onState() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      states.push_back(s);
    };
  }
  std::vector<std::string> actions() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.type + ":" + e.action);
    return out;
  }
};

}  // namespace

TEST_CASE("parses image references the way the engine's pull endpoint wants them") {
  struct Case {
    const char* in;
    const char* repository;
    const char* tag;
    const char* digest;
    const char* registry;
  };
  const Case cases[] = {
      {"busybox", "busybox", "latest", "", "docker.io"},
      {"busybox:1.36", "busybox", "1.36", "", "docker.io"},
      {"library/busybox:1", "library/busybox", "1", "", "docker.io"},
      {"127.0.0.1:5000/a/b:2", "127.0.0.1:5000/a/b", "2", "", "127.0.0.1:5000"},
      {"127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b", "latest", "", "127.0.0.1:5000"},
      {"localhost/x", "localhost/x", "latest", "", "localhost"},
      {"reg.example/x@sha256:abc", "reg.example/x", "", "sha256:abc", "reg.example"},
      {"reg.example/x:1@sha256:abc", "reg.example/x", "1", "sha256:abc", "reg.example"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    ImageRef ref = parseImageRef(c.in);
    CHECK(ref.repository == c.repository);
    CHECK(ref.tag == c.tag);
    CHECK(ref.digest == c.digest);
    CHECK(ref.registry() == c.registry);
  }
  CHECK(parseImageRef("busybox").str() == "busybox:latest");
  CHECK(parseImageRef("x@sha256:abc").str() == "x@sha256:abc");
}

TEST_CASE("encodes registry credentials as base64url JSON") {
  agent::RegistryAuth auth{"user", "p?ss>", "127.0.0.1:5000"};
  std::string encoded = encodeRegistryAuth(auth);
  CHECK(encoded.find('+') == std::string::npos);
  CHECK(encoded.find('/') == std::string::npos);
  // {"password":"p?ss>","serveraddress":"127.0.0.1:5000","username":"user"}
  CHECK(encoded ==
        "eyJwYXNzd29yZCI6InA_c3M-Iiwic2VydmVyYWRkcmVzcyI6IjEyNy4wLjAuMTo1MDAwIiwidXNlcm5hbWUiOiJ1"
        "c2VyIn0=");
}

TEST_CASE("accepts only unix:// Docker hosts") {
  CHECK(dockerSocketPath("unix:///run/d.sock").value() == "/run/d.sock");
  CHECK(dockerSocketPath("tcp://127.0.0.1:2375").status().code() == Code::kInvalidArgument);
  CHECK(dockerSocketPath("unix://").status().code() == Code::kInvalidArgument);
}

TEST_CASE("pulls only images the registry has, with the engine's message otherwise") {
  FakeDockerClient docker;
  docker.addRegistryImage(kImage, {{"v", "1"}});
  CHECK(docker.images().inspectImage(kImage).status().code() == Code::kNotFound);
  REQUIRE(docker.images().pullImage(kImage).isOk());
  auto image = docker.images().inspectImage(kImage);
  REQUIRE(image.isOk());
  CHECK(image->id.rfind("sha256:", 0) == 0);
  CHECK(image->labels.at("v") == "1");
  CHECK(image->repo_tags == std::vector<std::string>{kImage});

  Status missing = docker.images().pullImage("127.0.0.1:5000/nope:1");
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.message().find("manifest unknown") != std::string::npos);

  docker.setPullFailure(kImage, Status::unavailable("registry down"));
  CHECK(docker.images().pullImage(kImage).message() == "registry down");
  docker.setPullFailure(kImage, Status::ok());
  CHECK(docker.images().pullImage(kImage).isOk());
}

TEST_CASE("a new push under the same tag gives a new image id after the next pull") {
  FakeDockerClient docker;
  docker.addRegistryImage(kImage, {{"v", "1"}});
  REQUIRE(docker.images().pullImage(kImage).isOk());
  std::string first = docker.images().inspectImage(kImage)->id;
  docker.addRegistryImage(kImage, {{"v", "2"}});
  CHECK(docker.images().inspectImage(kImage)->id == first);
  REQUIRE(docker.images().pullImage(kImage).isOk());
  CHECK(docker.images().inspectImage(kImage)->id != first);
  // The same content has the same id in another engine (a fleet pulls one image).
  FakeDockerClient other;
  other.addRegistryImage(kImage, {{"v", "2"}});
  REQUIRE(other.images().pullImage(kImage).isOk());
  CHECK(other.images().inspectImage(kImage)->id == docker.images().inspectImage(kImage)->id);
}

TEST_CASE("creating a container needs the image locally and a free name") {
  FakeDockerClient docker;
  auto missing = docker.containers().createContainer("web", serviceBody(kImage));
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == std::string("No such image: ") + kImage);

  docker.addLocalImage(kImage, {{"from-image", "yes"}});
  auto id = docker.containers().createContainer("web", serviceBody(kImage));
  REQUIRE(id.isOk());
  CHECK(id->size() == 64);
  auto again = docker.containers().createContainer("web", serviceBody(kImage));
  CHECK(again.status().code() == Code::kAlreadyExists);
  CHECK(again.status().message().find("is already in use by container") != std::string::npos);
  CHECK(docker.containers().createContainer("bad name", serviceBody(kImage)).status().code() ==
        Code::kInvalidArgument);
  CHECK(docker.containers().createContainer("x", serviceBody(kImage)).status().code() ==
        Code::kInvalidArgument);  // the engine wants at least two characters

  auto info = docker.containers().inspectContainer("web");
  REQUIRE(info.isOk());
  CHECK(info->id == *id);
  CHECK(info->name == "web");
  CHECK(info->state == ContainerState::kCreated);
  CHECK(info->image == kImage);
  CHECK(info->image_id == docker.images().inspectImage(kImage)->id);
  CHECK(info->labels.at("io.pharos.node") == "n1");
  CHECK(info->labels.at("from-image") == "yes");  // image labels merge in, as the engine does
  CHECK(info->raw["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped");
  CHECK(info->raw["Name"] == "/web");
  CHECK(info->finished_at == "0001-01-01T00:00:00Z");
  // Lookup by id prefix, as the engine allows.
  CHECK(docker.containers().inspectContainer(id->substr(0, 12))->id == *id);
  CHECK(docker.containers().inspectContainer("nope").status().code() == Code::kNotFound);
}

TEST_CASE("containers move through created, running and exited") {
  ManualClock clock;
  FakeDockerClient docker(&clock);
  docker.addLocalImage(kImage);
  std::string id = mustCreate(docker, "web", serviceBody(kImage, "no"));
  REQUIRE(docker.containers().startContainer(id).isOk());
  CHECK(docker.containers().inspectContainer(id)->running);
  CHECK(docker.containers().startContainer(id).isOk());  // already running: ok (304)
  CHECK(docker.containers().removeContainer(id).code() == Code::kConflict);
  REQUIRE(docker.containers().stopContainer(id, 1).isOk());
  auto info = docker.containers().inspectContainer(id);
  CHECK(info->state == ContainerState::kExited);
  CHECK(info->exit_code == 0);
  CHECK(docker.containers().stopContainer(id).isOk());  // already stopped: ok (304)
  CHECK(docker.containers().killContainer(id).code() == Code::kConflict);
  REQUIRE(docker.containers().startContainer(id).isOk());
  REQUIRE(docker.containers().killContainer(id, "SIGKILL").isOk());
  CHECK(docker.containers().inspectContainer(id)->exit_code == 137);
  CHECK(docker.containers().waitContainer(id, std::chrono::milliseconds(10)).value() == 137);
  REQUIRE(docker.containers().removeContainer(id).isOk());
  CHECK(docker.containers().inspectContainer(id).status().code() == Code::kNotFound);
  CHECK(docker.containers().removeContainer(id).code() == Code::kNotFound);
}

TEST_CASE("a crash follows the restart policy and counts restarts") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string always = mustCreate(docker, "always", serviceBody(kImage, "always"));
  std::string never = mustCreate(docker, "never", serviceBody(kImage, "no"));
  Json limited_body = serviceBody(kImage, "on-failure");
  limited_body["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] = 2;
  std::string limited = mustCreate(docker, "limited", limited_body);
  for (const auto& id : {always, never, limited})
    REQUIRE(docker.containers().startContainer(id).isOk());

  REQUIRE(docker.containers().crashContainer(always, 1).isOk());
  auto a = docker.containers().inspectContainer(always);
  CHECK(a->running);
  CHECK(a->restart_count == 1);

  REQUIRE(docker.containers().crashContainer(never, 3).isOk());
  auto n = docker.containers().inspectContainer(never);
  CHECK(n->state == ContainerState::kExited);
  CHECK(n->exit_code == 3);
  CHECK(n->restart_count == 0);
  CHECK(docker.containers().crashContainer(never, 3).code() == Code::kConflict);

  REQUIRE(docker.containers().crashContainer(limited, 1).isOk());
  REQUIRE(docker.containers().crashContainer(limited, 1).isOk());
  CHECK(docker.containers().inspectContainer(limited)->running);
  REQUIRE(docker.containers().crashContainer(limited, 1).isOk());  // limit of 2 reached
  auto l = docker.containers().inspectContainer(limited);
  CHECK(l->state == ContainerState::kExited);
  CHECK(l->restart_count == 2);
}

TEST_CASE("a daemon restart restarts always and unless-stopped, not a user-stopped one") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string always = mustCreate(docker, "c-a", serviceBody(kImage, "always"));
  std::string unless = mustCreate(docker, "c-u", serviceBody(kImage, "unless-stopped"));
  std::string stopped = mustCreate(docker, "c-s", serviceBody(kImage, "unless-stopped"));
  std::string none = mustCreate(docker, "c-n", serviceBody(kImage, "no"));
  for (const auto& id : {always, unless, stopped, none})
    REQUIRE(docker.containers().startContainer(id).isOk());
  REQUIRE(docker.containers().stopContainer(stopped).isOk());
  Recorder rec;
  auto stream = docker.system().watchEvents({}, rec.onEvent(), rec.onState());
  docker.restartDaemon();
  CHECK(docker.containers().inspectContainer(always)->running);
  CHECK(docker.containers().inspectContainer(unless)->running);
  CHECK(docker.containers().inspectContainer(stopped)->state == ContainerState::kExited);
  CHECK(docker.containers().inspectContainer(none)->state == ContainerState::kExited);
  REQUIRE(rec.states.size() == 3);  // connected, lost, reconnected
  CHECK(rec.states[0].isOk());
  CHECK(rec.states[1].code() == Code::kUnavailable);
  CHECK(rec.states[2].isOk());
}

TEST_CASE("events reach subscribers with the container's labels, filtered") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  Recorder all;
  Recorder mine;
  auto s1 = docker.system().watchEvents({}, all.onEvent());
  auto s2 = docker.system().watchEvents({{"container"}, {"io.pharos.node=n1"}}, mine.onEvent());
  std::string id = mustCreate(docker, "web", serviceBody(kImage));
  Json other = serviceBody(kImage);
  other["Labels"] = Json::object();
  std::string foreign = mustCreate(docker, "foreign", other);
  REQUIRE(docker.containers().startContainer(id).isOk());
  REQUIRE(docker.containers().startContainer(foreign).isOk());
  REQUIRE(docker.containers().crashContainer(id, 2).isOk());
  REQUIRE(docker.containers().removeContainer(id, true).isOk());

  CHECK(mine.actions() == std::vector<std::string>{"container:create", "container:start",
                                                   "container:die", "container:start",
                                                   "container:kill", "container:die",
                                                   "container:destroy"});
  {
    std::lock_guard<std::mutex> lock(mine.mu);
    CHECK(mine.events[2].id == id);
    CHECK(mine.events[2].attributes.at("exitCode") == "2");
    CHECK(mine.events[2].attributes.at("name") == "web");
    CHECK(mine.events[2].attributes.at("com.docker.compose.project") == "app");
  }
  CHECK(all.actions().size() > mine.actions().size());

  s2->stop();
  REQUIRE(docker.containers().stopContainer(foreign).isOk());
  CHECK(mine.actions().size() == 7);
  s2.reset();  // destroying a stopped stream is fine
}

TEST_CASE("an engine outage fails every call as unavailable and is reported to streams") {
  FakeDockerClient docker;
  Recorder rec;
  auto stream = docker.system().watchEvents({}, rec.onEvent(), rec.onState());
  docker.setEngineUp(false);
  CHECK(docker.system().ping().code() == Code::kUnavailable);
  CHECK(docker.containers().listContainers({}).status().code() == Code::kUnavailable);
  docker.setEngineUp(true);
  CHECK(docker.system().ping().isOk());
  REQUIRE(rec.states.size() == 3);
  CHECK(rec.states[1].code() == Code::kUnavailable);
  CHECK(rec.states[2].isOk());
}

TEST_CASE("failNext fails the next calls of one operation and counts them") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  docker.failNext(DockerOp::kCreateContainer, Status::internal("disk full"), 2);
  CHECK(docker.containers().createContainer("c-a", serviceBody(kImage)).status().message() ==
        "disk full");
  CHECK(docker.containers().createContainer("c-a", serviceBody(kImage)).status().message() ==
        "disk full");
  CHECK(docker.containers().createContainer("c-a", serviceBody(kImage)).isOk());
  CHECK(docker.calls(DockerOp::kCreateContainer) == 3);
  CHECK(docker.containerCount() == 1);
}

TEST_CASE("counters show that reads change nothing") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  CHECK(docker.mutatingCalls() == 1);
  docker.resetCounters();
  CHECK(docker.containers().listContainers({"com.docker.compose.project=app"})->size() == 1);
  CHECK(docker.containers().inspectContainer(id).isOk());
  CHECK(docker.images().inspectImage(kImage).isOk());
  CHECK(docker.networks().listNetworks({}).isOk());
  CHECK(docker.mutatingCalls() == 0);
  CHECK(docker.calls(DockerOp::kListContainers) == 1);
  CHECK(std::string(dockerOpName(DockerOp::kWatchEvents)) == "watchEvents");
}

TEST_CASE("lists containers by labels, running only unless all") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string a = mustCreate(docker, "c-a", serviceBody(kImage));
  Json other = serviceBody(kImage);
  other["Labels"]["com.docker.compose.project"] = "other";
  std::string b = mustCreate(docker, "c-b", other);
  REQUIRE(docker.containers().startContainer(a).isOk());
  CHECK(docker.containers().listContainers({"com.docker.compose.project=app"})->size() == 1);
  CHECK(docker.containers().listContainers({"com.docker.compose.project"})->size() == 2);
  CHECK(docker.containers().listContainers({"io.pharos.node=n2"})->empty());
  auto running = docker.containers().listContainers({}, false);
  REQUIRE(running->size() == 1);
  CHECK(running->front().id == a);
  CHECK(running->front().state == ContainerState::kRunning);
  CHECK(running->front().name == "c-a");
  auto all = docker.containers().listContainers({"com.docker.compose.project=other"}).value();
  CHECK(all.front().status == "Created");
}

TEST_CASE("a container removed or an image deleted behind the agent's back disappears") {
  FakeDockerClient docker;
  docker.addRegistryImage(kImage);
  REQUIRE(docker.images().pullImage(kImage).isOk());
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  REQUIRE(docker.containers().startContainer(id).isOk());
  docker.resetCounters();
  docker.deleteImageBehindBack(kImage);
  CHECK(docker.images().inspectImage(kImage).status().code() == Code::kNotFound);
  CHECK(docker.containers().inspectContainer(id)->running);  // the engine keeps the layers in use
  REQUIRE(docker.containers().removeBehindBack(id).isOk());
  CHECK(docker.containers().inspectContainer(id).status().code() == Code::kNotFound);
  CHECK(docker.mutatingCalls() == 0);
}

TEST_CASE("removing an image follows the engine's in-use rules") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  Status in_use = docker.images().removeImage(kImage);
  CHECK(in_use.code() == Code::kConflict);
  CHECK(in_use.message().find("must force") != std::string::npos);
  REQUIRE(docker.containers().removeContainer(id).isOk());
  REQUIRE(docker.images().removeImage(kImage).isOk());
  CHECK(docker.images().inspectImage(kImage).status().code() == Code::kNotFound);
  CHECK(docker.images().removeImage(kImage).code() == Code::kNotFound);
  CHECK(docker.images().listImages()->empty());
}

TEST_CASE("lists images by reference") {
  FakeDockerClient docker;
  docker.addLocalImage("pharos-test/busybox:1");
  docker.addLocalImage("pharos-test/busybox:2", {{"v", "2"}});
  docker.addLocalImage("other:1", {{"v", "x"}});
  CHECK(docker.images().listImages()->size() == 3);
  CHECK(docker.images().listImages("pharos-test/busybox")->size() == 2);
  CHECK(docker.images().listImages("pharos-test/busybox:2")->size() == 1);
  CHECK(docker.images().listImages("nothing")->empty());
}

TEST_CASE("networks attach containers with aliases and refuse removal while in use") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  auto net =
      docker.networks().createNetwork(Json{{"Name", "app_default"},
                                           {"Driver", "bridge"},
                                           {"Labels", {{"com.docker.compose.project", "app"}}}});
  REQUIRE(net.isOk());
  CHECK(docker.networks().createNetwork(Json{{"Name", "app_default"}}).status().code() ==
        Code::kAlreadyExists);
  Json body = serviceBody(kImage);
  body["HostConfig"]["NetworkMode"] = "app_default";
  body["NetworkingConfig"] = {{"EndpointsConfig", {{"app_default", {{"Aliases", {"web"}}}}}}};
  std::string id = mustCreate(docker, "web", body);
  REQUIRE(docker.networks().createNetwork(Json{{"Name", "backend"}}).isOk());
  REQUIRE(docker.networks().connectNetworkWithAliases("backend", id, {"api"}).isOk());
  CHECK(docker.networks().connectNetwork("backend", id, Json::object()).code() ==
        Code::kAlreadyExists);
  CHECK(docker.networks().connectNetwork("missing", id, Json::object()).code() == Code::kNotFound);
  REQUIRE(docker.containers().startContainer(id).isOk());

  auto info = docker.containers().inspectContainer(id).value();
  const Json& networks = info.raw["NetworkSettings"]["Networks"];
  CHECK(networks["app_default"]["Aliases"] == Json({"web"}));
  CHECK(networks["backend"]["Aliases"] == Json({"api"}));
  CHECK(networks["app_default"]["IPAddress"] != "");
  auto inspected = docker.networks().inspectNetwork("app_default").value();
  CHECK(inspected.id == *net);
  CHECK(inspected.containers == std::vector<std::string>{id});
  CHECK(docker.networks().listNetworks({"com.docker.compose.project=app"})->size() == 1);
  CHECK(docker.networks().listNetworks({})->size() == 5);  // bridge, host, none + 2

  CHECK(docker.networks().removeNetwork("app_default").code() == Code::kConflict);
  CHECK(docker.networks().removeNetwork("bridge").code() == Code::kPermissionDenied);
  REQUIRE(docker.networks().disconnectNetwork("backend", id).isOk());
  REQUIRE(docker.networks().removeNetwork("backend").isOk());
  REQUIRE(docker.containers().removeContainer(id, true).isOk());
  REQUIRE(docker.networks().removeNetwork(*net).isOk());
  CHECK(docker.networks().inspectNetwork("app_default").status().code() == Code::kNotFound);
}

TEST_CASE("volumes are created on demand and kept while a container uses them") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  auto made = docker.volumes().createVolume(Json{{"Name", "app_data"}, {"Labels", {{"k", "v"}}}});
  REQUIRE(made.isOk());
  CHECK(made->mountpoint == "/var/lib/docker/volumes/app_data/_data");
  CHECK(docker.volumes().createVolume(Json{{"Name", "app_data"}})->labels.at("k") ==
        "v");  // idempotent
  Json body = serviceBody(kImage);
  body["HostConfig"]["Binds"] = {"app_data:/data", "auto_vol:/auto:ro", "/host:/host"};
  std::string id = mustCreate(docker, "c-a", body);
  CHECK(docker.volumes().inspectVolume("auto_vol").isOk());
  CHECK(docker.volumes().inspectVolume("/host").status().code() == Code::kNotFound);
  CHECK(docker.volumes().listVolumes({"k=v"})->size() == 1);
  CHECK(docker.volumes().removeVolume("app_data").code() == Code::kConflict);
  REQUIRE(docker.containers().removeContainer(id).isOk());
  REQUIRE(docker.volumes().removeVolume("app_data").isOk());
  CHECK(docker.volumes().removeVolume("app_data").code() == Code::kNotFound);
  CHECK(docker.volumes().removeVolume("app_data", true).isOk());
}

TEST_CASE("health status changes are visible in inspect and as events") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  Json body = serviceBody(kImage);
  body["Healthcheck"] = {{"Test", {"CMD", "true"}}, {"Interval", 1000000000}};
  std::string id = mustCreate(docker, "c-a", body);
  REQUIRE(docker.containers().startContainer(id).isOk());
  CHECK(docker.containers().inspectContainer(id)->health == "starting");
  Recorder rec;
  auto stream = docker.system().watchEvents({{"container"}, {}}, rec.onEvent());
  REQUIRE(docker.containers().setHealth(id, "healthy").isOk());
  CHECK(docker.containers().inspectContainer(id)->health == "healthy");
  CHECK(rec.actions() == std::vector<std::string>{"container:health_status: healthy"});
  CHECK(docker.containers().listContainers({})->front().status == "Up (healthy)");
}

TEST_CASE("logs return the last lines and stats the configured numbers") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  docker.containers().appendLogs(id, "one\ntwo\nthree\n");
  LogOptions all;
  CHECK(docker.containers().containerLogs(id, all).value() == "one\ntwo\nthree\n");
  LogOptions tail;
  tail.tail = 2;
  CHECK(docker.containers().containerLogs(id, tail).value() == "two\nthree\n");
  tail.tail = 0;
  CHECK(docker.containers().containerLogs(id, tail).value().empty());
  tail.tail = 10;
  CHECK(docker.containers().containerLogs(id, tail).value() == "one\ntwo\nthree\n");
  ContainerStats stats;
  stats.cpu_percent = 12.5;
  stats.memory_usage = 1 << 20;
  docker.containers().setStats(id, stats);
  CHECK(docker.containers().containerStats(id)->memory_usage == 0);  // not running
  REQUIRE(docker.containers().startContainer(id).isOk());
  CHECK(docker.containers().containerStats(id)->cpu_percent == doctest::Approx(12.5));
  CHECK(docker.containers().containerStats(id)->memory_usage == (1u << 20));
}

TEST_CASE("waitContainer returns when another thread stops the container") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  REQUIRE(docker.containers().startContainer(id).isOk());
  CHECK(docker.containers().waitContainer(id, std::chrono::milliseconds(1)).status().code() ==
        Code::kUnavailable);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)docker.containers().killContainer(id, "SIGUSR1");
  });
  auto code = docker.containers().waitContainer(id, std::chrono::seconds(5));
  stopper.join();
  REQUIRE(code.isOk());
  CHECK(*code == 138);
}

TEST_CASE("a callback may call back into the fake") {
  FakeDockerClient docker;
  docker.addLocalImage(kImage);
  std::atomic<int> seen_running{0};
  auto stream = docker.system().watchEvents({{"container"}, {}}, [&](const DockerEvent& e) {
    if (e.action == "start" && docker.containers().inspectContainer(e.id)->running) ++seen_running;
  });
  std::string id = mustCreate(docker, "c-a", serviceBody(kImage));
  REQUIRE(docker.containers().startContainer(id).isOk());
  CHECK(seen_running == 1);
}

TEST_CASE("ten thousand fake engines fit in one process") {
  std::vector<std::unique_ptr<FakeDockerClient>> fleet;
  fleet.reserve(10000);
  for (int i = 0; i < 10000; ++i) fleet.push_back(std::make_unique<FakeDockerClient>());
  for (auto& docker : fleet) docker->addRegistryImage(kImage);
  CHECK(fleet.back()->images().pullImage(kImage).isOk());
  CHECK(fleet.front()->system().version()->api_version == "1.41");
}
