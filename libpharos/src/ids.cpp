// Identifier validation (see ids.h).
#include "pharos/ids.h"

#include <string>

namespace pharos {

namespace {
bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Shows an untrusted identifier in an error message: bounded and printable.
std::string quoted(std::string_view id) {
  std::string out = "'";
  for (char c : id.substr(0, 70)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (id.size() > 70) out += "...";
  return out + "'";
}
}  // namespace

const char* idKindName(IdKind kind) {
  switch (kind) {
    case IdKind::kNode:
      return "node";
    case IdKind::kGroup:
      return "group";
    case IdKind::kApp:
      return "app";
    case IdKind::kService:
      return "service";
    case IdKind::kUser:
      return "user";
  }
  return "id";
}

bool isValidId(IdKind kind, std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!isLowerAlnum(id[0])) return false;
  for (char c : id.substr(1)) {
    if (isLowerAlnum(c) || c == '_' || c == '-') continue;
    if (c == '.' && kind != IdKind::kApp) continue;
    return false;
  }
  return true;
}

Status validateId(IdKind kind, std::string_view id, std::string_view field) {
  if (isValidId(kind, id)) return Status::ok();
  std::string pattern =
      kind == IdKind::kApp ? "[a-z0-9][a-z0-9_-]{0,62}" : "[a-z0-9][a-z0-9_.-]{0,62}";
  std::string reason;
  if (id.empty()) {
    reason = "must not be empty";
  } else if (id.size() > 63) {
    reason = "must be at most 63 characters";
  } else {
    reason = "must match " + pattern + ", got " + quoted(id);
  }
  return Status::invalidArgument(std::string(field) + ": " + idKindName(kind) + " name " + reason);
}

}  // namespace pharos
