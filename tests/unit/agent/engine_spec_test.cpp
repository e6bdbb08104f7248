// engine_spec: compose service -> Engine API bodies, compared key by key with what Debian's
// docker-compose 1.29 sends for the same file and project name.
#include "agent/engine_spec.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/volume_carry.h"

namespace pharos::agent {
namespace {

ComposeFile parse(const std::string& yaml, const Variables& vars = {}) {
  auto file = parseCompose(yaml, vars);
  REQUIRE_MESSAGE(file.isOk(), file.status().toString());
  return std::move(file).value();
}

EngineContext ctx() {
  return EngineContext{"shop", "edge-1", 7, "abc123", 0, "/var/lib/pharos-agent/apps/shop", {}};
}

ContainerSpec specOf(const std::string& yaml, const std::string& service = "web") {
  ComposeFile file = parse(yaml);
  const Service* s = file.findService(service);
  REQUIRE(s != nullptr);
  return containerSpec(file, *s, ctx());
}

struct Case {
  const char* name;
  const char* yaml;
  const char* pointer;   // JSON pointer into the create body
  const char* expected;  // JSON text
};

// One line per compose key: the value docker-compose 1.29 puts in the create body.
const Case kCases[] = {
    {"image", "services: {web: {image: nginx:1.25}}", "/Image", R"("nginx:1.25")"},
    {"command string is shell-split", "services: {web: {image: a, command: sh -c 'echo hi'}}",
     "/Cmd", R"(["sh","-c","echo hi"])"},
    {"entrypoint list", "services: {web: {image: a, entrypoint: [/bin/x, -v]}}", "/Entrypoint",
     R"(["/bin/x","-v"])"},
    {"environment map", "services: {web: {image: a, environment: {B: '2', A: x}}}", "/Env",
     R"(["A=x","B=2"])"},
    {"environment list", "services: {web: {image: a, environment: [A=1]}}", "/Env", R"(["A=1"])"},
    {"published port", "services: {web: {image: a, ports: ['8080:80']}}",
     "/HostConfig/PortBindings", R"({"80/tcp":[{"HostIp":"","HostPort":"8080"}]})"},
    {"port with host ip and udp", "services: {web: {image: a, ports: ['127.0.0.1:53:53/udp']}}",
     "/HostConfig/PortBindings", R"({"53/udp":[{"HostIp":"127.0.0.1","HostPort":"53"}]})"},
    {"exposed ports include published and expose",
     "services: {web: {image: a, ports: ['80'], expose: ['9000-9001']}}", "/ExposedPorts",
     R"({"80/tcp":{},"9000/tcp":{},"9001/tcp":{}})"},
    {"no ports: empty bindings", "services: {web: {image: a}}", "/HostConfig/PortBindings",
     R"({})"},
    {"named volume is project-prefixed",
     "services: {web: {image: a, volumes: ['data:/data']}}\nvolumes: {data: {}}",
     "/HostConfig/Binds", R"(["shop_data:/data:rw"])"},
    {"named volume target in Volumes",
     "services: {web: {image: a, volumes: ['data:/data:ro']}}\nvolumes: {data: {}}", "/Volumes",
     R"({"/data":{}})"},
    {"relative bind resolves in the app folder",
     "services: {web: {image: a, volumes: ['./conf:/etc/x:ro']}}", "/HostConfig/Binds",
     R"(["/var/lib/pharos-agent/apps/shop/conf:/etc/x:ro"])"},
    {"absolute bind", "services: {web: {image: a, volumes: ['/srv:/srv']}}", "/HostConfig/Binds",
     R"(["/srv:/srv:rw"])"},
    {"anonymous volume: Volumes only", "services: {web: {image: a, volumes: [/data]}}", "/Volumes",
     R"({"/data":{}})"},
    {"long-syntax bind: a Mount, which the engine refuses without its source",
     "services: {web: {image: a, volumes: [{type: bind, source: /srv, target: /s}]}}",
     "/HostConfig/Mounts", R"([{"Type":"bind","Source":"/srv","Target":"/s","ReadOnly":false}])"},
    {"read-only anonymous volume: a Mount",
     "services: {web: {image: a, volumes: [{type: volume, target: /d, read_only: true}]}}",
     "/HostConfig/Mounts", R"([{"Type":"volume","Target":"/d","ReadOnly":true}])"},
    {"tmpfs key", "services: {web: {image: a, tmpfs: [/run]}}", "/HostConfig/Tmpfs",
     R"({"/run":""})"},
    {"default network with service alias", "services: {web: {image: a}}",
     "/NetworkingConfig/EndpointsConfig/shop_default/Aliases", R"(["web"])"},
    {"default network mode", "services: {web: {image: a}}", "/HostConfig/NetworkMode",
     R"("shop_default")"},
    {"named network with aliases",
     "services: {web: {image: a, networks: {front: {aliases: [www]}}}}\nnetworks: {front: {}}",
     "/NetworkingConfig/EndpointsConfig/shop_front/Aliases", R"(["web","www"])"},
    {"network_mode host", "services: {web: {image: a, network_mode: host}}",
     "/HostConfig/NetworkMode", R"("host")"},
    {"restart always", "services: {web: {image: a, restart: always}}", "/HostConfig/RestartPolicy",
     R"({"Name":"always","MaximumRetryCount":0})"},
    {"restart on-failure with count", "services: {web: {image: a, restart: 'on-failure:3'}}",
     "/HostConfig/RestartPolicy", R"({"Name":"on-failure","MaximumRetryCount":3})"},
    {"restart no", "services: {web: {image: a, restart: 'no'}}", "/HostConfig/RestartPolicy",
     R"({"Name":"no","MaximumRetryCount":0})"},
    {"no restart: Pharos default unless-stopped", "services: {web: {image: a}}",
     "/HostConfig/RestartPolicy", R"({"Name":"unless-stopped","MaximumRetryCount":0})"},
    {"deploy restart policy",
     "services: {web: {image: a, deploy: {restart_policy: {condition: on-failure, max_attempts: "
     "2}}}}",
     "/HostConfig/RestartPolicy", R"({"Name":"on-failure","MaximumRetryCount":2})"},
    {"healthcheck in nanoseconds",
     "services: {web: {image: a, healthcheck: {test: [CMD, true], interval: 2s, timeout: 1s, "
     "retries: 3, start_period: 500ms}}}",
     "/Healthcheck",
     R"({"Test":["CMD","true"],"Interval":2000000000,"Timeout":1000000000,"Retries":3,"StartPeriod":500000000})"},
    {"healthcheck disabled", "services: {web: {image: a, healthcheck: {disable: true}}}",
     "/Healthcheck", R"({"Test":["NONE"]})"},
    {"mem_limit", "services: {web: {image: a, mem_limit: 64m}}", "/HostConfig/Memory", "67108864"},
    {"cpus", "services: {web: {image: a, cpus: 0.5}}", "/HostConfig/NanoCpus", "500000000"},
    {"deploy limits",
     "services: {web: {image: a, deploy: {resources: {limits: {cpus: '1.5', memory: 1g}}}}}",
     "/HostConfig/NanoCpus", "1500000000"},
    {"deploy memory limit",
     "services: {web: {image: a, deploy: {resources: {limits: {memory: 1g}}}}}",
     "/HostConfig/Memory", "1073741824"},
    {"pids_limit", "services: {web: {image: a, pids_limit: 100}}", "/HostConfig/PidsLimit", "100"},
    {"cpu_shares", "services: {web: {image: a, cpu_shares: 512}}", "/HostConfig/CpuShares", "512"},
    {"stop_grace_period", "services: {web: {image: a, stop_grace_period: 1m30s}}", "/StopTimeout",
     "90"},
    {"stop_signal", "services: {web: {image: a, stop_signal: SIGINT}}", "/StopSignal",
     R"("SIGINT")"},
    {"extra_hosts", "services: {web: {image: a, extra_hosts: ['db:10.0.0.2']}}",
     "/HostConfig/ExtraHosts", R"(["db:10.0.0.2"])"},
    {"dns", "services: {web: {image: a, dns: [1.1.1.1]}}", "/HostConfig/Dns", R"(["1.1.1.1"])"},
    {"dns_search", "services: {web: {image: a, dns_search: [corp]}}", "/HostConfig/DnsSearch",
     R"(["corp"])"},
    {"ulimits", "services: {web: {image: a, ulimits: {nofile: {soft: 1024, hard: 2048}}}}",
     "/HostConfig/Ulimits", R"([{"Name":"nofile","Soft":1024,"Hard":2048}])"},
    {"sysctls", "services: {web: {image: a, sysctls: {net.core.somaxconn: 1024}}}",
     "/HostConfig/Sysctls", R"({"net.core.somaxconn":"1024"})"},
    {"read_only", "services: {web: {image: a, read_only: true}}", "/HostConfig/ReadonlyRootfs",
     "true"},
    {"tty", "services: {web: {image: a, tty: true}}", "/Tty", "true"},
    {"stdin_open", "services: {web: {image: a, stdin_open: true}}", "/OpenStdin", "true"},
    {"init", "services: {web: {image: a, init: true}}", "/HostConfig/Init", "true"},
    {"shm_size", "services: {web: {image: a, shm_size: 128m}}", "/HostConfig/ShmSize", "134217728"},
    {"security_opt", "services: {web: {image: a, security_opt: ['no-new-privileges:true']}}",
     "/HostConfig/SecurityOpt", R"(["no-new-privileges:true"])"},
    {"cap_add", "services: {web: {image: a, cap_add: [NET_ADMIN]}}", "/HostConfig/CapAdd",
     R"(["NET_ADMIN"])"},
    {"cap_drop", "services: {web: {image: a, cap_drop: [ALL]}}", "/HostConfig/CapDrop",
     R"(["ALL"])"},
    {"devices", "services: {web: {image: a, devices: ['/dev/ttyUSB0:/dev/ttyS0']}}",
     "/HostConfig/Devices",
     R"([{"PathOnHost":"/dev/ttyUSB0","PathInContainer":"/dev/ttyS0","CgroupPermissions":"rwm"}])"},
    {"privileged", "services: {web: {image: a, privileged: true}}", "/HostConfig/Privileged",
     "true"},
    {"user", "services: {web: {image: a, user: '1000:1000'}}", "/User", R"("1000:1000")"},
    {"working_dir", "services: {web: {image: a, working_dir: /app}}", "/WorkingDir", R"("/app")"},
    {"hostname", "services: {web: {image: a, hostname: box}}", "/Hostname", R"("box")"},
    {"logging",
     "services: {web: {image: a, logging: {driver: json-file, options: {max-size: 10m}}}}",
     "/HostConfig/LogConfig", R"({"Type":"json-file","Config":{"max-size":"10m"}})"},
    {"no logging: daemon default", "services: {web: {image: a}}", "/HostConfig/LogConfig",
     R"({"Type":"","Config":{}})"},
    {"compose project label", "services: {web: {image: a}}", "/Labels/com.docker.compose.project",
     R"("shop")"},
    {"compose service label", "services: {web: {image: a}}", "/Labels/com.docker.compose.service",
     R"("web")"},
    {"compose container number", "services: {web: {image: a}}",
     "/Labels/com.docker.compose.container-number", R"("1")"},
    {"compose oneoff", "services: {web: {image: a}}", "/Labels/com.docker.compose.oneoff",
     R"("False")"},
    {"compose version", "services: {web: {image: a}}", "/Labels/com.docker.compose.version",
     R"("1.29.2")"},
    {"compose working dir", "services: {web: {image: a}}",
     "/Labels/com.docker.compose.project.working_dir", R"("/var/lib/pharos-agent/apps/shop")"},
    {"pharos node", "services: {web: {image: a}}", "/Labels/io.pharos.node", R"("edge-1")"},
    {"pharos app", "services: {web: {image: a}}", "/Labels/io.pharos.app", R"("shop")"},
    {"pharos revision", "services: {web: {image: a}}", "/Labels/io.pharos.revision", R"("7")"},
    {"pharos config hash", "services: {web: {image: a}}", "/Labels/io.pharos.config-hash",
     R"("abc123")"},
    {"user labels kept", "services: {web: {image: a, labels: {team: ops}}}", "/Labels/team",
     R"("ops")"},
    {"volumes_from is always sent, empty", "services: {web: {image: a}}", "/HostConfig/VolumesFrom",
     "[]"},
    {"a fixed address goes to IPAMConfig",
     "services: {web: {image: a, networks: {n: {ipv4_address: 10.5.0.9}}}}\n"
     "networks: {n: {ipam: {config: [{subnet: 10.5.0.0/24}]}}}",
     "/NetworkingConfig/EndpointsConfig/shop_n/IPAMConfig", R"({"IPv4Address":"10.5.0.9"})"},
};

TEST_CASE("maps every compose key like docker-compose 1.29") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    ContainerSpec spec = specOf(c.yaml);
    Json::json_pointer ptr(c.pointer);
    REQUIRE_MESSAGE(spec.body.contains(ptr),
                    c.name << ": missing " << c.pointer << " in " << spec.body.dump());
    CHECK_MESSAGE(spec.body.at(ptr) == Json::parse(c.expected),
                  c.name << ": got " << spec.body.at(ptr).dump());
  }
}

