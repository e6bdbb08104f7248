// StateFile: atomic writes, round trip, corruption detected (truncated / garbage / wrong
// shape), missing file = first boot, mode 0600 (it holds secrets).
#include "agent/state_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pharos::agent {
namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pharos-state-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

PersistedState sample() {
  PersistedState s;
  s.node_desired = R"({"v":1,"epoch":"e","generation":3,"apps":[]})";
  s.secrets = R"({"v":1,"epoch":"e","generation":1,"variables":{"PW":"x"}})";
  s.group_desired["line-1"] = R"({"v":1,"epoch":"e","generation":2,"apps":[]})";
  s.last_session = 1'700'000'000'123;
  return s;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("a missing state file is not_found (first boot)") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  auto loaded = file.load();
  REQUIRE_FALSE(loaded.isOk());
  CHECK(loaded.status().code() == Code::kNotFound);
}

TEST_CASE("state round-trips through the file") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  REQUIRE(file.save(sample()).isOk());
  auto loaded = file.load();
  REQUIRE(loaded.isOk());
  CHECK(*loaded == sample());
}

TEST_CASE("a save replaces the file atomically and leaves no temporary file") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  REQUIRE(file.save(sample()).isOk());
  PersistedState next = sample();
  next.last_session += 1;
  next.group_desired.clear();
  REQUIRE(file.save(next).isOk());
  CHECK(!std::filesystem::exists(dir.path + "/state.json.tmp"));
  CHECK(*file.load() == next);
}

TEST_CASE("the state file is readable only by its owner") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  REQUIRE(file.save(sample()).isOk());
  struct stat st {};
  REQUIRE(::stat((dir.path + "/state.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a stale temporary file from a crash does not disturb loading") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  REQUIRE(file.save(sample()).isOk());
  std::ofstream(dir.path + "/state.json.tmp") << "{\"v\":1,\"last_sess";  // crash mid-write
  CHECK(*file.load() == sample());
}

TEST_CASE("corruption is detected, not crashed on") {
  const char* kCorrupt[] = {
      "",                                      // empty
      "{\"v\":1,\"last_session\":12,\"node_",  // truncated
      "\x01\x02garbage\xff",                   // garbage
      "[1,2,3]",                               // not an object
      "{\"v\":2}",                             // unknown version
      "{\"v\":1,\"node_desired\":5}",          // wrong type
  };
  for (const char* text : kCorrupt) {
    CAPTURE(text);
    TempDir dir;
    std::ofstream(dir.path + "/state.json") << text;
    StateFile file(dir.path + "/state.json");
    auto loaded = file.load();
    REQUIRE_FALSE(loaded.isOk());
    CHECK(loaded.status().code() == Code::kInvalidArgument);
    CHECK(loaded.status().message().find("corrupt") != std::string::npos);
  }
}

TEST_CASE("a truncated copy of a real state file is detected") {
  TempDir dir;
  StateFile file(dir.path + "/state.json");
  REQUIRE(file.save(sample()).isOk());
  std::string text = readAll(dir.path + "/state.json");
  std::ofstream(dir.path + "/state.json", std::ios::trunc) << text.substr(0, text.size() / 2);
  CHECK(file.load().status().code() == Code::kInvalidArgument);
}

TEST_CASE("an empty path keeps the state in memory") {
  StateFile file("");
  CHECK(file.load().status().code() == Code::kNotFound);
  REQUIRE(file.save(sample()).isOk());
  CHECK(*file.load() == sample());
}

TEST_CASE("a folder that cannot be written reports an error") {
  StateFile file("/nonexistent-dir-pharos/state.json");
  CHECK_FALSE(file.save(sample()).isOk());
}

}  // namespace
}  // namespace pharos::agent
