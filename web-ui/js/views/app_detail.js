// App view: the live rollout of the app's current revision, node by node, from what each
// node reported (a node now down keeps its last reported stage, flagged on its line), its
// actions, and its compose file (app.get). A removed app shows that it is removed, with its
// change actions disabled (app_actions.js), and one the anchor no longer knows has none. Below the rollout, the CPU and memory of the app's
// containers on its target nodes (container_chart.js), and the registry credentials set on
// its target (registry_panel.js).
// Main thread only.
import { h, replace, badge, errorText, formatTime } from 'pharos/dom.js';
import { healthOf } from 'pharos/store.js';
import { actionButtons } from 'pharos/views/app_actions.js';
import { nodeStage, rolloutBar, rolloutOutcome, reportedSummary } from 'pharos/views/rollout.js';
import { stagedPanel } from 'pharos/views/staged_panel.js';
import { lastReported } from 'pharos/freshness.js';
import { ContainerCharts } from 'pharos/container_chart.js';
import { appContainerSeries } from 'pharos/metrics_series.js';
import { registryPanel } from 'pharos/views/registry_panel.js';

const kHistoryNodes = 8;  // nodes whose stored container history is asked (container_chart.js draws 8 lines)

const kOutcomeText = {
  complete: ['Rollout complete', 'ok'],
  failed: ['Rollout failed', 'bad'],
  'in-progress': ['Rolling out', 'info'],
};

