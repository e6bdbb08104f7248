// Status helpers: wire names of error codes and string forms.
#include "pharos/status.h"

namespace pharos {

namespace {
struct CodeName {
  Code code;
  const char* name;
};
constexpr CodeName kNames[] = {
    {Code::kOk, "ok"},
    {Code::kInvalidArgument, "invalid_argument"},
    {Code::kNotFound, "not_found"},
    {Code::kAlreadyExists, "already_exists"},
    {Code::kConflict, "conflict"},
    {Code::kTooLarge, "too_large"},
    {Code::kUnavailable, "unavailable"},
    {Code::kPermissionDenied, "permission_denied"},
    {Code::kInternal, "internal"},
};
}  // namespace

const char* codeName(Code code) {
  for (const auto& entry : kNames) {
    if (entry.code == code) return entry.name;
  }
  return "internal";
}

Code codeFromName(const std::string& name) {
  for (const auto& entry : kNames) {
    if (name == entry.name) return entry.code;
  }
  return Code::kInternal;
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string out = codeName(code_);
  out += ": ";
  out += message_;
  return out;
}

Status Status::prefixed(const std::string& context) const {
  Status copy = *this;
  if (!copy.isOk()) copy.message_ = context + ": " + message_;
  return copy;
}

}  // namespace pharos
