// RocksDB implementation of Store. The one adapter between rocksdb::Status (RocksDB never
// throws) and pharos::Status. Acknowledged changes are written with WriteOptions.sync so
// they survive power loss; every WriteBatch is atomic, so kill -9 leaves a consistent store.
// Thread-compatible (RocksDB is internally thread-safe).
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <system_error>

#include "anchor/store.h"

namespace pharos::anchor {
namespace {

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

class RocksDbStore final : public Store {
 public:
  explicit RocksDbStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  Result<std::optional<std::string>> get(std::string_view key) override {
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
    rocksdb::WriteBatch rb;
    for (const auto& op : batch.ops()) {
      rocksdb::Status s = op.del ? rb.Delete(op.key) : rb.Put(op.key, op.value);
      if (!s.ok()) return fromRocks(s, "store batch");
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    return fromRocks(db_->Write(options, &rb), "store write");
  }

  Status scan(std::string_view prefix, std::string_view start, const Visitor& visit) override {
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

  Status scanReverse(std::string_view prefix, const Visitor& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    // The first key after every key with this prefix: prefix with its last byte bumped.
    std::string upper(prefix);
    while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
    if (upper.empty()) {
      it->SeekToLast();
    } else {
      upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
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
    rocksdb::Checkpoint* raw = nullptr;
    PHAROS_RETURN_IF_ERROR(fromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    return fromRocks(cp->CreateCheckpoint(dir), "checkpoint " + dir);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

Result<std::unique_ptr<Store>> openRocksDbStore(const std::string& dir,
                                                const RocksDbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::unavailable("data dir " + dir + ": " + ec.message());
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.IncreaseParallelism(2);
  db_options.keep_log_file_num = 5;
  db_options.max_total_wal_size = 64 << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &raw);
  if (!s.ok()) {
    if (s.IsIOError()) return Status::unavailable("open store " + dir + ": " + s.ToString());
    return fromRocks(s, "open store " + dir);
  }
  return std::unique_ptr<Store>(new RocksDbStore(std::unique_ptr<rocksdb::DB>(raw)));
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
