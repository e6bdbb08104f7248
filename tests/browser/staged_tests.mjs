// Browser tests of the staged rollout view (web-ui/js/views/staged_panel.js) against the
// broker alone: a retained rollout summary published with the anchor's identity, as the
// anchor writes it, drawn live on the app page. Registered by run_tests.mjs.
import { connect, publish } from './fleet_publisher.mjs';

export function registerStagedTests({ test, skipUnless, check, newPage, login, go, mqttUrl, operator, publisher, runId }) {
  test('staged_rollout_view_shows_waves_gate_and_commands', async () => {
    skipUnless(operator && publisher, 'needs PHAROS_OPERATOR and PHAROS_PUBLISHER');
    const app = `stg-${runId}`;
    const topic = `pharos/v1/apps/${app}/rollout`;
    const summary = (staged) => JSON.stringify({
      v: 1, app, target_kind: 'group', target: 'line', revision: 4, total: 2, pending: 0,
      applied: 0, running: 2, failed: 0, notready: 0, ts: Date.now(),
      nodes: [{ node: 'p1', status: 'running' }, { node: 'p2', status: 'running' }], staged,
    });
    const client = await connect(mqttUrl, publisher.user, publisher.password);
    try {
      await publish(client, topic, summary({
        phase: 'gating', revision: 5, previous_revision: 4, wave: 2, waves: 3, soak_left_ms: 41000,
        reason: 'p2: soaking', gate: [{ node: 'p2', gate: 'soaking' }, { node: 'p1', gate: 'passed' }],
        window: 'daily 22:00-06:00', time_zone: 'Europe/Berlin',
      }), { qos: 1, retain: true });
      const page = await newPage('staged');
      await login(page, operator);
      await go(page, `#/apps/${app}`, '#staged[data-phase="gating"]');
      const waves = await page.$$eval('#staged-waves li', (els) => els.map((e) => e.dataset.state));
      check(JSON.stringify(waves) === '["done","current","next"]', `waves ${waves}`);
      const gate = await page.$$eval('#staged-gate tbody tr', (rows) => rows.map((r) => `${r.dataset.node}:${r.dataset.gate}`));
      check(JSON.stringify(gate) === '["p1:passed","p2:soaking"]', `gate ${gate}`);
      // Offered for the phase, disabled: no anchor answered the role probe (broker alone).
      const commands = await page.$$eval('#staged button', (bs) => bs.map((b) => `${b.dataset.command}:${b.disabled}`));
      check(JSON.stringify(commands) === '["pause:true","promote:true","abort:true"]', `commands ${commands}`);
      const head = await page.textContent('#staged .panel-head');
      check(head.includes('revision 5 over 4') && head.includes('wave 2 of 3') && head.includes('soak 41 s left'), head);
      const window = await page.textContent('#staged-window');
      check(window.includes('daily 22:00-06:00 (Europe/Berlin)'), `window ${window}`);
      await page.shot('gating');

      // The anchor rolls it back: the panel follows the retained summary live.
      await publish(client, topic, summary({
        phase: 'rolled_back', revision: 5, previous_revision: 4, wave: 2, waves: 3,
        reason: 'wave 2: 1 node(s) failed (p2: Failed)', gate: [{ node: 'p2', gate: 'failed', reason: 'Failed' }],
      }), { qos: 1, retain: true });
      await page.waitForSelector('#staged[data-phase="rolled_back"]', { timeout: 10000 });
      check((await page.$$('#staged button')).length === 0, 'commands offered on a finished rollout');
      check((await page.textContent('#staged-reason')).includes('p2: Failed'), 'reason not shown');
      await page.shot('rolled-back');
      check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
    } finally {
      await publish(client, topic, '', { qos: 1, retain: true });
      client.end();
    }
  });
}
