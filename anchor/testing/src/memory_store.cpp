// MemoryStore (see memory_store.h).
#include "anchor/memory_store.h"

#include <map>
#include <mutex>

namespace pharos::anchor {

struct MemoryStore::Impl {
  mutable std::mutex mu;
  std::map<std::string, std::string, std::less<>> data;
  std::optional<Status> failure;
  size_t writes = 0;
  size_t synced = 0;
};

MemoryStore::MemoryStore() : impl_(std::make_unique<Impl>()) {}
MemoryStore::~MemoryStore() = default;

Result<std::optional<std::string>> MemoryStore::get(std::string_view key) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->data.find(key);
  if (it == impl_->data.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::put(std::string_view key, std::string_view value, bool sync) {
  WriteBatch batch;
  batch.put(std::string(key), std::string(value));
  return write(batch, sync);
}

Status MemoryStore::del(std::string_view key, bool sync) {
  WriteBatch batch;
  batch.del(std::string(key));
  return write(batch, sync);
}

Status MemoryStore::write(const WriteBatch& batch, bool sync) {
  std::lock_guard lock(impl_->mu);
  if (impl_->failure) return *impl_->failure;
  for (const auto& op : batch.ops()) {
    if (op.del) {
      impl_->data.erase(op.key);
    } else {
      impl_->data[op.key] = op.value;
    }
  }
  ++impl_->writes;
  if (sync) ++impl_->synced;
  return Status::ok();
}

Status MemoryStore::scan(std::string_view prefix, std::string_view start, const Visitor& visit) {
  // Copy the range first so a visitor may call back into the store.
  std::vector<std::pair<std::string, std::string>> items;
  {
    std::lock_guard lock(impl_->mu);
    for (auto it = impl_->data.lower_bound(start.empty() ? prefix : start);
         it != impl_->data.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      items.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [k, v] : items) {
    if (!visit(k, v)) break;
  }
  return Status::ok();
}

Status MemoryStore::scanReverse(std::string_view prefix, std::string_view before,
                                const Visitor& visit) {
  std::vector<std::pair<std::string, std::string>> items;
  {
    std::lock_guard lock(impl_->mu);
    for (auto it = impl_->data.lower_bound(prefix);
         it != impl_->data.end() && it->first.compare(0, prefix.size(), prefix) == 0 &&
         (before.empty() || it->first < before);
         ++it) {
      items.emplace_back(it->first, it->second);
    }
  }
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return Status::ok();
}

Status MemoryStore::checkpoint(const std::string& dir) {
  return Status::internal("MemoryStore cannot checkpoint to " + dir);
}

void MemoryStore::failWrites(std::optional<Status> failure) {
  std::lock_guard lock(impl_->mu);
  impl_->failure = std::move(failure);
}

size_t MemoryStore::writes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->writes;
}

size_t MemoryStore::syncedWrites() const {
  std::lock_guard lock(impl_->mu);
  return impl_->synced;
}

size_t MemoryStore::keyCount() const {
  std::lock_guard lock(impl_->mu);
  return impl_->data.size();
}

std::unique_ptr<MemoryStore> MemoryStore::clone() const {
  auto copy = std::make_unique<MemoryStore>();
  std::lock_guard lock(impl_->mu);
  copy->impl_->data = impl_->data;
  return copy;
}

}  // namespace pharos::anchor
