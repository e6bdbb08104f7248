// Browser tests of the operator console (freshness, live events, node management, the
// anchor offline, session, table, layout, bundle), registered into run_tests.mjs's runner.
// Environment as run_tests.mjs describes, plus, for the tests with the anchor:
//   PHAROS_CONSOLE_NODE  a node whose agent starts Pending (anchor --require-approval), is
//                        approved from the UI, deployed to, then killed (SIGKILL)
//   PHAROS_CONSOLE_PID   that agent's process id
//   PHAROS_ANCHOR_PID    the anchor's process id (the last test stops it: SIGTERM)
import { connect, publish, publishFleet, publishMetrics, simNodeName } from './fleet_publisher.mjs';

export function registerConsoleTests({ test, skipUnless, check, newPage, login, go, env, mqttUrl, operator, publisher, anchor, testImage, runId, uiUrl }) {
  const consoleNode = env.PHAROS_CONSOLE_NODE;
  const consoleApp = `con-${runId}`;
  const secretValue = `s3cr3t-${runId}`;
  const registryPassword = `regpw-${runId}`;

  // An API call from the test's own MQTT client (as another operator's tool would make).
  async function apiCall(client, user, op, body) {
    const inbox = `pharos/v1/replies/${user}/con-test-${runId}`;
    await client.subscribeAsync(inbox, { qos: 1 });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: { code: 'timeout' } }), 10000);
      const onMessage = (topic, payload) => {
        if (topic !== inbox) return;
        clearTimeout(timer);
        client.removeListener('message', onMessage);
        resolve(JSON.parse(payload.toString()));
      };
      client.on('message', onMessage);
      client.publish(`pharos/v1/api/${user}/${op}`, JSON.stringify({ v: 1, ...body }),
        { qos: 1, properties: { responseTopic: inbox, correlationData: Buffer.from('c') } });
    });
  }

  // How many points metrics.query returns for `query`, asked once a second (at most 30 s)
  // until there are `wanted`.
  async function storedPoints(query, wanted) {
    const client = await connect(mqttUrl, operator.user, operator.password);
    let held = 0;
    try {
      for (let i = 0; i < 30 && held < wanted; i += 1) {
        const reply = await apiCall(client, operator.user, 'metrics.query', query);
        check(reply.ok, `metrics.query ${JSON.stringify(query)}: ${JSON.stringify(reply).slice(0, 300)}`);
        held = reply.result.ts.length;
        if (held < wanted) await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await client.endAsync();
    }
    return held;
  }

  // ---- against the broker alone --------------------------------------------------------

  test('bundled_page_loads_in_four_requests', async () => {
    const page = await newPage('bundle');
    const requests = [];
    page.on('request', (r) => { if (r.url().startsWith(uiUrl)) requests.push(r.url().slice(uiUrl.length)); });
    await page.goto(uiUrl);
    await page.waitForSelector('#login-user', { timeout: 15000 });
    await page.shot('login');
    console.log(`    ${requests.length} requests: ${requests.join(' ')}`);
    check(requests.includes('dist/pharos.js'), 'the bundle was not loaded');
    check(!requests.some((u) => u.startsWith('js/')), 'modules loaded one by one besides the bundle');
    check(requests.length <= 4, `${requests.length} requests for the first paint (expected at most 4)`);
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('reload_keeps_the_operator_signed_in_without_the_password_in_clear', async () => {
    skipUnless(operator, 'no operator credentials');
    const page = await newPage('session');
    await login(page, operator);
    await go(page, '#/events', '#events-list');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie);
    check(!stored.includes(operator.password), 'the password is stored in plain text');
    await page.reload();
    await page.waitForSelector('#events-list', { timeout: 15000 });
    check(await page.isHidden('#login-user').catch(() => true), 'the login form is shown after a reload');
    check(page.url().endsWith('#/events'), `deep link lost: ${page.url()}`);
    await page.shot('reloaded');
    await page.click('#sign-out');
    await page.waitForSelector('#login-user', { timeout: 15000 });
    await page.reload();
    await page.waitForSelector('#login-user', { timeout: 15000 });
    await page.shot('signed-out');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('fleet_table_sorts_and_updates_rows_in_place', async () => {
    skipUnless(operator && publisher, 'needs operator and publisher credentials');
    const prefix = `srt${runId}`;
    const count = 12;
    const client = await connect(mqttUrl, publisher.user, publisher.password);
    try {
      await publishFleet(client, { count, prefix });
      const page = await newPage('table');
      await login(page, operator);
      await page.fill('#fleet-search', prefix);
      await page.waitForFunction((n) => Number(document.querySelector('#fleet-shown').dataset.shown) === n, count, { timeout: 15000 });
      await publishMetrics(client, { count, prefix });  // metrics are live only: after sign-in
      await page.waitForFunction(() => document.querySelectorAll('#fleet-table .vt-body .meter').length > 0, null, { timeout: 10000 });
      // CPU is (i * 37) % 100 in the simulated fleet: sort descending by two clicks.
      await page.click('#fleet-table .vt-header [data-column="cpu"]');
      await page.click('#fleet-table .vt-header [data-column="cpu"]');
      const expected = Array.from({ length: count }, (_, i) => i).sort((a, b) => ((b * 37) % 100) - ((a * 37) % 100))[0];
      await page.waitForFunction((name) => {
        const first = document.querySelector('#fleet-table .vt-body .vt-row');
        return first && first.dataset.key === name;
      }, simNodeName(prefix, expected), { timeout: 5000 });
      await page.shot('sorted-by-cpu');
      // Select a node's name as text and tick its box; new metrics and the 1-s ticker must
      // neither replace the row nor clear either selection.
      const name = simNodeName(prefix, 3);
      await page.check(`#fleet-table .vt-row[data-key="${name}"] .row-select`);
      await page.evaluate((n) => {
        const link = document.querySelector(`#fleet-table .vt-row[data-key="${n}"] .node-link`);
        window.__row = link.closest('.vt-row');
        const range = document.createRange();
        range.selectNodeContents(link);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
      }, name);
      await publishMetrics(client, { count, prefix });
      await page.waitForTimeout(2500);
      const state = await page.evaluate((n) => ({
        sameRow: window.__row === document.querySelector(`#fleet-table .vt-row[data-key="${n}"]`),
        text: String(window.getSelection()),
        checked: document.querySelector(`#fleet-table .vt-row[data-key="${n}"] .row-select`).checked,
      }), name);
      await page.shot('selection-kept');
      check(state.sameRow, 'the row element was replaced by an update');
      check(state.text === name, `text selection lost (now "${state.text}")`);
      check(state.checked, 'row checkbox lost');
      // No third sample: once older than the node's reporting period (the gap between its
      // two samples), the figures are greyed with their age.
      await page.waitForSelector(`#fleet-table .vt-row[data-key="${name}"] .stale .age`, { timeout: 15000 });
      const age = await page.textContent(`#fleet-table .vt-row[data-key="${name}"] .stale .age`);
      check(/ago$/.test(age), `age shown as "${age}"`);
      await page.shot('aged');
    } finally {
      await publishFleet(client, { count, prefix, clear: true });
      await client.endAsync();
    }
  });

  test('layout_fits_1280x800_and_phone_width', async () => {
    skipUnless(operator, 'no operator credentials');
    const page = await newPage('layout');
    await login(page, operator);
    const overflow = async () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const views = [['#/fleet', '#fleet-table'], ['#/events', '#events-list'], ['#/deploy', '#deploy-name'], ['#/groups', '#group-name'], ['#/apps', '.content']];
    for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width, height });
      for (const [hash, selector] of views) {
        await go(page, hash, selector);
        await page.waitForTimeout(150);
        const extra = await overflow();
        const topbar = await page.$eval('.topbar', (el) => el.scrollWidth - el.clientWidth);
        await page.shot(`${label}-${hash.slice(2)}`);
        check(extra <= 0, `${hash} at ${width}x${height} overflows the window by ${extra} px`);
        check(topbar <= 0, `the top bar at ${width}x${height} overflows by ${topbar} px`);
      }
    }
  });

  test('offline_banner_from_the_retained_anchor_status', async () => {
    skipUnless(operator && publisher && !anchor, 'simulates the anchor: only without a real one');
    const client = await connect(mqttUrl, publisher.user, publisher.password);
    const status = 'pharos/v1/anchor/status';
    try {
      await publish(client, status, JSON.stringify({ v: 1, state: 'online', ts: Date.now() }), { qos: 1, retain: true });
      const page = await newPage('offline-sim');
      await login(page, operator);
      check(await page.isHidden('#anchor-banner'), 'banner shown while the anchor is online');
      const sentAt = Date.now();
      await publish(client, status, JSON.stringify({ v: 1, state: 'offline', ts: sentAt }), { qos: 1, retain: true });
      await page.waitForSelector('#anchor-banner:not([hidden])', { timeout: 5000 });
      console.log(`    banner shown ${Date.now() - sentAt} ms after anchor/status offline`);
      await go(page, '#/deploy', '#deploy-submit');
      check(await page.isDisabled('#deploy-submit'), 'deploy enabled while the anchor is offline');
      await page.shot('offline');
      // A reload while offline signs in at once (no role probe that could only time out).
      const t0 = Date.now();
      await page.reload();
      await page.waitForSelector('#anchor-banner:not([hidden])', { timeout: 5000 });
      console.log(`    reload to banner while offline: ${Date.now() - t0} ms`);
    } finally {
      await publish(client, status, '', { qos: 1, retain: true });
      await client.endAsync();
    }
  });

  // ---- with the anchor (--require-approval) and a real agent -----------------------------

  test('pending_node_is_approved_from_the_ui', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and a Pending agent');
    const page = await newPage('approve');
    await login(page, operator);
    await page.fill('#fleet-search', consoleNode);
    await page.waitForSelector(`#fleet-table .vt-row[data-key="${consoleNode}"] .health[data-state="Pending"]`, { timeout: 30000 });
    await page.shot('pending');
    await go(page, `#/nodes/${consoleNode}`, '#node-approve');
    await page.click('#node-approve');
    await page.waitForSelector('#node-health[data-state="Ready"]', { timeout: 20000 });
    await page.shot('approved');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('operator_labels_adds_and_removes_nodes', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent');
    const page = await newPage('nodes-admin');
    await login(page, operator);
    // Label the node, then take the label off again.
    await go(page, `#/nodes/${consoleNode}`, '#label-input');
    await page.fill('#label-input', `stage=ui-${runId}`);
    await page.click('#label-add');
    const chip = '#node-facts .chip-operator[data-label="stage"]';
    await page.waitForSelector(chip, { timeout: 15000 });
    await page.shot('labelled');
    await page.click(`${chip} .unlabel`);
    await page.waitForSelector(chip, { state: 'detached', timeout: 15000 });
    // Add a node: its agent configuration is shown once, with copy and download.
    const added = `add-${runId}`;
    await go(page, '#/fleet', '#fleet-add-node');
    await page.click('#fleet-add-node');
    await page.fill('#add-node-name', added);
    await page.fill('#add-node-labels', 'line=ui');
    await page.click('.dialog-buttons button:text-is("Add node")');
    await page.waitForSelector('#agent-config', { timeout: 15000 });
    const config = await page.textContent('#agent-config');
    check(config.includes('password'), `no password in the agent configuration: ${config}`);
    const download = page.waitForEvent('download', { timeout: 5000 });
    await page.click('#agent-config-download');
    check((await download).suggestedFilename() === `${added}-agent.conf`, 'download file name');
    await page.shot('agent-config');
    await page.click('.dialog-buttons button:text-is("Done")');
    // Remove it from its page.
    await go(page, `#/nodes/${added}`, '#node-remove');
    await page.click('#node-remove');
    await page.click('.dialog-buttons button:text-is("Remove node")');
    await page.waitForFunction((n) => [...document.querySelectorAll('.toast')].some((t) => t.textContent.includes(`${n} removed`)), added, { timeout: 20000 });
    await page.shot('removed');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('deploy_with_a_secret_that_is_never_shown_back', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent');
    const page = await newPage('secret');
    await login(page, operator);
    await go(page, `#/deploy?node=${consoleNode}`, '#compose-editor');
    await page.fill('#deploy-name', consoleApp);
    await page.click('.segmented button[data-kind="node"]');
    await page.fill('#deploy-target-search', consoleNode);
    await page.waitForFunction((n) => document.querySelector('#deploy-target').value === n, consoleNode, { timeout: 10000 });
    await page.fill('#compose-editor', `services:\n  app:\n    image: ${testImage}\n    restart: unless-stopped\n    environment:\n      TOKEN: \${TOKEN}\n    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]\n`);
    await page.click('#deploy-add-secret');
    await page.fill('#deploy-secrets .secret-name', 'TOKEN');
    await page.fill('#deploy-secrets .secret-value', secretValue);
    check(await page.getAttribute('#deploy-secrets .secret-value', 'type') === 'password', 'the secret is typed in clear');
    // Credentials for the registry the image comes from (the loopback registry takes any).
    const registryHost = testImage.slice(0, testImage.indexOf('/'));
    await page.fill('#deploy-registry-host', registryHost);
    await page.fill('#deploy-registry-user', 'puller');
    await page.fill('#deploy-registry-password', registryPassword);
    check(await page.getAttribute('#deploy-registry-password', 'type') === 'password', 'the registry password is typed in clear');
    await page.shot('form');
    await page.click('#deploy-submit');
    await page.waitForSelector('#rollout-outcome[data-outcome="complete"]', { timeout: 180000 });
    await page.shot('rollout');
    check(!(await page.content()).includes(secretValue), 'the app page shows the secret');
    check(!(await page.content()).includes(registryPassword), 'the app page shows the registry password');
    // The anchor took the credentials for this node (its audit entry names the host only).
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      const reply = await apiCall(client, operator.user, 'events.query', { kind: 'registry.set', limit: 20 });
      const entries = (reply.result && reply.result.events) || [];
      check(entries.some((e) => JSON.stringify(e).includes(registryHost)), `no registry.set audit entry for ${registryHost}: ${JSON.stringify(reply).slice(0, 300)}`);
      check(!JSON.stringify(reply).includes(registryPassword), 'the audit entry holds the registry password');
    } finally {
      await client.endAsync();
    }
    // The app's container on the node, charted from the live metrics (every 2 s).
    await page.waitForFunction(() => {
      const el = document.querySelector('#app-containers-chart');
      return el && Number(el.dataset.series) === 1 && Number(el.dataset.points) >= 2 && el.querySelectorAll('canvas').length === 2;
    }, null, { timeout: 20000 });
    await page.shot('container-chart');
    await go(page, `#/deploy/${consoleApp}`, '#compose-editor');
    await page.waitForFunction(() => document.querySelector('#deploy-secret-names').textContent.includes('TOKEN'), null, { timeout: 15000 });
    const values = await page.$$eval('input, textarea', (els) => els.map((e) => e.value).join('\n'));
    check(!values.includes(secretValue) && !(await page.content()).includes(secretValue), 'the update form shows the secret');
    await page.shot('update-form');
  });

  test('chart_shows_history_right_after_sign_in', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent that has reported');
    // The agent has reported every 2 s since it started (the anchor runs with a 1-s fine
    // step): on a loaded machine make sure a few points are stored before signing in.
    const held = await storedPoints({ node: consoleNode }, 5);
    check(held >= 5, `the anchor holds only ${held} points of ${consoleNode}`);
    const page = await newPage('chart-history');
    const signIn = Date.now();
    await login(page, operator);
    await go(page, `#/nodes/${consoleNode}`, '#node-chart');
    // The anchor's stored points arrive with the page.
    await page.waitForSelector('#node-chart[data-loading="false"]', { timeout: 10000 });
    const opened = Date.now();
    const chart = await page.$eval('#node-chart', (el) => ({ ...el.dataset, canvas: !!el.querySelector('canvas') }));
    console.log(`    chart opened ${opened - signIn} ms after sign-in with ${chart.stored} stored points from ${new Date(Number(chart.first) * 1000).toISOString()}`);
    check(Number(chart.stored) >= 5, `only ${chart.stored} stored points on the chart`);
    check(chart.canvas, 'no chart drawn');
    check(Number(chart.first) * 1000 < signIn - 8000, `the first point (${chart.first}) is not from before sign-in (${signIn / 1000})`);
    check(Number(chart.last) > Number(chart.first), 'every point has the same time');
    await page.shot('history');
    // Seven days read the coarse tier: the same samples averaged into 5-minute points.
    await page.click('#node-chart-range button[data-range="7 days"]');
    await page.waitForFunction(() => document.querySelector('#node-chart-note').textContent.includes('300 s points'), null, { timeout: 10000 });
    check(Number(await page.getAttribute('#node-chart', 'data-stored')) >= 1, 'no coarse point over 7 days');
    // The health transitions are listed on the same page (approved, then Ready).
    await page.waitForSelector('#node-health-history .health-row[data-state="Ready"]', { timeout: 10000 });
    await page.shot('seven-days-and-health');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('app_chart_shows_container_history_right_after_sign_in', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent running the app');
    // The agent reports the app's container every 2 s since the deploy and the anchor stores
    // each sample (1-s fine step): wait until it holds a few points, then sign in.
    const held = await storedPoints({ node: consoleNode, app: consoleApp }, 5);
    check(held >= 5, `the anchor holds only ${held} points of ${consoleApp}'s container`);
    const page = await newPage('app-chart-history');
    const signIn = Date.now();
    await login(page, operator);
    await go(page, `#/apps/${consoleApp}`, '#app-containers-chart');
    await page.waitForFunction(() => {
      const el = document.querySelector('#app-containers-chart');
      return el && Number(el.dataset.stored) >= 5 && el.querySelectorAll('canvas').length === 2;
    }, null, { timeout: 10000 });
    const chart = await page.$eval('#app-containers-chart', (el) => ({ ...el.dataset }));
    console.log(`    app chart opened ${Date.now() - signIn} ms after sign-in with ${chart.stored} stored points from ${new Date(Number(chart.first) * 1000).toISOString()}`);
    check(Number(chart.series) === 1, `${chart.series} lines drawn for one container`);
    check(Number(chart.first) * 1000 < signIn - 4000, `the first point (${chart.first}) is not from before sign-in (${signIn / 1000})`);
    check(Number(chart.last) > Number(chart.first), 'every point has the same time');
    check((await page.textContent('#app-containers-note')).includes('stored history'), 'the note does not say the chart holds stored history');
    await page.shot('app-chart-history');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('registry_credentials_are_listed_without_the_password_and_removed', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and the deploy with registry credentials');
    const registryHost = testImage.slice(0, testImage.indexOf('/'));
    const row = (panel) => `${panel} tr.registry-row[data-host="${registryHost}"]`;
    const page = await newPage('registry');
    await login(page, operator);
    // The app page lists its target's credentials: host and user, never the password.
    await go(page, `#/apps/${consoleApp}`, row('#app-registries'));
    check((await page.textContent(row('#app-registries'))).includes('puller'), 'the app page does not show the registry user');
    check(!(await page.content()).includes(registryPassword), 'the app page shows the registry password');
    // Removed from the node page, confirmed.
    await go(page, `#/nodes/${consoleNode}`, row('#node-registries'));
    check(!(await page.content()).includes(registryPassword), 'the node page shows the registry password');
    await page.shot('listed');
    await page.click(`${row('#node-registries')} button[data-action="remove-registry"]`);
    await page.click('.dialog-buttons button.danger');
    await page.waitForSelector(row('#node-registries'), { state: 'detached', timeout: 10000 });
    await page.shot('removed');
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      const list = await apiCall(client, operator.user, 'registry.list', { target: { node: consoleNode } });
      check(list.ok && !list.result.registries.some((r) => r.host === registryHost), `still listed: ${JSON.stringify(list)}`);
      const audit = await apiCall(client, operator.user, 'events.query', { kind: 'registry.remove', limit: 20 });
      const entries = (audit.result && audit.result.events) || [];
      check(entries.some((e) => (e.message || '').includes(registryHost) && e.user === operator.user), `no registry.remove audit entry: ${JSON.stringify(audit).slice(0, 300)}`);
      check(!JSON.stringify(audit).includes(registryPassword), 'the audit entry holds the registry password');
    } finally {
      await client.endAsync();
    }
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('logs_follow_a_service_printing_every_100_ms', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent');
    const ticker = `tick-${runId}`;
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      const reply = await apiCall(client, operator.user, 'app.deploy', {
        name: ticker, target: { node: consoleNode },
        compose: `services:\n  tick:\n    image: ${testImage}\n    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while :; do i=$$((i+1)); echo tick-$$i; sleep 0.1; done"]\n`,
      });
      check(reply.ok, `app.deploy: ${JSON.stringify(reply)}`);
    } finally {
      await client.endAsync();
    }
    const page = await newPage('logs-follow');
    await login(page, operator);
    const button = `#node-apps tr.sub-row[data-app="${ticker}"] button[data-action="logs"]`;
    await go(page, `#/nodes/${consoleNode}`, button);
    await page.click(button);
    await page.waitForSelector('#logs-status[data-state="following"]', { timeout: 15000 });
    const count = () => page.$eval('#logs-text', (el) => Number(el.dataset.received || 0));
    const before = await count();
    await page.waitForTimeout(2000);
    const after = await count();
    console.log(`    ${after - before} lines followed in 2 s`);
    check(after - before >= 10, `only ${after - before} new lines in 2 s`);
    const shown = await page.$$eval('#logs-text .log-line', (rows) => rows.map((r) => r.textContent));
    const numbers = shown.map((t) => Number((t.match(/tick-(\d+)$/) || [])[1]));
    check(numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1), `lines out of order or lost: ${numbers.slice(-20).join(',')}`);
    check(/^\d\d:\d\d:\d\d\.\d{3} tick-/.test(shown[0]), `no time on the line: ${shown[0]}`);
    // Search filters the lines shown.
    await page.fill('#logs-search', 'tick-1');
    const filtered = await page.$$eval('#logs-text .log-line', (rows) => rows.map((r) => r.textContent));
    check(filtered.length > 0 && filtered.every((t) => t.includes('tick-1')), 'the search does not filter');
    await page.shot('following');
    // Download: every line received, with its time.
    const download = page.waitForEvent('download', { timeout: 5000 });
    await page.click('#logs-download');
    const file = await download;
    check(file.suggestedFilename() === `${consoleNode}-${ticker}-tick.log`, `download name ${file.suggestedFilename()}`);
    const text = await (await import('node:fs/promises')).readFile(await file.path(), 'utf8');
    check(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick-\d+$/m.test(text), `downloaded text: ${text.slice(0, 200)}`);
    await page.click('.dialog-buttons button');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('removed_app_keeps_only_its_history_and_deploy_again', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and an agent');
    // The ticker of the logs test, removed from its page. The anchor keeps its tombstone
    // until every node has removed it, then drops it ("no longer known").
    const ticker = `tick-${runId}`;
    const eventsPage = await newPage('removed-app-events');
    await login(eventsPage, operator);
    await go(eventsPage, '#/events', '#events-list');
    const page = await newPage('removed-app');
    await login(page, operator);
    const enabled = () => page.$$eval('.page-head button', (bs) => bs.filter((b) => !b.disabled).map((b) => b.dataset.action).sort().join(','));
    await go(page, `#/apps/${ticker}`, '.page-head button[data-action="remove"]:not([disabled])');
    await page.click('.page-head button[data-action="remove"]');
    await page.click('.dialog-buttons button:text-is("Remove")');
    await page.waitForSelector('#app-removed, #app-gone', { timeout: 15000 });
    const state = await page.$('#app-removed') ? 'removed' : 'gone';
    const expected = state === 'removed' ? 'history,update' : '';
    check(await enabled() === expected, `enabled on the ${state} app's page: ${await enabled()} (expected ${expected})`);
    if (state === 'removed') {
      check(await page.textContent('.page-head button[data-action="update"]') === 'Deploy again', 'no "Deploy again"');
      await page.click('.page-head button[data-action="history"]');
      await page.waitForSelector('#history-table');
      const rollbacks = await page.$$eval('#history-table button', (bs) => bs.filter((b) => !b.disabled).length);
      check(rollbacks === 0, `${rollbacks} rollback button(s) enabled on a removed app`);
    }
    await page.shot(`page-${state}`);
    // The agent's own event arrives in the open Events view, live.
    await eventsPage.waitForSelector(`#events-list .event-row[data-kind="app_removed"][data-app="${ticker}"]`, { timeout: 20000 });
    await eventsPage.shot('agent-event-live');
    // The Apps list: the app as removed with its change actions off, or gone from it.
    await go(page, '#/apps', '#apps-status[data-loaded="true"]');
    const row = `#apps-table tr[data-app="${ticker}"]`;
    const listed = await page.$$eval(`${row} button`, (bs) => bs.filter((b) => !b.disabled).map((b) => b.dataset.action).sort().join(','));
    const rowState = await page.$eval(row, (r) => r.dataset.state).catch(() => 'not listed');
    check(rowState === 'not listed' || (rowState === 'removed' && listed === 'history,update'), `apps list: ${rowState} with ${listed} enabled`);
    console.log(`    app page: ${state}; apps list: ${rowState}`);
    await page.shot('apps');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('node_killed_shows_last_reported_apps_and_its_rollout_stays_complete', async () => {
    skipUnless(operator && anchor && consoleNode && env.PHAROS_CONSOLE_PID, 'needs the anchor and an agent to kill');
    const nodePage = await newPage('killed-node');
    await login(nodePage, operator);
    await go(nodePage, `#/nodes/${consoleNode}`, `#node-apps tr.app-row[data-app="${consoleApp}"]`);
    check(await nodePage.getAttribute('#node-apps', 'data-stale') === 'false', 'apps marked stale while the node is Ready');
    const eventsPage = await newPage('killed-events');
    await login(eventsPage, operator);
    await go(eventsPage, '#/events', '#events-list');
    await nodePage.shot('before');
    const killedAt = Date.now();
    process.kill(Number(env.PHAROS_CONSOLE_PID), 'SIGKILL');
    await nodePage.waitForSelector('#node-apps[data-stale="true"]', { timeout: 5000 });
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`    apps of ${consoleNode} marked last reported ${seconds.toFixed(2)} s after SIGKILL`);
    check(await nodePage.isVisible('#node-apps-stale'), 'no "last reported" note');
    await nodePage.shot('last-reported');
    // The time is printed, not asserted: latency figures belong to benchmarks; the wait above
    // bounds it.
    // The Events view shows the health change live.
    await eventsPage.waitForSelector(`#events-list .event-row[data-kind="health_changed"][data-node="${consoleNode}"][data-reason="NotReady"]`, { timeout: 3000 });
    check(await eventsPage.getAttribute(`#events-list .event-row[data-kind="health_changed"][data-node="${consoleNode}"]`, 'data-severity') === 'error', 'severity of a node going down');
    await eventsPage.shot('health-change-live');
    // The completed rollout stays completed; the node is flagged on its own line.
    await go(nodePage, `#/apps/${consoleApp}`, '#rollout-outcome');
    await nodePage.waitForSelector(`#rollout-nodes tr[data-node="${consoleNode}"][data-down="true"]`, { timeout: 10000 });
    const outcome = await nodePage.getAttribute('#rollout-outcome', 'data-outcome');
    await nodePage.shot('rollout-after-kill');
    check(outcome === 'complete', `rollout shown as ${outcome} after its node died`);
  });

  test('events_view_shows_audit_entries_live_with_filters', async () => {
    skipUnless(operator && anchor, 'needs the anchor');
    const page = await newPage('events-live');
    await login(page, operator);
    await go(page, '#/events', '#events-list');
    await page.waitForTimeout(500);
    const group = `aud-${runId}`;
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      const reply = await apiCall(client, operator.user, 'group.create', { name: group });
      check(reply.ok, `group.create: ${JSON.stringify(reply)}`);
    } finally {
      await client.endAsync();
    }
    await page.waitForFunction((g) => [...document.querySelectorAll('#events-list .event-row[data-kind="group.create"]')].some((r) => r.textContent.includes(g)), group, { timeout: 10000 });
    await page.selectOption('#events-source', 'audit');
    const kinds = await page.$$eval('#events-list .event-row', (rows) => [...new Set(rows.map((r) => r.dataset.kind))]);
    check(!kinds.includes('health_changed'), `the audit filter shows ${kinds.join(',')}`);
    await page.shot('audit-live');
    await page.selectOption('#events-source', '');
    await page.selectOption('#events-severity', 'error');
    const severities = await page.$$eval('#events-list .event-row', (rows) => [...new Set(rows.map((r) => r.dataset.severity))]);
    check(severities.every((s) => s === 'error'), `the severity filter shows ${severities.join(',')}`);
  });

  test('events_view_pages_past_500_from_a_start_time', async () => {
    skipUnless(operator && anchor && consoleNode, 'needs the anchor and a registered node');
    // 520 audit entries: node.label calls, pipelined (agent events are rate-limited per node).
    const count = 520;
    const kind = 'node.label';
    const start = Date.now() - 60000;
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      const inbox = `pharos/v1/replies/${operator.user}/con-page-${runId}`;
      await client.subscribeAsync(inbox, { qos: 1 });
      let ok = 0;
      const done = new Promise((resolve) => {
        const timer = setTimeout(resolve, 60000);
        client.on('message', (topic, payload) => {
          if (topic !== inbox) return;
          if (JSON.parse(payload.toString()).ok) ok += 1;
          if (ok >= count) { clearTimeout(timer); resolve(); }
        });
      });
      for (let i = 0; i < count; i += 1) {
        client.publish(`pharos/v1/api/${operator.user}/node.label`, JSON.stringify({ v: 1, name: consoleNode, set: { paging: `v${i}` } }),
          { qos: 1, properties: { responseTopic: inbox, correlationData: Buffer.from(String(i)) } });
      }
      await done;
      check(ok === count, `${ok} of ${count} node.label calls answered ok`);
    } finally {
      await client.endAsync();
    }
    await new Promise((r) => setTimeout(r, 1000));
    const page = await newPage('events-paging');
    await login(page, operator);
    await go(page, '#/events', '#events-list');
    await page.waitForFunction(() => /\(\d+ loaded\)/.test(document.querySelector('#events-status').textContent), null, { timeout: 10000 });
    await page.waitForFunction((k) => [...document.querySelector('#events-kind').options].some((o) => o.value === k), kind, { timeout: 10000 });
    await page.selectOption('#events-kind', kind);
    const firstCount = Number(await page.getAttribute('#events-status', 'data-count'));
    check(firstCount <= 500, `the newest page holds ${firstCount} (more than a page)`);
    // From a start time: 500 from there on, then the next 500.
    await page.evaluate((ms) => {
      const d = new Date(ms);
      const pad = (n) => String(n).padStart(2, '0');
      const el = document.querySelector('#events-from');
      el.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      el.dispatchEvent(new Event('change'));
    }, start);
    await page.waitForSelector('#events-next:not([hidden])', { timeout: 10000 });
    // Each page has arrived when more events are loaded, or when there is no next page.
    const loaded = () => page.evaluate(() => Number((/\((\d+) loaded\)/.exec(document.querySelector('#events-status').textContent) || [0, 0])[1]));
    for (let i = 0; i < 5 && !(await page.isHidden('#events-next')); i += 1) {
      const before = await loaded();
      await page.click('#events-next');
      await page.waitForFunction((n) => {
        const m = /\((\d+) loaded\)/.exec(document.querySelector('#events-status').textContent);
        return (m && Number(m[1]) > n) || document.querySelector('#events-next').hidden;
      }, before, { timeout: 15000 });
    }
    await page.selectOption('#events-kind', kind);
    const all = Number(await page.getAttribute('#events-status', 'data-count'));
    await page.shot('paged');
    console.log(`    ${kind} entries: newest page ${firstCount}; after paging from a start time ${all}`);
    check(all >= count, `paging found ${all} ${kind} entries, expected at least ${count}`);
  });

  test('events_view_shows_a_time_range_from_and_to', async () => {
    skipUnless(operator && anchor, 'needs the anchor');
    // Three audit entries 2.5 s apart (`at`: just after each was answered); the view's range
    // takes whole seconds.
    const names = ['early', 'middle', 'late'].map((n) => `rng-${n}-${runId}`);
    const at = [];
    const client = await connect(mqttUrl, operator.user, operator.password);
    try {
      for (const [i, name] of names.entries()) {
        if (i) await new Promise((r) => setTimeout(r, 2500));
        const reply = await apiCall(client, operator.user, 'group.create', { name });
        check(reply.ok, `group.create: ${JSON.stringify(reply)}`);
        at.push(Date.now());  // after the anchor stamped it
      }
    } finally {
      await client.endAsync();
    }
    const page = await newPage('events-range');
    await login(page, operator);
    await go(page, '#/events', '#events-list');
    await page.waitForFunction(() => /\(\d+ loaded\)/.test(document.querySelector('#events-status').textContent), null, { timeout: 10000 });
    const setTime = (selector, ms) => page.evaluate(([sel, t]) => {
      const d = new Date(t);
      const pad = (n) => String(n).padStart(2, '0');
      const el = document.querySelector(sel);
      el.value = t ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : '';
      el.dispatchEvent(new Event('change'));
    }, [selector, ms]);
    const shownGroups = () => page.$$eval('#events-list .event-row[data-kind="group.create"]', (rows, ns) =>
      ns.filter((n) => rows.some((r) => r.textContent.includes(n))), names);
    // "To" alone, a second after the middle entry: the newest up to it, from the anchor.
    await setTime('#events-until', Math.floor(at[1] / 1000) * 1000 + 1000);
    await page.waitForFunction((ns) => {
      const rows = [...document.querySelectorAll('#events-list .event-row[data-kind="group.create"]')];
      return rows.some((r) => r.textContent.includes(ns[1])) && !rows.some((r) => r.textContent.includes(ns[2]));
    }, names, { timeout: 10000 });
    check(JSON.stringify(await shownGroups()) === JSON.stringify(names.slice(0, 2)), `up to the middle: ${await shownGroups()}`);
    // From a second after the first entry to the same end: the middle one only.
    await setTime('#events-from', Math.floor(at[0] / 1000) * 1000 + 1000);
    await page.waitForFunction((ns) => {
      const rows = [...document.querySelectorAll('#events-list .event-row[data-kind="group.create"]')];
      return rows.some((r) => r.textContent.includes(ns[1])) && !rows.some((r) => r.textContent.includes(ns[0]));
    }, names, { timeout: 10000 });
    check(JSON.stringify(await shownGroups()) === JSON.stringify([names[1]]), `from the first to the middle: ${await shownGroups()}`);
    await page.shot('range');
    // A range that ends before it starts: the anchor's error, naming the field.
    await setTime('#events-until', Math.floor(at[0] / 1000) * 1000 - 5000);
    await page.waitForFunction(() => document.querySelector('#events-status').textContent.includes('until'), null, { timeout: 10000 });
    // No end: the latest entry is back.
    await setTime('#events-until', 0);
    await page.waitForFunction((n) => [...document.querySelectorAll('#events-list .event-row[data-kind="group.create"]')].some((r) => r.textContent.includes(n)), names[2], { timeout: 10000 });
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  });

  test('offline_banner_when_the_anchor_stops', async () => {
    skipUnless(operator && anchor && env.PHAROS_ANCHOR_PID, 'needs the anchor process');
    const page = await newPage('anchor-stops');
    await login(page, operator);
    await go(page, '#/deploy', '#deploy-name');
    await page.fill('#deploy-name', 'typed-before');
    check(!(await page.isDisabled('#deploy-submit')), 'Deploy disabled while the anchor is online');
    const stoppedAt = Date.now();
    process.kill(Number(env.PHAROS_ANCHOR_PID), 'SIGTERM');
    await page.waitForSelector('#anchor-banner:not([hidden])', { timeout: 5000 });
    const ms = Date.now() - stoppedAt;
    console.log(`    offline banner ${ms} ms after SIGTERM to the anchor`);
    await page.waitForFunction(() => document.querySelector('#deploy-submit').disabled, null, { timeout: 2000 });
    check(await page.inputValue('#deploy-name') === 'typed-before', 'the deploy form lost what was typed');
    await page.shot('banner');
    await go(page, '#/fleet', '#fleet-add-node');
    check(await page.isDisabled('#fleet-add-node'), 'Add node enabled while the anchor is offline');
    // A read that needs the anchor fails at once instead of waiting 15 s.
    await go(page, '#/events', '#events-list');
    await page.waitForFunction(() => document.querySelector('#events-status').textContent.includes('unavailable'), null, { timeout: 2000 });
    await page.shot('events-offline');
  });
}