// Keys docker-py leaves out when the file does not set them.
const std::pair<const char*, const char*> kAbsent[] = {
    {"services: {web: {image: a}}", "/Cmd"},
    {"services: {web: {image: a}}", "/Entrypoint"},
    {"services: {web: {image: a}}", "/Healthcheck"},
    {"services: {web: {image: a}}", "/StopTimeout"},
    {"services: {web: {image: a}}", "/HostConfig/Memory"},
    {"services: {web: {image: a}}", "/HostConfig/Privileged"},
    {"services: {web: {image: a}}", "/ExposedPorts"},
    {"services: {web: {image: a, network_mode: host}}", "/NetworkingConfig"},
    {"services: {web: {image: a}}", "/NetworkingConfig/EndpointsConfig/shop_default/IPAMConfig"},
};

TEST_CASE("leaves out keys the file does not set") {
  for (const auto& [yaml, pointer] : kAbsent) {
    CAPTURE(pointer);
    ContainerSpec spec = specOf(yaml);
    CHECK_FALSE(spec.body.contains(Json::json_pointer(pointer)));
  }
}

TEST_CASE("names the container <project>_<service>_1 unless container_name is set") {
  CHECK(specOf("services: {web: {image: a}}").name == "shop_web_1");
  CHECK(specOf("services: {web: {image: a, container_name: front}}").name == "front");
}

