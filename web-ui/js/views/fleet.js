// Fleet view: every node with its health (and for how long), labels, groups, agent and
// Docker versions, CPU and memory from the latest metrics, and its apps running/failing;
// filters by text, label, group and health; counts at the top; multi-select to add nodes
// to a group or remove them; columns sort by a click on their header; operators add a
// node (node_admin.js) and approve a Pending one from its row. CPU and memory older than
// their reporting period (or of a node that is down) are greyed with their age. Renders
// through VirtualTable (rows updated in place), refreshed once per store flush and once a
// second (for the "for how long" column). Main thread only.
import { h, replace, badge, meter, chip, since, toast, errorText, itemsOf } from 'pharos/dom.js';
import { healthOf, appCounts, labelsOf, groupsOf, memPercent } from 'pharos/store.js';
import { VirtualTable } from 'pharos/virtual_table.js';
import { metricsFreshness, ageText } from 'pharos/freshness.js';
import { addNode, approveNode } from 'pharos/views/node_admin.js';

const kHealthOrder = { Pending: 0, NotReady: 1, Unreachable: 2, Unknown: 3, Ready: 4 };
const num = (v) => (Number.isFinite(v) ? v : -1);

// Sort keys of the sortable columns.
const kSortKeys = {
  name: (n) => n.name,
  health: (n) => kHealthOrder[healthOf(n).state] ?? 9,
  agent: (n) => (n.info && n.info.agent_version) || '',
  cpu: (n) => num(n.metrics ? n.metrics.cpu_percent : null),
  mem: (n) => num(memPercent(n.metrics)),
  apps: (n) => { const c = appCounts(n); return c.failing * 100000 + c.total; },
};

function compareBy(key, dir) {
  const keyOf = kSortKeys[key];
  const sign = dir === 'desc' ? -1 : 1;
  return (a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return c !== 0 ? sign * c : a.name.localeCompare(b.name);
  };
}

// A usage meter, greyed with its age when the metrics are stale.
function usageCell(node, percent) {
  const fresh = metricsFreshness(node);
  if (!fresh.stale) return meter(percent);
  return h('span', { class: 'stale cell-stack', title: 'not current: older than the reporting period' }, meter(percent),
    h('span', { class: 'sub age' }, ageText(fresh)));
}

const kHealthStates = ['Ready', 'NotReady', 'Pending', 'Unreachable', 'Unknown'];

function matchesText(node, text) {
  if (!text) return true;
  if (node.name.includes(text)) return true;
  const info = node.info || {};
  if ((info.hostname || '').toLowerCase().includes(text)) return true;
  for (const [k, v] of Object.entries(labelsOf(node))) if (`${k}=${v}`.includes(text)) return true;
  return groupsOf(node).some((g) => g.includes(text));
}

function optionList(select, values, placeholder) {
  const current = select.value;
  replace(select, h('option', { value: '' }, placeholder), values.map((v) => h('option', { value: v }, v)));
  select.value = values.includes(current) ? current : '';
}

