// The desired entries of the reconciler (reconciler.h): one AppRun per app of the effective
// desired set, and whether engine mutation is frozen (node document deleted) and whether the
// set is authoritative (a node document is held). A new entry is parsed once, when offered,
// and left for the app's own pass to adopt at its start. Guarded by the reconciler's mutex.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/reconciler.h"
#include "app_run.h"

namespace pharos::agent {

class AppTable {
 public:
  using Apps = std::map<std::string, std::shared_ptr<AppRun>>;
  using Dropped = std::vector<std::pair<std::string, std::shared_ptr<const ComposeFile>>>;

  // Leaves `desired` for its app's next pass. False when it equals the entry held (nothing to
  // do); `parse_error` is set when its compose does not parse (what runs is kept).
  bool offer(DesiredApp desired, std::string& parse_error);
  // Drops the apps not in `names` (a pass still running for one sees it detached). Returns
  // them with their last parsed compose file (null: none).
  Dropped dropAllBut(const std::set<std::string>& names);
  // At the start of the app's pass: takes the entry offer() left. False when there was none.
  static bool adopt(AppRun& app);

  std::shared_ptr<AppRun> find(const std::string& name) const;
  bool has(const std::string& name) const { return apps_.count(name) > 0; }
  const Apps& all() const { return apps_; }
  // The apps whose current or pending compose uses `image`.
  std::set<std::string> appsUsing(const std::string& image) const;
  std::vector<Reconciler::Observed> observed() const;

  bool frozen() const { return frozen_; }
  void setFrozen(bool frozen) { frozen_ = frozen; }
  bool authoritative() const { return authoritative_; }
  void setAuthoritative(bool authoritative) { authoritative_ = authoritative; }

 private:
  Apps apps_;
  bool frozen_ = false;
  bool authoritative_ = false;
};

}  // namespace pharos::agent
