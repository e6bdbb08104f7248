// The Sparkplug B payload codec: round trips of every datatype Pharos writes, bytes fixed by
// the specification's field numbers, and the inputs that must be refused.
#include "sparkplug/payload.h"

#include <doctest/doctest.h>

using namespace pharos::sparkplug;

namespace {
Metric metric(std::string name, DataType type, Value value) {
  return Metric{std::move(name), type, std::move(value), 1700000000123, true};
}
}  // namespace

TEST_CASE("every scalar datatype survives encode and decode") {
  Payload p;
  p.timestamp = 1700000000000;
  p.seq = 255;
  p.metrics = {metric("a/int32", DataType::kInt32, int64_t{-5}),
               metric("a/uint32", DataType::kUInt32, int64_t{4000000000}),
               metric("a/int64", DataType::kInt64, int64_t{-1234567890123}),
               metric("a/uint64", DataType::kUInt64, int64_t{1} << 40),
               metric("a/datetime", DataType::kDateTime, int64_t{1700000000999}),
               metric("a/double", DataType::kDouble, 12.5),
               metric("a/float", DataType::kFloat, 0.25),
               metric("a/bool", DataType::kBoolean, true),
               metric("a/string", DataType::kString, std::string("Ready")),
               metric("a/null", DataType::kString, std::monostate{})};
  auto decoded = decodePayload(encodePayload(p), 1 << 20, 100);
  REQUIRE(decoded);
  CHECK(*decoded == p);
}

TEST_CASE("field numbers are the specification's") {
  // timestamp = 1 (varint 1), seq = 3 (varint 2): 08 01 18 02.
  auto p = decodePayload(std::string("\x08\x01\x18\x02", 4));
  REQUIRE(p);
  CHECK(p->timestamp == 1);
  CHECK(p->seq == 2u);
  // One metric (field 2): name = 1 "x", datatype = 4 (11, Boolean), boolean_value = 14 true.
  const std::string metric_bytes("\x0a\x01x\x20\x0b\x70\x01", 7);
  auto m = decodePayload(std::string("\x12\x07", 2) + metric_bytes);
  REQUIRE(m);
  REQUIRE(m->metrics.size() == 1);
  CHECK(m->metrics[0].name == "x");
  CHECK(m->metrics[0].datatype == DataType::kBoolean);
  CHECK(m->metrics[0].value == Value(true));
  CHECK(m->metrics[0].value_matches_type);
  Payload out;
  out.metrics.push_back(Metric{"x", DataType::kBoolean, true, 0, true});
  CHECK(encodePayload(out) == std::string("\x12\x07", 2) + metric_bytes);
}

TEST_CASE("a value that does not fit its datatype is flagged") {
  Payload p;
  p.metrics.push_back(metric("x", DataType::kBoolean, true));
  std::string bytes = encodePayload(p);
  // Rewrite the datatype byte (0x20 0x0b) to String (12): a boolean value under String.
  auto at = bytes.find(std::string("\x20\x0b", 2));
  REQUIRE(at != std::string::npos);
  bytes[at + 1] = 0x0c;
  auto d = decodePayload(bytes);
  REQUIRE(d);
  CHECK_FALSE(d->metrics[0].value_matches_type);
}

TEST_CASE("bad payloads are refused, never a crash") {
  CHECK(decodePayload(std::string("\xff\xff\xff", 3)).status().code() ==
        pharos::Code::kInvalidArgument);
  CHECK(decodePayload(std::string("\x12\x05\x0a", 3)).status().code() ==
        pharos::Code::kInvalidArgument);  // truncated metric
  CHECK(decodePayload(std::string(kMaxCommandBytes + 1, '\0')).status().code() ==
        pharos::Code::kTooLarge);
  Payload many;
  for (size_t i = 0; i <= kMaxCommandMetrics; ++i) {
    many.metrics.push_back(metric("m", DataType::kBoolean, true));
  }
  CHECK(decodePayload(encodePayload(many)).status().code() == pharos::Code::kTooLarge);
  auto empty = decodePayload("");
  REQUIRE(empty);
  CHECK(empty->metrics.empty());
}
