// Internal to the Docker clients: lenient readers over the engine's JSON documents (a
// missing or mistyped field reads as empty/zero, never throws) and the document -> typed
// struct conversions shared by the real and the fake client. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/docker_client.h"

namespace pharos::agent {

std::string jsonStr(const Json& j, const char* key);
int64_t jsonInt(const Json& j, const char* key);
uint64_t jsonU64(const Json& j, const char* key);
bool jsonBool(const Json& j, const char* key);
// The member, or a null value when missing / `j` is not an object.
const Json& jsonObj(const Json& j, const char* key);
Labels jsonLabels(const Json& j);
std::vector<std::string> jsonStrings(const Json& j);

ImageInfo imageInfoFromJson(Json raw);
ContainerSummary containerSummaryFromJson(const Json& raw);
NetworkInfo networkInfoFromJson(Json raw);
VolumeInfo volumeInfoFromJson(Json raw);

// {"label": [...]} for a filters= query parameter (empty object when no filters).
Json labelFilterJson(const std::vector<std::string>& label_filters);
// Whether `labels` satisfy every "key" / "key=value" filter.
bool labelsMatch(const Labels& labels, const std::vector<std::string>& label_filters);

}  // namespace pharos::agent
