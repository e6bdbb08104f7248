// Rollout presentation: the stage of one target node (pending → pulling → starting →
// running / failed) and the stacked progress bar of a whole rollout.
//
// A stage is computed from what the node reported (its retained state document: the app's
// revision and phase), not from the node's current health: a node that ran the revision and
// then went down still ran it, so a completed rollout stays completed. Such a node is
// flagged `down` on its own line ("last reported …"). The anchor's per-node status fills in
// where the node's report is not in the store. Main thread only.
import { h } from 'pharos/dom.js';
import { healthOf } from 'pharos/store.js';
import { isDown, stateFreshness } from 'pharos/freshness.js';

const kPhaseStage = {
  Pending: 'pending', Pulling: 'pulling', Starting: 'starting', Running: 'running',
  Degraded: 'degraded', Failed: 'failed', CrashLoop: 'failed', Stopped: 'stopped', Removing: 'removing',
};
const kAnchorStage = { running: 'running', failed: 'failed', applied: 'starting', pending: 'pending' };

// {stage, message, down, downText, at} for `entry` ({node, status, message}) of `summary`.
export function nodeStage(store, summary, entry) {
  const node = store.nodes.get(entry.node);
  const down = node ? isDown(node) : entry.status === 'notready';
  const health = node ? healthOf(node) : null;
  const downText = down ? `node ${health ? health.state : 'NotReady'}${health && health.reason ? ` (${health.reason})` : ''}` : '';
  const apps = node && node.state && Array.isArray(node.state.apps) ? node.state.apps : [];
  const app = apps.find((a) => a.name === summary.app);
  const at = node ? stateFreshness(node).at : 0;
  if (app && app.revision === summary.revision && kPhaseStage[app.phase]) {
    return { stage: kPhaseStage[app.phase], message: app.message || entry.message || '', down, downText, at };
  }
  if (kAnchorStage[entry.status]) {
    return { stage: kAnchorStage[entry.status], message: entry.message || '', down, downText, at };
  }
  return { stage: 'pending', message: entry.message || '', down, downText, at };
}

// The summary's counts recomputed from the nodes' reports ({...summary, running, failed,
// applied, pending, notready: 0, down}); a summary whose node list the anchor truncated keeps
// its own counts.
export function reportedSummary(store, summary) {
  if (!summary || summary.truncated || !Array.isArray(summary.nodes)) return summary;
  const counts = { running: 0, failed: 0, applied: 0, pending: 0, notready: 0, down: 0 };
  for (const entry of summary.nodes) {
    const { stage, down } = nodeStage(store, summary, entry);
    if (down) counts.down += 1;
    if (stage === 'running' || stage === 'stopped') counts.running += 1;
    else if (stage === 'failed') counts.failed += 1;
    else if (stage === 'pending') counts.pending += 1;
    else counts.applied += 1;
  }
  return { ...summary, ...counts, total: summary.nodes.length };
}

// 'complete' | 'failed' | 'in-progress' for a summary (best passed through reportedSummary).
export function rolloutOutcome(summary) {
  const ready = (summary.total || 0) - (summary.notready || 0);
  if ((summary.failed || 0) > 0) return 'failed';
  if (ready > 0 && (summary.running || 0) >= ready) return 'complete';
  return 'in-progress';
}

export function rolloutBar(summary, compact = false) {
  const total = Math.max(1, summary.total || 0);
  const parts = [
    ['running', summary.running || 0],
    ['failed', summary.failed || 0],
    ['progress', summary.applied || 0],
    ['pending', summary.pending || 0],
    ['notready', summary.notready || 0],
  ];
  const bar = h('div', { class: 'rollout-bar', style: compact ? { margin: '4px 0' } : {} },
    parts.filter(([, n]) => n > 0).map(([k, n]) => h('span', { class: `seg-${k}`, style: { width: `${(100 * n) / total}%` }, title: `${n} ${k}` })));
  const text = `${summary.running || 0}/${summary.total || 0} running` +
    (summary.failed ? ` · ${summary.failed} failed` : '') +
    (summary.notready ? ` · ${summary.notready} not ready` : '') +
    (summary.down ? ` · ${summary.down} down now` : '');
  return h('div', { class: 'rollout-cell', dataset: { outcome: rolloutOutcome(summary) } }, bar, h('span', { class: 'sub' }, text));
}
