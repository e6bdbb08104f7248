// Renders a list of events (newest first): time, severity, node (or the user of an audit
// entry), kind, app/service, reason. Shared by the node view and the events view.
// Main thread only.
import { h, replace, formatTime } from 'pharos/dom.js';

const kBadKinds = /died|failed|crash|conflict|bad_document|error|oom|silent/;
const kWarnKinds = /restarted|recreated|removed|pruned|key_changed|pending|rekey|remove/;
const kDownStates = new Set(['NotReady', 'Unreachable']);

// 'error' | 'warning' | 'info' for an event: failures and a node going down are errors;
// restarts, repairs and removals warnings; the rest (audit entries, pulls, applies) info.
export function severityOf(e) {
  const kind = e.kind || '';
  if (kind === 'health_changed') {
    if (kDownStates.has(e.reason)) return 'error';
    return e.reason === 'Pending' ? 'warning' : 'info';
  }
  if (kBadKinds.test(kind)) return 'error';
  if (kWarnKinds.test(kind)) return 'warning';
  return 'info';
}

// A key that identifies one event whether it came live or from events.query; an entry of
// the anchor's log carries its `seq`, which tells apart entries alike within one millisecond.
export function eventKey(e) {
  return [e.node, e.ts, e.seq ?? '', e.kind, e.app || '', e.service || '', e.reason || ''].join('|');
}

const kSameEventMs = 3000;
function signature(e) {
  return [e.node || '', e.kind, e.app || '', e.service || '', e.reason || '', e.message || ''].join('|');
}

// Where an event came from: the live feed (the store marks those `live`; an agent's live
// event also has no `source`) or the anchor's log (events.query, which sets `source`).
function originOf(e) {
  return e.live || !e.source ? 'live' : 'log';
}

// Adds `list` to `events` (a Map keyed by eventKey) unless the same event is there already:
// the anchor's log stamps an agent's event with its own clock, so the copy that
// events.query returns differs from the live one only by a few milliseconds. Only a live
// event and a log entry are matched that way: two log entries alike (the same audit call
// made twice in a second) are two events. Returns the keys added.
export function mergeEvents(events, list) {
  const bySignature = new Map();
  for (const e of events.values()) {
    const sig = signature(e);
    if (!bySignature.has(sig)) bySignature.set(sig, []);
    bySignature.get(sig).push({ ts: e.ts || 0, origin: originOf(e) });
  }
  const added = [];
  for (const e of list) {
    if (!e) continue;
    const key = eventKey(e);
    if (events.has(key)) continue;
    const sig = signature(e);
    const origin = originOf(e);
    const seen = bySignature.get(sig) || [];
    if (seen.some((s) => s.origin !== origin && Math.abs(s.ts - (e.ts || 0)) < kSameEventMs)) continue;
    events.set(key, e);
    seen.push({ ts: e.ts || 0, origin });
    bySignature.set(sig, seen);
    added.push(key);
  }
  return added;
}

export function renderEvents(host, events, { showNode = true, limit = 200, fresh = new Set() } = {}) {
  const sorted = [...events].sort((a, b) => (b.ts || 0) - (a.ts || 0)).slice(0, limit);
  if (sorted.length === 0) {
    replace(host, h('div', { class: 'empty' }, 'No events yet.'));
    return;
  }
  replace(host, sorted.map((e) => h('div', {
    class: 'event-row' + (fresh.has(eventKey(e)) ? ' new' : ''),
    dataset: { node: e.node || '', kind: e.kind || '', app: e.app || '', severity: severityOf(e), reason: e.reason || '' },
  },
  h('span', { class: 'muted mono' }, formatTime(e.ts)),
  h('span', { class: `sev sev-${severityOf(e)}` }, severityOf(e)),
  showNode ? (e.node ? h('a', { href: `#/nodes/${encodeURIComponent(e.node)}` }, e.node) : h('span', { class: 'muted' }, e.user ? `by ${e.user}` : '–'))
    : h('span', {}, e.service || ''),
  h('span', { class: 'kind' + (severityOf(e) === 'error' ? ' bad-text' : '') }, e.kind || 'event'),
  h('span', {}, e.app ? h('strong', {}, `${e.app}${showNode && e.service ? '/' + e.service : ''} `) : null,
    h('span', { class: 'muted' }, [e.reason, e.message].filter(Boolean).join(' — '))))));
}
