// The documents an agent holds (DESIGN.md section 2): its node document, the documents of the
// groups that document lists, and its opened secrets, each with the payload it came in (what
// the state file keeps). A document offered here is decoded (secrets opened), refused as a bad
// document, ignored by the epoch/generation rule (desired_set.h shouldApply), applied, or
// deleted (an empty payload); groups the node document stops listing are dropped, and groups
// it newly lists are awaited (the agent applies nothing that removes an app until they arrive
// or their grace passes). What follows from a change — events, the state file, a new
// effective desired state, the registries the engine pulls with — is left to the effects the
// agent wires.
//
// Threading: runs on the agent's strand.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/state_file.h"
#include "pharos/clock.h"
#include "pharos/messages.h"
#include "pharos/status.h"

namespace pharos::agent {

class DesiredDocs {
 public:
  struct Effects {
    // An event (kind, app, reason, message).
    std::function<void(const std::string&, const std::string&, const std::string&,
                       const std::string&)>
        emit;
    std::function<void()> persist;        // the state file holds what persisted() says
    std::function<void()> recompute;      // the effective desired state changed
    std::function<void()> report;         // only the reported state changed (a bad document)
    std::function<void()> groups_listed;  // the node document lists other groups
    std::function<void(const std::vector<pharos::RegistryAuth>&)> registries;
    // Decodes a sealed secrets document and opens it with this device's key pair.
    std::function<Result<SecretsDoc>(const std::string&)> open_secrets;
  };

  DesiredDocs(const Clock& clock, Effects effects) : clock_(clock), effects_(std::move(effects)) {}

  void offerNode(const std::string& payload, bool from_state_file);
  void offerGroup(const std::string& group, const std::string& payload, bool from_state_file);
  void offerSecrets(const std::string& payload, bool from_state_file);

  const std::optional<DesiredDoc>& node() const { return node_doc_; }
  const std::map<std::string, DesiredDoc>& groups() const { return group_docs_; }
  const std::optional<SecretsDoc>& secrets() const { return secrets_; }
  // Source ("node", "group:<name>", "secrets") -> why its last document was refused.
  const std::map<std::string, std::string>& badDocuments() const { return bad_documents_; }
  // Groups the node document lists whose document has not arrived yet, with when they were
  // first listed (the agent drops those whose grace passed).
  std::map<std::string, std::chrono::steady_clock::time_point>& awaiting() {
    return awaiting_groups_;
  }
  // The payloads to keep in the state file (its session is the agent's).
  void persisted(PersistedState& state) const;

 private:
  const Clock& clock_;
  Effects effects_;
  std::optional<DesiredDoc> node_doc_;
  std::optional<std::string> node_raw_;
  std::map<std::string, DesiredDoc> group_docs_;
  std::map<std::string, std::string> group_raw_;
  std::optional<SecretsDoc> secrets_;       // opened, in memory only
  std::optional<std::string> secrets_raw_;  // the sealed document, as persisted
  std::map<std::string, std::chrono::steady_clock::time_point> awaiting_groups_;
  std::map<std::string, std::string> bad_documents_;  // source -> error
};

}  // namespace pharos::agent
