// First paint of the web UI as Mosquitto's http_dir serves it, for two copies of web-ui/
// in one run (e.g. the unbundled modules of an earlier commit against the bundle).
// For each directory it starts its own mosquitto (a WebSocket listener with http_dir, on a
// free loopback port; no MQTT is used) and loads the page `--runs` times in a fresh headless
// Chromium context (empty cache), alternating between the directories, and reports per
// directory the median and worst of:
//   fcp    first contentful paint: the sign-in form where index.html holds it as HTML,
//          else the static "Loading Pharos…" text
//   ui     the sign-in form on screen and working (its button enabled: the UI's script run)
//   net    when the last file needed had arrived (the rest of `ui` is the browser's CPU work)
//   reqs   HTTP requests made until then
//
//   node bench/web_ui_first_paint.mjs --dir before=/tmp/web-ui-main --dir after=web-ui [--runs 10]
//
// Needs tests/browser's npm packages (playwright-core) and /usr/bin/chromium. Directories
// must be readable by user mosquitto (the broker drops privileges to it).
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startBroker } from './web_ui_broker.mjs';

const { values } = parseArgs({ options: {
  dir: { type: 'string', multiple: true }, runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const dirs = (values.dir || []).map((d) => {
  const [label, dir] = d.split('=');
  return { label, dir: path.resolve(dir) };
});
if (dirs.length === 0) throw new Error('give --dir label=path at least once');

async function load(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  let requests = 0;
  page.on('request', () => { requests += 1; });
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector('#login-submit:not([disabled])', { state: 'visible', timeout: 30000 });
  const timing = await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const net = Math.max(0, ...performance.getEntriesByType('resource').map((r) => r.responseEnd));
    resolve({ fcp: fcp ? fcp.startTime : NaN, ui: performance.now(), net });
  })));
  const reqs = requests;
  await context.close();
  return { ...timing, reqs };
}

const finite = (xs) => xs.filter(Number.isFinite);
const median = (xs) => [...finite(xs)].sort((a, b) => a - b)[Math.floor(finite(xs).length / 2)];
const max = (xs) => Math.max(...finite(xs));

const brokers = [];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  for (const d of dirs) brokers.push({ ...d, ...(await startBroker(d.dir)), samples: [] });
  for (const b of brokers) await load(browser, b.url);  // warm the broker and Chromium once
  for (let i = 0; i < runs; i += 1) {
    for (const b of brokers) b.samples.push(await load(browser, b.url));
  }
  console.log(`runs=${runs} load=${os.loadavg()[0].toFixed(1)} cpus=${os.cpus().length} (${os.cpus()[0].model})`);
  console.log('dir      fcp median/max ms   ui median/max ms   net median ms   requests');
  for (const b of brokers) {
    const fcp = b.samples.map((s) => s.fcp);
    const ui = b.samples.map((s) => s.ui);
    console.log(`${b.label.padEnd(8)} ${median(fcp).toFixed(0).padStart(6)} / ${max(fcp).toFixed(0).padEnd(10)}` +
      ` ${median(ui).toFixed(0).padStart(6)} / ${max(ui).toFixed(0).padEnd(10)} ${median(b.samples.map((s) => s.net)).toFixed(0).padStart(6)}` +
      `          ${median(b.samples.map((s) => s.reqs))}`);
  }
} finally {
  await browser.close();
  for (const b of brokers) {
    b.proc.kill();
    fs.rmSync(b.work, { recursive: true, force: true });
  }
}
