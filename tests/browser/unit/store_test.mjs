// Unit tests of the web UI's pure modules (store, topics) under node's test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, healthOf, appCounts, labelsOf } from 'pharos/store.js';
import { parseTopic, stateSubscriptions, isIdentifier, isAppName } from 'pharos/topics.js';
import { appendContainerSamples, appContainerSeries } from 'pharos/metrics_series.js';

const enc = (doc) => new TextEncoder().encode(JSON.stringify(doc));
const flushed = (store) => new Promise((resolve) => {
  const off = store.subscribe((changes) => { off(); resolve(changes); });
});

test('parses the topics the UI subscribes to and ignores the rest', () => {
  assert.deepEqual(parseTopic('pharos/v1/nodes/n1/health'), { kind: 'node', node: 'n1', sub: 'health' });
  assert.deepEqual(parseTopic('pharos/v1/groups/line-1/desired'), { kind: 'group', group: 'line-1' });
  assert.deepEqual(parseTopic('pharos/v1/apps/web/rollout'), { kind: 'rollout', app: 'web' });
  assert.deepEqual(parseTopic('pharos/v1/anchor/status'), { kind: 'anchor' });
  for (const bad of ['pharos/v2/nodes/n1/health', 'pharos/v1/nodes/N1/health', 'pharos/v1/nodes/n1/cmd/logs',
    'pharos/v1/replies/ops/x', 'other/nodes/n1/info', 'pharos/v1/groups/g/other']) {
    assert.equal(parseTopic(bad), null, bad);
  }
  assert.ok(!stateSubscriptions().some((t) => t.includes('secrets')), 'never subscribes to secrets');
});

test('validates identifiers as the contract does', () => {
  assert.ok(isIdentifier('press-1.a_b'));
  assert.ok(!isIdentifier('-x') && !isIdentifier('A') && !isIdentifier('a/b') && !isIdentifier('a'.repeat(64)));
  assert.ok(isAppName('web_1') && !isAppName('web.1'));
});

test('batches a burst of retained messages into one notification', async () => {
  const store = new Store();
  let calls = 0;
  store.subscribe(() => { calls += 1; });
  for (let i = 0; i < 500; i += 1) {
    store.ingest(`pharos/v1/nodes/n${i}/info`, enc({ v: 1, hostname: `h${i}` }));
    store.ingest(`pharos/v1/nodes/n${i}/status`, enc({ v: 1, state: 'Ready', ts: 1 }));
  }
  const changes = await flushed(store);
  assert.equal(calls, 1);
  assert.equal(changes.nodes.size, 500);
  assert.ok(changes.nodeList);
  assert.equal(store.counts().Ready, 500);
});

test('shows the anchor health, else the raw agent status', () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/status', enc({ v: 1, state: 'Ready', ts: 5, reason: 'connected' }));
  assert.deepEqual(healthOf(store.nodes.get('n1')), { state: 'Ready', since: 5, reason: 'connected', raw: true });
  store.ingest('pharos/v1/nodes/n1/health', enc({ v: 1, state: 'NotReady', since: 9, reason: 'connection lost' }));
  assert.equal(healthOf(store.nodes.get('n1')).state, 'NotReady');
  assert.equal(healthOf(store.nodes.get('n1')).raw, false);
});

test('an empty retained payload deletes the document, and the node with its last one', async () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/info', enc({ v: 1 }));
  store.ingest('pharos/v1/nodes/n1/health', enc({ v: 1, state: 'Ready' }));
  store.ingest('pharos/v1/nodes/n1/health', new Uint8Array());
  assert.equal(store.nodes.get('n1').health, null);
  store.ingest('pharos/v1/nodes/n1/info', new Uint8Array());
  assert.ok(!store.nodes.has('n1'));
  await flushed(store);
});

test('refuses payloads that are not JSON objects', () => {
  const store = new Store();
  assert.equal(store.ingest('pharos/v1/nodes/n1/info', new TextEncoder().encode('not json')), false);
  assert.equal(store.ingest('pharos/v1/nodes/n1/info', enc([1, 2])), false);
  assert.ok(!store.nodes.has('n1'));
});

