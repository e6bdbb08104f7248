// The compose model's normalisation (short and long syntaxes give equal values), the
// docker-compose 1.29 folding of deploy keys, error positions, warnings and extends.
#include "pharos/compose.h"

#include <doctest/doctest.h>

#include <string>

using namespace std::chrono_literals;

namespace {

pharos::ComposeFile parse(const std::string& text, const pharos::Variables& vars = {}) {
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, vars);
  if (!parsed) FAIL(parsed.status().toString() << " (line " << parsed.status().line() << ")");
  return std::move(parsed).value();
}

const pharos::Service& only(const pharos::ComposeFile& file) {
  REQUIRE(file.services.size() == 1);
  return file.services.front();
}

}  // namespace

TEST_CASE("short and long port syntax normalise to the same mappings") {
  const pharos::ComposeFile short_form = parse(R"(
services:
  web:
    image: nginx
    ports: ["127.0.0.1:8080:80", "53:53/udp"]
)");
  const pharos::ComposeFile long_form = parse(R"(
services:
  web:
    image: nginx
    ports:
      - {target: 80, published: 8080, host_ip: 127.0.0.1}
      - {target: 53, published: "53", protocol: udp}
)");
  CHECK(only(short_form).ports == only(long_form).ports);
  CHECK(only(short_form).ports.size() == 2);
  CHECK(only(short_form).ports[0].host_ip == "127.0.0.1");
  CHECK(only(short_form).ports[1].protocol == "udp");
}

TEST_CASE("short and long volume syntax normalise to the same mounts") {
  const pharos::ComposeFile short_form = parse(R"(
services:
  web:
    image: nginx
    volumes: ["data:/data:ro", "/srv/conf:/conf", "./html:/html:rshared"]
volumes:
  data:
)");
  const pharos::ComposeFile long_form = parse(R"(
services:
  web:
    image: nginx
    volumes:
      - {type: volume, source: data, target: /data, read_only: true}
      - {type: bind, source: /srv/conf, target: /conf, bind: {create_host_path: true}}
      - type: bind
        source: ./html
        target: /html
        bind: {propagation: rshared, create_host_path: true}
volumes:
  data:
)");
  const auto& mounts = only(short_form).volumes;
  CHECK(mounts == only(long_form).volumes);
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[0].type == pharos::MountType::kVolume);
  CHECK(mounts[0].read_only);
  CHECK(mounts[1].type == pharos::MountType::kBind);
  CHECK(mounts[2].source == "./html");
  CHECK(mounts[2].bind_propagation == "rshared");
}

TEST_CASE("tmpfs mounts keep their size and mode") {
  const pharos::Service service = only(parse(R"(
services:
  web:
    image: nginx
    tmpfs: ["/run:size=64m", /tmp]
    volumes:
      - {type: tmpfs, target: /cache, tmpfs: {size: 1g, mode: 0o1777}}
)"));
  CHECK(service.tmpfs.at("/run") == "size=64m");
  CHECK(service.tmpfs.at("/tmp").empty());
  REQUIRE(service.volumes.size() == 1);
  CHECK(service.volumes[0].type == pharos::MountType::kTmpfs);
  CHECK(service.volumes[0].tmpfs_size == (1LL << 30));
}

TEST_CASE("environment, labels and sysctls accept lists and maps alike") {
  const pharos::Service list = only(parse(R"(
services:
  web:
    image: nginx
    environment: ["A=1", "B=x=y", "C=", "NODE"]
    labels: ["com.example.a=1", "com.example.b"]
    sysctls: ["net.core.somaxconn=1024"]
)",
                                          {{"NODE", "n7"}}));
  const pharos::Service map = only(parse(R"(
services:
  web:
    image: nginx
    environment: {A: 1, B: "x=y", C: "", NODE: }
    labels: {com.example.a: "1", com.example.b: }
    sysctls: {net.core.somaxconn: 1024}
)",
                                         {{"NODE", "n7"}}));
  CHECK(list.environment == map.environment);
  CHECK(list.environment.at("B") == "x=y");
  CHECK(list.environment.at("NODE") == "n7");
  CHECK(list.labels == map.labels);
  CHECK(list.labels.at("com.example.b").empty());
  CHECK(list.sysctls == map.sysctls);
}

TEST_CASE("a variable listed without a value and not provided is left out with a warning") {
  const pharos::ComposeFile file = parse(R"(
services:
  web:
    image: nginx
    environment: [UNSET]
)");
  CHECK(only(file).environment.empty());
  REQUIRE(file.warnings.size() == 1);
  CHECK(file.warnings[0].find("UNSET") != std::string::npos);
}

