// The RocksDB store after a write error (disk full), with a RocksDB file system that fails
// every append while "full": the failing write is refused with the reason and nothing of it
// is stored, later writes are refused without touching the failed DB object (Debian's
// RocksDB 7.8 asserts on a write after a failed append, and so does its own automatic
// recovery, which must stay off: the test leaves it time to start), and once the disk has room the
// store reopens itself: writes work again, every acknowledged write is there, also after a
// normal reopen (the incomplete WAL tail the failure left does not hide the later WAL).
// Single-threaded.
#include <doctest/doctest.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "anchor/store.h"
#include "temp_dir.h"

using namespace pharos;
using namespace pharos::anchor;
using pharos::anchor::testing::TempDir;

namespace {

// How a "full" disk fails an append: after writing half of it (a real full disk: a short
// write, then ENOSPC), or after writing all of it (the data is in the file but the call
// failed, as when fsync fails): the store must not acknowledge it in either case.
enum class Failure { kHalfWritten, kWhollyWritten };

struct DiskState {
  std::atomic<bool> full{false};
  Failure failure = Failure::kHalfWritten;
  std::atomic<int> refused{0};
};

class FullDiskFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FullDiskFile(std::unique_ptr<rocksdb::FSWritableFile> file, DiskState* disk)
      : FSWritableFileOwnerWrapper(std::move(file)), disk_(disk) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (!disk_->full) return target()->Append(data, options, dbg);
    ++disk_->refused;
    size_t n = disk_->failure == Failure::kHalfWritten ? data.size() / 2 : data.size();
    if (n > 0)
      target()->Append(rocksdb::Slice(data.data(), n), options, dbg).PermitUncheckedError();
    rocksdb::IOStatus s = rocksdb::IOStatus::NoSpace("injected", "No space left on device");
    s.SetRetryable(true);  // as RocksDB's POSIX file system marks ENOSPC
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }

 private:
  DiskState* disk_;
};

class FullDiskFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDiskFs(DiskState* disk)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), disk_(disk) {}
  const char* Name() const override { return "FullDiskFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, &file, dbg);
    if (s.ok()) *result = std::make_unique<FullDiskFile>(std::move(file), disk_);
    return s;
  }

 private:
  DiskState* disk_;
};

std::optional<std::string> value(Store& store, const std::string& key) {
  auto got = store.get(key);
  REQUIRE(got.isOk());
  return *got;
}

}  // namespace

TEST_CASE("the RocksDB store refuses a write on a full disk and reopens itself with room") {
  for (Failure failure : {Failure::kHalfWritten, Failure::kWhollyWritten}) {
    CAPTURE(static_cast<int>(failure));
    TempDir dir;
    DiskState disk;
    disk.failure = failure;
    RocksDbOptions options;
    options.file_system = std::make_shared<FullDiskFs>(&disk);
    {
      auto opened = openRocksDbStore(dir.path.string(), options);
      REQUIRE(opened.isOk());
      Store& store = **opened;
      REQUIRE(store.put("app/a", "a1").isOk());
      REQUIRE(store.put("app/b", "b1").isOk());

      disk.full = true;
      WriteBatch refused;
      refused.put("app/new", "n1");
      refused.put("app/a", "a2");
      refused.del("app/b");
      Status s = store.write(refused);
      CHECK(s.code() == Code::kUnavailable);
      CHECK(s.message().find("disk full") != std::string::npos);
      CHECK(s.message().find("No space left on device") != std::string::npos);
      CHECK(disk.refused > 0);

      // Still full: refused again with the reason, without writing through the failed DB
      // (which would abort the process on RocksDB's assertion).
      Status again = store.put("app/c", "c1");
      CHECK(again.code() == Code::kUnavailable);
      CHECK(again.message().find("disk full") != std::string::npos);

      disk.full = false;  // space is back
      // RocksDB's own recovery must not run meanwhile: it would flush the failed WAL writer
      // again and abort (RocksDB 7.8 retries a retryable error after 1 s, and polls free
      // space every 5 s for a NoSpace one).
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      Status recovered = Status::unavailable("not tried");
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!recovered.isOk() && std::chrono::steady_clock::now() < deadline) {
        recovered = store.put("app/c", "c1");
        if (!recovered.isOk()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      REQUIRE_MESSAGE(recovered.isOk(), recovered.message());
      CHECK(value(store, "app/a") == "a1");
      CHECK(value(store, "app/b") == "b1");
      CHECK_FALSE(value(store, "app/new").has_value());
      CHECK(value(store, "app/c") == "c1");
      REQUIRE(store.put("app/d", "d1").isOk());
    }
    // A normal open (what a restart does) replays every WAL: the one the failure left with
    // an incomplete (or refused) record at its end, and the one written after the reopen.
    auto reopened = openRocksDbStore(dir.path.string());
    REQUIRE(reopened.isOk());
    Store& store = **reopened;
    CHECK(value(store, "app/a") == "a1");
    CHECK(value(store, "app/b") == "b1");
    CHECK(value(store, "app/c") == "c1");
    CHECK(value(store, "app/d") == "d1");
    CHECK_FALSE(value(store, "app/new").has_value());
  }
}

TEST_CASE("the RocksDB store keeps serving reads while it waits for disk space") {
  TempDir dir;
  DiskState disk;
  RocksDbOptions options;
  options.file_system = std::make_shared<FullDiskFs>(&disk);
  options.reopen_min_free_bytes = UINT64_MAX;  // never enough room: no reopen is tried
  auto opened = openRocksDbStore(dir.path.string(), options);
  REQUIRE(opened.isOk());
  Store& store = **opened;
  REQUIRE(store.put("node/a", "1").isOk());
  disk.full = true;
  CHECK(store.put("node/b", "2").code() == Code::kUnavailable);
  disk.full = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Status refused = store.put("node/c", "3");
  CHECK(refused.code() == Code::kUnavailable);
  CHECK(refused.message().find("bytes free") != std::string::npos);
  CHECK(value(store, "node/a") == "1");
  CHECK_FALSE(value(store, "node/b").has_value());
  int keys = 0;
  CHECK(store
            .scan("node/",
                  [&](std::string_view, std::string_view) {
                    ++keys;
                    return true;
                  })
            .isOk());
  CHECK(keys == 1);
}
