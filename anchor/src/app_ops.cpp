// app.* and events.query operations (app_ops.h). Runs on the anchor's strand.
#include "anchor/app_ops.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <regex>

#include "anchor/rollout_history.h"
#include "anchor/staged_rollouts.h"
#include "pharos/api.h"
#include "pharos/compose.h"
#include "pharos/log.h"
#include "pharos/node_variables.h"

namespace pharos::anchor {

namespace {

Json mapJson(const std::map<std::string, std::string>& m) {
  Json out = Json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

Status appNotFound(const std::string& name) {
  return Status::notFound("name: no app named '" + name + "'").withPath("name");
}

// What a deploy or rollback answers about the staged rollout it started.
Json rolloutResult(const AppRollout& r) {
  return Json{{"phase", phaseName(r.state.phase)},
              {"wave", r.state.wave + 1},
              {"waves", r.state.strategy.waves.size()},
              {"previous_revision", r.state.previous_revision}};
}

// A change of an app while its staged rollout runs would leave the rollout's two revisions
// undefined: promote or abort it first.
Status checkNotRollingOut(const AppRecord* app) {
  if (!app || !app->rollingOut()) return Status::ok();
  const RolloutState& st = app->rollout->state;
  return Status::conflict(fmt::format(
      "app '{}' has a staged rollout of revision {} in progress (wave {} of {}, {}): promote or "
      "abort it first (pharosctl rollout promote|abort {})",
      app->name, st.revision, st.wave + 1, st.strategy.waves.size(), phaseName(st.phase),
      app->name));
}

}  // namespace

Status AppOps::validateCompose(const std::string& compose, const Target& target,
                               const std::map<std::string, std::string>& variables,
                               const std::map<std::string, std::string>& secrets) {
  // The variables the agent will run the file with (node_variables.h): for a node target,
  // its real id and labels; for a group, a placeholder for every PHAROS_ variable the file
  // mentions, over what the deploy request gives.
  Variables vars;
  if (target.kind == Target::Kind::kNode) {
    std::map<std::string, std::string> info_labels;
    std::map<std::string, std::string> labels;
    if (const NodeRecord* node = ctx_.reg.findNode(target.name)) {
      if (node->info.is_object() && node->info.contains("labels") &&
          node->info["labels"].is_object()) {
        for (auto& [k, v] : node->info["labels"].items()) {
          if (v.is_string()) info_labels[k] = v.get<std::string>();
        }
      }
      labels = node->labels;
    }
    vars = appVariables(target.name, info_labels, labels, variables, secrets);
  } else {
    vars = appVariables("placeholder", {}, {}, variables, secrets);
    static const std::regex kPharosVar("PHAROS_[A-Z0-9_]+");
    for (auto it = std::sregex_iterator(compose.begin(), compose.end(), kPharosVar);
         it != std::sregex_iterator(); ++it) {
      if (isNodeVariable(it->str())) {
        vars[it->str()] = "placeholder";
      } else {
        vars.emplace(it->str(), "placeholder");
      }
    }
  }
  auto parsed = parseCompose(compose, vars);
  if (!parsed) {
    Status s = parsed.status();
    return Status(s.code(), "compose: " + s.message())
        .withPath(s.path().empty() ? "compose" : s.path())
        .withPosition(s.line(), s.column());
  }
  return Status::ok();
}

Status AppOps::stageRevision(Txn& txn, const AppRecord& app, const std::string& user,
                             const std::string& note, int64_t previous_revision) {
  RevisionRecord rev;
  rev.revision = app.revision;
  rev.target = app.target;
  rev.compose = app.compose;
  rev.variables = app.variables;
  rev.ts = ctx_.clock.nowMs();
  rev.user = user;
  rev.note = note;
  txn.extra().put(keys::rev(app.name, app.revision), dumpJson(toJson(rev)));
  if (app.revision > ctx_.config.max_revisions) {
    txn.extra().del(keys::rev(app.name, app.revision - ctx_.config.max_revisions));
  }
  RolloutRecord rollout;
  if (app.rollout) {
    rollout = stagedRecord(app.rollout->state, user, rev.ts);
  } else {
    rollout.revision = app.revision;
    rollout.previous_revision = previous_revision;
    rollout.user = user;
    rollout.started = rev.ts;
  }
  return RolloutHistory(ctx_.store, ctx_.config.max_rollouts).begin(txn.extra(), app.name, rollout);
}

Result<Json> AppOps::deploy(const std::string& user, const Json& body) {
  auto req = decodeAppDeploy(body);
  if (!req) return req.status();
  PHAROS_RETURN_IF_ERROR(checkTarget(ctx_.reg, req->target));
  auto strategy = parseRequestStrategy(req->strategy, req->target, ctx_.reg);
  if (!strategy) return strategy.status();
  // A copy: the record is replaced below.
  std::optional<AppRecord> current;
  if (const AppRecord* found = ctx_.reg.findApp(req->name)) current = *found;
  const AppRecord* cur = current ? &*current : nullptr;
  PHAROS_RETURN_IF_ERROR(checkNotRollingOut(cur));
  if (*strategy && cur && cur->state != DesiredState::kRemoved && !(cur->target == req->target)) {
    return Status::invalidArgument(
               "strategy: a staged rollout keeps the app's target; move it without a strategy")
        .withPath("strategy");
  }
  if (cur && cur->target.kind == Target::Kind::kNode) {
    const NodeRecord* n = ctx_.reg.findNode(cur->target.name);
    if (n && n->registration == Registration::kRemoving && cur->target == req->target) {
      return Status::conflict("target.node: node '" + n->name + "' is being removed");
    }
  }
  bool secrets_given = body.contains("secrets");
  std::map<std::string, std::string> secrets;
  if (secrets_given) {
    secrets = req->secrets;
  } else if (const auto* s = ctx_.reg.findSecrets(req->name)) {
    secrets = *s;
  }
  PHAROS_RETURN_IF_ERROR(validateCompose(req->compose, req->target, req->variables, secrets));
  const auto* old_secrets = ctx_.reg.findSecrets(req->name);
  bool secrets_changed =
      secrets_given &&
      secrets != (old_secrets ? *old_secrets : std::map<std::string, std::string>());
  bool same_spec = cur && cur->state != DesiredState::kRemoved && cur->target == req->target &&
                   cur->compose == req->compose && cur->variables == req->variables;
  if (same_spec && !secrets_changed) {
    return Json{{"name", req->name},
                {"revision", cur->revision},
                {"target", toJson(cur->target)},
                {"changed", false}};
  }
  Txn txn(ctx_.reg);
  AppRecord next;
  if (cur) {
    next = *cur;
  } else {
    next.name = req->name;
    next.created = ctx_.clock.nowMs();
  }
  bool moved = cur && !(cur->target == req->target);
  if (!same_spec) {
    next.revision = cur ? cur->nextRevision() : 1;
    next.top_revision = next.revision;
    next.target = req->target;
    next.compose = req->compose;
    next.variables = req->variables;
    next.state = DesiredState::kRunning;  // a deploy runs the app (also after stop or remove)
    next.volumes = VolumePolicy::kKeep;
  }
  next.updated = ctx_.clock.nowMs();
  if (!same_spec) {
    next.rollout.reset();
    if (*strategy)
      beginRollout(next, cur, std::move(**strategy), ctx_.reg, ctx_.config.site_time_zone,
                   ctx_.clock.nowMs());
  }
  std::string new_doc = targetDocKey(next.target);
  txn.putApp(next);
  txn.eraseTomb(new_doc, next.name);
  if (secrets_given) txn.setSecrets(next.name, secrets);
  // The new target first, then the tombstone on the old one (published in touch order).
  txn.docs().touchAppTarget(next.target, next.name);
  if (moved) {
    bool overlap = cur->target.kind == Target::Kind::kNode &&
                   ctx_.reg.relations().targetNodes(next.target).count(cur->target.name);
    if (!overlap) {
      AppSpec tomb = toAppSpec(*cur);
      tomb.state = DesiredState::kRemoved;
      txn.putTomb(targetDocKey(cur->target), std::move(tomb));
    }
    txn.docs().touchAppTarget(cur->target, next.name);
    ctx_.rollouts.mark(next.name);
  }
  if (!same_spec) {
    int64_t previous = cur && cur->state != DesiredState::kRemoved ? cur->revision : 0;
    PHAROS_RETURN_IF_ERROR(stageRevision(
        txn, next, user,
        std::string(moved ? "deploy (moved)" : "deploy") + (next.rollout ? " (staged)" : ""),
        previous));
  }
  ctx_.audit(txn.extra(), user, "app.deploy", "", next.name,
             fmt::format("revision {} to {} {}{}", next.revision, targetKindName(next.target.kind),
                         next.target.name, next.rollout ? " (staged)" : ""));
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  ctx_.rollouts.mark(next.name);
  ctx_.rollouts.schedule();
  if (next.rollout && ctx_.staged) ctx_.staged->schedule();
  Json out{{"name", next.name},
           {"revision", next.revision},
           {"target", toJson(next.target)},
           {"changed", true}};
  if (next.rollout) out["rollout"] = rolloutResult(*next.rollout);
  return out;
}

Result<Json> AppOps::remove(const std::string& user, const Json& body) {
  auto req = decodeAppRemove(body);
  if (!req) return req.status();
  const AppRecord* cur = ctx_.reg.findApp(req->name);
  if (!cur) return appNotFound(req->name);
  if (cur->state == DesiredState::kRemoved && cur->volumes == req->volumes) {
    return Json{{"name", cur->name},
                {"revision", cur->revision},
                {"state", toWire(DesiredState::kRemoved)}};
  }
  Txn txn(ctx_.reg);
  AppRecord* app = txn.app(req->name);
  if (app->rollingOut()) {
    // The rollout ends with the app: no wave of a removed app.
    RolloutPlan plan(app->rollout->state);
    (void)plan.abort(ctx_.clock.nowMs());
    app->rollout->state = plan.state();
    app->rollout->state.reason = "the app was removed";
    PHAROS_RETURN_IF_ERROR(
        RolloutHistory(ctx_.store, ctx_.config.max_rollouts)
            .update(txn.extra(), app->name, app->rollout->state, ctx_.clock.nowMs()));
  }
  if (app->rollout) app->rollout->staged.reset();
  app->state = DesiredState::kRemoved;
  app->volumes = req->volumes;
  app->updated = ctx_.clock.nowMs();
  txn.docs().touchAppTarget(app->target, app->name);
  ctx_.audit(txn.extra(), user, "app.remove", "", req->name,
             std::string("volumes ") + toWire(req->volumes));
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  ctx_.rollouts.mark(req->name);
  ctx_.rollouts.schedule();
  return Json{{"name", req->name},
              {"revision", ctx_.reg.findApp(req->name)->revision},
              {"state", toWire(DesiredState::kRemoved)}};
}

Result<Json> AppOps::setState(const std::string& user, const std::string& operation,
                              const Json& body) {
  auto req = operation == ops::kAppStart  ? decodeAppStart(body)
             : operation == ops::kAppStop ? decodeAppStop(body)
                                          : decodeAppRestart(body);
  if (!req) return req.status();
  const AppRecord* cur = ctx_.reg.findApp(req->name);
  if (!cur) return appNotFound(req->name);
  if (cur->state == DesiredState::kRemoved) {
    return Status::conflict("app '" + req->name + "' is removed; deploy it again");
  }
  PHAROS_RETURN_IF_ERROR(checkNotRollingOut(cur));
  DesiredState state = operation == ops::kAppStop ? DesiredState::kStopped : DesiredState::kRunning;
  bool restart = operation == ops::kAppRestart;
  if (!restart && cur->state == state) {
    return Json{{"name", req->name}, {"state", toWire(state)}, {"changed", false}};
  }
  Txn txn(ctx_.reg);
  AppRecord* app = txn.app(req->name);
  app->state = state;
  if (restart) app->restart += 1;
  app->updated = ctx_.clock.nowMs();
  txn.docs().touchAppTarget(app->target, app->name);
  ctx_.audit(txn.extra(), user, operation, "", req->name, "");
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  ctx_.rollouts.mark(req->name);
  ctx_.rollouts.schedule();
  const AppRecord* now = ctx_.reg.findApp(req->name);
  return Json{{"name", req->name},
              {"state", toWire(now->state)},
              {"restart", now->restart},
              {"changed", true}};
}

Result<Json> AppOps::list(const Json& body) {
  auto req = decodeAppList(body);
  if (!req) return req.status();
  Json apps = Json::array();
  std::string next;
  const auto& all = ctx_.reg.apps();
  for (auto it = req->cursor.empty() ? all.begin() : all.upper_bound(req->cursor); it != all.end();
       ++it) {
    if (static_cast<int>(apps.size()) == req->limit) {
      next = apps.back()["name"].get<std::string>();
      break;
    }
    const AppRecord& app = it->second;
    RolloutSummary r = ctx_.rollouts.current(app);
    apps.push_back(Json{{"name", app.name},
                        {"target", toJson(app.target)},
                        {"revision", app.revision},
                        {"state", toWire(app.state)},
                        {"updated", app.updated},
                        {"rollout", Json{{"total", r.total},
                                         {"pending", r.pending},
                                         {"applied", r.applied},
                                         {"running", r.running},
                                         {"failed", r.failed},
                                         {"notready", r.notready}}}});
  }
  Json out{{"apps", std::move(apps)}};
  if (!next.empty()) out["next"] = next;
  return out;
}

Result<Json> AppOps::get(const Json& body) {
  auto req = decodeAppGet(body);
  if (!req) return req.status();
  const AppRecord* app = ctx_.reg.findApp(req->name);
  if (!app) return appNotFound(req->name);
  Json secret_names = Json::array();
  if (const auto* s = ctx_.reg.findSecrets(app->name)) {
    for (const auto& [k, v] : *s) secret_names.push_back(k);  // names only, never values
  }
  Json rollout = encode(ctx_.rollouts.current(*app));
  rollout.erase("v");
  return Json{{"name", app->name},         {"target", toJson(app->target)},
              {"revision", app->revision}, {"state", toWire(app->state)},
              {"restart", app->restart},   {"volumes", toWire(app->volumes)},
              {"compose", app->compose},   {"variables", mapJson(app->variables)},
              {"secrets", secret_names},   {"created", app->created},
              {"updated", app->updated},   {"rollout", std::move(rollout)}};
}

Result<Json> AppOps::history(const Json& body) {
  auto req = decodeAppHistory(body);
  if (!req) return req.status();
  const AppRecord* app = ctx_.reg.findApp(req->name);
  if (!app) return appNotFound(req->name);
  RolloutHistory rollouts(ctx_.store, ctx_.config.max_rollouts);
  auto result = appHistory(ctx_.store, rollouts, *app);
  if (!result) return result.status();
  return encode(*result);
}

Result<Json> AppOps::rollback(const std::string& user, const Json& body) {
  auto req = decodeAppRollback(body);
  if (!req) return req.status();
  const AppRecord* cur = ctx_.reg.findApp(req->name);
  if (!cur) return appNotFound(req->name);
  if (cur->state == DesiredState::kRemoved) {
    return Status::conflict("app '" + req->name + "' is removed; deploy it again");
  }
  PHAROS_RETURN_IF_ERROR(checkNotRollingOut(cur));
  auto strategy = parseRequestStrategy(req->strategy, cur->target, ctx_.reg);
  if (!strategy) return strategy.status();
  if (req->revision == cur->revision) {
    return Status::conflict(fmt::format("revision: app '{}' is at revision {} already", req->name,
                                        cur->revision))
        .withPath("revision");
  }
  auto stored = ctx_.store.get(keys::rev(req->name, req->revision));
  if (!stored) return stored.status();
  if (!stored->has_value()) {
    return Status::notFound(fmt::format("revision: app '{}' has no revision {} (kept: the last {})",
                                        req->name, req->revision, ctx_.config.max_revisions))
        .withPath("revision");
  }
  auto json = parseJson(**stored, size_t{8} << 20);
  if (!json) return Status::internal("stored revision: " + json.status().message());
  auto rev = revisionRecordFromJson(*json);
  if (!rev) return Status::internal("stored revision: " + rev.status().message());
  const auto* secrets = ctx_.reg.findSecrets(req->name);
  PHAROS_RETURN_IF_ERROR(
      validateCompose(rev->compose, cur->target, rev->variables,
                      secrets ? *secrets : std::map<std::string, std::string>()));
  AppRecord before = *cur;
  Txn txn(ctx_.reg);
  AppRecord* app = txn.app(req->name);
  app->revision = before.nextRevision();
  app->top_revision = app->revision;
  app->compose = rev->compose;
  app->variables = rev->variables;
  app->updated = ctx_.clock.nowMs();
  app->rollout.reset();
  if (*strategy)
    beginRollout(*app, &before, std::move(**strategy), ctx_.reg, ctx_.config.site_time_zone,
                 app->updated);
  txn.docs().touchAppTarget(app->target, app->name);
  PHAROS_RETURN_IF_ERROR(
      stageRevision(txn, *app, user,
                    fmt::format("rollback to {}{}", req->revision, app->rollout ? " (staged)" : ""),
                    before.revision));
  ctx_.audit(txn.extra(), user, "app.rollback", "", req->name,
             fmt::format("to revision {} as {}{}", req->revision, app->revision,
                         app->rollout ? " (staged)" : ""));
  PHAROS_RETURN_IF_ERROR(ctx_.publisher.commit(txn));
  ctx_.rollouts.mark(req->name);
  ctx_.rollouts.schedule();
  const AppRecord* now = ctx_.reg.findApp(req->name);
  if (now->rollout && ctx_.staged) ctx_.staged->schedule();
  Json out{{"name", now->name}, {"revision", now->revision}, {"from", req->revision}};
  if (now->rollout) out["rollout"] = rolloutResult(*now->rollout);
  return out;
}

Result<Json> AppOps::eventsQuery(const Json& body) {
  auto req = decodeEventsQuery(body);
  if (!req) return req.status();
  EventFilter filter;
  filter.node = req->node;
  filter.app = req->app;
  filter.kind = req->kind;
  filter.since = req->since;
  filter.until = req->until;
  filter.limit = req->limit;
  auto events = ctx_.events.query(filter);
  if (!events) return events.status();
  Json out = Json::array();
  for (auto& e : *events) out.push_back(std::move(e));
  return Json{{"events", std::move(out)}};
}

}  // namespace pharos::anchor
