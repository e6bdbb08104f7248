// A CPU and memory chart (percent over time) for one node, drawn with uPlot on a real time
// axis. It opens with the history the anchor stores (metrics.query, docs/metrics.md) and
// appends the live samples the store keeps that are newer than that history. The chart
// follows the width of its host; its element carries data-points (points drawn),
// data-stored (of them, from the anchor's history) and data-first / data-last (their times,
// Unix seconds). Main thread only.
import uPlot from 'uplot';
import { h } from 'pharos/dom.js';
import { historySeries, mergeSeries } from 'pharos/metrics_series.js';

function timeLabel(seconds, span) {
  const d = new Date(seconds * 1000);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: span < 600 ? '2-digit' : undefined, hour12: false });
  return span > 86400 ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}` : time;
}

export class UsageChart {
  constructor(host) {
    this.host_ = host;
    this.empty_ = h('div', { class: 'chart-empty' }, 'Waiting for metrics from the agent…');
    host.appendChild(this.empty_);
    this.plot_ = null;
    this.stored_ = { ts: [], cpu: [], mem: [] };
    this.live_ = { ts: [], cpu: [], mem: [] };
    this.resize_ = new ResizeObserver(() => {
      if (this.plot_) this.plot_.setSize({ width: this.width_(), height: 220 });
    });
    this.resize_.observe(host);
  }

  width_() {
    return Math.max(300, this.host_.clientWidth - 4);
  }

  // The anchor's stored history (a metrics.query result); replaces the previous one.
  seed(result) {
    this.stored_ = historySeries(result);
    this.draw_();
  }

  // The live samples the store keeps for the node.
  update(history) {
    this.live_ = history;
    this.draw_();
  }

  draw_() {
    const merged = mergeSeries(this.stored_, this.live_);
    this.host_.dataset.points = String(merged.ts.length);
    this.host_.dataset.stored = String(this.stored_.ts.length);
    if (merged.ts.length < 1) return;
    this.host_.dataset.first = String(merged.ts[0]);
    this.host_.dataset.last = String(merged.ts[merged.ts.length - 1]);
    const data = [merged.ts, merged.cpu, merged.mem];
    if (!this.plot_) {
      this.empty_.remove();
      this.plot_ = new uPlot({
        width: this.width_(),
        height: 220,
        scales: { x: { time: true }, y: { range: [0, 100] } },
        axes: [
          { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, space: 90,
            values: (u, vals) => {
              const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
              return vals.map((v) => timeLabel(v, span));
            } },
          { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, values: (u, vals) => vals.map((v) => `${v}%`) },
        ],
        series: [
          {},
          { label: 'CPU', stroke: '#2f5bea', width: 2, fill: 'rgba(47,91,234,0.08)', spanGaps: false, value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
          { label: 'Memory', stroke: '#1f9d55', width: 2, spanGaps: false, value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
        ],
      }, data, this.host_);
    } else {
      this.plot_.setData(data);
    }
  }

  destroy() {
    this.resize_.disconnect();
    if (this.plot_) this.plot_.destroy();
  }
}
