// Apps view: every app (app.list) with its target, revision and live rollout counts (the
// retained apps/{app}/rollout summaries), and its actions. A removed app is listed as
// removed, with only its history and "Deploy again"; the list is read again when a node
// reports an app removed or applied, so another operator's change shows too. Main thread only.
import { h, replace, itemsOf, errorText, badge, formatTime } from 'pharos/dom.js';
import { actionButtons } from 'pharos/views/app_actions.js';
import { rolloutBar, reportedSummary } from 'pharos/views/rollout.js';

function targetText(app, rollout) {
  const t = app.target || {};
  if (t.node) return `node ${t.node}`;
  if (t.group) return `group ${t.group}`;
  if (rollout && rollout.target) return `${rollout.target_kind || ''} ${rollout.target}`;
  return '–';
}

export function mount(ctx, host) {
  const { store, conn } = ctx;
  let apps = [];
  let listed = false;  // app.list answered: only its apps are rows (a summary alone may be stale)
  const status = h('span', { class: 'muted', id: 'apps-status' });
  const body = h('tbody', {});
  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, 'Apps'), status,
      h('div', { class: 'actions' }, h('button', { class: 'primary', disabled: !ctx.canWrite, onclick: () => ctx.navigate('#/deploy') }, 'Deploy an app'))),
    h('div', { class: 'panel table-scroll' }, h('table', { class: 'data', id: 'apps-table' },
      h('thead', {}, h('tr', {}, ['App', 'Target', 'Revision', 'Rollout', ''].map((t) => h('th', {}, t)))),
      body)));

  function render() {
    // Before app.list answers, the retained rollout summaries show what is deployed; after,
    // app.list is the list: a summary of an app the anchor no longer knows (its clearing not
    // yet arrived) is not shown as a live app with its actions.
    const names = new Set([...apps.map((a) => a.name), ...(listed ? [] : store.rollouts.keys())]);
    const byName = new Map(apps.map((a) => [a.name, a]));
    status.textContent = `${names.size} app(s)`;
    if (names.size === 0) {
      replace(body, h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No apps deployed yet.')));
      return;
    }
    replace(body, [...names].sort().map((name) => {
      const app = byName.get(name) || { name };
      const rollout = store.rollouts.get(name) || (app.rollout ? { ...app.rollout, revision: app.revision } : null);
      const removed = app.state === 'removed';
      return h('tr', { class: removed ? 'removed' : '', dataset: { app: name, state: app.state || '' } },
        h('td', {}, h('a', { href: `#/apps/${encodeURIComponent(name)}` }, h('strong', {}, name)),
          removed ? [' ', badge('removed', 'muted')] :
            app.state && app.state !== 'running' ? h('span', { class: 'muted' }, ` (${app.state})`) : null),
        h('td', {}, targetText(app, rollout)),
        h('td', {}, String(app.revision || (rollout && rollout.revision) || '–')),
        h('td', { style: { minWidth: '220px' } }, removed ? h('span', { class: 'muted' }, app.updated ? `removed ${formatTime(app.updated)}` : 'removed') :
          rollout ? rolloutBar(reportedSummary(store, rollout), true) : h('span', { class: 'muted' }, 'no rollout yet')),
        h('td', { class: 'actions' }, actionButtons(ctx, name, load, app.state)));
    }));
  }

  async function load() {
    try {
      apps = itemsOf(await conn.request('app.list', { limit: 1000 }), 'apps');
      listed = true;
    } catch (err) {
      status.textContent = `app.list failed: ${errorText(err)}`;
    }
    render();
    status.dataset.loaded = 'true';
  }

  const unsubscribe = store.subscribe((changes) => {
    if (changes.events.some((e) => e.app && (e.kind === 'app_removed' || e.kind === 'app_applied'))) load();
    else if (changes.rollouts.size) render();
  });
  render();
  load();
  return { dispose: unsubscribe };
}
