// The registry credentials set on one node or group (registry.list {target}): host and
// username, never a password (no operation returns one), each with Remove (registry.remove,
// confirmed; operators only) for the node page and the app page (the app's target). New
// credentials are set from the deploy form. Main thread only.
import { h, replace, toast, errorText, confirmAction, itemsOf } from 'pharos/dom.js';

// {element, load(target)}: target {node} or {group}; load() again to show another target.
export function registryPanel(ctx, id) {
  const body = h('div', { id, class: 'registry-list' }, h('div', { class: 'muted' }, 'Loading…'));
  const element = h('div', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Registry credentials'),
      h('span', { class: 'muted', dataset: { role: 'target' } })),
    body);
  let target = null;
  let asked = 0;

  const targetText = (t) => (t.node ? `node ${t.node}` : `group ${t.group}`);

  async function remove(entry) {
    if (!(await confirmAction(`Remove the credentials for ${entry.host}?`,
      `The nodes of ${targetText(entry.target)} then pull from ${entry.host} without them.`, 'Remove', true))) return;
    try {
      await ctx.conn.request('registry.remove', { host: entry.host, target: entry.target });
      toast(`Credentials for ${entry.host} removed from ${targetText(entry.target)}`, 'ok');
    } catch (err) {
      toast(`registry.remove failed: ${errorText(err)}`, 'error');
    }
    load(target);
  }

  async function load(t) {
    target = t;
    const ticket = ++asked;
    element.querySelector('[data-role="target"]').textContent = `set on ${targetText(t)}`;
    try {
      const items = itemsOf(await ctx.conn.request('registry.list', { target: t }), 'registries');
      if (ticket !== asked) return;
      body.dataset.count = String(items.length);
      if (items.length === 0) {
        replace(body, h('div', { class: 'empty' }, `No registry credentials set on ${targetText(t)}.`));
        return;
      }
      replace(body, h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['Registry', 'User', 'Password', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, items.map((e) => h('tr', { class: 'registry-row', dataset: { host: e.host } },
          h('td', { class: 'mono' }, e.host),
          h('td', {}, e.username),
          h('td', { class: 'muted' }, 'set (never shown)'),
          h('td', { class: 'actions' }, h('button', {
            class: 'danger', dataset: { action: 'remove-registry' }, disabled: !ctx.canWrite,
            onclick: () => remove(e),
          }, 'Remove')))))));
    } catch (err) {
      if (ticket !== asked) return;
      replace(body, h('div', { class: 'bad-text' }, `registry credentials unavailable: ${errorText(err)}`));
    }
  }

  return { element, load };
}