TEST_CASE("connects extra networks after create, highest priority first") {
  ContainerSpec spec = specOf(
      "services: {web: {image: a, networks: {a: {priority: 1}, b: {priority: 10}}}}\n"
      "networks: {a: {}, b: {}}");
  CHECK(spec.body["HostConfig"]["NetworkMode"] == "shop_b");
  REQUIRE(spec.extra_networks.size() == 1);
  CHECK(spec.extra_networks[0].first == "shop_a");
  CHECK(spec.extra_networks[0].second["Aliases"] == Json::parse(R"(["web"])"));
}

TEST_CASE("network_mode service: uses the other service's container") {
  ContainerSpec spec =
      specOf("services: {web: {image: a, network_mode: 'service:vpn'}, vpn: {image: b}}");
  CHECK(spec.body["HostConfig"]["NetworkMode"] == "container:shop_vpn_1");
}

TEST_CASE("explicit network and volume names are kept") {
  ComposeFile file = parse(
      "services: {web: {image: a, networks: [n], volumes: ['v:/v']}}\n"
      "networks: {n: {name: plant-net}}\nvolumes: {v: {name: plant-data}}");
  const Service* s = file.findService("web");
  ContainerSpec spec = containerSpec(file, *s, ctx());
  CHECK(spec.body["HostConfig"]["NetworkMode"] == "plant-net");
  CHECK(spec.body["HostConfig"]["Binds"] == Json::parse(R"(["plant-data:/v:rw"])"));
}

