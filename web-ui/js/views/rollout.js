// Rollout presentation: the stage of one target node (pending → pulling → starting →
// running / failed / NotReady), combining the anchor's rollout summary with the node's own
// reported phase, and the stacked progress bar of a whole rollout. Main thread only.
import { h } from 'pharos/dom.js';
import { healthOf } from 'pharos/store.js';

// The stage to show for `entry` ({node, status, message}) of `summary`.
export function nodeStage(store, summary, entry) {
  const node = store.nodes.get(entry.node);
  if (entry.status === 'notready' || (node && healthOf(node).state !== 'Ready' && entry.status !== 'running')) {
    return { stage: 'NotReady', message: entry.message || (node ? healthOf(node).reason : '') };
  }
  if (entry.status === 'running') return { stage: 'running', message: entry.message || '' };
  if (entry.status === 'failed') return { stage: 'failed', message: entry.message || '' };
  const apps = node && node.state && Array.isArray(node.state.apps) ? node.state.apps : [];
  const app = apps.find((a) => a.name === summary.app);
  if (app && app.revision === summary.revision) {
    const phase = { Pulling: 'pulling', Starting: 'starting', Running: 'running', Failed: 'failed', CrashLoop: 'failed' }[app.phase];
    if (phase) return { stage: phase, message: app.message || entry.message || '' };
  }
  return { stage: entry.status === 'applied' ? 'starting' : 'pending', message: entry.message || '' };
}

// 'complete' | 'failed' | 'in-progress' for a summary.
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
    (summary.notready ? ` · ${summary.notready} not ready` : '');
  return h('div', { class: 'rollout-cell', dataset: { outcome: rolloutOutcome(summary) } }, bar, h('span', { class: 'sub' }, text));
}
