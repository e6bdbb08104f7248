// Staged rollout view (docs/rollouts.md): the `staged` block of an app's retained rollout
// summary as waves, the current wave's gate node by node, the soak time left and why it
// waits, with the rollout commands (pause, resume, promote, abort) for operators. The
// summary is live (apps/{app}/rollout), so the panel is redrawn with every summary.
// Main thread only.
import { h, badge, toast, errorText, confirmAction } from 'pharos/dom.js';

const kPhaseKind = {
  waiting: 'warn', gating: 'info', paused: 'warn', complete: 'ok', rolled_back: 'bad', aborted: 'bad',
};
const kGateKind = { pending: 'warn', notready: 'muted', soaking: 'info', passed: 'ok', failed: 'bad' };
const kFinished = new Set(['complete', 'rolled_back', 'aborted']);

// What the panel shows, from a summary's `staged` block (pure, for the unit tests):
// {phase, wave, waves, steps: ['done'|'current'|'failed'|'next'], soakSeconds, commands, gate,
// window: the update window with the site's time zone it is read in, '' when none}.
export function stagedModel(staged) {
  if (!staged || typeof staged !== 'object') return null;
  const waves = Math.max(1, Number(staged.waves) || 1);
  const wave = Math.min(waves, Math.max(1, Number(staged.wave) || 1));
  const phase = String(staged.phase || 'gating');
  const steps = [];
  for (let k = 1; k <= waves; k += 1) {
    let state = 'next';
    if (k < wave || (k === wave && phase === 'complete')) state = 'done';
    else if (k === wave) state = (phase === 'rolled_back' || phase === 'aborted') ? 'failed' : 'current';
    steps.push(state);
  }
  const finished = kFinished.has(phase);
  const commands = [];
  if (phase === 'waiting' || phase === 'gating') commands.push('pause');
  if (phase === 'paused') commands.push('resume');
  if (!finished) commands.push('promote', 'abort');
  const gate = Array.isArray(staged.gate) ? [...staged.gate].sort((a, b) => String(a.node).localeCompare(String(b.node))) : [];
  return {
    phase, wave, waves, steps, finished, commands, gate,
    revision: staged.revision, previous: staged.previous_revision || 0,
    soakSeconds: staged.soak_left_ms > 0 ? Math.ceil(staged.soak_left_ms / 1000) : 0,
    reason: staged.reason || '',
    window: staged.window ? `${staged.window}${staged.time_zone ? ` (${staged.time_zone})` : ''}` : '',
  };
}

// How a revision was rolled out, from app.history's `rollout` (pure, for the unit tests):
// {text, kind} with kind a badge kind; text '' when the anchor kept no record of it.
export function historyRollout(rollout) {
  if (!rollout || typeof rollout !== 'object') return { text: '', kind: 'muted' };
  if (rollout.kind !== 'staged') return { text: 'plain', kind: 'muted' };
  const phase = String(rollout.phase || 'gating');
  const steps = Array.isArray(rollout.steps) ? rollout.steps.join(', ') : '';
  let text = `staged${steps ? ` (${steps})` : ''}: ${phase.replace('_', ' ')} at wave ${Number(rollout.wave) || 1} of ${Number(rollout.waves) || 1}`;
  if (rollout.reason) text += ` — ${rollout.reason}`;
  return { text, kind: kPhaseKind[phase] || 'muted' };
}

const kConfirm = {
  promote: ['Promote the rollout?', 'Every node of the target takes the new revision now; the remaining gates are skipped.', false],
  abort: ['Abort the rollout?', 'Every node that took the new revision returns to the previous one.', true],
};

async function command(ctx, name, op) {
  if (kConfirm[op] && !(await confirmAction(kConfirm[op][0], kConfirm[op][1], op[0].toUpperCase() + op.slice(1), kConfirm[op][2]))) return;
  try {
    const r = await ctx.conn.request(`rollout.${op}`, { name });
    toast(`${name}: rollout ${r && r.phase ? r.phase : op} (wave ${r ? r.wave : '?'} of ${r ? r.waves : '?'})`, 'ok');
  } catch (err) {
    toast(`rollout.${op} failed: ${errorText(err)}`, 'error');
  }
}

// The panel for app `name`'s summary, or null when the app never had a staged rollout.
export function stagedPanel(ctx, name, summary) {
  const m = stagedModel(summary && summary.staged);
  if (!m) return null;
  const strip = h('ol', { class: 'wave-strip', id: 'staged-waves', style: { display: 'flex', gap: '6px', listStyle: 'none', padding: 0, margin: '8px 0' } },
    m.steps.map((state, i) => h('li', { dataset: { wave: String(i + 1), state } },
      badge(`wave ${i + 1}`, { done: 'ok', current: 'info', failed: 'bad', next: 'muted' }[state]))));
  const buttons = m.commands.map((op) => h('button', {
    class: op === 'abort' ? 'danger' : '', dataset: { command: op }, disabled: !ctx.canWrite,
    onclick: () => command(ctx, name, op),
  }, op[0].toUpperCase() + op.slice(1)));
  return h('div', { class: 'panel', id: 'staged', dataset: { phase: m.phase, wave: String(m.wave) } },
    h('div', { class: 'panel-head' },
      h('h2', {}, `Staged rollout of revision ${m.revision}${m.previous ? ` over ${m.previous}` : ''}`),
      h('span', { id: 'staged-phase' }, badge(m.phase.replace('_', ' '), kPhaseKind[m.phase])),
      h('span', { class: 'muted' }, `wave ${m.wave} of ${m.waves}` + (m.soakSeconds ? ` · soak ${m.soakSeconds} s left` : '')),
      buttons.length ? h('div', { class: 'actions' }, buttons) : null),
    strip,
    m.window ? h('p', { class: 'muted', id: 'staged-window' }, `Update window: ${m.window}`) : null,
    m.reason ? h('p', { class: 'muted', id: 'staged-reason' }, m.reason) : null,
    m.gate.length === 0 ? null : h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'staged-gate' },
      h('thead', {}, h('tr', {}, ['Node', 'Gate', 'Why'].map((t) => h('th', {}, t)))),
      h('tbody', {}, m.gate.map((g) => h('tr', { dataset: { node: g.node, gate: g.gate } },
        h('td', {}, h('a', { href: `#/nodes/${encodeURIComponent(g.node)}` }, g.node)),
        h('td', {}, badge(g.gate, kGateKind[g.gate])),
        h('td', { class: 'muted' }, g.reason || '')))))));
}
