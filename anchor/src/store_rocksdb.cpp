// RocksDB implementation of Store. The one adapter between rocksdb::Status (RocksDB never
// throws) and pharos::Status. Acknowledged changes are written with WriteOptions.sync so
// they survive power loss; every WriteBatch is atomic, so kill -9 leaves a consistent store.
//
// Write errors (disk full, docs/anchor-store.md): after a failed WAL append, RocksDB 7.8 must
// not be written through the same DB object again (the next write trips an assertion in
// WritableFileWriter, or the DB stays in its background-error state until reopened). So a
// failed write marks this store failed: it refuses writes itself, and before the next call
// it closes the DB and opens it again, once the data dir has room (reopen_min_free_bytes).
// The failed batch is reported to the caller and never acknowledged; the previous values of
// its keys are read right after the failure (RocksDB did not apply the batch to its
// memtable) and written back after the reopen, in case the failed record did reach the WAL
// whole (an fsync that failed after the append). A failed append leaves an incomplete record
// at the end of its WAL; RocksDB's point-in-time recovery skips it and, as no sequence
// number is missing, goes on replaying the later WALs (store_recovery_test checks it).
// Opening does not flush the replayed WAL (that would need room for a copy of the memtable).
//
// RocksDB's own reactions to such an error are switched off, as each of them writes through a
// file writer that has failed and so aborts the process on Debian's RocksDB 7.8 (assertions
// kept): its info LOG goes to the anchor's log instead of a file in the data dir (the LOG
// file's next line after a failed append was what killed the anchor on a full disk), and its
// automatic recovery (retrying Resume, or waiting for free space) is disabled: the reopen
// above replaces it.
//
// Thread-compatible: one caller at a time (the anchor's strand); RocksDB is thread-safe.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include "anchor/store.h"

namespace pharos::anchor {
namespace {

constexpr auto kReopenRetryInterval = std::chrono::milliseconds(500);

Status fromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::ok();
  std::string msg = std::string(what) + ": " + status.ToString();
  if (status.IsNotFound()) return Status::notFound(std::move(msg));
  if (status.IsInvalidArgument()) return Status::invalidArgument(std::move(msg));
  if (status.IsNoSpace() || status.IsIOError() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain()) {
    return Status::unavailable(std::move(msg));
  }
  return Status::internal(std::move(msg));
}

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

bool startsWith(const rocksdb::Slice& key, std::string_view prefix) {
  return key.size() >= prefix.size() && std::string_view(key.data(), prefix.size()) == prefix;
}

// RocksDB's info log into the anchor's log: warnings and errors as such, the rest at debug.
class SpdlogLogger final : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    spdlog::level::level_enum to = spdlog::level::debug;
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL) to = spdlog::level::warn;
    if (level == rocksdb::InfoLogLevel::ERROR_LEVEL ||
        level == rocksdb::InfoLogLevel::FATAL_LEVEL) {
      to = spdlog::level::err;
    }
    if (!spdlog::should_log(to)) return;
    char line[1024];
    int n = std::vsnprintf(line, sizeof line, format, ap);
    if (n < 0) return;
    spdlog::log(to, "rocksdb: {}", std::string_view(line, std::min<size_t>(n, sizeof line - 1)));
  }
};

// Keeps RocksDB from starting its own recovery after a background error (see above).
class NoAutoRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
};

std::optional<uint64_t> freeBytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

class RocksDbStore final : public Store {
 public:
  RocksDbStore(std::string dir, rocksdb::Options options, std::unique_ptr<rocksdb::Env> env,
               std::unique_ptr<rocksdb::DB> db, uint64_t min_free)
      : dir_(std::move(dir)),
        options_(std::move(options)),
        env_(std::move(env)),
        db_(std::move(db)),
        min_free_(min_free) {}

  ~RocksDbStore() override {
    if (db_) db_->Close().PermitUncheckedError();
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    PHAROS_RETURN_IF_ERROR(usable(Use::kRead, "store get"));
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return fromRocks(s, "store get");
    return std::optional<std::string>(std::move(value));
  }

  Status put(std::string_view key, std::string_view value, bool sync) override {
    WriteBatch batch;
    batch.put(std::string(key), std::string(value));
    return write(batch, sync);
  }