TEST_CASE("network and volume create bodies carry compose and pharos labels") {
  Network net;
  net.internal = true;
  Json nb = networkCreateBody(ctx(), "back", net);
  CHECK(nb["Name"] == "shop_back");
  CHECK(nb["Driver"] == "bridge");
  CHECK(nb["Internal"] == true);
  CHECK(nb["Labels"]["com.docker.compose.network"] == "back");
  CHECK(nb["Labels"]["com.docker.compose.project"] == "shop");
  CHECK(nb["Labels"]["io.pharos.node"] == "edge-1");
  CHECK(nb["Labels"]["io.pharos.app"] == "shop");

  Volume vol;
  Json vb = volumeCreateBody(ctx(), "data", vol);
  CHECK(vb["Name"] == "shop_data");
  CHECK(vb["Driver"] == "local");
  CHECK(vb["Labels"]["com.docker.compose.volume"] == "data");
  CHECK(vb["Labels"]["io.pharos.app"] == "shop");
}

TEST_CASE("network and volume bodies carry what compose 1.29 sends: attachable, names") {
  Network plain;
  CHECK(networkCreateBody(ctx(), "default", plain)["Attachable"] == true);
  Network named;
  named.name = "plant-net";
  named.attachable = false;  // compose 1.29 ignores the key
  Json body = networkCreateBody(ctx(), "back", named);
  CHECK(body["Attachable"] == true);
  CHECK(body["Name"] == "plant-net");
  CHECK(body["Labels"]["com.docker.compose.network"] == "plant-net");
  Volume volume;
  volume.name = "plant-data";
  Json volume_body = volumeCreateBody(ctx(), "data", volume);
  CHECK(volume_body["Labels"]["com.docker.compose.volume"] == "plant-data");
  CHECK_FALSE(volume_body.contains("DriverOpts"));  // as compose 1.29: the engine keeps null
  volume.driver_opts["type"] = "tmpfs";
  CHECK(volumeCreateBody(ctx(), "data", volume)["DriverOpts"]["type"] == "tmpfs");
}

