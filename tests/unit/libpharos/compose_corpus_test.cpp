// The compose corpus: every file under tests/data/compose/valid must parse; every file under
// tests/data/compose/invalid must fail with a message that starts with the path named on
// its first line ("# error: services.web.ports[1]") and a position. Also the limits that
// protect the anchor from hostile documents (size, alias bombs, depth, service count).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pharos/compose.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus(const char* kind) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(PHAROS_TEST_DATA) / "compose" / kind)) {
    if (entry.path().extension() == ".yml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const pharos::Variables kVars = {{"PHAROS_NODE_ID", "node-1"}, {"PHAROS_LABEL_LINE", "line-1"}};

}  // namespace

TEST_CASE("every valid compose file in the corpus parses and hashes") {
  const std::vector<fs::path> files = corpus("valid");
  CHECK(files.size() >= 40);
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(readFile(file), kVars);
    if (!parsed) {
      FAIL_CHECK(parsed.status().toString() << " at line " << parsed.status().line());
      continue;
    }
    CHECK(!parsed->services.empty());
    CHECK(parsed->startOrder().size() == parsed->services.size());
    for (const pharos::Service& service : parsed->services) {
      CHECK(!service.image.empty());
      CHECK(pharos::serviceConfigHash(*parsed, service).size() == 64);
    }
    // The canonical form is deterministic.
    CHECK(pharos::toJson(*parsed) == pharos::toJson(*pharos::parseCompose(readFile(file), kVars)));
  }
}

TEST_CASE("every invalid compose file in the corpus fails naming its path and line") {
  const std::vector<fs::path> files = corpus("invalid");
  CHECK(files.size() >= 40);
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    const std::string text = readFile(file);
    const std::string marker = "# error: ";
    REQUIRE(text.rfind(marker, 0) == 0);
    const std::string expected = text.substr(marker.size(), text.find('\n') - marker.size());
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, kVars);
    REQUIRE_FALSE(parsed.isOk());
    const std::string& message = parsed.status().message();
    CAPTURE(message);
    CHECK(message.rfind(expected, 0) == 0);
    if (message.size() > expected.size()) {
      const char next = message[expected.size()];
      CHECK((next == ':' || next == ' '));
    }
    CHECK(parsed.status().code() == pharos::Code::kInvalidArgument);
    CHECK(parsed.status().line() > 1);  // line 1 is the "# error:" comment
    CHECK(parsed.status().column() > 0);
  }
}

TEST_CASE("a compose file above the size limit is refused before parsing") {
  std::string huge = "services:\n  web:\n    image: nginx\n    labels:\n";
  while (huge.size() < 10 * 1024 * 1024)
    huge += "      - \"a.label.that.is.long=xxxxxxxxxxxxxxxxxxxxxxxx\"\n";
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(huge, {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == pharos::Code::kTooLarge);
}

TEST_CASE("an alias bomb (billion laughs) is refused as too large") {
  std::string bomb =
      "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char previous = 'a';
  for (char name = 'b'; name <= 'i'; ++name) {
    bomb += std::string("x-") + name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) bomb += std::string(i ? "," : "") + "*" + previous;
    bomb += "]\n";
    previous = name;
  }
  bomb += "services:\n  web:\n    image: nginx\n    command: *i\n";
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(bomb, {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == pharos::Code::kTooLarge);
}

TEST_CASE("an alias of a long string repeated many times is refused as too large") {
  std::string text = "x-big: &big \"" + std::string(200 * 1024, 'x') +
                     "\"\nservices:\n  web:\n"
                     "    image: nginx\n    command: [";
  for (int i = 0; i < 100; ++i) text += std::string(i ? "," : "") + "*big";
  text += "]\n";
  REQUIRE(text.size() < 512 * 1024);
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == pharos::Code::kTooLarge);
}

TEST_CASE("interpolation that expands beyond the limit is refused as too large") {
  std::string text = "services:\n  web:\n    image: nginx\n    command: [";
  for (int i = 0; i < 2000; ++i) text += std::string(i ? "," : "") + "\"$BIG$BIG$BIG\"";
  text += "]\n";
  pharos::Variables vars{{"BIG", std::string(4096, 'y')}};
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, vars);
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == pharos::Code::kTooLarge);
}

TEST_CASE("deeply nested YAML is refused without crashing") {
  for (int depth : {100, 5000, 100000}) {
    CAPTURE(depth);
    std::string text =
        "services:\n  web:\n    image: nginx\n    x-deep: " + std::string(depth, '[') +
        std::string(depth, ']') + "\n";
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, {});
    CHECK_FALSE(parsed.isOk());
  }
}

TEST_CASE("more services than the limit are refused as too large") {
  std::string text = "services:\n";
  for (int i = 0; i < 101; ++i) text += "  s" + std::to_string(i) + ":\n    image: nginx\n";
  pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, {});
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == pharos::Code::kTooLarge);
  pharos::ComposeLimits limits;
  limits.max_services = 200;
  CHECK(pharos::parseCompose(text, {}, limits).isOk());
}

TEST_CASE("empty, scalar and multi-document files are refused") {
  for (const char* text : {"", "# only a comment\n", "just a string\n", "[1, 2]\n",
                           "services:\n  a:\n    image: x\n---\nservices: {}\n"}) {
    CAPTURE(text);
    pharos::Result<pharos::ComposeFile> parsed = pharos::parseCompose(text, {});
    CHECK_FALSE(parsed.isOk());
    CHECK(parsed.status().code() == pharos::Code::kInvalidArgument);
  }
}
