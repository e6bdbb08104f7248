// Identifier validation: node, group, app, service and user names all match
// [a-z0-9][a-z0-9_.-]{0,62}; app names also exclude '.' (compose project names drop it).
// Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "pharos/status.h"

namespace pharos {

enum class IdKind { kNode, kGroup, kApp, kService, kUser };

const char* idKindName(IdKind kind);

// Ok when `id` is a valid identifier of `kind`; otherwise invalid_argument naming `field`
// and the reason ("target.node: must match [a-z0-9][a-z0-9_.-]{0,62}, got 'Web!'").
Status validateId(IdKind kind, std::string_view id, std::string_view field);

bool isValidId(IdKind kind, std::string_view id);

}  // namespace pharos
