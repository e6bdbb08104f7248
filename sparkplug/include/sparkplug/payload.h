// Sparkplug B payloads (Eclipse Sparkplug 3.0, chapter 6) as plain values, and their protobuf
// codec (proto/sparkplug_b.proto). Only this codec sees the generated protobuf classes.
//
// Pharos publishes scalar metrics: a value is null, an integer, a floating-point number, a
// boolean or a string, and the metric's DataType says how it travels (Int8..UInt32 in
// int_value, Int64/UInt64/DateTime in long_value, Float, Double, Boolean, String/Text/UUID).
// decodePayload never trusts its input: an oversized, malformed or truncated message is an
// invalid_argument/too_large Status naming what is wrong, never a crash. A metric whose value
// field does not match its datatype decodes with `value_matches_type` false.
//
// Pure functions on value types: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pharos/status.h"

namespace pharos::sparkplug {

// The Sparkplug DataType codes (specification section 6.4.16); the numbers are the wire's.
enum class DataType : uint32_t {
  kUnknown = 0,
  kInt8 = 1,
  kInt16 = 2,
  kInt32 = 3,
  kInt64 = 4,
  kUInt8 = 5,
  kUInt16 = 6,
  kUInt32 = 7,
  kUInt64 = 8,
  kFloat = 9,
  kDouble = 10,
  kBoolean = 11,
  kString = 12,
  kDateTime = 13,
  kText = 14,
  kUuid = 15,
  kDataSet = 16,
  kBytes = 17,
  kFile = 18,
  kTemplate = 19,
};
const char* dataTypeName(DataType type);

// A metric value: null (std::monostate), integer, floating point, boolean or string.
using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;

struct Metric {
  std::string name;
  DataType datatype = DataType::kUnknown;
  Value value;             // std::monostate: is_null
  uint64_t timestamp = 0;  // Unix ms; 0 = absent
  // Decoding only: false when the value field present does not fit `datatype` (or a value
  // kind Pharos does not read, such as a data set, was sent).
  bool value_matches_type = true;
  bool operator==(const Metric&) const = default;
};

struct Payload {
  uint64_t timestamp = 0;  // Unix ms; 0 = absent
  std::optional<uint64_t> seq;
  std::vector<Metric> metrics;
  bool operator==(const Payload&) const = default;
};

// What a received payload may hold at most (commands are small; anything bigger is refused
// before it is parsed).
inline constexpr size_t kMaxCommandBytes = 64 * 1024;
inline constexpr size_t kMaxCommandMetrics = 64;

// Serialises a payload. Every metric is written with its name, datatype and timestamp (when
// set); a null value as is_null.
std::string encodePayload(const Payload& payload);
// Parses a payload of at most `max_bytes` bytes with at most `max_metrics` metrics.
Result<Payload> decodePayload(std::string_view bytes, size_t max_bytes = kMaxCommandBytes,
                              size_t max_metrics = kMaxCommandMetrics);

// Readable form of a value for log lines ("true", "42", "'text'", "null").
std::string describe(const Value& value);

}  // namespace pharos::sparkplug
