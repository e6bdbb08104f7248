// Reads a broker's identities and sends what brings them in line (identity_reconciler.h).
// Runs on the anchor's strand.
#include "anchor/identity_reconciler.h"

#include <map>
#include <vector>

namespace pharos::anchor {

namespace {
constexpr int kListPage = 100;
}  // namespace

struct IdentityReconciler::Run {
  std::string topic;
  std::function<IdentityPlan()> plan;
  Done done;
  Placed placed;
  std::vector<DynsecClient> clients;
  std::map<std::string, Json> roles;
  DynsecGroups groups;
};

void IdentityReconciler::run(const std::string& topic, std::function<IdentityPlan()> plan,
                             Done done, Placed placed) {
  auto run = std::make_shared<Run>();
  run->topic = topic;
  run->plan = std::move(plan);
  run->done = std::move(done);
  run->placed = std::move(placed);
  auto client = [run](const Json& c) {
    if (!c.contains("username") || !c["username"].is_string()) return;
    run->clients.push_back(DynsecClient{c["username"].get<std::string>(),
                                        dynsecNames(c, "roles", "rolename"),
                                        dynsecNames(c, "groups", "groupname")});
  };
  auto role = [run](const Json& r) {
    if (!r.contains("rolename") || !r["rolename"].is_string()) return;
    run->roles[r["rolename"].get<std::string>()] = r.contains("acls") ? r["acls"] : Json::array();
  };
  auto group = [run](const Json& g) {
    if (!g.contains("groupname") || !g["groupname"].is_string()) return;
    run->groups[g["groupname"].get<std::string>()] =
        DynsecGroup{dynsecNames(g, "roles", "rolename"), dynsecNames(g, "clients", "username")};
  };
  // Roles before groups before clients: an account created between the reads (its role is
  // created first, then its client) then shows as a client whose role is already there,
  // never as an orphan role.
  readList(
      run, "listRoles", "roles", role,
      [this, run, group, client] {
        readList(
            run, "listGroups", "groups", group,
            [this, run, client] {
              readList(
                  run, "listClients", "clients", client, [this, run] { apply(run); }, 0);
            },
            0);
      },
      0);
}

// Reads every entry of a dynamic-security list (listClients, listRoles, listGroups), kListPage at a
// time: `item` sees each entry of data.<key>, then `next` runs (or `run->done` fails).
void IdentityReconciler::readList(std::shared_ptr<Run> run, const char* command, const char* key,
                                  std::function<void(const Json&)> item, std::function<void()> next,
                                  int offset) {
  auto got = std::make_shared<int>(0);
  Json commands = Json::array(
      {Json{{"command", command}, {"verbose", true}, {"count", kListPage}, {"offset", offset}}});
  channel_.send(
      std::move(commands), {0},
      [this, run, command, key, item, next, offset, got](Status status) {
        if (!status.isOk()) return run->done(status);
        if (*got < kListPage) return next();
        readList(run, command, key, item, next, offset + kListPage);
      },
      [key, item, got](const Json& r) {
        const Json* list = dynsecDataList(r, key);
        if (!list) return;
        for (const auto& entry : *list) {
          ++*got;
          if (entry.is_object()) item(entry);
        }
      },
      run->topic);
}

void IdentityReconciler::apply(std::shared_ptr<Run> run) {
  IdentityReport report;
  IdentityPlan plan = run->plan();
  Placements placed;
  std::vector<Json> commands =
      identityCommands(run->clients, run->roles, run->groups, plan, &report, &placed);
  if (run->placed && plan.group_rights == GroupRights::kBrokerGroups) run->placed(placed);
  if (commands.empty()) return run->done(report);
  std::vector<Json> parts = channel_.batches(std::move(commands));
  auto left = std::make_shared<size_t>(parts.size());
  auto failed = std::make_shared<Status>();
  for (Json& batch : parts) {
    std::set<int> checked;
    for (size_t j = 0; j < batch.size(); ++j) {
      // A duplicate or missing ACL is harmless; a role or membership that fails is not.
      std::string c = batch[j]["command"];
      if (c == "createRole" || c == "addClientRole" || c == "createGroup" || c == "modifyRole" ||
          c == "modifyGroup") {
        checked.insert(static_cast<int>(j));
      }
    }
    channel_.send(
        std::move(batch), std::move(checked),
        [run, left, failed, report](Status status) {
          if (!status.isOk() && failed->isOk()) *failed = status;
          if (--*left > 0) return;
          if (!failed->isOk()) return run->done(*failed);
          run->done(report);
        },
        nullptr, run->topic);
  }
}

}  // namespace pharos::anchor
