// pharosctl's operation table (cli/src/command_tree.h): every row is complete, every API
// operation has a command, and every row sends an operation the anchor knows.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <set>
#include <string>

#include "cli/render.h"
#include "command_tree.h"
#include "pharos/agent_commands.h"
#include "pharos/api.h"

using namespace pharos;
using namespace pharos::cli;

TEST_CASE("every command row has a builder and a renderer and sends a known operation") {
  ParsedValues values;
  CommandTree tree = buildCommandTree(values);
  REQUIRE_FALSE(tree.rows.empty());
  std::set<std::string> sent;
  for (const auto& [app, row] : tree.rows) {
    CAPTURE(app->get_name());
    CHECK(static_cast<bool>(row->build));
    CHECK(static_cast<bool>(row->render));
    if (row->mode == Mode::kAgentCommand) {
      CHECK(
          (row->operation == agent_commands::kLogs || row->operation == agent_commands::kInspect));
    } else {
      CHECK(row->mode == Mode::kRequest);
      CHECK(isKnownOperation(row->operation));
    }
    sent.insert(std::string(row->operation));
  }
  for (std::string_view op : apiOperations()) {
    CAPTURE(op);
    CHECK(sent.count(std::string(op)) == 1);
  }
}

TEST_CASE("a command's confirmation comes from its row") {
  Style plain;
  CHECK(renderDone(ops::kNodeApprove, {{"name", "n1"}}, nullptr, plain) ==
        "ok: node n1 approved\n");
  CHECK(renderDone(ops::kAppRemove, {{"name", "web"}}, nullptr, plain) == "ok: app web removed\n");
  CHECK(renderDone("no.such", {{"name", "web"}}, nullptr, plain) == "ok\n");
}
