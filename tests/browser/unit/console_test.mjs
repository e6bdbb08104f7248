// Unit tests of the operator console's pure logic: freshness, rollouts computed from what
// the nodes reported, event severity and live health changes, label parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from 'pharos/store.js';
import { metricsFreshness, stateFreshness, metricsPeriodMs, kDefaultMetricsPeriodMs } from 'pharos/freshness.js';
import { reportedSummary, rolloutOutcome, nodeStage } from 'pharos/views/rollout.js';
import { severityOf } from 'pharos/views/event_list.js';
import { parseLabels } from 'pharos/views/node_admin.js';
import { historySeries, mergeSeries, containerHistorySeries, mergeContainerSeries } from 'pharos/metrics_series.js';
import { logFileText } from 'pharos/views/log_viewer.js';

const enc = (doc) => new TextEncoder().encode(JSON.stringify(doc));
const flushed = (store) => new Promise((resolve) => {
  const off = store.subscribe((changes) => { off(); resolve(changes); });
});

function nodeWithApp(store, name, health, phase = 'Running', revision = 2) {
  store.ingest(`pharos/v1/nodes/${name}/health`, enc({ v: 1, state: health, since: 1000, reason: health === 'Ready' ? '' : 'connection lost' }));
  store.ingest(`pharos/v1/nodes/${name}/state`, enc({ v: 1, ts: 5000, apps: [{ name: 'web', revision, phase }] }));
}

test('metrics are fresh within their period and stale past it', () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/health', enc({ v: 1, state: 'Ready', since: 1 }));
  store.ingest('pharos/v1/nodes/n1/metrics', enc({ v: 1, cpu_percent: 5, mem_used: 1, mem_total: 2, ts: 1000 }));
  const node = store.nodes.get('n1');
  assert.equal(metricsPeriodMs(node), kDefaultMetricsPeriodMs);
  assert.equal(metricsFreshness(node, node.metricsAt + 1000).stale, false);
  assert.equal(metricsFreshness(node, node.metricsAt + 2 * kDefaultMetricsPeriodMs).stale, true);
});

test('everything a down node reported is last reported, however recent', () => {
  const store = new Store();
  nodeWithApp(store, 'n1', 'NotReady');
  store.ingest('pharos/v1/nodes/n1/metrics', enc({ v: 1, cpu_percent: 5, mem_used: 1, mem_total: 2, ts: 1000 }));
  const node = store.nodes.get('n1');
  assert.equal(metricsFreshness(node, node.metricsAt).stale, true);
  assert.deepEqual(stateFreshness(node), { stale: true, at: 5000 });
  nodeWithApp(store, 'n2', 'Unreachable');
  assert.equal(stateFreshness(store.nodes.get('n2')).stale, true);
  nodeWithApp(store, 'n3', 'Ready');
  assert.equal(stateFreshness(store.nodes.get('n3')).stale, false);
});

test('a completed rollout stays completed when a node goes down', () => {
  const store = new Store();
  nodeWithApp(store, 'a', 'Ready');
  nodeWithApp(store, 'b', 'NotReady');
  // What the anchor publishes once b is down: b counted apart as notready.
  const summary = { app: 'web', revision: 2, total: 2, running: 1, notready: 1, nodes: [
    { node: 'a', status: 'running' }, { node: 'b', status: 'notready' }] };
  const reported = reportedSummary(store, summary);
  assert.equal(rolloutOutcome(reported), 'complete');
  assert.equal(reported.running, 2);
  assert.equal(reported.down, 1);
  const stage = nodeStage(store, summary, summary.nodes[1]);
  assert.equal(stage.stage, 'running');
  assert.equal(stage.down, true);
  // A single-node target that dies after running the revision: still complete.
  const single = { app: 'web', revision: 2, total: 1, running: 0, notready: 1, nodes: [{ node: 'b', status: 'notready' }] };
  assert.equal(rolloutOutcome(reportedSummary(store, single)), 'complete');
});

test('a rollout is in progress until the nodes report the revision, and failed when one fails', () => {
  const store = new Store();
  nodeWithApp(store, 'a', 'Ready', 'Running', 1);
  nodeWithApp(store, 'b', 'Ready', 'CrashLoop', 2);
  const summary = { app: 'web', revision: 2, total: 1, nodes: [{ node: 'a', status: 'pending' }] };
  assert.equal(rolloutOutcome(reportedSummary(store, summary)), 'in-progress');
  const failing = { app: 'web', revision: 2, total: 2, nodes: [{ node: 'a', status: 'pending' }, { node: 'b', status: 'applied' }] };
  assert.equal(rolloutOutcome(reportedSummary(store, failing)), 'failed');
});

test('a change of health seen live is an event; the first verdict is not', async () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/health', enc({ v: 1, state: 'Ready', since: 1 }));
  let changes = await flushed(store);
  assert.equal(changes.events.length, 0);
  store.ingest('pharos/v1/nodes/n1/health', enc({ v: 1, state: 'NotReady', since: 2000, reason: 'connection lost' }));
  changes = await flushed(store);
  assert.deepEqual(changes.events, [{ source: 'anchor', kind: 'health_changed', node: 'n1', reason: 'NotReady', message: 'connection lost', ts: 2000, live: true }]);
  assert.equal(severityOf(changes.events[0]), 'error');
});

