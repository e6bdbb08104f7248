// MemoryStore: an in-memory Store (store.h) for unit tests, with fault injection
// (failWrites) so a test can check that a failed write leaves nothing half-written. An
// ordered map guarded by a mutex.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "anchor/store.h"

namespace pharos::anchor {

class MemoryStore : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;

  Result<std::optional<std::string>> get(std::string_view key) override;
  Status put(std::string_view key, std::string_view value, bool sync = true) override;
  Status del(std::string_view key, bool sync = true) override;
  Status write(const WriteBatch& batch, bool sync = true) override;
  Status scan(std::string_view prefix, std::string_view start, const Visitor& visit) override;
  Status scanReverse(std::string_view prefix, std::string_view before,
                     const Visitor& visit) override;
  Status checkpoint(const std::string& dir) override;
  using Store::scan;
  using Store::scanReverse;

  // While set, every write fails with this status and changes nothing (e.g. disk full).
  void failWrites(std::optional<Status> failure);
  // Number of successful write calls (put, del, write) so far, and how many were synced.
  size_t writes() const;
  size_t syncedWrites() const;
  size_t keyCount() const;
  // A copy of the contents (for "restart from the same store" tests).
  std::unique_ptr<MemoryStore> clone() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pharos::anchor
