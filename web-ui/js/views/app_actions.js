// The operations on one app (start, stop, restart, remove, history with how each revision was
// rolled out, and rollback), with their confirmations, shared by the apps list and the app view. A removed app (the
// anchor's tombstone, state "removed") keeps only its history and "Deploy again": the anchor
// refuses start, stop, restart and rollback of it); one the anchor no longer knows (dropped
// once every node removed it) has none. Main thread only.
import { h, toast, errorText, confirmAction, dialog, formatTime, badge } from 'pharos/dom.js';
import { itemsOf } from 'pharos/dom.js';
import { historyRollout } from 'pharos/views/staged_panel.js';

async function run(ctx, op, body, done) {
  try {
    await ctx.conn.request(op, body);
    toast(done, 'ok');
    return true;
  } catch (err) {
    toast(`${op} failed: ${errorText(err)}`, 'error');
    return false;
  }
}

export async function startApp(ctx, name) {
  return run(ctx, 'app.start', { name }, `${name}: start requested`);
}

export async function stopApp(ctx, name) {
  if (!(await confirmAction(`Stop ${name}?`, 'Its containers are stopped on every target node.', 'Stop', true))) return false;
  return run(ctx, 'app.stop', { name }, `${name}: stop requested`);
}

export async function restartApp(ctx, name) {
  return run(ctx, 'app.restart', { name }, `${name}: restart requested`);
}

export async function removeApp(ctx, name) {
  const volumes = h('input', { type: 'checkbox', id: 'remove-volumes' });
  const ok = await dialog(`Remove ${name}?`,
    h('div', {}, h('p', {}, 'The app\'s containers are removed from every target node.'),
      h('label', { style: { flexDirection: 'row', alignItems: 'center', gap: '8px' } }, volumes, 'Also delete its named volumes')),
    [{ label: 'Cancel', value: false }, { label: 'Remove', value: true, class: 'danger' }]);
  if (!ok) return false;
  return run(ctx, 'app.remove', { name, volumes: volumes.checked ? 'delete' : 'keep' }, `${name}: removal requested`);
}

export async function showHistory(ctx, name, { removed = false } = {}) {
  let revisions;
  try {
    revisions = itemsOf(await ctx.conn.request('app.history', { name }), 'revisions', 'history');
  } catch (err) {
    toast(`app.history failed: ${errorText(err)}`, 'error');
    return;
  }
  const sorted = [...revisions].sort((a, b) => (b.revision || 0) - (a.revision || 0));
  const flagged = sorted.find((r) => r.current === true);
  const current = flagged ? flagged.revision : sorted.length ? sorted[0].revision : 0;
  const rows = sorted.map((r) => [r, historyRollout(r.rollout)]).map(([r, rollout]) => h('tr', {},
    h('td', {}, `rev ${r.revision}`, r.revision === current ? [' ', badge('current', 'info')] : null),
    h('td', {}, formatTime(r.ts || r.created || r.deployed_at)),
    h('td', {}, r.user || r.by || ''),
    h('td', { class: 'muted' }, r.note || ''),
    h('td', {}, r.target ? Object.entries(r.target).map(([k, v]) => `${k} ${v}`).join('') : ''),
    h('td', { class: 'history-rollout', dataset: { kind: (r.rollout && r.rollout.kind) || '', phase: (r.rollout && r.rollout.phase) || '' } },
      rollout.text ? badge(rollout.text, rollout.kind) : ''),
    h('td', { class: 'actions' }, r.revision !== current ? h('button', {
      disabled: !ctx.canWrite || removed, title: removed ? 'The app is removed: deploy it again first' : null,
      onclick: async () => {
        if (await run(ctx, 'app.rollback', { name, revision: r.revision }, `${name}: rolling back to revision ${r.revision}`)) {
          document.querySelector('.overlay')?.remove();
          ctx.navigate(`#/apps/${encodeURIComponent(name)}`);
        }
      },
    }, 'Roll back to this') : null)));
  await dialog(`History of ${name}`, sorted.length === 0 ? h('p', { class: 'muted' }, 'No revisions.') :
    h('table', { class: 'data', id: 'history-table' },
      h('thead', {}, h('tr', {}, ['Revision', 'Deployed', 'By', 'Note', 'Target', 'Rollout', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows)));
}

// The row of buttons for one app in `state` (app.list / app.get's state; 'gone' when the
// anchor no longer knows the app: removed and dropped by every node; undefined while not
// known yet).
export function actionButtons(ctx, name, after = () => {}, state = undefined) {
  const gone = state === 'gone';
  const removed = state === 'removed' || gone;
  const b = (label, fn, cls = '') => {
    const history = label === 'History';
    return h('button', {
      class: cls, dataset: { action: label.toLowerCase() },
      disabled: history ? gone : !ctx.canWrite || removed,
      title: removed && !history ? 'The app is removed' : null,
      onclick: async (e) => { e.stopPropagation(); if (await fn(ctx, name, { removed })) after(); },
    }, label);
  };
  return [
    b('Start', startApp), b('Stop', stopApp), b('Restart', restartApp),
    h('button', { disabled: !ctx.canWrite || gone, dataset: { action: 'update' }, onclick: () => ctx.navigate(`#/deploy/${encodeURIComponent(name)}`) },
      removed ? 'Deploy again' : 'Update'),
    b('History', showHistory), b('Remove', removeApp, 'danger'),
  ];
}
