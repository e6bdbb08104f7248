// Stability of the service config hash (io.pharos.config-hash) and of the canonical JSON it
// is computed from: equivalent files hash alike, every effective change shows.
#include <doctest/doctest.h>

#include <string>

#include "pharos/compose.h"

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

std::string hashOf(const std::string& text, const std::string& service = "web",
                   const pharos::Variables& vars = {}) {
  pharos::ComposeFile file = parse(text, vars);
  const pharos::Service* found = file.findService(service);
  REQUIRE(found != nullptr);
  return pharos::serviceConfigHash(file, *found);
}

}  // namespace

TEST_CASE("the config hash ignores key order and syntax but follows every effective change") {
  const std::string base = R"(
services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    environment: {A: "1", B: "2"}
    volumes: ["data:/data"]
    depends_on: [db]
  db:
    image: postgres
volumes:
  data:
)";
  const std::string reordered = R"(
volumes:
  data:
services:
  db:
    image: postgres
  web:
    depends_on: [db]
    volumes: [{type: volume, source: data, target: /data}]
    environment: ["B=2", "A=1"]
    ports: [{target: 80, published: 8080}]
    image: nginx:1.25
)";
  const std::string reference = hashOf(base);
  CHECK(reference.size() == 64);
  CHECK(hashOf(reordered) == reference);
  CHECK(hashOf(base) == reference);  // deterministic

  auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return hashOf(text);
  };
  CHECK(changed("nginx:1.25", "nginx:1.26") != reference);
  CHECK(changed("A: \"1\"", "A: \"9\"") != reference);
  CHECK(changed("8080:80", "8081:80") != reference);
  CHECK(changed("data:/data", "data:/data:ro") != reference);
  CHECK(changed("  data:\n", "  data:\n    driver: other\n") != reference);
  // A new dependency does not recreate the container.
  CHECK(changed("depends_on: [db]", "depends_on: {db: {condition: service_healthy}}") == reference);
  // A change of another service does not change this one.
  CHECK(changed("image: postgres", "image: postgres:16") == reference);
  // Interpolated values count.
  const std::string templated = "services:\n  web:\n    image: nginx:${TAG}\n";
  CHECK(hashOf(templated, "web", {{"TAG", "1"}}) != hashOf(templated, "web", {{"TAG", "2"}}));
}

TEST_CASE("the config hash follows the definition of the networks a service uses") {
  const std::string text = R"(
services:
  web:
    image: nginx
    networks: [back]
  other:
    image: nginx
networks:
  back:
    internal: %s
)";
  auto with = [&](const char* value) {
    std::string out = text;
    out.replace(out.find("%s"), 2, value);
    return out;
  };
  CHECK(hashOf(with("true")) != hashOf(with("false")));
  CHECK(hashOf(with("true"), "other") == hashOf(with("false"), "other"));
}

TEST_CASE("the canonical JSON sorts order-insensitive lists") {
  const pharos::ComposeFile a = parse(R"(
services:
  web:
    image: nginx
    cap_add: [NET_ADMIN, SYS_TIME]
    ports: ["9090:90", "8080:80"]
)");
  const pharos::ComposeFile b = parse(R"(
services:
  web:
    image: nginx
    cap_add: [cap_sys_time, NET_ADMIN]
    ports: ["8080:80", "9090:90"]
)");
  CHECK(pharos::toJson(only(a)) == pharos::toJson(only(b)));
  CHECK(pharos::toJson(only(a))["ports"][0]["target"] == 80);
}