  Status del(std::string_view key, bool sync) override {
    WriteBatch batch;
    batch.del(std::string(key));
    return write(batch, sync);
  }

  Status write(const WriteBatch& batch, bool sync) override {
    if (batch.empty()) return Status::ok();
    PHAROS_RETURN_IF_ERROR(usable(Use::kWrite, "store write refused"));
    rocksdb::Status s = writeBatch(batch, sync);
    if (s.ok()) return Status::ok();
    if (s.IsInvalidArgument()) return fromRocks(s, "store batch");
    return writeFailed(s, batch);
  }

  Status scan(std::string_view prefix, std::string_view start, const Visitor& visit) override {
    PHAROS_RETURN_IF_ERROR(usable(Use::kRead, "store scan"));
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(slice(start.empty() ? prefix : start)); it->Valid(); it->Next()) {
      rocksdb::Slice key = it->key();
      if (!startsWith(key, prefix)) break;
      rocksdb::Slice value = it->value();
      if (!visit(std::string_view(key.data(), key.size()),
                 std::string_view(value.data(), value.size()))) {
        break;
      }
    }
    return fromRocks(it->status(), "store scan");
  }

  Status scanReverse(std::string_view prefix, std::string_view before,
                     const Visitor& visit) override {
    PHAROS_RETURN_IF_ERROR(usable(Use::kRead, "store scan"));
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    // The exclusive upper bound: `before`, else the first key after every key with this
    // prefix (the prefix with its last byte bumped; none when it is all 0xff bytes).
    std::string upper(before.empty() ? prefix : before);
    if (before.empty()) {
      while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
      if (!upper.empty())
        upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
    }
    if (upper.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(upper);
      if (it->Valid() && it->key() == rocksdb::Slice(upper)) it->Prev();
    }
    for (; it->Valid(); it->Prev()) {
      rocksdb::Slice key = it->key();
      if (!startsWith(key, prefix)) break;
      rocksdb::Slice value = it->value();
      if (!visit(std::string_view(key.data(), key.size()),
                 std::string_view(value.data(), value.size()))) {
        break;
      }
    }
    return fromRocks(it->status(), "store scan");
  }

  Status checkpoint(const std::string& dir) override {
    PHAROS_RETURN_IF_ERROR(usable(Use::kWrite, "checkpoint"));
    rocksdb::Checkpoint* raw = nullptr;
    PHAROS_RETURN_IF_ERROR(fromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    return fromRocks(cp->CreateCheckpoint(dir), "checkpoint " + dir);
  }

 private:
  // Ok when db_ may be used: not failed, or recovered now. Reads keep using the DB object
  // of a failed write until the reopen (RocksDB still serves reads in its error state);
  // writes wait for the reopen.
  rocksdb::Status writeBatch(const WriteBatch& batch, bool sync) {
    rocksdb::WriteBatch rb;
    for (const auto& op : batch.ops()) {
      rocksdb::Status s = op.del ? rb.Delete(op.key) : rb.Put(op.key, op.value);
      if (!s.ok()) return s;
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    return db_->Write(options, &rb);
  }

  enum class Use { kRead, kWrite };
  Status usable(Use use, std::string_view what) {
    if (!failure_ || (use == Use::kRead && db_)) return Status::ok();
    Status s = recover();
    if (s.isOk()) return s;
    return Status::unavailable(std::string(what) + ": " + s.message());
  }

  Status writeFailed(const rocksdb::Status& s, const WriteBatch& batch) {
    std::string reason = (s.IsNoSpace() ? "disk full: " : "write error: ") + s.ToString();
    // The batch's keys as they were: RocksDB applies a batch to its memtable only after
    // its WAL append succeeded, so reads still see the previous values.
    undo_.clear();
    std::set<std::string_view> seen;
    for (const auto& op : batch.ops()) {
      if (!seen.insert(op.key).second) continue;
      std::string value;
      rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), op.key, &value);
      if (g.ok()) {
        undo_.put(op.key, std::move(value));
      } else if (g.IsNotFound()) {
        undo_.del(op.key);
      } else {
        spdlog::warn("store: reading {} after a failed write: {}", op.key, g.ToString());
      }
    }
    failure_ = reason;
    next_attempt_ = std::chrono::steady_clock::now();
    spdlog::error(
        "store: write failed ({}); the change was not stored; writes resume once "
        "{} has {} bytes free",
        reason, dir_, min_free_);
    return Status::unavailable("store write failed, nothing of the change was stored (" + reason +
                               ")");
  }

  // Closes and reopens the DB after a failed write, then writes the undo batch.
  Status recover() {
    auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
      return Status::unavailable("recovering from an earlier " + *failure_ + " (retry)");
    }
    next_attempt_ = now + kReopenRetryInterval;
    std::optional<uint64_t> free = freeBytes(dir_);
    if (free && *free < min_free_) {
      return Status::unavailable("recovering from an earlier " + *failure_ + "; " + dir_ + " has " +
                                 std::to_string(*free) + " bytes free, writes resume at " +
                                 std::to_string(min_free_));
    }
    if (db_) {
      rocksdb::Status c = db_->Close();
      if (!c.ok()) spdlog::info("store: closing after a write error: {}", c.ToString());
      db_.reset();
    }
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, dir_, &raw);
    if (!s.ok()) {
      return Status::unavailable("recovering from an earlier " + *failure_ +
                                 "; reopening the store failed: " + s.ToString());
    }
    db_.reset(raw);
    if (!undo_.empty()) {
      rocksdb::Status w = writeBatch(undo_, true);
      if (!w.ok()) {  // keep undo_: these are still the values the anchor holds
        return Status::unavailable("recovering from an earlier " + *failure_ +
                                   "; rewriting the failed batch's keys failed: " + w.ToString());
      }
      undo_.clear();
    }
    spdlog::info("store: reopened after {}; writes accepted again", *failure_);
    failure_.reset();
    return Status::ok();
  }

  std::string dir_;
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (declared first)
  std::unique_ptr<rocksdb::DB> db_;    // null after a failed reopen
  uint64_t min_free_;
  std::optional<std::string> failure_;  // set from a failed write until the reopen
  WriteBatch undo_;
  std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace

Result<std::unique_ptr<Store>> openRocksDbStore(const std::string& dir,
                                                const RocksDbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::unavailable("data dir " + dir + ": " + ec.message());
  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system) env = rocksdb::NewCompositeEnv(options.file_system);
  rocksdb::Options db_options;
  if (env) db_options.env = env.get();
  db_options.create_if_missing = options.create_if_missing;
  db_options.IncreaseParallelism(2);
  db_options.info_log = std::make_shared<SpdlogLogger>();
  db_options.max_bgerror_resume_count = 0;
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  db_options.max_total_wal_size = 64 << 20;
  // The anchor's data is small (about 1 KiB per node): a 4 MiB memtable (RocksDB's default is
  // 64 MiB) keeps its resident memory flat under steady churn instead of growing towards
  // 2 x 64 MiB before the first flush (the 30-minute soak saw +17 MiB with the default).
  db_options.write_buffer_size = 4 << 20;
  // Opening does not flush the replayed WAL into a table file: a store on a full disk (or one
  // reopened after a write error) opens without room for a copy of its memtable; the WALs
  // stay until the memtable is flushed in the normal course.
  db_options.avoid_flush_during_recovery = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &raw);
  if (!s.ok()) {
    if (s.IsIOError()) return Status::unavailable("open store " + dir + ": " + s.ToString());
    return fromRocks(s, "open store " + dir);
  }
  return std::unique_ptr<Store>(new RocksDbStore(dir, db_options, std::move(env),
                                                 std::unique_ptr<rocksdb::DB>(raw),
                                                 options.reopen_min_free_bytes));
}

Status restoreCheckpoint(const std::string& checkpoint_dir, const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(checkpoint_dir, ec) ||
      !fs::exists(fs::path(checkpoint_dir) / "CURRENT", ec)) {
    return Status::invalidArgument(checkpoint_dir + ": not a store checkpoint (no CURRENT file)");
  }
  if (fs::exists(fs::path(data_dir) / "CURRENT", ec)) {
    return Status::alreadyExists(data_dir + ": already holds a store; move it away first");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Status::unavailable("create " + data_dir + ": " + ec.message());
  fs::copy(checkpoint_dir, data_dir,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::unavailable("copy checkpoint: " + ec.message());
  return Status::ok();
}

}  // namespace pharos::anchor
