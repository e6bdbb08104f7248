// The anchor's persistent key-value store (RocksDB in production; unit tests use MemoryStore,
// anchor/testing). Keys are byte strings laid out as documented in docs/anchor-store.md; values
// are compact JSON. Every group of writes that belongs together goes into ONE WriteBatch, applied
// atomically, so a crash (kill -9 at any moment) leaves a consistent store. Acknowledged
// changes are written with `sync = true` (fsync before the API answers).
//
// Threading: a Store is used by the anchor's strand only; implementations are
// thread-compatible (RocksDB itself is thread-safe, the memory store guards its map).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/status.h"

namespace rocksdb {
class FileSystem;
}

namespace pharos::anchor {

// An ordered list of puts and deletes applied atomically by Store::write.
class WriteBatch {
 public:
  struct Op {
    bool del = false;
    std::string key;
    std::string value;
  };
  void put(std::string key, std::string value) {
    ops_.push_back({false, std::move(key), std::move(value)});
  }
  void del(std::string key) { ops_.push_back({true, std::move(key), {}}); }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }
  void append(const WriteBatch& other) {
    ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end());
  }
  void clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

class Store {
 public:
  // Return false from a scan visitor to stop early.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~Store() = default;

  // Ok(nullopt) when the key is absent; an error only for I/O failures.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  virtual Status put(std::string_view key, std::string_view value, bool sync = true) = 0;
  virtual Status del(std::string_view key, bool sync = true) = 0;
  // Applies every op of `batch` or none of them.
  virtual Status write(const WriteBatch& batch, bool sync = true) = 0;
  // Visits keys starting with `prefix` in ascending order, starting at the first key
  // >= `start` (when `start` is non-empty; it must itself start with `prefix`).
  virtual Status scan(std::string_view prefix, std::string_view start, const Visitor& visit) = 0;
  // Visits keys starting with `prefix` in descending order, starting at the last key
  // < `before` (when `before` is non-empty; it must itself start with `prefix`).
  virtual Status scanReverse(std::string_view prefix, std::string_view before,
                             const Visitor& visit) = 0;
  // A consistent copy of the whole store in `dir` (must not exist), for backups.
  virtual Status checkpoint(const std::string& dir) = 0;

  Status scan(std::string_view prefix, const Visitor& visit) { return scan(prefix, {}, visit); }
  Status scanReverse(std::string_view prefix, const Visitor& visit) {
    return scanReverse(prefix, {}, visit);
  }
};

struct RocksDbOptions {
  bool create_if_missing = true;
  // After a failed write (disk full), the store reopens itself before the next write or read
  // once its directory has at least this many bytes free (docs/anchor-store.md).
  uint64_t reopen_min_free_bytes = 1 << 20;
  // Tests only: the file system RocksDB works through (fault injection). Null: the default.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// Opens (creating when missing) a RocksDB store in `dir`. Fails with unavailable when the
// directory is locked by another process or unreadable. A write that fails (e.g. disk full)
// returns unavailable naming the reason and stores nothing of its batch; the store then
// refuses writes until it has reopened the database, which it tries before the next call
// once the directory has room again — no restart needed, nothing acknowledged is lost.
Result<std::unique_ptr<Store>> openRocksDbStore(const std::string& dir,
                                                const RocksDbOptions& options = {});

// Restores a checkpoint made by Store::checkpoint into `data_dir` (which must not hold a
// store yet). The caller then gives the store a new epoch (DESIGN.md section 2).
Status restoreCheckpoint(const std::string& checkpoint_dir, const std::string& data_dir);

}  // namespace pharos::anchor