export function mount(ctx, host, [name]) {
  const { store, conn } = ctx;
  let detail = null;
  const head = h('div', { class: 'page-head' });
  const rolloutPanel = h('div', { class: 'panel', id: 'rollout' });
  const specPanel = h('div', { class: 'panel' }, h('h2', {}, 'Compose file'), h('div', { class: 'muted' }, 'Loading…'));
  const chartsHost = h('div', { id: 'app-containers-chart' });
  const charts = new ContainerCharts(chartsHost);
  const registries = registryPanel(ctx, 'app-registries');
  registries.element.hidden = true;  // until app.get names the target
  replace(host, head, rolloutPanel,
    h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Containers: CPU and memory')), chartsHost),
    registries.element, specPanel);
  let registriesOf = '';

  // The target nodes: the rollout summary's, else every node that reports the app's containers.
  // The stored history is asked once per node, for the first nodes by name (as many as lines
  // are drawn).
  const seeded = new Set();
  function seedHistory(names) {
    for (const node of names.filter((n) => n && !seeded.has(n)).sort().slice(0, kHistoryNodes - seeded.size)) {
      seeded.add(node);
      conn.request('metrics.query', { node, app: name })
        .then((result) => charts.seed(node, result))
        .catch(() => {});  // no history for that node: its live samples only
    }
  }
  function renderCharts() {
    const summary = store.rollouts.get(name);
    const nodes = summary && Array.isArray(summary.nodes) && !summary.truncated
      ? summary.nodes.map((e) => store.nodes.get(e.node))
      : [...store.nodes.values()];
    const series = appContainerSeries(nodes, name);
    charts.update(series);
    const t = detail && detail.target;
    seedHistory(summary && Array.isArray(summary.nodes) ? summary.nodes.map((e) => e.node)
      : t && t.node ? [t.node] : series.map((s) => s.label.slice(0, s.label.lastIndexOf('/'))));
  }

  function renderHead() {
    const summary = store.rollouts.get(name);
    const t = (detail && detail.target) || {};
    const targetText = t.node ? `node ${t.node}` : t.group ? `group ${t.group}` : summary ? `${summary.target_kind} ${summary.target}` : '';
    const revision = (detail && detail.revision) || (summary && summary.revision);
    replace(head, h('a', { href: '#/apps' }, '← Apps'), h('h1', {}, name),
      revision ? h('span', { class: 'muted' }, `revision ${revision}`) : null,
      targetText ? h('span', { class: 'muted' }, `→ ${targetText}`) : null,
      detail && detail.state === 'removed' ? h('span', { id: 'app-removed' }, badge('removed', 'muted')) : null,
      detail && detail.state === 'gone' ? h('span', { id: 'app-gone' }, badge('no longer known', 'muted')) : null,
      h('div', { class: 'actions' }, actionButtons(ctx, name, load, detail ? detail.state : undefined)));
  }

  function renderRollout() {
    if (detail && detail.state === 'gone') {
      replace(rolloutPanel, h('h2', {}, 'Removed'), h('p', { class: 'muted', id: 'app-gone-note' },
        `The anchor knows no app named ${name}: it was removed and every node has dropped it.`));
      return;
    }
    if (detail && detail.state === 'removed') {
      replace(rolloutPanel, h('h2', {}, 'Removed'), h('p', { class: 'muted', id: 'app-removed-note' },
        `${name} was removed${detail.updated ? ` at ${formatTime(detail.updated)}` : ''}: its containers leave every target node. `,
        'Only its history is kept; "Deploy again" brings it back as a new revision.'));
      return;
    }
    const summary = reportedSummary(store, store.rollouts.get(name));
    if (!summary) {
      replace(rolloutPanel, h('h2', {}, 'Rollout'), h('div', { class: 'empty' }, 'Waiting for the anchor\'s rollout summary…'));
      return;
    }
    const outcome = rolloutOutcome(summary);
    const [text, kind] = kOutcomeText[outcome];
    const nodes = Array.isArray(summary.nodes) ? [...summary.nodes].sort((a, b) => a.node.localeCompare(b.node)) : [];
    replace(rolloutPanel,
      h('div', { class: 'panel-head' }, h('h2', {}, `Rollout of revision ${summary.revision}`),
        h('span', { id: 'rollout-outcome', dataset: { outcome } }, badge(text, kind)),
        h('span', { class: 'muted' }, summary.ts ? `updated ${formatTime(summary.ts)}` : '')),
      rolloutBar(summary),
      stagedPanel(ctx, name, summary),
      nodes.length === 0 ? h('div', { class: 'empty' }, 'No target nodes (an empty group?).') :
        h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'rollout-nodes' },
          h('thead', {}, h('tr', {}, ['Node', 'Node health', 'Stage', 'Message'].map((t) => h('th', {}, t)))),
          h('tbody', {}, nodes.map((entry) => {
            const node = store.nodes.get(entry.node);
            const stage = nodeStage(store, summary, entry);
            return h('tr', { class: stage.down ? 'stale' : '', dataset: { node: entry.node, stage: stage.stage, down: String(stage.down) } },
              h('td', {}, h('a', { href: `#/nodes/${encodeURIComponent(entry.node)}` }, entry.node)),
              h('td', {}, badge(node ? healthOf(node).state : 'Unknown')),
              h('td', { class: 'stage' }, badge(stage.stage),
                stage.down ? h('span', { class: 'down-flag' }, `${stage.downText}: ${lastReported(stage.at)}`) : null),
              h('td', { class: 'muted' }, stage.message));
          })))),
      summary.truncated ? h('p', { class: 'muted' }, `Showing ${nodes.length} of ${summary.total} nodes.`) : null);
  }

  function renderSpec() {
    if (!detail) return;
    const compose = detail.compose || (detail.spec && detail.spec.compose) || '';
    const vars = Object.keys(detail.variables || (detail.spec && detail.spec.variables) || {});
    replace(specPanel, h('h2', {}, 'Compose file'),
      vars.length ? h('p', { class: 'muted' }, `Variables: ${vars.join(', ')}`) : null,
      h('pre', { class: 'mono', style: { margin: 0, maxHeight: '360px', overflow: 'auto', background: '#fbfcfe', padding: '10px', borderRadius: '6px', border: '1px solid var(--line)' } }, compose || '–'));
  }

  async function load() {
    try {
      detail = await conn.request('app.get', { name });
    } catch (err) {
      // Removed, and dropped by the anchor once every node removed it.
      if (err.code === 'not_found') detail = { name, state: 'gone' };
      replace(specPanel, h('div', { class: 'muted' }, `app.get failed: ${errorText(err)}`));
    }
    renderHead();
    renderRollout();
    renderSpec();
    renderCharts();
    // The credentials its target's nodes pull with (set from the deploy form).
    const t = detail && detail.target;
    if (t && (t.node || t.group) && JSON.stringify(t) !== registriesOf) {
      registriesOf = JSON.stringify(t);
      registries.element.hidden = false;
      registries.load(t.node ? { node: t.node } : { group: t.group });
    }
  }

  const unsubscribe = store.subscribe((changes) => {
    // Removed or deployed again elsewhere: a node reports it.
    if (changes.events.some((e) => e.app === name && (e.kind === 'app_removed' || e.kind === 'app_applied'))) load();
    if (changes.rollouts.has(name)) {
      const summary = store.rollouts.get(name);
      if (summary && detail && detail.state !== 'gone' && summary.revision !== detail.revision) load();  // a new revision
      renderHead();
      renderRollout();
    } else if (changes.nodes.size && store.rollouts.has(name)) {
      renderRollout();
    }
    if (changes.nodes.size || changes.rollouts.has(name)) renderCharts();
  });
  renderHead();
  renderRollout();
  renderCharts();
  load();
  return {
    dispose() {
      unsubscribe();
      charts.destroy();
    },
  };
}