test('counts apps running and failing, merges labels, keeps metrics history bounded', () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/state', enc({ v: 1, apps: [
    { name: 'a', phase: 'Running' }, { name: 'b', phase: 'CrashLoop' }, { name: 'c', phase: 'Pulling' }] }));
  store.ingest('pharos/v1/nodes/n1/info', enc({ v: 1, labels: { line: '1', site: 'a' } }));
  store.ingest('pharos/v1/nodes/n1/desired', enc({ v: 1, labels: { line: '2' }, groups: ['g'] }));
  const node = store.nodes.get('n1');
  assert.deepEqual(appCounts(node), { total: 3, running: 1, failing: 1 });
  assert.deepEqual(labelsOf(node), { line: '2', site: 'a' });
  for (let i = 0; i < 400; i += 1) {
    store.ingest('pharos/v1/nodes/n1/metrics', enc({ v: 1, cpu_percent: i % 100, mem_used: 1, mem_total: 4, ts: i }));
  }
  assert.equal(node.history.ts.length, 180);
  assert.equal(node.history.mem[0], 25);
});

test('keeps events apart from node documents, newest last, tagged with their node', () => {
  const store = new Store();
  store.ingest('pharos/v1/nodes/n1/events', enc({ v: 1, kind: 'container_died', app: 'web', ts: 3 }));
  assert.equal(store.events.length, 1);
  assert.equal(store.events[0].node, 'n1');
  assert.ok(!store.nodes.has('n1'), 'an event alone does not make a node');
});

test('merges the anchor\'s logged copy of a live event instead of showing it twice', async () => {
  const { mergeEvents } = await import('pharos/views/event_list.js');
  const events = new Map();
  const live = { node: 'n1', kind: 'container_died', app: 'web', service: 'db', reason: 'exit 1', ts: 1000 };
  assert.equal(mergeEvents(events, [live]).length, 1);
  // events.query: same event, stamped by the anchor 40 ms later, plus a real repeat a minute on.
  const logged = { ...live, ts: 1040, source: 'node' };
  const later = { ...live, ts: 61000 };
  assert.equal(mergeEvents(events, [logged, later]).length, 1);
  assert.equal(events.size, 2);
});

test('keeps each container\'s samples per node and charts an app\'s containers across nodes', async () => {
  const store = new Store();
  const metrics = (ts, containers) => enc({ cpu_percent: 5, mem_used: 1, mem_total: 4, disk_used: 1, disk_total: 2,
    load1: 0, load5: 0, load15: 0, ts, containers });
  store.ingest('pharos/v1/nodes/n1/metrics', metrics(1000, [{ app: 'web', service: 'api', cpu_percent: 12.5, mem_bytes: 1024 },
    { app: 'db', service: 'pg', cpu_percent: 1, mem_bytes: 2048 }]));
  store.ingest('pharos/v1/nodes/n1/metrics', metrics(3000, [{ app: 'web', service: 'api', cpu_percent: 20, mem_bytes: 4096 }]));
  store.ingest('pharos/v1/nodes/n2/metrics', metrics(3000, [{ app: 'web', service: 'api', cpu_percent: 3, mem_bytes: 10 }]));
  await flushed(store);
  const api = store.nodes.get('n1').containers.get('web/api');
  assert.deepEqual(api.ts, [1, 3]);
  assert.deepEqual(api.cpu, [12.5, 20]);
  assert.deepEqual(api.mem, [1024, 4096]);
  const web = appContainerSeries([...store.nodes.values()], 'web');
  assert.deepEqual(web.map((s) => s.label), ['n1/api', 'n2/api']);
  // A container no longer reported is dropped once as many samples passed as are kept.
  const byKey = new Map();
  appendContainerSamples(byKey, { ts: 0, containers: [{ app: 'a', service: 's', cpu_percent: 1, mem_bytes: 1 }] }, 2);
  appendContainerSamples(byKey, { ts: 1000, containers: [] }, 2);
  appendContainerSamples(byKey, { ts: 2000, containers: [] }, 2);
  assert.ok(byKey.has('a/s'));
  appendContainerSamples(byKey, { ts: 3000, containers: [] }, 2);
  assert.ok(!byKey.has('a/s'));
});
