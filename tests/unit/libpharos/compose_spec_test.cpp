// Compose Specification behaviour that docker-compose 1.29 shares: profiles (inactive
// services, COMPOSE_PROFILES, dependencies on inactive services), compose 1.29's value types
// in environment/labels/extra_hosts/sysctls maps and lists, and the long-syntax bind mount,
// which creates no missing host path.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pharos/compose.h"

namespace {

pharos::Result<pharos::ComposeFile> parse(const std::string& text,
                                          const pharos::Variables& vars = {}) {
  return pharos::parseCompose(text, vars);
}

std::vector<std::string> names(const pharos::ComposeFile& file) {
  std::vector<std::string> out;
  for (const pharos::Service& service : file.services) out.push_back(service.name);
  return out;
}

const char* kProfiles = R"(
services:
  web:
    image: nginx
  admin:
    image: adminer
    ports: ["0.0.0.0:8081:8080"]
    profiles: [debug, tools]
  probe:
    image: busybox
    profiles: [tools]
)";

}  // namespace

TEST_CASE("a service with profiles is inactive unless COMPOSE_PROFILES enables one of them") {
  auto none = parse(kProfiles);
  REQUIRE(none.isOk());
  CHECK(names(*none) == std::vector<std::string>{"web"});
  CHECK(none->inactive_services == std::vector<std::string>{"admin", "probe"});
  CHECK(pharos::toJson(*none)["inactive_services"] == pharos::Json({"admin", "probe"}));

  auto debug = parse(kProfiles, {{"COMPOSE_PROFILES", "debug"}});
  REQUIRE(debug.isOk());
  CHECK(names(*debug) == std::vector<std::string>{"web", "admin"});

  auto both = parse(kProfiles, {{"COMPOSE_PROFILES", " tools , other,"}});
  REQUIRE(both.isOk());
  CHECK(names(*both) == std::vector<std::string>{"web", "admin", "probe"});
  CHECK(both->inactive_services.empty());
}

TEST_CASE("enabling a profile does not change the other services' config hash") {
  auto none = parse(kProfiles);
  auto tools = parse(kProfiles, {{"COMPOSE_PROFILES", "tools"}});
  REQUIRE(none.isOk());
  REQUIRE(tools.isOk());
  CHECK(pharos::serviceConfigHash(*none, *none->findService("web")) ==
        pharos::serviceConfigHash(*tools, *tools->findService("web")));
}

TEST_CASE("depending on an inactive service is an error naming it") {
  const std::string text = R"(
services:
  web:
    image: nginx
    depends_on: [admin]
  admin:
    image: adminer
    profiles: [debug]
)";
  auto refused = parse(text);
  REQUIRE_FALSE(refused.isOk());
  CHECK(refused.status().path() == "services.web.depends_on");
  CHECK(refused.status().message().find("'admin' is not enabled by the active profiles") !=
        std::string::npos);
  CHECK(refused.status().line() == 5);
  // Enabled, or a dependency that is not required: fine.
  CHECK(parse(text, {{"COMPOSE_PROFILES", "debug"}}).isOk());
  auto optional = parse(R"(
services:
  web:
    image: nginx
    depends_on: {admin: {condition: service_started, required: false}}
  admin:
    image: adminer
    profiles: [debug]
)");
  REQUIRE(optional.isOk());
  CHECK(names(*optional) == std::vector<std::string>{"web"});
  CHECK(optional->startOrder().size() == 1);
  // An inactive service may depend on anything.
  CHECK(parse("services:\n  web: {image: nginx}\n  admin: {image: a, profiles: [x], depends_on: "
              "[web]}\n")
            .isOk());
}

TEST_CASE("a boolean in an environment, extra_hosts or sysctls map is refused, naming the key") {
  struct Case {
    const char* body;
    const char* path;
  };
  const Case cases[] = {
      {"environment: {DEBUG: true}", "services.app.environment.DEBUG"},
      {"environment: {DEBUG: yes}", "services.app.environment.DEBUG"},
      {"environment: {DEBUG: off}", "services.app.environment.DEBUG"},
      {"environment: [\"A=1\", true]", "services.app.environment[1]"},
      {"environment: [42]", "services.app.environment[0]"},
      {"sysctls: {net.ipv4.ip_forward: on}", "services.app.sysctls.net.ipv4.ip_forward"},
      {"sysctls: [true]", "services.app.sysctls[0]"},
      {"extra_hosts: {plc: true}", "services.app.extra_hosts.plc"},
      {"labels: [false]", "services.app.labels[0]"},
      {"logging: {options: {compress: true}}", "services.app.logging.options.compress"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    auto parsed = parse(std::string("services:\n  app:\n    image: alpine\n    ") + c.body + "\n");
    REQUIRE_FALSE(parsed.isOk());
    CHECK(parsed.status().path() == c.path);
    CHECK(parsed.status().message().find("which is an invalid type") != std::string::npos);
  }
}

TEST_CASE("strings, numbers, nulls and interpolated values are accepted where compose 1.29 does") {
  auto parsed = parse(R"(
services:
  app:
    image: alpine
    environment:
      QUOTED: "true"
      TAGGED: !!str yes
      NUMBER: 3
      FLOAT: 1.5
      EMPTY:
      FROM_VAR: ${FLAG}
      TEXT: yesterday
    sysctls: {net.core.somaxconn: 1024}
    extra_hosts: {plc: 10.0.0.5}
)",
                      {{"FLAG", "true"}});
  REQUIRE(parsed.isOk());
  const pharos::Service& app = parsed->services.front();
  CHECK(app.environment.at("QUOTED") == "true");
  CHECK(app.environment.at("TAGGED") == "yes");
  CHECK(app.environment.at("NUMBER") == "3");
  CHECK(app.environment.at("FLOAT") == "1.5");
  CHECK(app.environment.count("EMPTY") == 0);  // no such variable: left unset
  CHECK(app.environment.at("FROM_VAR") == "true");
  CHECK(app.environment.at("TEXT") == "yesterday");
  CHECK(app.sysctls.at("net.core.somaxconn") == "1024");
}

TEST_CASE("a boolean label value becomes True or False, as compose 1.29 writes it") {
  auto parsed = parse(R"(
services:
  app:
    image: alpine
    labels: {a: true, b: no, c: "yes"}
networks:
  back: {labels: {a: on}}
volumes:
  data: {labels: {a: FALSE}}
)");
  REQUIRE(parsed.isOk());
  const pharos::Service& app = parsed->services.front();
  CHECK(app.labels.at("a") == "True");
  CHECK(app.labels.at("b") == "False");
  CHECK(app.labels.at("c") == "yes");
  CHECK(parsed->networks.at("back").labels.at("a") == "True");
  CHECK(parsed->volumes.at("data").labels.at("a") == "False");
}

TEST_CASE("a long-syntax bind creates no missing host path unless create_host_path says so") {
  auto parsed = parse(R"(
services:
  app:
    image: alpine
    volumes:
      - /srv/short:/short
      - {type: bind, source: /srv/long, target: /long}
      - {type: bind, source: /srv/made, target: /made, bind: {create_host_path: true}}
)");
  REQUIRE(parsed.isOk());
  const auto& volumes = parsed->services.front().volumes;
  REQUIRE(volumes.size() == 3);
  CHECK(volumes[0].create_host_path);
  CHECK_FALSE(volumes[1].create_host_path);
  CHECK(volumes[2].create_host_path);
}
