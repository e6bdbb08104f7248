// Node view: device facts, a live CPU/memory chart, the node's apps with per-service
// container state, health, restart count and exit code, and its recent events (the
// anchor's events.query backfill plus live events). While the node is NotReady or
// Unreachable its apps and metrics are marked "last reported …"; metrics older than their
// period show their age. The chart opens with the anchor's stored history and the health
// transitions are listed below the apps (node_history.js). Operators approve a Pending node, remove it and edit its labels
// here (node_admin.js), and remove the registry credentials set on it (registry_panel.js).
// Main thread only.
import { h, replace, badge, chip, since, formatBytes, itemsOf } from 'pharos/dom.js';
import { healthOf, groupsOf, memPercent } from 'pharos/store.js';
import { metricsFreshness, stateFreshness, ageElement, refreshAges } from 'pharos/freshness.js';
import { labelEditor, nodeActions } from 'pharos/views/node_admin.js';
import { usagePanel, healthPanel } from 'pharos/views/node_history.js';
import { showLogs } from 'pharos/views/log_viewer.js';
import { registryPanel } from 'pharos/views/registry_panel.js';
import { renderEvents, mergeEvents } from 'pharos/views/event_list.js';

function usage(c) {
  if (!c) return '–';
  return `${(c.cpu_percent || 0).toFixed(1)}% · ${formatBytes(c.mem_bytes)}`;
}

// The label editor is rebuilt only when the labels change, so a metrics message arriving
// while the operator types does not wipe the field.
function labelField(ctx, node, labelCache) {
  const device = (node.info && node.info.labels) || {};
  const operator = (node.desired && node.desired.labels) || {};
  const key = JSON.stringify([node.name, device, operator, ctx.canWrite]);
  if (labelCache.key !== key) {
    labelCache.key = key;
    labelCache.el = labelEditor(ctx, node.name, device, operator);
  }
  return labelCache.el;
}

