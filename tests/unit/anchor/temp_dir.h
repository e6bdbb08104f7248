// A fresh directory under the system temp dir, removed with everything in it at scope exit,
// for the store tests (RocksDB needs a real directory). Not thread-safe; one per test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace pharos::anchor::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "pharos-anchor-test-") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           (prefix + std::to_string(getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace pharos::anchor::testing
