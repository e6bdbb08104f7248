// Codec pieces the request files share (api_requests.cpp, api_registry.cpp): the `target`
// field and the version stamp.
#pragma once

#include "messages_util.h"
#include "pharos/api.h"

namespace pharos::api_codec {

// `target`: exactly one of {"node": id} or {"group": id} (messages_util.h).
using codec::decodeTarget;
using codec::encodeTarget;
// `body` with "v": 1.
Json withV(Json body);

}  // namespace pharos::api_codec
