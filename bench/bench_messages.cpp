// Message codec benchmarks: decoding (parse + typed decode) and encoding of the two biggest
// documents on the hot paths: a node state report with 5 apps x 5 services (what the anchor
// decodes for every report of every node) and a desired document with 5 apps (what every
// agent decodes on each change). Results: bench/RESULTS.md, "## Message decode".
#include <benchmark/benchmark.h>

#include <string>

#include "pharos/messages.h"

namespace {

using namespace pharos;  // NOLINT(google-build-using-namespace)

NodeState stateDoc() {
  NodeState s;
  s.applied = {
      {"node", "7f3c2a9e", 120}, {"group:line-3", "7f3c2a9e", 44}, {"secrets", "7f3c2a9e", 9}};
  for (int a = 0; a < 5; ++a) {
    AppState app{"app-" + std::to_string(a), 12, AppPhase::kRunning, "", {}};
    for (int s = 0; s < 5; ++s) {
      app.services.push_back(
          {"svc-" + std::to_string(s),
           "4f2a9c0d1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",
           ContainerState::kRunning, "healthy", 1, 0,
           "registry.local:5000/factory/svc-" + std::to_string(s) + ":1.4.2",
           "sha256:9b2c4e7f0a1d3c5e7f9b2c4e7f0a1d3c5e7f9b2c4e7f0a1d3c5e7f9b2c4e7f0a"});
    }
    s.apps.push_back(std::move(app));
  }
  s.ts = 1700000000000;
  return s;
}

DesiredDoc desiredDoc() {
  DesiredDoc d;
  d.epoch = "7f3c2a9e";
  d.generation = 120;
  d.labels = {{"site", "lyon"}, {"line", "3"}, {"cell", "7"}};
  d.groups = {"lyon", "line-3", "presses"};
  for (int a = 0; a < 5; ++a) {
    std::string compose = "services:\n";
    for (int s = 0; s < 5; ++s) {
      compose += "  svc-" + std::to_string(s) +
                 ":\n    image: registry.local:5000/factory/svc:${TAG:-1.4.2}\n"
                 "    restart: unless-stopped\n    environment:\n      LEVEL: info\n"
                 "      PEER: svc-0:8080\n    ports:\n      - \"80" +
                 std::to_string(s) + ":8080\"\n";
    }
    d.apps.push_back({"app-" + std::to_string(a),
                      12,
                      compose,
                      DesiredState::kRunning,
                      {{"TAG", "1.4.2"}, {"SITE", "lyon"}},
                      0,
                      VolumePolicy::kKeep});
  }
  return d;
}

void BM_DecodeNodeState(benchmark::State& state) {
  std::string text = dumpJson(encode(stateDoc()));
  for (auto _ : state) {
    auto r = decodeNodeState(text);
    if (!r) state.SkipWithError(r.status().toString().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["payload_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_DecodeNodeState);

// parseJson alone on the same text: how much of BM_DecodeNodeState is building the DOM.
void BM_ParseNodeStateJsonOnly(benchmark::State& state) {
  std::string text = dumpJson(encode(stateDoc()));
  for (auto _ : state) {
    auto r = parseJson(text, kMaxDocumentBytes);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseNodeStateJsonOnly);

void BM_EncodeNodeState(benchmark::State& state) {
  NodeState doc = stateDoc();
  for (auto _ : state) {
    std::string text = dumpJson(encode(doc));
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_EncodeNodeState);

void BM_DecodeDesired(benchmark::State& state) {
  std::string text = dumpJson(encode(desiredDoc()));
  for (auto _ : state) {
    auto r = decodeDesired(text);
    if (!r) state.SkipWithError(r.status().toString().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["payload_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_DecodeDesired);

void BM_DecodeStatus(benchmark::State& state) {
  std::string text =
      dumpJson(encode(NodeStatus{Readiness::kReady, 1700000000123, "", 1700000000130}));
  for (auto _ : state) {
    auto r = decodeNodeStatus(text);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeStatus);

}  // namespace

BENCHMARK_MAIN();
