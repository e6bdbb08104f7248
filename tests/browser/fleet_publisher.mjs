// Publishes simulated nodes' retained documents (info, status, health, desired, state) and
// a round of metrics, as the agents and the anchor would, for the web UI's scale test.
// Used as a library by run_tests.mjs and as a command:
//   node fleet_publisher.mjs --url mqtt://127.0.0.1:1883 --user U --password P --count 2000
//        [--prefix sim] [--clear]
// --clear publishes empty retained payloads instead (deletes the documents again).
import mqtt from 'mqtt';
import { parseArgs } from 'node:util';

const kRoot = 'pharos/v1';

export function simNodeName(prefix, i) {
  return `${prefix}-${String(i).padStart(4, '0')}`;
}

// Whether simulated node i is Ready (every tenth node is NotReady).
export function simReady(i) {
  return i % 10 !== 7;
}

function documents(prefix, i, now) {
  const name = simNodeName(prefix, i);
  const line = `line-${(i % 8) + 1}`;
  const ready = simReady(i);
  const session = now - 3600_000 + i;
  const since = now - (i % 50) * 60_000;
  const memTotal = 4 * 1024 ** 3;
  return {
    name,
    retained: {
      info: { v: 1, agent_version: '0.1.0', hostname: `edge-${i}`, os: 'Debian GNU/Linux 12', arch: 'x86_64', kernel: '6.1.0-18-amd64',
        docker_version: '20.10.24', docker_api: '1.41', cpus: 4, memory_bytes: memTotal, disk_bytes: 64 * 1024 ** 3,
        addresses: [`10.${i >> 8}.${i & 255}.10`], broker: 'tcp://127.0.0.1:1883', labels: { line, site: 'plant-a' }, ts: now },
      status: { v: 1, state: ready ? 'Ready' : 'NotReady', session, reason: ready ? 'connected' : 'will', ts: since },
      health: { v: 1, state: ready ? 'Ready' : 'NotReady', since, reason: ready ? 'connected' : 'connection lost', session },
      desired: { v: 1, epoch: 'sim', generation: 1, labels: {}, groups: [line], apps: [] },
      state: { v: 1, applied: [], ts: now, apps: [
        { name: 'telemetry', revision: 1, phase: i % 13 === 5 ? 'CrashLoop' : 'Running', message: '', services: [
          { name: 'collector', container_id: `c${i}`, state: 'running', health: '', restart_count: 0, exit_code: 0, image: 'busybox:1.36', image_id: 'sha256:0' }] }] },
    },
    metrics: { v: 1, cpu_percent: (i * 37) % 100, mem_used: Math.round(memTotal * (((i * 53) % 90) + 5) / 100), mem_total: memTotal,
      disk_used: 10 * 1024 ** 3, disk_total: 64 * 1024 ** 3, load1: 0.5, load5: 0.4, load15: 0.3, containers: [], ts: now },
  };
}

export async function connect(url, username, password) {
  const client = mqtt.connect(url, { username, password, protocolVersion: 5, clientId: `fleet-sim-${process.pid}-${Date.now()}`, reconnectPeriod: 0 });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return client;
}

export function publish(client, topic, payload, options) {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
  });
}

// Publishes `count` nodes (QoS 1, retained; metrics QoS 0). Returns the node names.
export async function publishFleet(client, { count, prefix = 'sim', clear = false }) {
  const now = Date.now();
  const names = [];
  const inFlight = [];
  for (let i = 0; i < count; i += 1) {
    const doc = documents(prefix, i, now);
    names.push(doc.name);
    for (const [kind, body] of Object.entries(doc.retained)) {
      inFlight.push(publish(client, `${kRoot}/nodes/${doc.name}/${kind}`, clear ? '' : JSON.stringify(body), { qos: 1, retain: true }));
    }
    if (!clear) inFlight.push(publish(client, `${kRoot}/nodes/${doc.name}/metrics`, JSON.stringify(doc.metrics), { qos: 0 }));
    if (inFlight.length >= 500) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return names;
}

// Publishes one round of metrics for the simulated nodes (QoS 0, not retained).
export async function publishMetrics(client, { count, prefix = 'sim' }) {
  const now = Date.now();
  const inFlight = [];
  for (let i = 0; i < count; i += 1) {
    const doc = documents(prefix, i, now);
    inFlight.push(publish(client, `${kRoot}/nodes/${doc.name}/metrics`, JSON.stringify(doc.metrics), { qos: 0 }));
    if (inFlight.length >= 500) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
}

// Publishes one node's health (what the anchor does on a transition).
export async function publishHealth(client, name, state, reason) {
  const now = Date.now();
  await publish(client, `${kRoot}/nodes/${name}/health`,
    JSON.stringify({ v: 1, state, since: now, reason, session: now }), { qos: 1, retain: true });
  return now;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' }, user: { type: 'string' }, password: { type: 'string' },
    count: { type: 'string', default: '2000' }, prefix: { type: 'string', default: 'sim' }, clear: { type: 'boolean', default: false } } });
  const client = await connect(values.url, values.user, values.password);
  const names = await publishFleet(client, { count: Number(values.count), prefix: values.prefix, clear: values.clear });
  console.log(`${values.clear ? 'cleared' : 'published'} ${names.length} nodes`);
  await client.endAsync();
}
