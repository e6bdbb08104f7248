// Online backup (store_backup.h): a copy taken while the store is open and being written
// holds exactly a consistent prefix of the writes, restores like a checkpoint, never writes
// into the live store's directory, and refuses an existing destination or a missing store.
#include "anchor/store_backup.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "anchor/store.h"
#include "temp_dir.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {

struct BackupTempDir : testing::TempDir {
  BackupTempDir() : TempDir("pharos-backup-test-") {}
};

std::set<std::string> listing(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

std::string value(Store& store, const std::string& key) {
  auto v = store.get(key);
  REQUIRE(v.isOk());
  return v->value_or("<missing>");
}

}  // namespace

TEST_CASE("a backup of an open store restores with the same keys and values") {
  BackupTempDir dir;
  auto live = openRocksDbStore((dir.path / "live").string());
  REQUIRE(live.isOk());
  REQUIRE((*live)->put("nodes/n1", "{\"v\":1}").isOk());
  REQUIRE((*live)->put("apps/web", "rev 3").isOk());
  REQUIRE((*live)->del("nodes/n1").isOk());
  REQUIRE((*live)->put("nodes/n2", "{\"v\":2}").isOk());

  auto result = backupLiveStore((dir.path / "live").string(), (dir.path / "copy").string());
  REQUIRE_MESSAGE(result.isOk(), result.status().toString());
  CHECK(result->keys == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path / "copy.secondary"));

  // Written after the backup: not in it.
  REQUIRE((*live)->put("apps/late", "x").isOk());
  REQUIRE(restoreCheckpoint((dir.path / "copy").string(), (dir.path / "restored").string()).isOk());
  auto restored = openRocksDbStore((dir.path / "restored").string());
  REQUIRE(restored.isOk());
  CHECK(value(**restored, "apps/web") == "rev 3");
  CHECK(value(**restored, "nodes/n2") == "{\"v\":2}");
  CHECK(value(**restored, "nodes/n1") == "<missing>");
  CHECK(value(**restored, "apps/late") == "<missing>");
}

TEST_CASE("a backup during concurrent batches holds whole batches only") {
  BackupTempDir dir;
  auto live = openRocksDbStore((dir.path / "live").string());
  REQUIRE(live.isOk());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 1; !stop && i < 100000; ++i) {
      WriteBatch batch;  // a and b always change together
      batch.put("pair/a", std::to_string(i));
      batch.put("pair/b", std::to_string(i));
      batch.put("log/" + std::to_string(100000 + i), "x");
      if (!(*live)->write(batch, false).isOk()) break;
      written = i;
    }
  });
  while (written < 200) std::this_thread::yield();
  auto result = backupLiveStore((dir.path / "live").string(), (dir.path / "copy").string());
  stop = true;
  writer.join();
  REQUIRE_MESSAGE(result.isOk(), result.status().toString());

  REQUIRE(restoreCheckpoint((dir.path / "copy").string(), (dir.path / "restored").string()).isOk());
  auto restored = openRocksDbStore((dir.path / "restored").string());
  REQUIRE(restored.isOk());
  std::string a = value(**restored, "pair/a");
  CHECK(a == value(**restored, "pair/b"));
  int n = std::stoi(a);
  CHECK(n >= 200);
  size_t logs = 0;
  REQUIRE((*restored)
              ->scan("log/",
                     [&](std::string_view, std::string_view) {
                       ++logs;
                       return true;
                     })
              .isOk());
  CHECK(logs == static_cast<size_t>(n));
}

TEST_CASE("a backup never writes into the live store's directory") {
  BackupTempDir dir;
  auto live = openRocksDbStore((dir.path / "live").string());
  REQUIRE(live.isOk());
  REQUIRE((*live)->put("k", "v").isOk());
  auto before = listing(dir.path / "live");
  REQUIRE(backupLiveStore((dir.path / "live").string(), (dir.path / "copy").string()).isOk());
  CHECK(listing(dir.path / "live") == before);
}

TEST_CASE("a backup works on a closed store too") {
  BackupTempDir dir;
  {
    auto live = openRocksDbStore((dir.path / "live").string());
    REQUIRE(live.isOk());
    REQUIRE((*live)->put("k", "v").isOk());
  }
  auto result = backupLiveStore((dir.path / "live").string(), (dir.path / "copy").string());
  REQUIRE_MESSAGE(result.isOk(), result.status().toString());
  CHECK(result->keys == 1);
}

TEST_CASE("a backup refuses an existing destination and a directory without a store") {
  BackupTempDir dir;
  auto live = openRocksDbStore((dir.path / "live").string());
  REQUIRE(live.isOk());
  std::filesystem::create_directories(dir.path / "taken");
  auto taken = backupLiveStore((dir.path / "live").string(), (dir.path / "taken").string());
  CHECK(taken.status().code() == Code::kAlreadyExists);
  std::filesystem::create_directories(dir.path / "empty");
  auto missing = backupLiveStore((dir.path / "empty").string(), (dir.path / "copy").string());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK_FALSE(std::filesystem::exists(dir.path / "copy"));
}
