// The charts' series (pure functions, main thread): the anchor's stored history
// (metrics.query's columnar answer, docs/metrics.md) and the live samples the store keeps,
// as {ts: [Unix seconds], cpu: [%], mem: [%]} for uPlot; and per managed container
// (metrics' `containers`) its stored history (metrics.query {app}) and live samples, per node.

// metrics.query's columnar answer -> the chart's series (seconds, CPU %, memory %).
export function historySeries(result) {
  const out = { ts: [], cpu: [], mem: [] };
  if (!result || !Array.isArray(result.ts)) return out;
  result.ts.forEach((t, i) => {
    const total = result.mem_total && result.mem_total[i];
    out.ts.push(t / 1000);
    out.cpu.push(typeof result.cpu[i] === 'number' ? result.cpu[i] : null);
    out.mem.push(total ? (100 * result.mem_used[i]) / total : null);
  });
  return out;
}

// Stored history followed by the live samples newer than its last point.
export function mergeSeries(stored, live) {
  const last = stored.ts.length ? stored.ts[stored.ts.length - 1] : -Infinity;
  const out = { ts: stored.ts.slice(), cpu: stored.cpu.slice(), mem: stored.mem.slice() };
  live.ts.forEach((t, i) => {
    if (t <= last) return;
    out.ts.push(t);
    out.cpu.push(live.cpu[i]);
    out.mem.push(live.mem[i]);
  });
  return out;
}


// Appends one metrics message's `containers` to `byKey` ("app/service" -> {app, service, ts,
// cpu, mem: [bytes]}), keeping at most `keep` samples each; a container no longer reported
// for `keep` samples of its node is dropped.
export function appendContainerSamples(byKey, doc, keep) {
  const t = (doc.ts || Date.now()) / 1000;
  const seen = new Set();
  for (const c of Array.isArray(doc.containers) ? doc.containers : []) {
    if (!c || typeof c.app !== 'string' || typeof c.service !== 'string') continue;
    const key = `${c.app}/${c.service}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let series = byKey.get(key);
    if (!series) {
      series = { app: c.app, service: c.service, ts: [], cpu: [], mem: [], missed: 0 };
      byKey.set(key, series);
    }
    series.missed = 0;
    series.ts.push(t);
    series.cpu.push(Number.isFinite(c.cpu_percent) ? c.cpu_percent : null);
    series.mem.push(Number.isFinite(c.mem_bytes) ? c.mem_bytes : null);
    if (series.ts.length > keep) {
      series.ts.shift();
      series.cpu.shift();
      series.mem.shift();
    }
  }
  for (const [key, series] of byKey) {
    if (!seen.has(key) && ++series.missed > keep) byKey.delete(key);
  }
}

// The series of `app`'s containers on `nodes` (store node records), labelled "node/service".
export function appContainerSeries(nodes, app) {
  const out = [];
  for (const node of nodes) {
    if (!node || !node.containers) continue;
    for (const series of node.containers.values()) {
      if (series.app === app && series.ts.length) out.push({ label: `${node.name}/${series.service}`, ...series });
    }
  }
  return out.sort((a, b) => a.label.localeCompare(b.label));
}

// metrics.query {node, app}'s answer -> one series per service, labelled "node/service"
// ({label, ts: [s], cpu: [%], mem: [bytes]}, null where the service had no figures).
export function containerHistorySeries(result, node) {
  if (!result || !Array.isArray(result.ts) || !Array.isArray(result.containers)) return [];
  const ts = result.ts.map((t) => t / 1000);
  return result.containers.filter((c) => c && typeof c.service === 'string').map((c) => ({
    label: `${node}/${c.service}`,
    ts,
    cpu: ts.map((_, i) => (Array.isArray(c.cpu) && typeof c.cpu[i] === 'number' ? c.cpu[i] : null)),
    mem: ts.map((_, i) => (Array.isArray(c.mem) && typeof c.mem[i] === 'number' ? c.mem[i] : null)),
  }));
}

// Stored series followed by the live samples newer than their last point, per label; a
// label only one side has is kept as it is. Sorted by label; `stored` counts each series'
// stored points.
export function mergeContainerSeries(stored, live) {
  const byLabel = new Map();
  for (const s of stored) byLabel.set(s.label, { label: s.label, stored: s.ts.length, ...mergeSeries(s, { ts: [], cpu: [], mem: [] }) });
  for (const l of live) {
    const s = byLabel.get(l.label);
    byLabel.set(l.label, s ? { ...s, ...mergeSeries(s, l) } : { label: l.label, stored: 0, ts: l.ts, cpu: l.cpu, mem: l.mem });
  }
  return [...byLabel.values()].sort((a, b) => a.label.localeCompare(b.label));
}
