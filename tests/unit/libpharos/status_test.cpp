// Status / Result behaviour and the JSON adapter's field-naming errors.
#include "pharos/status.h"

#include <doctest/doctest.h>

#include "pharos/json.h"

using namespace pharos;

TEST_CASE("codes round-trip through their wire names") {
  for (auto code :
       {Code::kInvalidArgument, Code::kNotFound, Code::kAlreadyExists, Code::kConflict,
        Code::kTooLarge, Code::kUnavailable, Code::kPermissionDenied, Code::kInternal}) {
    CHECK(codeFromName(codeName(code)) == code);
  }
  CHECK(codeFromName("nonsense") == Code::kInternal);
}

TEST_CASE("a Result holds a value or an error") {
  Result<int> good = 3;
  CHECK(good.isOk());
  CHECK(*good == 3);
  Result<int> bad = Status::notFound("node 'x'");
  CHECK_FALSE(bad.isOk());
  CHECK(bad.status().toString() == "not_found: node 'x'");
}

TEST_CASE("parseJson refuses oversized, deep and malformed text") {
  CHECK(parseJson(std::string(100, ' '), 10).status().code() == Code::kTooLarge);
  CHECK(parseJson(std::string(1000, '['), 4096, 64).status().code() == Code::kInvalidArgument);
  CHECK_FALSE(parseJson("{\"a\":").isOk());
  CHECK(parseJson("{\"a\":\"[[[[\"}", 4096, 2).isOk());
}

TEST_CASE("JsonReader names the field path of the first error") {
  auto json = parseJson(R"({"v":1,"name":3,"n":"x"})");
  REQUIRE(json.isOk());
  JsonReader r(*json, "request");
  r.version();
  (void)r.str("name");
  (void)r.i64("n");
  CHECK(r.status().message() == "request.name: must be a string");
  CHECK(r.status().path() == "request.name");
  JsonReader missing(*json, "");
  (void)missing.str("other");
  CHECK(missing.status().message() == "other: is required");
  CHECK(missing.status().path() == "other");
  const Json v2 = Json{{"v", 2}};  // JsonReader keeps a reference: the object must outlive it
  JsonReader wrong_version(v2, "");
  wrong_version.version();
  CHECK_FALSE(wrong_version.ok());
}

TEST_CASE("JsonReader refuses integers it cannot hold instead of converting them") {
  auto json = parseJson(R"({"big":1e300,"huge":18446744073709551615,"ok":42.0,"neg":-7})");
  REQUIRE(json.isOk());
  JsonReader r(*json, "");
  CHECK(r.i64("ok") == 42);
  CHECK(r.i64("neg") == -7);
  CHECK(r.ok());
  (void)r.i64("big");
  CHECK_FALSE(r.ok());
  JsonReader r2(*json, "");
  (void)r2.i64("huge");
  CHECK(r2.status().message() == "huge: is out of range");
}
