// The node page's history panels: the CPU/memory chart, opened with the anchor's stored
// metrics history (metrics.query) over a chosen range (1 h, 24 h, 7 days) and followed live,
// and the node's health transitions (node.get's history, the last 32, newest first),
// fetched again whenever the anchor's verdict changes. Main thread only.
import { h, replace, badge, formatTime, errorText } from 'pharos/dom.js';
import { healthOf } from 'pharos/store.js';
import { UsageChart } from 'pharos/chart.js';

const kRanges = [
  { label: '1 h', ms: 3600_000 },
  { label: '24 h', ms: 86400_000 },
  { label: '7 days', ms: 7 * 86400_000 },
];

// {element, update(node), markStale(el), dispose()}: the chart panel. markStale(el) shows
// `el` (the metrics' age) in the header instead of the range, null shows the range again.
export function usagePanel(ctx, name) {
  const chartHost = h('div', { class: 'chart', id: 'node-chart' });
  const note = h('span', { class: 'muted', id: 'node-chart-note' }, 'last hour, live');
  const chart = new UsageChart(chartHost);
  let range = kRanges[0];
  let asked = 0;
  let label = 'last hour, live';
  let stale = null;
  const showNote = () => replace(note, stale || label);
  const buttons = kRanges.map((r) => h('button', {
    class: r === range ? 'active' : '', dataset: { range: r.label },
    onclick: () => { range = r; buttons.forEach((b) => b.classList.toggle('active', b.dataset.range === r.label)); load(); },
  }, r.label));
  async function load() {
    const ticket = ++asked;
    chartHost.dataset.loading = 'true';
    try {
      // The last hour is the anchor's default range, by its own clock (this browser's may
      // be off); longer ranges read the 5-minute tier, where a skewed clock matters little.
      const body = range === kRanges[0] ? { node: name } : { node: name, from: Date.now() - range.ms };
      const result = await ctx.conn.request('metrics.query', body);
      if (ticket !== asked) return;
      chart.seed(result);
      label = `last ${range.label} (${result.step} s points), live`;
      showNote();
    } catch (err) {
      if (ticket !== asked) return;
      replace(note, h('span', { class: 'bad-text' }, `history unavailable: ${errorText(err)}`));
    } finally {
      if (ticket === asked) chartHost.dataset.loading = 'false';
    }
  }
  load();
  const element = h('div', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'CPU and memory'), note,
      h('div', { class: 'segmented', id: 'node-chart-range' }, buttons)),
    chartHost);
  return {
    element,
    update(node) { chart.update(node.history); },
    markStale(el) {
      stale = el;
      showNote();
    },
    dispose() { chart.destroy(); },
  };
}

// {element, update(node)}: the health transitions panel.
export function healthPanel(ctx, name) {
  const list = h('div', { id: 'node-health-history' }, h('div', { class: 'empty' }, 'Loading…'));
  let shownFor = null;
  async function load() {
    try {
      const result = await ctx.conn.request('node.get', { name });
      const items = Array.isArray(result.history) ? [...result.history].reverse() : [];
      if (items.length === 0) {
        replace(list, h('div', { class: 'empty' }, 'No health transitions recorded.'));
        return;
      }
      replace(list, h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['When', 'State', 'Reason'].map((t) => h('th', {}, t)))),
        h('tbody', {}, items.map((t) => h('tr', { class: 'health-row', dataset: { state: t.state, ts: String(t.ts) } },
          h('td', {}, formatTime(t.ts)), h('td', {}, badge(t.state)), h('td', { class: 'muted' }, t.reason || ''))))));
    } catch (err) {
      replace(list, h('div', { class: 'bad-text' }, `health history unavailable: ${errorText(err)}`));
    }
  }
  return {
    element: h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Health history')), list),
    update(node) {
      const health = healthOf(node);
      const key = `${health.state}/${health.since}`;
      if (key === shownFor) return;
      shownFor = key;
      load();
    },
  };
}