export function mount(ctx, host) {
  const { store } = ctx;
  const selected = new Set();
  const filters = { text: '', label: '', group: '', health: '' };
  const sort = { key: 'name', dir: 'asc' };

  const countEl = (id, label, kind) => {
    const value = h('div', { class: 'stat-value', id }, '0');
    const card = h('button', { class: `stat stat-${kind}`, title: `Show ${label}` , onclick: () => {
      healthSelect.value = kind === 'total' ? '' : label;
      filters.health = healthSelect.value;
      update();
    } }, value, h('div', { class: 'stat-label' }, label));
    return { card, value };
  };
  const stats = {
    total: countEl('count-total', 'Nodes', 'total'),
    Ready: countEl('count-ready', 'Ready', 'ok'),
    NotReady: countEl('count-notready', 'NotReady', 'bad'),
    Pending: countEl('count-pending', 'Pending', 'warn'),
    Unreachable: countEl('count-unreachable', 'Unreachable', 'warn'),
  };

  const search = h('input', { id: 'fleet-search', type: 'search', placeholder: 'Search nodes, hostnames, labels…',
    oninput: () => { filters.text = search.value.trim().toLowerCase(); update(); } });
  const labelSelect = h('select', { id: 'fleet-label', onchange: () => { filters.label = labelSelect.value; update(); } });
  const groupSelect = h('select', { id: 'fleet-group', onchange: () => { filters.group = groupSelect.value; update(); } });
  const healthSelect = h('select', { id: 'fleet-health', onchange: () => { filters.health = healthSelect.value; update(); } },
    h('option', { value: '' }, 'Any health'), kHealthStates.map((s) => h('option', { value: s }, s)));
  const shown = h('span', { class: 'muted', id: 'fleet-shown' });

  // Selection actions (operators).
  const selCount = h('span', { id: 'selection-count' }, '0 selected');
  const targetGroup = h('select', { id: 'selection-group', disabled: !ctx.canWrite });
  const addButton = h('button', { id: 'selection-add', class: 'primary', disabled: !ctx.canWrite, onclick: () => changeMembership('group.add') }, 'Add to group');
  const removeButton = h('button', { id: 'selection-remove', disabled: !ctx.canWrite, onclick: () => changeMembership('group.remove') }, 'Remove from group');
  const selectionBar = h('div', { class: 'selection-bar', id: 'selection-bar', hidden: true },
    selCount, targetGroup, addButton, removeButton,
    h('button', { class: 'ghost', onclick: () => { selected.clear(); update(); } }, 'Clear selection'),
    ctx.canWrite ? null : h('span', { class: 'muted' }, ctx.role === 'viewer' ? 'Viewers cannot change groups' : 'Read-only until the anchor confirms your role'));

  async function changeMembership(op) {
    const group = targetGroup.value;
    if (!group) {
      toast('Choose a group first', 'error');
      return;
    }
    const nodes = [...selected];
    try {
      await ctx.conn.request(op, { group, nodes });
      toast(`${op === 'group.add' ? 'Added' : 'Removed'} ${nodes.length} node(s) ${op === 'group.add' ? 'to' : 'from'} ${group}`, 'ok');
      selected.clear();
      update();
    } catch (err) {
      toast(`${op} failed: ${errorText(err)}`, 'error');
    }
  }

  const selectAll = h('input', { type: 'checkbox', id: 'select-all', title: 'Select all shown', onchange: () => {
    if (selectAll.checked) for (const n of table.rows) selected.add(n.name);
    else selected.clear();
    update();
  } });

  const columns = [
    { key: 'sel', label: () => selectAll, width: '40px', className: 'center', render: (n) => h('input', {
      type: 'checkbox', class: 'row-select', checked: selected.has(n.name), 'aria-label': `select ${n.name}`,
      dataset: { checked: String(selected.has(n.name)) },
      onchange: (e) => { if (e.target.checked) selected.add(n.name); else selected.delete(n.name); updateSelection(); },
    }) },
    { key: 'name', label: 'Node', sort: true, width: 'minmax(150px, 1.4fr)', render: (n) => h('div', { class: 'cell-stack' },
      h('a', { href: `#/nodes/${encodeURIComponent(n.name)}`, class: 'node-link' }, n.name),
      h('span', { class: 'sub' }, (n.info && n.info.hostname) || '')) },
    { key: 'health', label: 'Health', sort: true, width: 'minmax(130px, 1fr)', render: (n) => {
      const health = healthOf(n);
      return h('div', { class: 'cell-stack' }, h('span', { class: 'health', dataset: { state: health.state } }, badge(health.state),
        health.state === 'Pending' && ctx.canWrite ? h('button', { class: 'approve small', dataset: { action: 'approve' },
          onclick: () => approveNode(ctx, n.name) }, 'Approve') : null),
        h('span', { class: 'sub', title: health.reason }, health.since ? `for ${since(health.since)}` : health.reason));
    } },
    { key: 'labels', label: 'Labels', width: 'minmax(140px, 1.4fr)', hideBelow: 1100, render: (n) => {
      const pairs = Object.entries(labelsOf(n)).map(([k, v]) => `${k}=${v}`);
      if (pairs.length === 0) return h('span', { class: 'muted' }, '–');
      return h('div', { class: 'chips', title: pairs.join('\n') }, pairs.slice(0, 2).map((p) => chip(p)),
        pairs.length > 2 ? chip(`+${pairs.length - 2}`, 'chip-more') : null);
    } },
    { key: 'groups', label: 'Groups', width: 'minmax(110px, 1fr)', render: (n) => {
      const groups = groupsOf(n);
      if (groups.length === 0) return h('span', { class: 'muted' }, '–');
      return h('div', { class: 'chips', title: groups.join('\n') }, groups.slice(0, 2).map((g) => chip(g, 'chip-group')),
        groups.length > 2 ? chip(`+${groups.length - 2}`, 'chip-more') : null);
    } },
    { key: 'agent', label: 'Versions', sort: true, width: '130px', hideBelow: 960, render: (n) => h('div', { class: 'cell-stack' },
      h('span', {}, (n.info && n.info.agent_version) || '–'), h('span', { class: 'sub', title: (n.info && n.info.docker_version) || '' }, (n.info && n.info.docker_version) ? `Docker ${n.info.docker_version.split('+')[0]}` : '')) },
    { key: 'cpu', label: 'CPU', sort: true, width: '110px', render: (n) => usageCell(n, n.metrics ? n.metrics.cpu_percent : null) },
    { key: 'mem', label: 'Memory', sort: true, width: '110px', render: (n) => usageCell(n, memPercent(n.metrics)) },
    { key: 'apps', label: 'Apps', sort: true, width: '120px', render: (n) => {
      const c = appCounts(n);
      if (c.total === 0) return h('span', { class: 'muted' }, 'none');
      return h('div', { class: 'cell-stack apps-count' }, h('span', { class: c.running === c.total ? 'ok-text' : '' }, `${c.running}/${c.total} running`),
        c.failing ? h('span', { class: 'sub bad-text' }, `${c.failing} failing`) : null);
    } },
  ];

  const tableHost = h('div', { class: 'table-host', id: 'fleet-table' });
  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, 'Fleet'), shown,
      h('div', { class: 'actions' }, h('button', { id: 'fleet-add-node', disabled: !ctx.canWrite, onclick: () => addNode(ctx) }, 'Add node…'))),
    h('div', { class: 'stats', id: 'fleet-counts' }, Object.values(stats).map((s) => s.card)),
    h('div', { class: 'toolbar' }, search, labelSelect, groupSelect, healthSelect),
    selectionBar,
    tableHost);
  const table = new VirtualTable(tableHost, {
    columns,
    rowHeight: 48,
    rowKey: (n) => n.name,
    emptyText: 'No nodes match. Agents appear here as soon as they connect.',
    onRowClick: (n) => ctx.navigate(`#/nodes/${encodeURIComponent(n.name)}`),
    onSort: (key) => {
      sort.dir = sort.key === key && sort.dir === 'asc' ? 'desc' : 'asc';
      sort.key = key;
      table.setSort(sort.key, sort.dir);
      update();
    },
  });
  table.setSort(sort.key, sort.dir);

  let sortedNames = [];
  let optionsVersion = -1;

  function updateSelection() {
    for (const name of selected) if (!store.nodes.has(name)) selected.delete(name);
    selectionBar.hidden = selected.size === 0;
    selCount.textContent = `${selected.size} selected`;
    selectAll.checked = selected.size > 0 && selected.size >= table.rows.length;
  }

  function updateOptions(force) {
    if (!force && optionsVersion === store.version) return;
    optionsVersion = store.version;
    optionList(labelSelect, store.labelPairs(), 'Any label');
    const groups = store.groupNames();
    optionList(groupSelect, groups, 'Any group');
    const current = targetGroup.value;
    replace(targetGroup, h('option', { value: '' }, 'Choose group…'), groups.map((g) => h('option', { value: g }, g)));
    targetGroup.value = groups.includes(current) ? current : '';
  }

  function update(changes) {
    if (!changes || changes.nodeList) sortedNames = [...store.nodes.keys()].sort();
    const [labelKey, labelValue] = filters.label ? filters.label.split(/=(.*)/s) : [];
    const rows = [];
    for (const name of sortedNames) {
      const node = store.nodes.get(name);
      if (!node) continue;
      if (filters.health && healthOf(node).state !== filters.health) continue;
      if (filters.group && !groupsOf(node).includes(filters.group)) continue;
      if (labelKey !== undefined && labelsOf(node)[labelKey] !== labelValue) continue;
      if (!matchesText(node, filters.text)) continue;
      rows.push(node);
    }
    if (sort.key !== 'name' || sort.dir !== 'asc') rows.sort(compareBy(sort.key, sort.dir));
    table.setRows(rows);
    const counts = store.counts();
    for (const [key, stat] of Object.entries(stats)) stat.value.textContent = String(counts[key] || 0);
    stats.Unreachable.card.hidden = !counts.Unreachable;
    shown.dataset.shown = String(rows.length);
    shown.textContent = rows.length === counts.total ? `${counts.total} nodes` : `${rows.length} of ${counts.total} nodes shown`;
    updateSelection();
  }

  // Filter options are rebuilt at most every few seconds (they scan every node's labels).
  const optionsTimer = setInterval(() => updateOptions(false), 3000);
  const unsubscribe = store.subscribe((changes) => {
    if (changes.nodes.size > 0 || changes.nodeList || changes.groups) update(changes);
    if (changes.groups) updateOptions(true);
  });
  const ticker = setInterval(() => table.refresh(), 1000);
  updateOptions(true);
  update();
  ctx.conn.request('group.list', { limit: 1000 })
    .then((result) => store.setGroupCatalog(itemsOf(result, 'groups').map((g) => (typeof g === 'string' ? g : g.name))))
    .catch(() => {});
  return {
    dispose() {
      unsubscribe();
      clearInterval(ticker);
      clearInterval(optionsTimer);
      table.destroy();
    },
  };
}
