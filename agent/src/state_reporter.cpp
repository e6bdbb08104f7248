// The debounced state report (see state_reporter.h). Strand only.
#include "agent/state_reporter.h"

#include <algorithm>

namespace pharos::agent {

StateReporter::StateReporter(std::shared_ptr<Strand> strand, const Clock& clock, Timing timing,
                             const DesiredDocs& docs, NodePublisher& publisher,
                             Reconciling reconciling)
    : strand_(std::move(strand)),
      clock_(clock),
      timing_(timing),
      docs_(docs),
      publisher_(publisher),
      reconciling_(std::move(reconciling)) {}

StateReporter::~StateReporter() {
  *alive_ = false;
  stop();
}

void StateReporter::stop() {
  stopped_ = true;
  if (timer_) strand_->cancel(timer_);
  timer_ = 0;
}

void StateReporter::schedule() {
  if (stopped_) return;
  if (timer_armed_) {
    if (!held_since_) return;
    // A change while a report waits for the reconciler (every pass ends with one): look
    // again after the settle time instead of at the end of the hold.
    strand_->cancel(timer_);
  }
  // Quiet since the last publish: report soon. Else wait out the rest of the debounce window.
  auto delay = std::min(timing_.settle, timing_.debounce);
  if (last_publish_) {
    auto since =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steadyNow() - *last_publish_);
    if (since < timing_.debounce) delay = std::max(delay, timing_.debounce - since);
  }
  arm(delay);
}

void StateReporter::arm(std::chrono::milliseconds delay) {
  std::weak_ptr<bool> alive = alive_;
  timer_armed_ = true;
  timer_ = strand_->postDelayed(delay, [this, alive] {
    auto a = alive.lock();
    if (!a || !*a) return;
    timer_armed_ = false;
    timer_ = 0;
    if (!hold()) publish(false);
  });
}

bool StateReporter::hold() {
  auto now = clock_.steadyNow();
  if (!reconciling_.working()) {
    held_since_.reset();
    return false;
  }
  if (!held_since_) held_since_ = now;
  auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - *held_since_);
  if (held >= timing_.hold) {
    held_since_.reset();
    return false;
  }
  // Until the hold runs out; the reconciler's next change notification comes sooner.
  arm(timing_.hold - held);
  return true;
}

void StateReporter::publish(bool force) {
  NodeState st;
  const auto& node_doc = docs_.node();
  const auto& secrets = docs_.secrets();
  if (node_doc) st.applied.push_back(DocRef{"node", node_doc->epoch, node_doc->generation});
  for (const auto& [group, doc] : docs_.groups()) {
    st.applied.push_back(DocRef{"group:" + group, doc.epoch, doc.generation});
  }
  if (secrets) st.applied.push_back(DocRef{"secrets", secrets->epoch, secrets->generation});
  st.apps = reconciling_.apps();
  Json body = encode(st);
  // Extension fields (decoders ignore unknown fields): refused documents and the freeze.
  if (!docs_.badDocuments().empty()) {
    Json bad = Json::array();
    for (const auto& [source, error] : docs_.badDocuments()) {
      bad.push_back({{"source", source}, {"error", error}});
    }
    body["bad_documents"] = bad;
  }
  if (!node_doc) body["frozen"] = true;
  std::string compare = dumpJson(body);
  st.ts = clock_.nowMs();
  body["ts"] = st.ts;
  last_state_ = st;
  if (!force && compare == last_json_) return;
  if (!publisher_.online()) return;  // published on (re)connect
  Status s = publisher_.state(dumpJson(body));
  if (s.isOk()) last_json_ = compare;
  last_publish_ = clock_.steadyNow();
}

}  // namespace pharos::agent