test('severity: failures are errors, restarts warnings, audit entries info', () => {
  assert.equal(severityOf({ kind: 'container_died' }), 'error');
  assert.equal(severityOf({ kind: 'app_failed' }), 'error');
  assert.equal(severityOf({ kind: 'container_restarted' }), 'warning');
  assert.equal(severityOf({ kind: 'health_changed', reason: 'Ready' }), 'info');
  assert.equal(severityOf({ kind: 'health_changed', reason: 'Unreachable' }), 'error');
  assert.equal(severityOf({ kind: 'group.create', user: 'ops', source: 'api' }), 'info');
});

test('labels parse as key=value pairs and refuse anything else', () => {
  assert.deepEqual(parseLabels('line=a, zone=2\nrole='), { line: 'a', zone: '2', role: '' });
  for (const bad of ['novalue', '=x', 'a b=c']) assert.throws(() => parseLabels(bad), /expected key=value/, bad);
});

test('two alike entries of the anchor\'s log are two events; a live copy of one is not', async () => {
  const { mergeEvents } = await import('pharos/views/event_list.js');
  const events = new Map();
  const audit = (ts) => ({ source: 'api', kind: 'node.label', node: 'n1', user: 'ops', ts });
  assert.equal(mergeEvents(events, [audit(1000), audit(1001), audit(1002)]).length, 3);
  const health = { kind: 'health_changed', node: 'n1', reason: 'NotReady', message: 'connection lost' };
  assert.equal(mergeEvents(events, [{ ...health, source: 'anchor', ts: 5000, live: true }]).length, 1);
  assert.equal(mergeEvents(events, [{ ...health, source: 'anchor', ts: 5001 }]).length, 0);
  // Alike within one millisecond: told apart by the log's seq; a page repeating them adds none.
  const same = [{ ...audit(7000), seq: 41 }, { ...audit(7000), seq: 42 }];
  assert.equal(mergeEvents(events, same).length, 2);
  assert.equal(mergeEvents(events, [...same, { ...audit(7000), seq: 43 }]).length, 1);
});

test('the chart opens with the stored history and appends only newer live samples', () => {
  const stored = historySeries({ ts: [60_000, 75_000], cpu: [10, 20], mem_used: [1, 3], mem_total: [4, 4] });
  assert.deepEqual(stored, { ts: [60, 75], cpu: [10, 20], mem: [25, 75] });
  const live = { ts: [75, 90], cpu: [21, 30], mem: [50, 50] };
  assert.deepEqual(mergeSeries(stored, live), { ts: [60, 75, 90], cpu: [10, 20, 30], mem: [25, 75, 50] });
  // No history (an error, a new node): the live samples alone; no total memory: no figure.
  assert.deepEqual(mergeSeries(historySeries(null), live), live);
  assert.deepEqual(historySeries({ ts: [1000], cpu: [5], mem_used: [1], mem_total: [0] }).mem, [null]);
});

test('downloaded logs hold every line with its ISO time', () => {
  assert.equal(logFileText([{ ts: 0, text: 'a' }, { ts: 1500, text: 'b c' }]),
    '1970-01-01T00:00:00.000Z a\n1970-01-01T00:00:01.500Z b c\n');
  assert.equal(logFileText([]), '');
});

test('container history becomes one series per service, then the live samples follow it', () => {
  const result = {
    node: 'n1', app: 'web', ts: [1000, 2000, 3000],
    containers: [{ service: 'api', cpu: [1, 2, 3], mem: [10, 20, 30] }, { service: 'job', cpu: [null, 5, null], mem: [null, 8, null] }],
  };
  const stored = containerHistorySeries(result, 'n1');
  assert.deepEqual(stored.map((s) => s.label), ['n1/api', 'n1/job']);
  assert.deepEqual(stored[0].ts, [1, 2, 3]);
  assert.deepEqual(stored[1].cpu, [null, 5, null]);
  assert.deepEqual(containerHistorySeries({ ts: [1] }, 'n1'), []);
  // Live samples newer than the stored ones are appended; a live-only container is kept.
  const live = [{ label: 'n1/api', ts: [2.5, 4], cpu: [9, 4], mem: [1, 40] }, { label: 'n2/api', ts: [4], cpu: [7], mem: [70] }];
  const merged = mergeContainerSeries(stored, live);
  assert.deepEqual(merged.map((s) => [s.label, s.stored]), [['n1/api', 3], ['n1/job', 3], ['n2/api', 0]]);
  assert.deepEqual(merged[0].ts, [1, 2, 3, 4]);
  assert.deepEqual(merged[0].mem, [10, 20, 30, 40]);
  assert.deepEqual(merged[2].cpu, [7]);
});
