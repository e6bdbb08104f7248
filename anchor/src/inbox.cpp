// MessageInbox (inbox.h): a mutex-guarded queue with a "drain pending" flag.
#include "anchor/inbox.h"

namespace pharos::anchor {

bool MessageInbox::push(NodeMessage message) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(message));
  if (drain_pending_) return false;
  drain_pending_ = true;
  return true;
}

bool MessageInbox::takeBatch(size_t max, std::vector<NodeMessage>& out) {
  out.clear();
  std::lock_guard lock(mu_);
  while (!queue_.empty() && out.size() < max) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  drain_pending_ = !queue_.empty();
  return drain_pending_;
}

size_t MessageInbox::size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace pharos::anchor
