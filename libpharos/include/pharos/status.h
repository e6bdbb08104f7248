// Errors as values: Status carries a stable error code and a message that names the field,
// Result<T> carries either a value or a Status. Codes match the API's wire error codes
// (DESIGN.md section 4). Plain value types: safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pharos {

enum class Code {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kTooLarge,
  kUnavailable,
  kPermissionDenied,
  kInternal,
};

// The wire name of a code ("invalid_argument", ...).
const char* codeName(Code code);
// Parses a wire name; unknown names map to kInternal.
Code codeFromName(const std::string& name);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status invalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status notFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status alreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status tooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status permissionDenied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: services.web.image: must be a string"
  std::string toString() const;

  // Position in a source text (compose YAML), when the error has one. 1-based; 0 = unknown.
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& path() const { return path_; }
  Status& withPosition(int line, int column) {
    line_ = line;
    column_ = column;
    return *this;
  }
  Status& withPath(std::string path) {
    path_ = std::move(path);
    return *this;
  }
  // Returns a copy whose message is prefixed with "context: ".
  Status prefixed(const std::string& context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string path_;
  int line_ = 0;
  int column_ = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.isOk()) status_ = Status::internal("Result constructed from an ok Status");
  }

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace pharos

// Early return of a non-ok Status from a function returning Status or Result<T>.
#define PHAROS_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::pharos::Status pharos_status_ = (expr);          \
    if (!pharos_status_.isOk()) return pharos_status_; \
  } while (0)
