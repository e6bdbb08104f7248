// The node chart's series (pure functions, main thread): the anchor's stored history
// (metrics.query's columnar answer, docs/metrics.md) and the live samples the store keeps,
// as {ts: [Unix seconds], cpu: [%], mem: [%]} for uPlot.

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

