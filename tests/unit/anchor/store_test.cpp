// Store implementations: the same contract for RocksDB (in a temp dir) and the memory
// store: get/put/del, atomic batches, prefix scans both ways, checkpoint + restore, and the
// memory store's injected write failure.
#include "anchor/store.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "anchor/memory_store.h"
#include "temp_dir.h"

using namespace pharos;
using namespace pharos::anchor;
using pharos::anchor::testing::TempDir;

namespace {

std::vector<std::string> scanKeys(Store& store, const std::string& prefix, bool reverse = false,
                                  const std::string& start = "") {
  std::vector<std::string> out;
  auto visit = [&](std::string_view k, std::string_view) {
    out.emplace_back(k);
    return true;
  };
  Status s = reverse ? store.scanReverse(prefix, start, visit) : store.scan(prefix, start, visit);
  REQUIRE(s.isOk());
  return out;
}

void checkContract(Store& store) {
  REQUIRE(store.put("node/a", "1").isOk());
  REQUIRE(store.put("node/b", "2").isOk());
  REQUIRE(store.put("node/c", "3").isOk());
  REQUIRE(store.put("nodf/x", "4").isOk());
  REQUIRE(store.put("nod", "5").isOk());
  auto got = store.get("node/b");
  REQUIRE(got.isOk());
  CHECK(got->value() == "2");
  auto missing = store.get("node/zz");
  REQUIRE(missing.isOk());
  CHECK_FALSE(missing->has_value());

  CHECK(scanKeys(store, "node/") == std::vector<std::string>{"node/a", "node/b", "node/c"});
  CHECK(scanKeys(store, "node/", true) == std::vector<std::string>{"node/c", "node/b", "node/a"});
  CHECK(scanKeys(store, "node/", false, "node/b") == std::vector<std::string>{"node/b", "node/c"});
  // Backwards from a bound: the keys strictly before it (a bound between keys too).
  CHECK(scanKeys(store, "node/", true, "node/c") == std::vector<std::string>{"node/b", "node/a"});
  CHECK(scanKeys(store, "node/", true, "node/bb") == std::vector<std::string>{"node/b", "node/a"});
  CHECK(scanKeys(store, "node/", true, "node/a").empty());

  WriteBatch batch;
  batch.del("node/a");
  batch.put("node/d", "4");
  batch.put("node/b", "22");
  REQUIRE(store.write(batch).isOk());
  CHECK(scanKeys(store, "node/") == std::vector<std::string>{"node/b", "node/c", "node/d"});
  CHECK(store.get("node/b")->value() == "22");
  REQUIRE(store.del("node/b").isOk());
  CHECK_FALSE(store.get("node/b")->has_value());

  // Stopping a scan early.
  int seen = 0;
  REQUIRE(
      store.scan("node/", [&](std::string_view, std::string_view) { return ++seen < 1; }).isOk());
  CHECK(seen == 1);
}

}  // namespace

TEST_CASE("the memory store keeps the store contract") {
  MemoryStore store;
  checkContract(store);
}

TEST_CASE("the RocksDB store keeps the store contract and survives reopening") {
  TempDir dir;
  {
    auto store = openRocksDbStore((dir.path / "db").string());
    REQUIRE(store.isOk());
    checkContract(**store);
  }
  auto store = openRocksDbStore((dir.path / "db").string());
  REQUIRE(store.isOk());
  CHECK(scanKeys(**store, "node/") == std::vector<std::string>{"node/c", "node/d"});
}

TEST_CASE("a second process cannot open a store that is in use") {
  TempDir dir;
  auto first = openRocksDbStore((dir.path / "db").string());
  REQUIRE(first.isOk());
  auto second = openRocksDbStore((dir.path / "db").string());
  CHECK_FALSE(second.isOk());
}

TEST_CASE("a checkpoint restores into a new data dir with the same contents") {
  TempDir dir;
  {
    auto store = openRocksDbStore((dir.path / "db").string());
    REQUIRE(store.isOk());
    REQUIRE((*store)->put("app/web", "{}").isOk());
    REQUIRE((*store)->checkpoint((dir.path / "backup").string()).isOk());
    // A checkpoint into an existing directory fails.
    CHECK_FALSE((*store)->checkpoint((dir.path / "backup").string()).isOk());
  }
  REQUIRE(
      restoreCheckpoint((dir.path / "backup").string(), (dir.path / "restored").string()).isOk());
  auto restored = openRocksDbStore((dir.path / "restored").string());
  REQUIRE(restored.isOk());
  CHECK((*restored)->get("app/web")->value() == "{}");
  // Restoring over an existing store is refused; a non-checkpoint is refused.
  CHECK(
      restoreCheckpoint((dir.path / "backup").string(), (dir.path / "restored").string()).code() ==
      Code::kAlreadyExists);
  CHECK(restoreCheckpoint((dir.path / "nothing").string(), (dir.path / "x").string()).code() ==
        Code::kInvalidArgument);
}

TEST_CASE("the memory store refuses every write while a failure is injected") {
  MemoryStore store;
  REQUIRE(store.put("a", "1").isOk());
  store.failWrites(Status::unavailable("disk full"));
  WriteBatch batch;
  batch.put("b", "2");
  batch.del("a");
  CHECK(store.write(batch).code() == Code::kUnavailable);
  CHECK(store.put("c", "3").code() == Code::kUnavailable);
  CHECK(store.get("a")->value() == "1");
  CHECK_FALSE(store.get("b")->has_value());
  store.failWrites(std::nullopt);
  CHECK(store.write(batch).isOk());
  CHECK(store.syncedWrites() == 2);
}
