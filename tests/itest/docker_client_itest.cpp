// Integration test of the agent's Engine API clients (EngineDocker) against a REAL Docker Engine.
// Not a plain ctest test: tests/integration/test_docker_client.py runs it with the pytest fixtures'
// engine and registry. Environment:
//   DOCKER_HOST            unix:///... of the engine (required)
//   PHAROS_TEST_REGISTRY   127.0.0.1:<port> of a local registry holding pharos-test/busybox:1
//   PHAROS_TEST_IMAGE      a local busybox test image (default pharos-test/busybox:1)
// Everything it creates carries the label io.pharos.itest=<pid> and is removed at the end.
#include "docker_itest_support.h"

using namespace pharos_itest;  // NOLINT(google-build-using-namespace): test helpers

TEST_CASE("DOCKER_HOST is set") { REQUIRE_MESSAGE(!env("DOCKER_HOST").empty(), "set DOCKER_HOST"); }

TEST_CASE("negotiates the API version and reads the engine facts") {
  Engine docker{env("DOCKER_HOST")};
  REQUIRE(docker->system.ping().isOk());
  auto v = docker->system.version();
  REQUIRE_MESSAGE(v.isOk(), v.status().toString());
  CHECK(!v->version.empty());
  CHECK(v->os == "linux");
  CHECK(!v->kernel_version.empty());
  CHECK(!v->engine_api_version.empty());
  // min(engine, 1.41): Debian 12's 20.10 speaks exactly 1.41.
  if (v->engine_api_version >= std::string("1.41")) CHECK(v->api_version == "1.41");
  auto info = docker->system.info();
  REQUIRE(info.isOk());
  CHECK((*info)["NCPU"].get<int>() >= 1);
}

TEST_CASE("an unreachable engine is unavailable, and its event stream stops promptly") {
  Engine docker{"unix:///nonexistent/docker.sock"};
  CHECK(docker->system.ping().code() == Code::kUnavailable);
  CHECK(docker->containers.listContainers({}).status().code() == Code::kUnavailable);
  Engine tcp{"tcp://127.0.0.1:2375"};
  CHECK(tcp->system.ping().code() == Code::kInvalidArgument);
  EventLog log;
  auto stream = docker->system.watchEvents({}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return !log.states.empty(); }, 5s));
  CHECK(log.states.front().code() == Code::kUnavailable);
  auto t0 = std::chrono::steady_clock::now();
  stream->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}

