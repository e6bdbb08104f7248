// Human-readable rendering of API results: one pure function per result kind (decoded
// result Json in, text out; each command's row in the operation table names its renderer), so the
// output is unit-testable without a broker. Renderers are tolerant: a field the anchor leaves out
// prints as "-", unknown fields are ignored.
// `-o json` bypasses these and prints the raw result. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "cli/table.h"
#include "pharos/group_tree.h"
#include "pharos/json.h"

namespace pharos::cli {

// node.list: NAME HEALTH SINCE LABELS GROUPS (plus a "more" hint when result.next is set).
std::string renderNodeList(const Json& result, const Style& style);
// node.get: fields, labels, groups, device facts and the apps the node runs.
std::string renderNode(const Json& result, const Style& style);
// node.add's agent configuration: result.config (text), else result.agent_config; null if none.
const Json& agentConfig(const Json& result);
// node.add: the enrolled identity and how to give the agent its configuration.
std::string renderNodeAdded(const Json& result, const Style& style);
// group.list: NAME PARENT NODES GROUPS APPS.
std::string renderGroupList(const Json& result, const Style& style);
// group.get: the fields ({name, parents, nodes, groups, apps, ...}), every ancestor path, then
// the subtree drawn like tree(1) (group_tree.h; an older anchor's answer shows one level).
std::string renderGroup(const Json& result, const Style& style);
// The subtree of a decoded group.get result, one line per group ("name/ [apps]") and node.
std::string renderGroupTree(const GroupGetResult& result, const Style& style);
// "plant > line-a > cell" per ancestor path ("; " between paths), "-" for a top-level group.
std::string renderAncestors(const GroupGetResult& result);
// app.list: NAME TARGET REVISION STATE ROLLOUT.
std::string renderAppList(const Json& result, const Style& style);
// app.get: the app, its rollout summary and per-node status.
std::string renderApp(const Json& result, const Style& style);
// app.history: REVISION DEPLOYED BY STATE NOTE.
std::string renderAppHistory(const Json& result, const Style& style);
// events.query: TIME NODE KIND APP SERVICE MESSAGE, oldest first.
std::string renderEvents(const Json& result, const Style& style);
// One event as a line (events --follow).
std::string renderEventLine(std::string_view node, const Json& event, const Style& style);
// nodes/{node}/cmd/logs result: the lines as they are.
std::string renderLogs(const Json& result);
// One health change (nodes ls --watch); an empty/null health means the node was removed.
std::string renderHealthLine(std::string_view node, const Json& health, const Style& style);

// What the command that sends `operation` prints for its result: the renderer of its row in
// pharosctl's operation table (the list/get renderers above, or the confirmation of a change,
// "ok: group line1 created", built from the request body and result); "ok" for an operation
// no command sends. pharosctl itself calls the row's renderer (Invocation::render).
std::string renderDone(std::string_view operation, const Json& request, const Json& result,
                       const Style& style);

// The one-line error message for a failed request ("error: not_found: app 'web' ...",
// with "file:line:column" for compose errors when `source_name` is given).
std::string renderError(const Status& status, std::string_view source_name = {});

// Helpers shared by renderers (exposed for the rollout renderer and tests).
namespace field {
std::string str(const Json& object, const char* key, const std::string& fallback = "-");
int64_t num(const Json& object, const char* key, int64_t fallback = 0);
// A health/state that may be a string or an object with "state".
std::string state(const Json& value);
// "node/x", "group/g" from {target: {node|group}} or {target_kind, target}.
std::string target(const Json& object);
// "k=v,k2=v2" from an object; "-" when empty.
std::string labels(const Json& value);
// "a,b,c" from an array of strings (or of objects with "name"); a count when given a number.
std::string list(const Json& value, size_t max_items = 5);
// The array under the first key of `keys` present, or the result itself when it is an array.
const Json& items(const Json& result, std::initializer_list<const char*> keys);
}  // namespace field

}  // namespace pharos::cli