function facts(ctx, node, labelCache) {
  const info = node.info || {};
  const m = node.metrics || {};
  const mf = metricsFreshness(node);
  const rows = [
    ['Hostname', info.hostname],
    ['OS / arch', [info.os, info.arch].filter(Boolean).join(' / ')],
    ['Kernel', info.kernel],
    ['Agent', info.agent_version],
    ['Docker', info.docker_version ? `${info.docker_version} (API ${info.docker_api || '?'})` : ''],
    ['CPUs', info.cpus],
    ['Memory', info.memory_bytes ? formatBytes(info.memory_bytes) : ''],
    ['Disk', m.disk_total ? `${formatBytes(m.disk_used)} used of ${formatBytes(m.disk_total)}` : formatBytes(info.disk_bytes)],
    ['Load', m.load1 !== undefined ? h('span', { class: mf.stale ? 'stale' : '' }, `${(m.load1 || 0).toFixed(2)} · ${(m.load5 || 0).toFixed(2)} · ${(m.load15 || 0).toFixed(2)}`,
      mf.stale ? ageElement('span', { class: 'age' }, mf.at) : null) : ''],
    ['Addresses', (info.addresses || []).join(', ')],
    ['Broker', info.broker],
    ['Labels', labelField(ctx, node, labelCache)],
    ['Groups', groupsOf(node).length ? h('div', { class: 'member-chips' }, groupsOf(node).map((g) => chip(g, 'chip-group'))) : ''],
    ['Session', node.status ? String(node.status.session || '') : ''],
  ];
  return h('dl', { class: 'facts', id: 'node-facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === '' || v === null ? '–' : v)]));
}

function containerMetrics(node, app, service) {
  const list = (node.metrics && Array.isArray(node.metrics.containers)) ? node.metrics.containers : [];
  return list.find((c) => c.app === app && c.service === service);
}

function appsTable(ctx, node) {
  const apps = (node.state && Array.isArray(node.state.apps)) ? node.state.apps : [];
  const fresh = stateFreshness(node);
  const desired = (node.desired && Array.isArray(node.desired.apps)) ? node.desired.apps : [];
  if (apps.length === 0) {
    return h('div', { class: 'empty' }, desired.length ? 'The agent has not reported its apps yet.' : 'No apps on this node.');
  }
  const rows = [];
  for (const app of [...apps].sort((a, b) => a.name.localeCompare(b.name))) {
    rows.push(h('tr', { class: 'app-row', dataset: { app: app.name } },
      h('td', {}, h('a', { href: `#/apps/${encodeURIComponent(app.name)}` }, h('strong', {}, app.name))),
      h('td', {}, `rev ${app.revision || '?'}`),
      h('td', {}, badge(app.phase)),
      h('td', { colspan: 6, class: 'muted' }, app.message || '')));
    for (const svc of app.services || []) {
      rows.push(h('tr', { class: 'sub-row', dataset: { app: app.name, service: svc.name } },
        h('td', {}, `↳ ${svc.name}`),
        h('td', { class: 'mono', title: svc.image_id || '' }, svc.image || ''),
        h('td', {}, badge(svc.state || 'none', svc.state === 'running' ? 'ok' : svc.state === 'restarting' || svc.state === 'exited' ? 'bad' : 'muted')),
        h('td', {}, svc.health ? badge(svc.health, svc.health === 'healthy' ? 'ok' : svc.health === 'unhealthy' ? 'bad' : 'warn') : h('span', { class: 'muted' }, '–')),
        h('td', {}, String(svc.restart_count || 0)),
        h('td', {}, svc.state === 'running' ? '–' : String(svc.exit_code ?? '–')),
        h('td', { class: 'muted' }, usage(containerMetrics(node, app.name, svc.name))),
        h('td', { class: 'mono muted' }, (svc.container_id || '').slice(0, 12)),
        h('td', { class: 'actions' }, svc.container_id ? h('button', {
          dataset: { action: 'logs' }, onclick: () => showLogs(ctx, node.name, app.name, svc.name),
        }, 'Logs') : null)));
    }
  }
  const note = fresh.stale ? h('div', { class: 'stale-note', id: 'node-apps-stale' },
    `The node is ${healthOf(node).state}: these apps are as `, ageElement('span', {}, fresh.at, 'last'), ', not current.') : null;
  return h('div', { class: 'table-scroll' }, note, h('table', { class: 'data' + (fresh.stale ? ' stale' : ''), id: 'node-apps', dataset: { stale: String(fresh.stale) } },
    h('thead', {}, h('tr', {}, ['App / service', 'Revision / image', 'Phase / state', 'Health', 'Restarts', 'Exit code', 'CPU / memory', 'Container', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

export function mount(ctx, host, [name]) {
  const { store } = ctx;
  const title = h('div', { class: 'page-head' });
  const factsPanel = h('div', { class: 'panel' });
  const usagePane = usagePanel(ctx, name);
  const healthHistory = healthPanel(ctx, name);
  const appsPanel = h('div', { class: 'panel' });
  const registries = registryPanel(ctx, 'node-registries');
  const eventsHost = h('div', { class: 'event-list', id: 'node-events' });
  replace(host,
    title,
    h('div', { class: 'grid-2' },
      factsPanel,
      usagePane.element),
    appsPanel,
    h('div', { class: 'grid-2' },
      h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Recent events')), eventsHost),
      healthHistory.element),
    registries.element);
  registries.load({ node: name });
  const events = new Map();
  let staleShown = false;
  const labelCache = { key: null, el: null };

  function render() {
    const node = store.nodes.get(name);
    if (!node) {
      replace(title, h('a', { href: '#/fleet' }, '← Fleet'), h('h1', {}, name), badge('Unknown'), nodeActions(ctx, name, 'Unknown'));
      replace(factsPanel, h('h2', {}, 'Device'), h('div', { class: 'empty' }, 'No retained documents for this node (yet).'));
      return;
    }
    const health = healthOf(node);
    const mf = metricsFreshness(node);
    staleShown = mf.stale;
    replace(title, h('a', { href: '#/fleet' }, '← Fleet'), h('h1', {}, name),
      h('span', { id: 'node-health', dataset: { state: health.state } }, badge(health.state)),
      h('span', { class: 'muted', id: 'node-health-since' }, health.since ? `for ${since(health.since)}` : '', health.reason ? ` — ${health.reason}` : ''),
      health.raw ? h('span', { class: 'muted' }, '(agent status; no anchor verdict yet)') : null,
      node.metrics ? h('span', { class: 'muted' + (mf.stale ? ' stale' : ''), id: 'node-usage', dataset: { stale: String(mf.stale) } },
        `CPU ${node.metrics.cpu_percent?.toFixed?.(0) ?? '–'}% · memory ${memPercent(node.metrics)?.toFixed(0) ?? '–'}%`,
        mf.stale ? [' · ', ageElement('span', { class: 'stale-note' }, mf.at, 'last')] : null) : null,
      nodeActions(ctx, name, health.state));
    usagePane.markStale(mf.stale ? ageElement('span', { class: 'stale-note' }, mf.at, 'last') : null);
    replace(factsPanel, h('h2', {}, 'Device'), facts(ctx, node, labelCache));
    replace(appsPanel, h('div', { class: 'panel-head' }, h('h2', {}, 'Apps'),
      h('div', { class: 'actions' }, h('a', { href: '#/deploy' }, ctx.canWrite ? 'Deploy an app…' : ''))), appsTable(ctx, node));
    usagePane.update(node);
    healthHistory.update(node);
  }

  function addEvents(list) {
    mergeEvents(events, list.filter((e) => e && e.node === name));
    renderEvents(eventsHost, [...events.values()], { showNode: false, limit: 50 });
  }

  const unsubscribe = store.subscribe((changes) => {
    if (changes.nodes.has(name) || changes.nodeList) render();
    if (changes.events.length) addEvents(changes.events);
  });
  const ticker = setInterval(() => {
    const el = document.getElementById('node-health-since');
    const node = store.nodes.get(name);
    if (el && node) {
      const health = healthOf(node);
      el.textContent = (health.since ? `for ${since(health.since)}` : '') + (health.reason ? ` — ${health.reason}` : '');
    }
    // Metrics passing their period become stale without any message arriving.
    if (node && metricsFreshness(node).stale !== staleShown) render();
    refreshAges(host);
  }, 1000);
  render();
  addEvents(store.events);
  ctx.conn.request('events.query', { node: name, limit: 50 })
    .then((result) => addEvents(itemsOf(result, 'events').map((e) => ({ node: name, ...e }))))
    .catch(() => {});
  return {
    dispose() {
      unsubscribe();
      clearInterval(ticker);
      usagePane.dispose();
    },
  };
}