TEST_CASE("pulls from the local registry and reports a missing image with the engine's words") {
  std::string registry = env("PHAROS_TEST_REGISTRY");
  if (registry.empty()) {
    MESSAGE("PHAROS_TEST_REGISTRY not set: pull test skipped");
    return;
  }
  Engine docker{env("DOCKER_HOST")};
  std::string ref = registry + "/pharos-test/busybox:1";
  Status removed = docker->images.removeImage(ref, true);
  CHECK((removed.isOk() || removed.code() == Code::kNotFound));
  CHECK(docker->images.inspectImage(ref).status().code() == Code::kNotFound);
  Status pulled = docker->images.pullImage(ref);
  REQUIRE_MESSAGE(pulled.isOk(), pulled.toString());
  auto info = docker->images.inspectImage(ref);
  REQUIRE(info.isOk());
  CHECK(info->id.rfind("sha256:", 0) == 0);
  CHECK(info->labels.at("io.pharos.test.version") == "1");
  CHECK(!info->repo_digests.empty());
  auto listed = docker->images.listImages(ref);
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == info->id);
  auto repo = docker->images.listImages(registry + "/pharos-test/busybox");  // every tag
  REQUIRE(repo.isOk());
  CHECK(std::any_of(repo->begin(), repo->end(),
                    [&](const ImageInfo& i) { return i.id == info->id; }));

  // Credentials travel as X-Registry-Auth; this registry has no auth and ignores them.
  CHECK(docker->images.pullImage(ref, agent::RegistryAuth{"user", "secret", ""}).isOk());

  Status missing = docker->images.pullImage(registry + "/pharos-test/busybox:nope");
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.message().find("manifest unknown") != std::string::npos);
  Status down = docker->images.pullImage("127.0.0.1:1/pharos-test/busybox:1");
  CHECK(!down.isOk());
  CHECK(down.message().find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("creates, starts, inspects and removes a container with ports, mounts, healthcheck") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  int port = freePort();
  Json body = {{"Image", image()},
               {"Cmd", {"httpd", "-f", "-p", "80", "-h", "/www"}},
               {"Labels", labels("io.pharos.config-hash", "abc")},
               {"ExposedPorts", {{"80/tcp", Json::object()}}},
               {"Healthcheck",
                {{"Test", {"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"}},
                 {"Interval", 500'000'000},
                 {"Timeout", 2'000'000'000},
                 {"Retries", 3}}},
               {"StopTimeout", 1},
               {"HostConfig",
                {{"PortBindings",
                  {{"80/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(port)}}}}}},
                 {"RestartPolicy", {{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}}},
                 {"Mounts",
                  {{{"Type", "volume"}, {"Source", name("data")}, {"Target", "/data"}},
                   {{"Type", "tmpfs"}, {"Target", "/scratch"}}}},
                 {"Ulimits", {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}}}}}};
  auto id = docker->containers.createContainer(name("web"), body);
  REQUIRE_MESSAGE(id.isOk(), id.status().toString());
  auto dup = docker->containers.createContainer(name("web"), body);
  CHECK(dup.status().code() == Code::kAlreadyExists);
  CHECK(dup.status().message().find("is already in use") != std::string::npos);

  auto created = docker->containers.inspectContainer(*id);
  REQUIRE(created.isOk());
  CHECK(created->state == ContainerState::kCreated);
  CHECK(created->name == name("web"));
  CHECK(created->image == image());
  CHECK(created->labels.at("io.pharos.config-hash") == "abc");
  CHECK(created->labels.at("io.pharos.test.version") == "1");  // from the image
  CHECK(created->raw["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped");

  REQUIRE(docker->containers.startContainer(*id).isOk());
  CHECK(docker->containers.startContainer(*id).isOk());  // 304 is ok
  auto running = docker->containers.inspectContainer(name("web"));
  REQUIRE(running.isOk());
  CHECK(running->running);
  CHECK(running->state == ContainerState::kRunning);
  CHECK(running->image_id == docker->images.inspectImage(image())->id);
  CHECK(eventually([&] { return httpGet(port) == "pharos test image\n"; }));
  CHECK(eventually([&] { return docker->containers.inspectContainer(*id)->health == "healthy"; }));
  CHECK(docker->volumes.inspectVolume(name("data")).isOk());

  auto listed = docker->containers.listContainers({itestLabel(), "io.pharos.config-hash=abc"});
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == *id);
  CHECK(listed->front().name == name("web"));
  CHECK(listed->front().state == ContainerState::kRunning);
  CHECK(docker->containers.listContainers({itestLabel(), "io.pharos.config-hash=other"})->empty());

  CHECK(docker->containers.removeContainer(*id).code() == Code::kConflict);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(docker->containers.stopContainer(*id, 1).isOk());
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK(docker->containers.stopContainer(*id, 1).isOk());  // 304 is ok
  CHECK(docker->containers.killContainer(*id).code() == Code::kConflict);
  REQUIRE(docker->containers.restartContainer(*id, 1).isOk());
  CHECK(docker->containers.inspectContainer(*id)->running);
  REQUIRE(docker->containers.removeContainer(*id, true, true).isOk());
  CHECK(docker->containers.inspectContainer(*id).status().code() == Code::kNotFound);
  CHECK(docker->volumes.removeVolume(name("data")).isOk());
}

TEST_CASE("engine errors keep Docker's message and map to codes") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto bad = docker->containers.createContainer(
      name("bad"), Json{{"Image", "pharos-test/nope:1"}, {"Labels", labels()}});
  CHECK(bad.status().code() == Code::kNotFound);
  CHECK(bad.status().message().find("No such image") != std::string::npos);
  auto missing = docker->containers.inspectContainer(name("missing"));
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message().find("No such container") != std::string::npos);
  CHECK(docker->images.inspectImage("pharos-test/nope:1").status().code() == Code::kNotFound);
  auto invalid = docker->containers.createContainer("bad name!", Json{{"Image", image()}});
  CHECK(invalid.status().code() == Code::kInvalidArgument);
  CHECK(invalid.status().message().find("Invalid container name") != std::string::npos);
}

TEST_CASE("logs are demultiplexed, tailed, and raw for a TTY") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  Json body = {
      {"Image", image()},
      {"Cmd", {"sh", "-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 30"}},
      {"Labels", labels()}};
  auto id = docker->containers.createContainer(name("logs"), body);
  REQUIRE(id.isOk());
  REQUIRE(docker->containers.startContainer(*id).isOk());
  LogOptions all;
  REQUIRE(eventually([&] {
    return docker->containers.containerLogs(*id, all)->find("three") != std::string::npos;
  }));
  std::string text = docker->containers.containerLogs(*id, all).value();
  CHECK(text.find("one\n") != std::string::npos);
  CHECK(text.find("two\n") != std::string::npos);
  CHECK(text.find('\x01') == std::string::npos);  // no frame headers left
  LogOptions only_err;
  only_err.stdout_stream = false;
  CHECK(docker->containers.containerLogs(*id, only_err).value() == "two\n");
  LogOptions tail;
  tail.tail = 1;
  tail.stderr_stream = false;
  CHECK(docker->containers.containerLogs(*id, tail).value() == "three\n");

  body["Tty"] = true;
  auto tty = docker->containers.createContainer(name("tty"), body);
  REQUIRE(tty.isOk());
  REQUIRE(docker->containers.startContainer(*tty).isOk());
  REQUIRE(eventually([&] {
    return docker->containers.containerLogs(*tty, all)->find("three") != std::string::npos;
  }));
  CHECK(docker->containers.containerLogs(*tty, all)->find("one\r\n") != std::string::npos);
  CHECK(docker->containers.containerLogs(name("nope"), all).status().code() == Code::kNotFound);
}

