// Time from "Sign in" to the full render of a 2,000-node fleet, for two copies of web-ui/ in
// one run (e.g. main's against a branch's). For each directory it starts its own mosquitto
// (anonymous TCP and WebSocket listeners on free loopback ports, http_dir = the directory),
// publishes --nodes simulated nodes' retained documents (tests/browser/fleet_publisher.mjs:
// info, status, health, desired, state, one round of metrics) and a retained anchor/status
// "offline" (so the page skips its role probe, which would wait for an anchor), then signs in
// --runs times in a fresh headless Chromium context (1280x800), alternating directories, and
// reports per directory the median and worst of:
//   counted   sign-in click -> the top bar counts every node (#count-total)
//   rendered  sign-in click -> counted, and the fleet table shows its first rows
//
//   node bench/web_ui_fleet_render.mjs --dir before=/tmp/web-ui-main --dir after=web-ui \
//        [--nodes 2000] [--runs 10]
//
// Needs tests/browser's npm packages (playwright-core, mqtt), each web-ui's `npm run build`,
// and /usr/bin/chromium. Directories must be readable by user mosquitto.
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';
import { connect, publish, publishFleet, publishMetrics } from '../tests/browser/fleet_publisher.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startBroker } from './web_ui_broker.mjs';

const { values } = parseArgs({ options: {
  dir: { type: 'string', multiple: true }, runs: { type: 'string', default: '10' },
  nodes: { type: 'string', default: '2000' } } });
const runs = Number(values.runs);
const count = Number(values.nodes);
const dirs = (values.dir || []).map((d) => {
  const [label, dir] = d.split('=');
  return { label, dir: path.resolve(dir) };
});
if (dirs.length === 0) throw new Error('give --dir label=path at least once');

async function signInAndRender(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('#login-submit:not([disabled])', { state: 'visible', timeout: 30000 });
  await page.fill('#login-user', 'bench');
  await page.fill('#login-password', 'bench');
  const t0 = Date.now();
  await page.click('#login-submit');
  await page.waitForFunction((n) => Number((document.getElementById('count-total') || {}).textContent) >= n,
    count, { timeout: 60000, polling: 'raf' });
  const counted = Date.now() - t0;
  await page.waitForSelector('#fleet-table .vt-row[data-key]', { timeout: 30000 });
  const rendered = Date.now() - t0;
  await context.close();
  return { counted, rendered };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs) => Math.max(...xs);

const brokers = [];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  for (const d of dirs) {
    const b = { ...d, ...(await startBroker(d.dir, ['max_inflight_messages 0', 'max_queued_messages 100000'])), samples: [] };
    brokers.push(b);
    const client = await connect(b.mqttUrl, 'bench', 'bench');
    await publishFleet(client, { count, prefix: 'sim' });
    await publishMetrics(client, { count, prefix: 'sim' });
    await publish(client, 'pharos/v1/anchor/status', JSON.stringify({ v: 1, state: 'offline', ts: Date.now() }), { qos: 1, retain: true });
    await client.endAsync();
  }
  for (const b of brokers) await signInAndRender(browser, b.url);  // warm up once
  for (let i = 0; i < runs; i += 1) {
    for (const b of brokers) b.samples.push(await signInAndRender(browser, b.url));
  }
  console.log(`nodes=${count} runs=${runs} load=${os.loadavg()[0].toFixed(1)} cpus=${os.cpus().length} (${os.cpus()[0].model})`);
  console.log('dir      counted median/max ms   rendered median/max ms');
  for (const b of brokers) {
    const c = b.samples.map((s) => s.counted);
    const r = b.samples.map((s) => s.rendered);
    console.log(`${b.label.padEnd(8)} ${String(median(c)).padStart(7)} / ${String(max(c)).padEnd(12)} ${String(median(r)).padStart(7)} / ${max(r)}`);
  }
} finally {
  await browser.close();
  for (const b of brokers) {
    b.proc.kill();
    fs.rmSync(b.work, { recursive: true, force: true });
  }
}
