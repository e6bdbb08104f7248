// BrokerAdmin: the anchor's seam to the broker's identity store (DESIGN.md section 6: what
// is Mosquitto-specific sits behind small named adapters). The Mosquitto implementation
// sends dynamic-security commands on $CONTROL/dynamic-security/v1 over the anchor's own
// MQTT link (and, for agents of a line broker, on pharos/v1/lines/<line>/control/..., which
// the line's bridge imports as that broker's $CONTROL topic): one client (username = client id =
// node id) and one role agent-<node> per device, whose ACLs allow exactly the device's own
// topics. At the site, a node reads the desired documents of its groups as a member of the
// broker groups group-<g> (group_rights.h); on a line broker, through read ACLs in its role.
// Membership changes are queued and sent in batches (Mosquitto 2.0.11 rewrites its whole JSON
// file after every command and kicks clients whose rights changed).
//
// Threading: every method and every callback runs on the anchor's strand (the anchor
// routes admin responses to onMessage on that strand).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anchor/agent_config.h"
#include "anchor/broker_acls.h"
#include "anchor/dynsec_channel.h"
#include "anchor/group_memberships.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

// What the broker knows about an API user (its roles and groups).
struct BrokerUser {
  bool found = false;  // false: the identity store does not list this user
  std::set<std::string> roles;
  std::set<std::string> groups;
  // A viewer: in the `viewers` group or holding a viewer-<user> role (broker-config/README.md).
  bool isViewer() const;
};

// Broker accounts share one namespace (docs/security.md "One namespace for broker
// accounts"): a name is a node, an operator, a viewer, a line bridge or a system account
// (the anchor, mosquitto_ctrl's admin), never two of them, and no kind replaces another.
enum class AccountKind { kNone, kNode, kOperator, kViewer, kBridge, kSystem, kUnknown };
const char* accountKindName(AccountKind kind);
// The kind a name is reserved for whatever the broker holds: `anchor` and `admin` are system
// accounts, `bridge-<line>` the bridge of line <line>; kNone for any other name.
AccountKind reservedAccountKind(std::string_view name);
// The kind of an existing account from its roles and groups (kNone when !user.found).
AccountKind accountKindOf(std::string_view name, const BrokerUser& user);
// already_exists naming the kind when `name` cannot be a node (reserved, or the broker holds
// it as another kind of account); ok otherwise.
Status checkNodeName(std::string_view name, AccountKind existing);

class BrokerAdmin {
 public:
  using CreateDone = std::function<void(Result<AgentCredentials>)>;
  using Done = std::function<void(Status)>;
  using UserDone = std::function<void(Result<BrokerUser>)>;

  virtual ~BrokerAdmin() = default;

  // Creates the device's identity with a new password (replacing a previous identity of the
  // same node) and read access to the desired documents of `groups`. A name that is reserved
  // or held by another kind of account is refused (already_exists, checkNodeName) and nothing
  // changes.
  virtual void createNode(const std::string& node, const std::set<std::string>& groups,
                          CreateDone done) = 0;
  // Deletes the device's client and role (the broker disconnects it). An account of another
  // kind under that name is left alone (already_exists).
  virtual void deleteNode(const std::string& node, Done done) = 0;
  // The groups whose desired documents a node may read changed. Queued and batched: a few
  // changes of one group are one membership command each, bulk ones go out in paced steps
  // (group_rights.h, group_memberships.h).
  virtual void updateNodeGroups(const std::string& node, const std::set<std::string>& added,
                                const std::set<std::string>& removed) = 0;
  // Sends the queued updateNodeGroups changes that may go now (all of them unless a bulk
  // change is being paced). Mosquitto applies a dynamic-security command when it reads it, so
  // a node document published after this call on the same connection reaches the agent only
  // once it may read the groups the document lists (its subscription is not refused). A node
  // whose change waits for its step is disconnected by the broker when the step goes out, and
  // subscribes again when it reconnects.
  virtual void flushNodeGroups() {}
  // A node whose identity lives on line broker `line` (docs/levels.md "Group rights on line
  // brokers"): makes the group ACLs of its role agent-<node> there exactly `groups`, through
  // the control topic that line's bridge imports (topics::lineControl). The admin reads the
  // role first and sends only the difference, one round per line at a time, so a call is
  // idempotent and cheap to repeat (the anchor repeats it whenever the bridge connects).
  virtual void syncLineNodeGroups(const std::string& line, const std::string& node,
                                  const std::set<std::string>& groups) = 0;
  // Gives every node, operator, viewer and bridge identity of the site broker exactly the role
  // and ACLs of this release (identityCommands in broker_acls.h): reads the identities
  // (paged), asks `plan` for the registry's view at that moment, and sends the difference in
  // batches. Run at start only (Mosquitto rewrites its file per command and kicks the clients
  // whose rights changed); a broker already in line costs three reads and no write.
  using IdentityDone = std::function<void(Result<IdentityReport>)>;
  virtual void reconcileIdentities(std::function<IdentityPlan()> plan, IdentityDone done) {
    (void)plan;
    done(IdentityReport{});
  }
  // The same for line broker `line`, through the control topic its bridge imports
  // (topics::lineControl), after the group-rights round in progress on that line.
  virtual void reconcileLineIdentities(const std::string& line, std::function<IdentityPlan()> plan,
                                       IdentityDone done) {
    (void)line;
    (void)plan;
    done(IdentityReport{});
  }
  // A node that connected through line broker `line` now connects elsewhere: its identity
  // there (client and role agent-<node>) is deleted through that line's control topic, so a
  // node's identity lives only on the broker it connects through.
  virtual void removeLineNode(const std::string& line, const std::string& node) {
    (void)line;
    (void)node;
  }
  // Looks up an API user's roles and groups (viewers may only call read operations).
  virtual void lookupUser(const std::string& user, UserDone done) = 0;
  // Topic filters the admin needs the anchor to subscribe to and route to onMessage.
  virtual std::vector<std::string> subscriptions() const = 0;
  virtual void onMessage(const MqttMessage& message) = 0;
};

struct MosquittoAdminOptions {
  std::string agent_broker_url = "tcp://127.0.0.1:1883";  // written into agent configs
  std::string agent_ca_file;                   // the site CA's path on devices (tls_ca), "" = none
  std::chrono::milliseconds timeout{10'000};   // per command message
  std::chrono::milliseconds batch_delay{100};  // ACL changes are coalesced
  size_t max_commands_per_message = 200;
  MembershipPacing membership_pacing;  // how fast bulk membership changes go out
  // After a membership batch got no answer: the wait before the broker's memberships are
  // reconciled with the registry again (and again, until that succeeds).
  std::chrono::seconds membership_repair_delay{30};
};

// `link` and `strand` must outlive the admin.
std::unique_ptr<BrokerAdmin> makeMosquittoBrokerAdmin(MqttLink& link, Executor& strand,
                                                      const Clock& clock,
                                                      MosquittoAdminOptions options);

// A random password (32 characters of [A-Za-z0-9]).
std::string generatePassword();
// The role name of a device ("agent-<node>").
std::string agentRoleName(const std::string& node);

}  // namespace pharos::anchor