TEST_CASE("a recreate binds the old container's volumes by name, as compose 1.29 does") {
  ComposeFile file = parse(R"(
services:
  web:
    image: a
    volumes:
      - /data
      - {type: volume, target: /ro, read_only: true}
      - "/srv:/image"
    tmpfs: [/run]
)");
  EngineContext context = ctx();
  context.carried_volumes = {{"/data", "old1"}, {"/ro", "old2"}, {"/cache", "old3"}};
  ContainerSpec spec = containerSpec(file, *file.findService("web"), context);
  CHECK(spec.body["HostConfig"]["Binds"] ==
        Json::parse(R"(["old1:/data:rw","/srv:/image:rw","old3:/cache:rw"])"));
  CHECK(spec.body["Volumes"] == Json::parse(R"({"/data":{},"/image":{}})"));
  CHECK(spec.body["HostConfig"]["Mounts"] ==
        Json::parse(R"([{"Type":"volume","Source":"old2","Target":"/ro","ReadOnly":true}])"));

  // The probe's body (no carried volumes) given them afterwards is the same body.
  EngineContext probe = ctx();
  ContainerSpec carried = containerSpec(file, *file.findService("web"), probe);
  CHECK(carried.body != spec.body);
  carryVolumes(carried, file, *file.findService("web"), context);
  CHECK(carried.body == spec.body);
  CHECK(carried.name == spec.name);
}

TEST_CASE("which old volumes a recreate carries over") {
  ComposeFile file = parse(R"(
services:
  web:
    image: a
    volumes: [/anon, "named:/named", "/srv:/bind"]
    tmpfs: [/run]
volumes:
  named: {}
)");
  const Service& web = *file.findService("web");
  const std::map<std::string, std::string> old = {{"/anon", "a"}, {"/named", "b"}, {"/bind", "c"},
                                                  {"/run", "d"},  {"/image", "e"}, {"/gone", "f"}};
  // Anonymous in the file, or the image's VOLUME not mounted otherwise; never over a named
  // volume, a bind or a tmpfs; not what neither the file nor the image declares any more.
  CHECK(carriedVolumes(web, old, {"/image", "/bind", "/run"}) ==
        std::map<std::string, std::string>{{"/anon", "a"}, {"/image", "e"}});
  const Json container = Json::parse(R"({"Mounts": [
      {"Type": "volume", "Name": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "Destination": "/anon"},
      {"Type": "volume", "Name": "shop_named", "Destination": "/named"},
      {"Type": "bind", "Source": "/srv", "Destination": "/bind"}]})");
  CHECK(volumeMounts(container).size() == 2);
  CHECK(
      anonymousVolumeNames(container) ==
      std::vector<std::string>{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"});
  CHECK(
      imageVolumePaths(Json::parse(
          R"({"Config": {"Volumes": {"/a": {}}}, "ContainerConfig": {"Volumes": {"/b": {}}}})")) ==
      std::set<std::string>{"/a", "/b"});
}

TEST_CASE("the effective restart policy defaults to unless-stopped") {
  Service s;
  CHECK(effectiveRestartPolicy(s).name == "unless-stopped");
  s.restart = RestartPolicy{"always", 5};
  CHECK(effectiveRestartPolicy(s).name == "always");
  CHECK(effectiveRestartPolicy(s).max_retries == 0);
}

}  // namespace
}  // namespace pharos::agent