TEST_CASE("a missing variable becomes an empty string and a warning naming it") {
  const pharos::ComposeFile file = parse(R"(
services:
  web:
    image: "nginx${SUFFIX}"
    environment: {A: "${SUFFIX}", B: "${SUFFIX:-b}"}
)");
  CHECK(only(file).image == "nginx");
  REQUIRE(file.warnings.size() == 1);  // one warning per variable
  CHECK(file.warnings[0].find("SUFFIX") != std::string::npos);
  CHECK(file.warnings[0].find("services.web.image") != std::string::npos);
}

TEST_CASE("a required variable that is missing fails naming the key and the message") {
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(R"(services:
  web:
    image: nginx
    environment:
      TOKEN: ${API_TOKEN:?the API token secret is required}
)",
                                                                    {});
  REQUIRE_FALSE(parsed.isOk());
  const pharos::Status& status = parsed.status();
  CHECK(status.message().rfind("services.web.environment.TOKEN: ", 0) == 0);
  CHECK(status.message().find("the API token secret is required") != std::string::npos);
  CHECK(status.path() == "services.web.environment.TOKEN");
  CHECK(status.line() == 5);
  CHECK(status.column() == 14);
}

TEST_CASE("errors carry the path, line and column of the offending node") {
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(R"(services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "99999:80"
)",
                                                                    {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().path() == "services.web.ports[1]");
  CHECK(parsed.status().message().rfind("services.web.ports[1]: ", 0) == 0);
  CHECK(parsed.status().line() == 6);
  CHECK(parsed.status().column() == 9);

  pharos::Result<pharos::ComposeFile> unknown = pharos::parseCompose(R"(services:
  web:
    image: nginx
    restrat: always
)",
                                                                     {});
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.status().message() == "services.web.restrat: unknown key");
  CHECK(unknown.status().line() == 4);
  CHECK(unknown.status().column() == 5);
}

TEST_CASE("build is refused with the reason") {
  pharos::Result<pharos::ComposeFile> parsed =
      pharos::parseCompose("services:\n  web:\n    build: .\n", {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().message() ==
        "services.web.build: building images is not supported on devices; push the image to a "
        "registry and use image:");
}

TEST_CASE("commands given as a string are shell-split and lists are kept") {
  const pharos::ComposeFile file = parse(R"(
services:
  a:
    image: busybox
    command: sh -c 'echo "hi there"'
  b:
    image: busybox
    command: [sh, -c, echo "hi there"]
    entrypoint: []
  c:
    image: busybox
)");
  CHECK(file.findService("a")->command == file.findService("b")->command);
  CHECK(file.findService("b")->entrypoint == std::vector<std::string>{});
  CHECK_FALSE(file.findService("c")->command.has_value());
  CHECK_FALSE(file.findService("c")->entrypoint.has_value());
}

TEST_CASE("restart is absent unless given and deploy.restart_policy replaces it") {
  const pharos::ComposeFile file = parse(R"(
services:
  none:
    image: alpine
  limited:
    image: alpine
    restart: on-failure:5
  never:
    image: alpine
    restart: "no"
  deployed:
    image: alpine
    restart: always
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2, delay: 5s}
  deployed_none:
    image: alpine
    deploy:
      restart_policy: {condition: none}
)");
  CHECK_FALSE(file.findService("none")->restart.has_value());
  CHECK(file.findService("limited")->restart == pharos::RestartPolicy{"on-failure", 5});
  CHECK(file.findService("never")->restart == pharos::RestartPolicy{"no", 0});
  CHECK(file.findService("deployed")->restart == pharos::RestartPolicy{"on-failure", 2});
  CHECK(file.findService("deployed_none")->restart == pharos::RestartPolicy{"no", 0});
  CHECK(file.warnings.size() == 1);  // restart_policy.delay is ignored
}

TEST_CASE("deploy resources apply to the container like docker-compose 1.29") {
  const pharos::Service service = only(parse(R"(
services:
  web:
    image: nginx
    mem_limit: 1g
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 256M, pids: 64}
        reservations: {memory: 64M}
)"));
  CHECK(service.cpus == doctest::Approx(0.5));
  CHECK(service.mem_limit == (256LL << 20));
  CHECK(service.pids_limit == 64);
  CHECK(service.mem_reservation == (64LL << 20));
}