TEST_CASE("stats give CPU and memory numbers for a running container") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto id = docker->containers.createContainer(
      name("stats"),
      Json{{"Image", image()}, {"Cmd", {"sh", "-c", "while :; do :; done"}}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->containers.startContainer(*id).isOk());
  std::this_thread::sleep_for(300ms);
  auto one = docker->containers.containerStats(*id, true);
  REQUIRE_MESSAGE(one.isOk(), one.status().toString());
  CHECK(one->cpu_total_ns > 0);
  CHECK(one->memory_usage > 0);
  CHECK(one->memory_limit > 0);
  CHECK(one->pids >= 1);
  auto two = docker->containers.containerStats(*id, false);
  REQUIRE(two.isOk());
  CHECK(two->cpu_percent > 1.0);  // a busy loop
}

TEST_CASE("waitContainer returns the exit code") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto id = docker->containers.createContainer(
      name("wait"),
      Json{{"Image", image()}, {"Cmd", {"sh", "-c", "sleep 0.3; exit 3"}}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->containers.startContainer(*id).isOk());
  auto code = docker->containers.waitContainer(*id, 20s);
  REQUIRE_MESSAGE(code.isOk(), code.status().toString());
  CHECK(*code == 3);
  auto info = docker->containers.inspectContainer(*id);
  CHECK(info->state == ContainerState::kExited);
  CHECK(info->exit_code == 3);
}

TEST_CASE("the events stream sees a kill as die, filtered by label, and stops promptly") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  EventLog log;
  auto stream =
      docker->system.watchEvents({{"container"}, {itestLabel()}}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return !log.states.empty(); }, 10s));
  REQUIRE(log.states.front().isOk());
  auto id = docker->containers.createContainer(name("events"),
                                               Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->containers.startContainer(*id).isOk());
  REQUIRE(docker->containers.killContainer(*id, "SIGKILL").isOk());
  bool died = log.waitFor([&] {
    for (const auto& e : log.events) {
      if (e.action == "die" && e.id == *id) return true;
    }
    return false;
  });
  REQUIRE(died);
  {
    std::lock_guard<std::mutex> lock(log.mu);
    std::vector<std::string> actions;
    for (const auto& e : log.events) {
      CHECK(e.type == "container");
      CHECK(e.attributes.at("io.pharos.itest") == runId());
      if (e.action == "die") {
        CHECK(e.attributes.at("exitCode") == "137");
        CHECK(e.attributes.at("name") == name("events"));
        CHECK(e.time_nano > 0);
      }
      actions.push_back(e.action);
    }
    CHECK(actions.front() == "create");
  }
  auto t0 = std::chrono::steady_clock::now();
  stream->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}
