// Helpers shared by the command rows (command_tree.h): usage errors, KEY=VALUE lists,
// targets, input files, confirmations and the builders several commands share.
#include <fmt/format.h>

#include "cli/render.h"
#include "command_tree.h"

namespace pharos::cli {

Status usage(std::string message) { return Status::invalidArgument(std::move(message)); }

Status buildName(const ParsedValues& v, const ParseInputs&, Invocation& inv) {
  inv.body = encode(NameRequest{v.name});
  return Status::ok();
}

Status buildList(const ParsedValues& v, const ParseInputs&, Invocation& inv) {
  ListRequest r;
  if (v.limit > 0) r.limit = v.limit;
  r.cursor = v.cursor;
  inv.paginate = v.limit == 0 && v.cursor.empty();
  inv.body = encode(r);
  return Status::ok();
}

Result<std::map<std::string, std::string>> assignments(const std::vector<std::string>& items,
                                                       const char* what) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto kv = parseAssignment(item, what);
    if (!kv) return kv.status();
    out[kv->first] = kv->second;
  }
  return out;
}

Result<Target> target(const ParsedValues& v) {
  if (!v.node.empty() && !v.group.empty()) return usage("give either --node or --group, not both");
  if (v.node.empty() && v.group.empty())
    return usage("a target is required: --node N or --group G");
  if (!v.node.empty()) return Target{Target::Kind::kNode, v.node};
  return Target{Target::Kind::kGroup, v.group};
}

Result<std::string> readInput(const ParseInputs& in, const std::string& path) {
  if (path == "-") {
    if (!in.read_stdin) return usage("cannot read standard input");
    return in.read_stdin();
  }
  if (!in.read_file) return usage("cannot read " + path);
  auto text = in.read_file(path);
  if (!text) return usage(fmt::format("cannot read {}: {}", path, text.status().message()));
  return text;
}

std::string done(const Style& style, const std::string& what) {
  return fmt::format("{}: {}\n", paint(style, Color::kGreen, "ok"), what);
}

}  // namespace pharos::cli