TEST_CASE("healthcheck durations, string tests and disable normalise") {
  const pharos::ComposeFile file = parse(R"(
services:
  a:
    image: nginx
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      timeout: 500ms
      start_period: 1h
      retries: 4
  b:
    image: nginx
    healthcheck: {disable: true}
  c:
    image: nginx
    healthcheck: {test: [NONE]}
)");
  const pharos::Healthcheck& a = *file.findService("a")->healthcheck;
  CHECK(a.test == std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"});
  CHECK(a.interval == pharos::Duration(90s));
  CHECK(a.timeout == pharos::Duration(500ms));
  CHECK(a.start_period == pharos::Duration(1h));
  CHECK(a.retries == 4);
  CHECK(file.findService("b")->healthcheck->disable);
  CHECK(file.findService("c")->healthcheck->disable);
}

TEST_CASE("networks default to the project network and network_mode replaces them") {
  const pharos::ComposeFile file = parse(R"(
services:
  plain:
    image: alpine
  host:
    image: alpine
    network_mode: host
  sidecar:
    image: alpine
    network_mode: service:plain
  named:
    image: alpine
    networks:
      back: {aliases: [db], ipv4_address: 10.1.0.5}
networks:
  back:
    ipam: {config: [{subnet: 10.1.0.0/24}]}
)");
  CHECK(file.findService("plain")->networks.count("default") == 1);
  CHECK(file.networks.count("default") == 1);
  CHECK(file.findService("host")->networks.empty());
  CHECK(file.findService("host")->network_mode == "host");
  CHECK(file.findService("sidecar")->depends_on.count("plain") == 1);
  const pharos::ServiceNetwork& back = file.findService("named")->networks.at("back");
  CHECK(back.aliases == std::vector<std::string>{"db"});
  CHECK(back.ipv4_address == "10.1.0.5");
  CHECK(file.networks.at("back").ipam_config.at(0).subnet == "10.1.0.0/24");
}

TEST_CASE("the start order puts dependencies first and keeps file order otherwise") {
  const pharos::ComposeFile file = parse(R"(
services:
  web:
    image: nginx
    depends_on: {api: {condition: service_healthy}}
  api:
    image: alpine
    depends_on: [db, cache]
  tools:
    image: alpine
  db:
    image: postgres
  cache:
    image: redis
)");
  std::vector<std::string> order;
  for (const pharos::Service* service : file.startOrder()) order.push_back(service->name);
  CHECK(order == std::vector<std::string>{"tools", "db", "cache", "api", "web"});
  CHECK(file.findService("web")->depends_on.at("api").condition ==
        pharos::DependencyCondition::kServiceHealthy);
}

TEST_CASE("merge keys take the explicit keys first and x- fields are ignored") {
  const pharos::ComposeFile file = parse(R"(
x-base: &base
  image: alpine
  restart: always
  x-check: ${NOT_SET:?never evaluated inside extension fields}
services:
  web:
    <<: *base
    restart: unless-stopped
    x-note: anything
)");
  CHECK(only(file).image == "alpine");
  CHECK(only(file).restart->name == "unless-stopped");
}

TEST_CASE("extends starts from the base service and merges maps and lists") {
  const pharos::ComposeFile file = parse(R"(
services:
  base:
    image: alpine
    environment: {A: "1", B: "2"}
    expose: ["80"]
    volumes: ["/a:/data"]
  child:
    extends: {service: base}
    environment: {B: "3"}
    expose: ["90"]
    volumes: ["/b:/data:ro"]
)");
  const pharos::Service& child = *file.findService("child");
  CHECK(child.image == "alpine");
  CHECK(child.environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}});
  CHECK(child.expose == std::vector<std::string>{"80/tcp", "90/tcp"});
  REQUIRE(child.volumes.size() == 1);
  CHECK(child.volumes[0].source == "/b");
  CHECK(child.volumes[0].read_only);
}

