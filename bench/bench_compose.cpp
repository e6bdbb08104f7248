// Google Benchmark of the compose model on a realistic 10-service edge stack (anchors,
// interpolation, ports, volumes, healthchecks, depends_on): parse alone, hash alone, and
// parse + hash of every service (what the agent does for each desired document).
#include <benchmark/benchmark.h>

#include <string>

#include "pharos/compose.h"

namespace {

std::string tenServiceStack() {
  std::string text = R"(version: "3.8"
x-defaults: &defaults
  restart: unless-stopped
  logging:
    driver: json-file
    options: {max-size: 10m, max-file: "3"}
  mem_limit: 256m
  cpus: 0.5
services:
  broker:
    <<: *defaults
    image: eclipse-mosquitto:2.0.18
    ports: ["1883:1883", "127.0.0.1:9001:9001"]
    volumes: [broker-data:/mosquitto/data, "./mosquitto.conf:/mosquitto/config/mosquitto.conf:ro"]
    healthcheck:
      test: ["CMD-SHELL", "mosquitto_sub -t '$$SYS/#' -C 1 -W 3 || exit 1"]
      interval: 30s
      timeout: 5s
      retries: 3
  db:
    <<: *defaults
    image: postgres:16.1
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?the database password secret is required}
      POSTGRES_DB: plant
    volumes: [db-data:/var/lib/postgresql/data]
    healthcheck: {test: [CMD, pg_isready, -U, postgres], interval: 10s, start_period: 30s}
    shm_size: 128m
)";
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    text += "  collector-" + n + R"(:
    <<: *defaults
    image: registry.local:5000/factory/collector:${COLLECTOR_TAG:-1.4.2}
    command: ["--broker", "tcp://broker:1883", "--line", "${PHAROS_LABEL_LINE}", "--id", ")" +
            n +
            R"("]
    environment:
      - NODE=${PHAROS_NODE_ID}
      - LOG_LEVEL=info
      - DB_URL=postgres://postgres:${DB_PASSWORD}@db/plant
    devices: ["/dev/ttyUSB)" +
            n + R"(:/dev/ttyUSB0:rw"]
    depends_on:
      broker: {condition: service_healthy}
      db: {condition: service_healthy}
    ulimits: {nofile: {soft: 4096, hard: 8192}}
    extra_hosts: ["plc-)" +
            n + R"(:10.10.0.)" + std::to_string(10 + i) + R"("]
    networks:
      default:
      fieldbus: {aliases: [collector)" +
            n + R"(]}
)";
  }
  text += R"(  dashboard:
    <<: *defaults
    image: grafana/grafana:10.2.3
    ports: ["3000:3000"]
    volumes: [grafana:/var/lib/grafana]
    depends_on: [db]
    deploy:
      resources:
        limits: {cpus: "1.0", memory: 512M}
  gateway:
    image: registry.local:5000/factory/modbus-gateway:2.1
    network_mode: host
    privileged: false
    cap_add: [NET_ADMIN]
    stop_grace_period: 30s
    restart: on-failure:5
networks:
  fieldbus:
    driver: bridge
    ipam: {config: [{subnet: 172.30.0.0/24}]}
volumes:
  broker-data:
  db-data:
  grafana:
)";
  return text;
}

pharos::Variables benchVariables() {
  return {{"PHAROS_NODE_ID", "edge-017"},
          {"PHAROS_LABEL_LINE", "line-3"},
          {"DB_PASSWORD", "s3cr3t"},
          {"COLLECTOR_TAG", "1.5.0"}};
}

void BM_ComposeParse(benchmark::State& state) {
  const std::string text = tenServiceStack();
  const pharos::Variables vars = benchVariables();
  for (auto _ : state) {
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, vars);
    if (!parsed) state.SkipWithError(parsed.status().toString().c_str());
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ComposeParse);

void BM_ComposeHashAllServices(benchmark::State& state) {
  const pharos::ComposeFile file = *pharos::parseCompose(tenServiceStack(), benchVariables());
  for (auto _ : state) {
    for (const pharos::Service& service : file.services) {
      benchmark::DoNotOptimize(pharos::serviceConfigHash(file, service));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * file.services.size()));
}
BENCHMARK(BM_ComposeHashAllServices);

void BM_ComposeParseAndHash(benchmark::State& state) {
  const std::string text = tenServiceStack();
  const pharos::Variables vars = benchVariables();
  for (auto _ : state) {
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, vars);
    if (!parsed) {
      state.SkipWithError(parsed.status().toString().c_str());
      break;
    }
    for (const pharos::Service& service : parsed->services) {
      benchmark::DoNotOptimize(pharos::serviceConfigHash(*parsed, service));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ComposeParseAndHash);

}  // namespace

BENCHMARK_MAIN();
