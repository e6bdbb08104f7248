// The app view's per-container charts: CPU (%) and memory of each of the app's containers on
// its target nodes, one line per "node/service", on real time axes (uPlot): the anchor's
// stored history of the app's containers on each node (metrics.query {node, app}, seeded per
// node) followed by the live samples the store keeps since sign-in (metrics' `containers`).
// Its element carries data-series (lines drawn), data-points (the longest line's points),
// data-stored (of those, from the anchor's history) and data-first / data-last (Unix
// seconds). Main thread only.
import uPlot from 'uplot';
import { h, replace, formatBytes } from 'pharos/dom.js';
import { containerHistorySeries, mergeContainerSeries } from 'pharos/metrics_series.js';

const kColours = ['#2f5bea', '#1f9d55', '#c2410c', '#7c3aed', '#0e7490', '#b91c1c', '#a16207', '#475569'];
const kMaxSeries = 8;  // lines per chart; the rest are counted in the note

function timeValues(u, vals) {
  return vals.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }));
}

function plotOptions(width, series, unit) {
  return {
    width,
    height: 180,
    // At least a minute wide, so that a few samples do not make sub-second ticks.
    scales: { x: { time: true, range: (u, min, max) => (max - min < 60 ? [max - 60, max] : [min, max]) }, y: unit === '%' ? { range: (u, min, max) => [0, Math.max(5, max * 1.1)] } : { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, space: 90, values: timeValues },
      { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, size: 70, values: (u, vals) => vals.map((v) => (unit === '%' ? `${v}%` : formatBytes(v))) },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: kColours[i % kColours.length], width: 2, spanGaps: false,
      value: (u, v) => (v == null ? '–' : unit === '%' ? `${v.toFixed(1)}%` : formatBytes(v)),
    }))],
  };
}

export class ContainerCharts {
  constructor(host) {
    this.host_ = host;
    this.note_ = h('div', { class: 'muted', id: 'app-containers-note' }, 'Waiting for the nodes\' container metrics…');
    this.cpuHost_ = h('div', { class: 'chart' });
    this.memHost_ = h('div', { class: 'chart' });
    replace(host, this.note_, h('h3', {}, 'CPU'), this.cpuHost_, h('h3', {}, 'Memory'), this.memHost_);
    this.plots_ = null;
    this.key_ = '';
    this.stored_ = new Map();  // node -> its containerHistorySeries
    this.live_ = [];
    this.resize_ = new ResizeObserver(() => {
      for (const p of this.plots_ || []) p.setSize({ width: this.width_(), height: 180 });
    });
    this.resize_.observe(host);
  }

  width_() {
    return Math.max(300, this.host_.clientWidth - 4);
  }

  // The anchor's stored history of the app's containers on `node` (a metrics.query {node,
  // app} result); replaces that node's previous one.
  seed(node, result) {
    this.stored_.set(node, containerHistorySeries(result, node));
    this.draw_();
  }

  // `list`: appContainerSeries(...) ([{label, ts, cpu, mem}]), the live samples.
  update(list) {
    this.live_ = list;
    this.draw_();
  }

  draw_() {
    const list = mergeContainerSeries([...this.stored_.values()].flat(), this.live_);
    const shown = list.slice(0, kMaxSeries);
    const longest = shown.reduce((best, s) => (!best || s.ts.length > best.ts.length ? s : best), null);
    this.host_.dataset.series = String(shown.length);
    this.host_.dataset.points = String(longest ? longest.ts.length : 0);
    this.host_.dataset.stored = String(longest ? longest.stored : 0);
    if (shown.length === 0 || !longest.ts.length) return;
    this.host_.dataset.first = String(Math.min(...shown.filter((s) => s.ts.length).map((s) => s.ts[0])));
    this.host_.dataset.last = String(Math.max(...shown.filter((s) => s.ts.length).map((s) => s.ts[s.ts.length - 1])));
    const stored = shown.some((s) => s.stored > 0);
    this.note_.textContent = `${list.length} container(s), ${stored ? 'stored history then live' : 'live since sign-in'}` +
      (list.length > shown.length ? ` (the first ${shown.length} drawn)` : '');
    const cpu = uPlot.join(shown.map((s) => [s.ts, s.cpu]));
    const mem = uPlot.join(shown.map((s) => [s.ts, s.mem]));
    const key = shown.map((s) => s.label).join('|');
    if (key !== this.key_) {
      for (const p of this.plots_ || []) p.destroy();
      this.key_ = key;
      this.plots_ = [new uPlot(plotOptions(this.width_(), shown, '%'), cpu, this.cpuHost_),
        new uPlot(plotOptions(this.width_(), shown, 'bytes'), mem, this.memHost_)];
    } else {
      this.plots_[0].setData(cpu);
      this.plots_[1].setData(mem);
    }
  }

  destroy() {
    this.resize_.disconnect();
    for (const p of this.plots_ || []) p.destroy();
  }
}