TEST_CASE("every documented service key is read into the model") {
  const pharos::Service s = only(parse(R"(
services:
  app:
    image: registry.local/app:1
    container_name: app-1
    hostname: app
    domainname: example.local
    user: "1000"
    working_dir: /srv
    privileged: true
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    devices: ["/dev/ttyUSB0"]
    logging: {driver: local, options: {max-size: 5m}}
    mem_limit: 128m
    memswap_limit: -1
    mem_reservation: 64m
    cpus: 2
    cpu_shares: 256
    pids_limit: 50
    stop_grace_period: 45s
    stop_signal: SIGUSR1
    extra_hosts: ["plc:10.0.0.5"]
    dns: 10.0.0.53
    dns_search: local
    ulimits: {nofile: {soft: 1024, hard: 2048}, core: 0}
    read_only: true
    tty: true
    stdin_open: true
    init: true
    shm_size: 256m
    security_opt: [no-new-privileges:true]
    ipc: shareable
    pid: host
    group_add: [dialout]
    platform: linux/arm/v7
    profiles: [edge]
    expose: [9000]
)",
                                       {{"COMPOSE_PROFILES", "edge"}}));
  CHECK(s.container_name == "app-1");
  CHECK(s.hostname == "app");
  CHECK(s.domainname == "example.local");
  CHECK(s.user == "1000");
  CHECK(s.working_dir == "/srv");
  CHECK(s.privileged);
  CHECK(s.cap_add == std::vector<std::string>{"NET_ADMIN"});
  CHECK(s.cap_drop == std::vector<std::string>{"MKNOD"});
  REQUIRE(s.devices.size() == 1);
  CHECK(s.devices[0].container_path == "/dev/ttyUSB0");
  CHECK(s.devices[0].permissions == "rwm");
  CHECK(s.logging->driver == "local");
  CHECK(s.logging->options.at("max-size") == "5m");
  CHECK(s.mem_limit == (128LL << 20));
  CHECK(s.memswap_limit == -1);
  CHECK(s.mem_reservation == (64LL << 20));
  CHECK(s.cpus == doctest::Approx(2.0));
  CHECK(s.cpu_shares == 256);
  CHECK(s.pids_limit == 50);
  CHECK(s.stop_grace_period == pharos::Duration(45s));
  CHECK(s.stop_signal == "SIGUSR1");
  CHECK(s.extra_hosts == std::vector<pharos::ExtraHost>{{"plc", "10.0.0.5"}});
  CHECK(s.dns == std::vector<std::string>{"10.0.0.53"});
  CHECK(s.dns_search == std::vector<std::string>{"local"});
  CHECK(s.ulimits.at("nofile") == pharos::Ulimit{1024, 2048});
  CHECK(s.ulimits.at("core") == pharos::Ulimit{0, 0});
  CHECK(s.read_only);
  CHECK(s.tty);
  CHECK(s.stdin_open);
  CHECK(s.init == true);
  CHECK(s.shm_size == (256LL << 20));
  CHECK(s.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(s.ipc == "shareable");
  CHECK(s.pid == "host");
  CHECK(s.group_add == std::vector<std::string>{"dialout"});
  CHECK(s.platform == "linux/arm/v7");
  CHECK(s.profiles == std::vector<std::string>{"edge"});
  CHECK(s.expose == std::vector<std::string>{"9000/tcp"});
}

TEST_CASE("keys starting with x- below a service's own keys are ordinary data") {
  const pharos::Service service = only(parse(R"(
services:
  web:
    image: nginx
    labels: {x-owner: "${OWNER}"}
    environment: {x-flag: "$OWNER"}
)",
                                             {{"OWNER", "ops"}}));
  CHECK(service.labels.at("x-owner") == "ops");
  CHECK(service.environment.at("x-flag") == "ops");
}

TEST_CASE("invalid UTF-8 is refused with its position") {
  pharos::Result<pharos::ComposeFile> parsed =
      pharos::parseCompose("services:\n  web:\n    image: ngi\xc0nx\n", {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().line() == 3);
  CHECK(parsed.status().column() == 15);
  CHECK(pharos::parseCompose("services:\n  web:\n    image: nginx # caf\xc3\xa9\n", {}).isOk());
}

TEST_CASE("host ports clash only on the same address or a wildcard") {
  CHECK(pharos::parseCompose(R"(
services:
  a: {image: nginx, ports: ["127.0.0.1:8080:80"]}
  b: {image: nginx, ports: ["10.0.0.1:8080:80", "8080:80/udp"]}
)",
                             {})
            .isOk());
  for (const char* second : {"8080:80", "0.0.0.0:8080:80", "127.0.0.1:8080:81"}) {
    CAPTURE(second);
    const std::string text = std::string(
                                 "services:\n  a: {image: nginx, ports: [\"127.0.0.1:8080:80\"]}\n"
                                 "  b: {image: nginx, ports: [\"") +
                             second + "\"]}\n";
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, {});
    REQUIRE_FALSE(parsed.isOk());
    CHECK(parsed.status().message().rfind("services.b.ports: host port 8080/tcp", 0) == 0);
  }
}
