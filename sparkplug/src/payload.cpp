// The protobuf adapter of payload.h: the only file that uses the generated classes.
#include "sparkplug/payload.h"

#include <fmt/format.h>

#include <limits>

#include "sparkplug_b.pb.h"

namespace pharos::sparkplug {
namespace {

using PbMetric = pb::Payload::Metric;

enum class Carrier { kInt, kLong, kFloat, kDouble, kBoolean, kString, kNone };

Carrier carrierOf(DataType type) {
  switch (type) {
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kUInt8:
    case DataType::kUInt16:
    case DataType::kUInt32:
      return Carrier::kInt;
    case DataType::kInt64:
    case DataType::kUInt64:
    case DataType::kDateTime:
      return Carrier::kLong;
    case DataType::kFloat:
      return Carrier::kFloat;
    case DataType::kDouble:
      return Carrier::kDouble;
    case DataType::kBoolean:
      return Carrier::kBoolean;
    case DataType::kString:
    case DataType::kText:
    case DataType::kUuid:
      return Carrier::kString;
    default:
      return Carrier::kNone;
  }
}

bool isSigned(DataType type) {
  return type == DataType::kInt8 || type == DataType::kInt16 || type == DataType::kInt32 ||
         type == DataType::kInt64;
}

int64_t asInt(const Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) return static_cast<int64_t>(*d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? 1 : 0;
  return 0;
}

double asDouble(const Value& value) {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  return 0;
}

void encodeMetric(const Metric& in, PbMetric* out) {
  out->set_name(in.name);
  out->set_datatype(static_cast<uint32_t>(in.datatype));
  if (in.timestamp != 0) out->set_timestamp(in.timestamp);
  if (std::holds_alternative<std::monostate>(in.value)) {
    out->set_is_null(true);
    return;
  }
  switch (carrierOf(in.datatype)) {
    case Carrier::kInt:
      // Signed types travel as their two's complement in the uint32 (specification 6.4.16).
      out->set_int_value(static_cast<uint32_t>(asInt(in.value)));
      break;
    case Carrier::kLong:
      out->set_long_value(static_cast<uint64_t>(asInt(in.value)));
      break;
    case Carrier::kFloat:
      out->set_float_value(static_cast<float>(asDouble(in.value)));
      break;
    case Carrier::kDouble:
      out->set_double_value(asDouble(in.value));
      break;
    case Carrier::kBoolean:
      out->set_boolean_value(asInt(in.value) != 0);
      break;
    case Carrier::kString:
      if (const auto* s = std::get_if<std::string>(&in.value)) out->set_string_value(*s);
      break;
    case Carrier::kNone:
      out->set_is_null(true);
      break;
  }
}

Metric decodeMetric(const PbMetric& in) {
  Metric m;
  m.name = in.name();
  m.datatype = static_cast<DataType>(in.datatype());
  m.timestamp = in.timestamp();
  Carrier want = carrierOf(m.datatype);
  bool fits = true;
  switch (in.value_case()) {
    case PbMetric::kIntValue: {
      uint32_t raw = in.int_value();
      if (isSigned(m.datatype)) {
        m.value = static_cast<int64_t>(static_cast<int32_t>(raw));
      } else {
        m.value = static_cast<int64_t>(raw);
      }
      fits = want == Carrier::kInt;
      break;
    }
    case PbMetric::kLongValue: {
      uint64_t raw = in.long_value();
      m.value = static_cast<int64_t>(raw);
      fits = want == Carrier::kLong;
      break;
    }
    case PbMetric::kFloatValue:
      m.value = static_cast<double>(in.float_value());
      fits = want == Carrier::kFloat;
      break;
    case PbMetric::kDoubleValue:
      m.value = in.double_value();
      fits = want == Carrier::kDouble;
      break;
    case PbMetric::kBooleanValue:
      m.value = in.boolean_value();
      // A host may leave the datatype out of a command's boolean (Unknown): still a boolean.
      fits = want == Carrier::kBoolean || m.datatype == DataType::kUnknown;
      if (m.datatype == DataType::kUnknown) m.datatype = DataType::kBoolean;
      break;
    case PbMetric::kStringValue:
      m.value = in.string_value();
      fits = want == Carrier::kString;
      break;
    case PbMetric::kBytesValue:
      fits = false;  // Pharos reads no byte values
      break;
    case PbMetric::VALUE_NOT_SET:
      // Null, or a structured kind (data set, template) this codec keeps as unknown fields.
      fits = in.is_null() && want != Carrier::kNone;
      break;
  }
  m.value_matches_type = fits;
  return m;
}

}  // namespace

const char* dataTypeName(DataType type) {
  static constexpr const char* kNames[] = {"Unknown", "Int8",    "Int16",  "Int32",    "Int64",
                                           "UInt8",   "UInt16",  "UInt32", "UInt64",   "Float",
                                           "Double",  "Boolean", "String", "DateTime", "Text",
                                           "UUID",    "DataSet", "Bytes",  "File",     "Template"};
  auto index = static_cast<uint32_t>(type);
  return index < std::size(kNames) ? kNames[index] : "Unknown";
}

std::string encodePayload(const Payload& payload) {
  pb::Payload out;
  if (payload.timestamp != 0) out.set_timestamp(payload.timestamp);
  if (payload.seq) out.set_seq(*payload.seq);
  for (const auto& metric : payload.metrics) encodeMetric(metric, out.add_metrics());
  return out.SerializeAsString();
}

Result<Payload> decodePayload(std::string_view bytes, size_t max_bytes, size_t max_metrics) {
  if (bytes.size() > max_bytes) {
    return Status::tooLarge(
        fmt::format("payload of {} bytes exceeds the limit of {} bytes", bytes.size(), max_bytes));
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status::tooLarge("payload too large");
  }
  pb::Payload in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::invalidArgument("not a Sparkplug B payload (protobuf parse failed)");
  }
  if (static_cast<size_t>(in.metrics_size()) > max_metrics) {
    return Status::tooLarge(
        fmt::format("{} metrics exceed the limit of {}", in.metrics_size(), max_metrics));
  }
  Payload out;
  out.timestamp = in.timestamp();
  if (in.has_seq()) out.seq = in.seq();
  out.metrics.reserve(static_cast<size_t>(in.metrics_size()));
  for (const auto& metric : in.metrics()) out.metrics.push_back(decodeMetric(metric));
  return out;
}

std::string describe(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const {
      return "'" + (v.size() > 64 ? v.substr(0, 64) + "..." : v) + "'";
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace pharos::sparkplug
