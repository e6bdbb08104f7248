// store_backup.h: secondary-instance copy of a live RocksDB store. RocksDB statuses become
// pharos::Status here; nothing throws.
#include "anchor/store_backup.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <memory>

namespace pharos::anchor {
namespace {

Status fromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::ok();
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain()) {
    return Status::unavailable(what + ": " + s.ToString());
  }
  if (s.IsNotFound() || s.IsInvalidArgument()) {
    return Status::invalidArgument(what + ": " + s.ToString());
  }
  return Status::internal(what + ": " + s.ToString());
}

constexpr size_t kBatchBytes = 4 << 20;

}  // namespace

Result<LiveBackupResult> backupLiveStore(const std::string& data_dir, const std::string& dest,
                                         const std::string& scratch_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::path(data_dir) / "CURRENT", ec)) {
    return Status::notFound(data_dir + ": no store here (no CURRENT file)");
  }
  if (fs::exists(dest, ec)) return Status::alreadyExists(dest + " exists; choose a new directory");
  std::string scratch = scratch_dir.empty() ? dest + ".secondary" : scratch_dir;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  if (ec) return Status::unavailable("create " + scratch + ": " + ec.message());
  struct ScratchCleanup {
    std::string path;
    ~ScratchCleanup() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{scratch};

  rocksdb::Options source_options;
  source_options.max_open_files = -1;  // required by secondary instances
  source_options.create_if_missing = false;
  rocksdb::DB* raw_source = nullptr;
  PHAROS_RETURN_IF_ERROR(
      fromRocks(rocksdb::DB::OpenAsSecondary(source_options, data_dir, scratch, &raw_source),
                "open " + data_dir + " as a secondary instance"));
  std::unique_ptr<rocksdb::DB> source(raw_source);
  PHAROS_RETURN_IF_ERROR(
      fromRocks(source->TryCatchUpWithPrimary(), "catch up with the running anchor"));

  rocksdb::Options dest_options;
  dest_options.create_if_missing = true;
  dest_options.error_if_exists = true;
  rocksdb::DB* raw_dest = nullptr;
  PHAROS_RETURN_IF_ERROR(
      fromRocks(rocksdb::DB::Open(dest_options, dest, &raw_dest), "create " + dest));
  std::unique_ptr<rocksdb::DB> copy(raw_dest);

  LiveBackupResult result;
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = true;  // flushed below, before the copy is closed
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(source->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PHAROS_RETURN_IF_ERROR(fromRocks(batch.Put(it->key(), it->value()), "copy"));
    ++result.keys;
    result.bytes += it->key().size() + it->value().size();
    if (batch.GetDataSize() >= kBatchBytes) {
      PHAROS_RETURN_IF_ERROR(fromRocks(copy->Write(write_options, &batch), "write " + dest));
      batch.Clear();
    }
  }
  PHAROS_RETURN_IF_ERROR(fromRocks(it->status(), "read " + data_dir));
  it.reset();
  if (batch.Count() > 0) {
    PHAROS_RETURN_IF_ERROR(fromRocks(copy->Write(write_options, &batch), "write " + dest));
  }
  PHAROS_RETURN_IF_ERROR(fromRocks(copy->Flush(rocksdb::FlushOptions()), "flush " + dest));
  PHAROS_RETURN_IF_ERROR(fromRocks(copy->Close(), "close " + dest));
  return result;
}

}  // namespace pharos::anchor
