// The management API server (DESIGN.md section 4): the request envelope on
// api/{user}/{operation}, the caller's role, and an operation table keyed by the ops::
// constants (pharos/api.h) that routes each request to the part that owns it. Answers go to
// the MQTT 5 response topic with its correlation data, or to the MQTT 3.1.1 fallback
// `replyTo` with `correlation` echoed in the body; the reply topic must be under
// replies/{user}/ or the request is dropped (logged), not executed. Oversized requests get
// too_large; a malformed operation name invalid_argument; a viewer's change
// permission_denied (configured viewers, then the broker's roles, cached).
//
// Threading: runs on the anchor's strand; a handler may answer later, on the strand.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "anchor/anchor_config.h"
#include "anchor/broker_admin.h"
#include "anchor/guards.h"
#include "pharos/clock.h"
#include "pharos/json.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

class ApiServer {
 public:
  using Reply = std::function<void(Result<Json>)>;
  using Send = std::function<Status(const MqttMessage&)>;
  // Runs one operation; answers through `reply`, at once or later.
  using Handler = std::function<void(const std::string& user, const Json& body, Reply reply)>;
  // Runs one operation that answers at once.
  using SyncHandler = std::function<Result<Json>(const std::string& user, const Json& body)>;

  ApiServer(const AnchorOptions& config, BrokerAdmin& admin, Clock& clock, Guards& guards,
            Send send);

  // The table's row of `operation` (an ops:: constant); a second row replaces the first.
  void add(std::string_view operation, Handler handler);
  void addSync(std::string_view operation, SyncHandler handler);
  bool has(std::string_view operation) const { return table_.count(operation) > 0; }

  // A request that arrived on api/{user}/{operation} ("" = a malformed operation name).
  void onRequest(const MqttMessage& message, const std::string& user, const std::string& operation);
  // Runs one operation for `user` (the envelope already unwrapped; also used by tests).
  void execute(const std::string& user, const std::string& operation, const Json& body,
               Reply reply);

 private:
  bool isReadOnly(const std::string& operation) const;
  void dispatch(const std::string& user, const std::string& operation, const Json& body,
                Reply reply);

  const AnchorOptions& config_;
  BrokerAdmin& admin_;
  Clock& clock_;
  Guards& guards_;
  Send send_;
  std::map<std::string, Handler, std::less<>> table_;
  std::map<std::string, std::pair<bool, int64_t>> user_roles_;  // user -> (viewer, until)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pharos::anchor
