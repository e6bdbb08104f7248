// The metrics.query request body (api.h, docs/metrics.md).
#include "messages_util.h"
#include "pharos/api.h"

namespace pharos {

Json encode(const MetricsQueryRequest& req) {
  Json out{{"v", 1}, {"node", req.node}};
  if (req.from > 0) out["from"] = req.from;
  if (req.to > 0) out["to"] = req.to;
  if (req.step > 0) out["step"] = req.step;
  if (!req.app.empty()) out["app"] = req.app;
  return out;
}

Result<MetricsQueryRequest> decodeMetricsQuery(const Json& body) {
  codec::Reader r(body, "");
  MetricsQueryRequest out;
  out.node = codec::id(r, "node", IdKind::kNode);
  out.from = codec::i64In(r, "from", 0, INT64_MAX, 0);
  out.to = codec::i64In(r, "to", 0, INT64_MAX, 0);
  out.step = codec::i32In(r, "step", 1, kMaxMetricsStepSeconds, 0);
  out.app = codec::optId(r, "app", IdKind::kApp);
  if (r.ok() && out.to > 0 && out.from > out.to) {
    r.fail(Status::invalidArgument("from: later than to").withPath("from"));
  }
  return codec::finish(r, std::move(out));
}

}  // namespace pharos
