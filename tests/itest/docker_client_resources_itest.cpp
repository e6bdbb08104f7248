// Docker client integration tests, part two: networks, volumes, concurrency and the events
// stream's reconnection, against a REAL Docker Engine (same environment and clean-up as
// docker_client_itest.cpp).
#include "docker_itest_support.h"

using namespace pharos_itest;  // NOLINT(google-build-using-namespace): test helpers

TEST_CASE("networks: create, duplicate, connect with aliases, in-use removal, remove") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  Json net_body = {{"Name", name("net")}, {"Driver", "bridge"}, {"Labels", labels()}};
  auto net = docker->networks.createNetwork(net_body);
  REQUIRE_MESSAGE(net.isOk(), net.status().toString());
  auto dup = docker->networks.createNetwork(net_body);
  CHECK(dup.status().code() == Code::kAlreadyExists);
  auto listed = docker->networks.listNetworks({itestLabel()});
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == name("net"));

  Json body = {
      {"Image", image()},
      {"Labels", labels()},
      {"HostConfig", {{"NetworkMode", name("net")}}},
      {"NetworkingConfig", {{"EndpointsConfig", {{name("net"), {{"Aliases", {"web"}}}}}}}}};
  auto a = docker->containers.createContainer(name("net-a"), body);
  REQUIRE(a.isOk());
  auto b = docker->containers.createContainer(name("net-b"),
                                              Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(b.isOk());
  REQUIRE(docker->containers.startContainer(*a).isOk());
  REQUIRE(docker->containers.startContainer(*b).isOk());
  Status connected =
      docker->networks.connectNetworkWithAliases(name("net"), *b, {"api", "backend"});
  REQUIRE_MESSAGE(connected.isOk(), connected.toString());
  CHECK(docker->networks.connectNetworkWithAliases(name("net"), *b, {"api"}).code() ==
        Code::kAlreadyExists);

  auto info = docker->containers.inspectContainer(*b).value();
  const Json& endpoint = info.raw["NetworkSettings"]["Networks"][name("net")];
  auto aliases = endpoint["Aliases"].get<std::vector<std::string>>();
  CHECK(std::find(aliases.begin(), aliases.end(), "api") != aliases.end());
  CHECK(!endpoint["IPAddress"].get<std::string>().empty());
  auto inspected = docker->networks.inspectNetwork(name("net"));
  REQUIRE(inspected.isOk());
  CHECK(inspected->id == *net);
  CHECK(inspected->containers.size() == 2);
  // Name resolution by alias inside the network.
  auto probe = docker->containers.createContainer(
      name("net-probe"),
      Json{{"Image", image()},
           {"Cmd", {"sh", "-c", "ping -c1 -W2 api >/dev/null && ping -c1 -W2 web >/dev/null"}},
           {"Labels", labels()},
           {"HostConfig", {{"NetworkMode", name("net")}}}});
  REQUIRE(probe.isOk());
  REQUIRE(docker->containers.startContainer(*probe).isOk());
  CHECK(docker->containers.waitContainer(*probe, 20s).value() == 0);

  Status in_use = docker->networks.removeNetwork(name("net"));
  CHECK(in_use.code() == Code::kConflict);
  CHECK(in_use.message().find("active endpoints") != std::string::npos);
  REQUIRE(docker->networks.disconnectNetwork(name("net"), *b, true).isOk());
  REQUIRE(docker->containers.removeContainer(*a, true).isOk());
  REQUIRE(docker->containers.removeContainer(*probe, true).isOk());
  REQUIRE(docker->networks.removeNetwork(*net).isOk());
  CHECK(docker->networks.inspectNetwork(name("net")).status().code() == Code::kNotFound);
}

TEST_CASE("volumes: create with labels, list, in-use removal, remove") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto vol = docker->volumes.createVolume(Json{{"Name", name("vol")}, {"Labels", labels()}});
  REQUIRE_MESSAGE(vol.isOk(), vol.status().toString());
  CHECK(vol->name == name("vol"));
  CHECK(vol->driver == "local");
  CHECK(!vol->mountpoint.empty());
  CHECK(docker->volumes.createVolume(Json{{"Name", name("vol")}, {"Labels", labels()}}).isOk());
  auto listed = docker->volumes.listVolumes({itestLabel()});
  REQUIRE(listed.isOk());
  CHECK(listed->size() == 1);
  auto user = docker->containers.createContainer(
      name("vol-user"), Json{{"Image", image()},
                             {"Labels", labels()},
                             {"HostConfig", {{"Binds", {name("vol") + ":/data"}}}}});
  REQUIRE(user.isOk());
  CHECK(docker->volumes.removeVolume(name("vol")).code() == Code::kConflict);
  REQUIRE(docker->containers.removeContainer(*user, true).isOk());
  REQUIRE(docker->volumes.removeVolume(name("vol")).isOk());
  CHECK(docker->volumes.inspectVolume(name("vol")).status().code() == Code::kNotFound);
}

TEST_CASE("the client is usable from several threads at once") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (docker->containers.listContainers({itestLabel()}).isOk() &&
            docker->system.ping().isOk())
          ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
}

TEST_CASE("the events stream reconnects after the engine goes away and comes back") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto upstream = dockerSocketPath(env("DOCKER_HOST"));
  REQUIRE(upstream.isOk());
  SocketProxy proxy(*upstream, "/tmp/pharos-itest-" + runId() + ".sock");
  Engine via_proxy{proxy.host()};
  EventLog log;
  auto stream =
      via_proxy->system.watchEvents({{"container"}, {itestLabel()}}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return log.states.size() == 1; }, 10s));
  REQUIRE(log.states[0].isOk());

  auto id = docker->containers.createContainer(name("reconnect"),
                                               Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(log.waitFor([&] { return !log.events.empty(); }));

  proxy.cut();  // the "daemon" goes away
  REQUIRE(log.waitFor([&] { return log.states.size() >= 2; }, 10s));
  CHECK(log.states[1].code() == Code::kUnavailable);
  CHECK(via_proxy->system.ping().code() == Code::kUnavailable);
  std::this_thread::sleep_for(1s);  // a few failed attempts: backoff grows
  proxy.restore();
  REQUIRE(log.waitFor([&] { return log.states.size() >= 3; }, 10s));
  CHECK(log.states[2].isOk());
  {
    std::lock_guard<std::mutex> lock(log.mu);
    CHECK(log.states.size() == 3);  // repeated failed connects are reported once
  }

  REQUIRE(docker->containers.startContainer(*id).isOk());
  REQUIRE(docker->containers.killContainer(*id, "SIGKILL").isOk());
  REQUIRE(log.waitFor([&] {
    for (const auto& e : log.events) {
      if (e.action == "die" && e.id == *id) return true;
    }
    return false;
  }));
  {
    std::lock_guard<std::mutex> lock(log.mu);
    int creates = 0;
    for (const auto& e : log.events) creates += e.action == "create" ? 1 : 0;
    CHECK(creates == 1);  // resuming from the last event's time does not replay it
  }
  stream->stop();
}
