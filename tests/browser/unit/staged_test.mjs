// Unit tests of the staged rollout view's model (web-ui/js/views/staged_panel.js): waves,
// the commands each phase allows, the gate's order and the soak time left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stagedModel, historyRollout } from 'pharos/views/staged_panel.js';

test('a gating wave: earlier waves done, later ones next; pause, promote and abort', () => {
  const m = stagedModel({ phase: 'gating', revision: 4, previous_revision: 3, wave: 2, waves: 3,
    soak_left_ms: 40001, gate: [{ node: 'n2', gate: 'soaking' }, { node: 'n1', gate: 'passed' }] });
  assert.deepEqual(m.steps, ['done', 'current', 'next']);
  assert.deepEqual(m.commands, ['pause', 'promote', 'abort']);
  assert.equal(m.soakSeconds, 41);
  assert.deepEqual(m.gate.map((g) => g.node), ['n1', 'n2']);
  assert.equal(m.previous, 3);
});

test('each phase allows only the commands the anchor accepts', () => {
  const cases = [
    ['waiting', ['pause', 'promote', 'abort']],
    ['paused', ['resume', 'promote', 'abort']],
    ['complete', []],
    ['rolled_back', []],
    ['aborted', []],
  ];
  for (const [phase, commands] of cases) {
    assert.deepEqual(stagedModel({ phase, wave: 1, waves: 2 }).commands, commands, phase);
  }
});

test('a complete rollout has every wave done; a rolled back one marks its failed wave', () => {
  assert.deepEqual(stagedModel({ phase: 'complete', wave: 3, waves: 3 }).steps, ['done', 'done', 'done']);
  assert.deepEqual(stagedModel({ phase: 'rolled_back', wave: 1, waves: 3 }).steps, ['failed', 'next', 'next']);
});

test('no staged block, no panel; damaged numbers are clamped', () => {
  assert.equal(stagedModel(undefined), null);
  assert.equal(stagedModel(null), null);
  const m = stagedModel({ phase: 'gating', wave: 9, waves: 'x' });
  assert.equal(m.waves, 1);
  assert.equal(m.wave, 1);
  assert.deepEqual(m.gate, []);
  assert.equal(m.soakSeconds, 0);
});

test('the update window is shown with the site time zone it is read in', () => {
  const m = stagedModel({ phase: 'waiting', wave: 1, waves: 2, window: 'daily 22:00-06:00', time_zone: 'Asia/Tokyo' });
  assert.equal(m.window, 'daily 22:00-06:00 (Asia/Tokyo)');
  assert.equal(stagedModel({ phase: 'gating', wave: 1, waves: 2 }).window, '');
});

test('the history says how each revision was rolled out', () => {
  assert.deepEqual(historyRollout(undefined), { text: '', kind: 'muted' });
  assert.deepEqual(historyRollout({ kind: 'plain', previous_revision: 1 }), { text: 'plain', kind: 'muted' });
  const failed = historyRollout({ kind: 'staged', phase: 'rolled_back', wave: 1, waves: 2, steps: ['n1', '100%'],
    reason: 'wave 1: 1 node(s) failed' });
  assert.equal(failed.text, 'staged (n1, 100%): rolled back at wave 1 of 2 — wave 1: 1 node(s) failed');
  assert.equal(failed.kind, 'bad');
  assert.equal(historyRollout({ kind: 'staged', phase: 'complete', wave: 2, waves: 2 }).kind, 'ok');
});
