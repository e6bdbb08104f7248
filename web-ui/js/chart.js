// A CPU and memory chart (percent over time) for one node, drawn with uPlot from the
// metrics history the store keeps. update() redraws with the latest samples; the chart
// follows the width of its host. Main thread only.
import uPlot from 'uplot';
import { h } from 'pharos/dom.js';

export class UsageChart {
  constructor(host) {
    this.host_ = host;
    this.empty_ = h('div', { class: 'chart-empty' }, 'Waiting for metrics from the agent…');
    host.appendChild(this.empty_);
    this.plot_ = null;
    this.resize_ = new ResizeObserver(() => {
      if (this.plot_) this.plot_.setSize({ width: this.width_(), height: 220 });
    });
    this.resize_.observe(host);
  }

  width_() {
    return Math.max(300, this.host_.clientWidth - 4);
  }

  update(history) {
    if (history.ts.length < 1) return;
    const data = [history.ts.slice(), history.cpu.slice(), history.mem.slice()];
    if (!this.plot_) {
      this.empty_.remove();
      this.plot_ = new uPlot({
        width: this.width_(),
        height: 220,
        scales: { y: { range: [0, 100] } },
        axes: [
          { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, space: 90,
            values: (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })) },
          { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, values: (u, vals) => vals.map((v) => `${v}%`) },
        ],
        series: [
          {},
          { label: 'CPU', stroke: '#2f5bea', width: 2, fill: 'rgba(47,91,234,0.08)', value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
          { label: 'Memory', stroke: '#1f9d55', width: 2, value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
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
