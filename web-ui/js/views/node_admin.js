// Node management from the UI, through the anchor's existing operations: node.add (the
// generated agent configuration shown once, to copy or download; it holds the device's
// password and is never fetched again), node.approve, node.remove (optionally with purge)
// and node.label (operator labels: set and remove). Every control is disabled unless
// ctx.canWrite (an operator, with the anchor online). Main thread only.
import { h, chip, dialog, toast, errorText } from 'pharos/dom.js';
import { isIdentifier } from 'pharos/topics.js';

const kLabelPair = /^([A-Za-z0-9_.-]{1,63})=(.{0,255})$/;

// Parses "k=v, k2=v2" (commas or new lines) into a map; throws with the bad entry.
export function parseLabels(text) {
  const labels = {};
  for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
    const m = part.match(kLabelPair);
    if (!m) throw new Error(`"${part}": expected key=value`);
    labels[m[1]] = m[2];
  }
  return labels;
}

function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = h('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Shows the agent configuration node.add returned, once.
function showConfig(result) {
  const text = (result && result.config) || '';
  const name = (result && result.name) || 'node';
  const pre = h('pre', { class: 'agent-config mono', id: 'agent-config' }, text);
  const copy = h('button', { id: 'agent-config-copy', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('Configuration copied', 'ok');
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(pre);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      toast('Select-all done: copy with Ctrl+C', 'info');
    }
  } }, 'Copy');
  const save = h('button', { id: 'agent-config-download', onclick: () => download(`${name}-agent.conf`, text) }, 'Download');
  return dialog(`Agent configuration for ${name}`, h('div', {},
    h('p', {}, 'Install this as the agent\'s configuration on the device (e.g. /etc/pharos/agent.conf). ',
      h('strong', {}, 'It holds the device\'s broker password and is shown only this once.')),
    pre, h('div', { class: 'actions' }, copy, save)), [{ label: 'Done', value: null, class: 'primary' }]);
}

// The "Add node" dialog: name and labels, then node.add and the configuration once.
export async function addNode(ctx) {
  const name = h('input', { id: 'add-node-name', placeholder: 'e.g. press-7' });
  const labels = h('input', { id: 'add-node-labels', placeholder: 'line=a, zone=2 (optional)' });
  const ok = await dialog('Add a node', h('div', { class: 'form-stack' },
    h('label', {}, 'Node name', name), h('label', {}, 'Labels', labels)),
  [{ label: 'Cancel', value: false }, { label: 'Add node', value: true, class: 'primary' }]);
  if (!ok) return null;
  const node = name.value.trim();
  if (!isIdentifier(node)) {
    toast('Node names are lower-case letters, digits, ".", "_" and "-"', 'error');
    return null;
  }
  let body;
  try {
    const parsed = parseLabels(labels.value);
    body = Object.keys(parsed).length ? { name: node, labels: parsed } : { name: node };
  } catch (err) {
    toast(`labels: ${err.message}`, 'error');
    return null;
  }
  try {
    const result = await ctx.conn.request('node.add', body);
    await showConfig(result);
    return result;
  } catch (err) {
    toast(`node.add failed: ${errorText(err)}`, 'error');
    return null;
  }
}

export async function approveNode(ctx, node) {
  try {
    await ctx.conn.request('node.approve', { name: node });
    toast(`${node} approved`, 'ok');
  } catch (err) {
    toast(`node.approve failed: ${errorText(err)}`, 'error');
  }
}

// Confirms, then node.remove (with purge when ticked). Returns true when removed.
export async function removeNode(ctx, node) {
  const purge = h('input', { type: 'checkbox', id: 'remove-purge' });
  const ok = await dialog(`Remove ${node}?`, h('div', {},
    h('p', {}, 'The device\'s broker identity is revoked and its topics are cleared. Without purge its containers are left as they are.'),
    h('label', { class: 'check' }, purge, ' Purge: remove its apps first and wait until the agent reports them gone')),
  [{ label: 'Cancel', value: false }, { label: 'Remove node', value: true, class: 'danger' }]);
  if (!ok) return false;
  try {
    await ctx.conn.request('node.remove', purge.checked ? { name: node, purge: true } : { name: node }, { timeoutMs: 60000 });
    toast(`${node} removed`, 'ok');
    return true;
  } catch (err) {
    toast(`node.remove failed: ${errorText(err)}`, 'error');
    return false;
  }
}

// Operator labels with × to remove each, and a key=value field to set more; device labels
// (from the agent's own configuration) are shown without ×.
export function labelEditor(ctx, name, deviceLabels, operatorLabels) {
  const label = async (body, done) => {
    try {
      await ctx.conn.request('node.label', { name, ...body });
      toast(done, 'ok');
    } catch (err) {
      toast(`node.label failed: ${errorText(err)}`, 'error');
    }
  };
  const input = h('input', { id: 'label-input', placeholder: 'key=value', disabled: !ctx.canWrite });
  const chips = [
    ...Object.entries(deviceLabels).filter(([k]) => !(k in operatorLabels)).map(([k, v]) => chip(`${k}=${v}`)),
    ...Object.entries(operatorLabels).map(([k, v]) => h('span', { class: 'chip chip-operator', dataset: { label: k } }, `${k}=${v}`,
      ctx.canWrite ? h('button', { class: 'unlabel', title: `Remove label ${k}`, 'aria-label': `remove label ${k}`,
        onclick: () => label({ remove: [k] }, `Label ${k} removed`) }, '×') : null)),
  ];
  const form = h('form', { class: 'label-editor', onsubmit: (e) => {
    e.preventDefault();
    let set;
    try {
      set = parseLabels(input.value);
    } catch (err) {
      toast(err.message, 'error');
      return;
    }
    if (Object.keys(set).length) label({ set }, `Label set on ${name}`);
  } }, chips.length ? chips : h('span', { class: 'muted' }, 'none'),
  ctx.canWrite ? [input, h('button', { type: 'submit', id: 'label-add', disabled: !ctx.canWrite }, 'Set label')] : null);
  return form;
}

// The node page's management buttons (approve while Pending, remove).
export function nodeActions(ctx, name, healthState) {
  return h('div', { class: 'actions' },
    healthState === 'Pending' ? h('button', { class: 'primary', id: 'node-approve', disabled: !ctx.canWrite,
      onclick: () => approveNode(ctx, name) }, 'Approve') : null,
    h('button', { class: 'danger', id: 'node-remove', disabled: !ctx.canWrite, onclick: async () => {
      if (await removeNode(ctx, name)) ctx.navigate('#/fleet');
    } }, 'Remove node'));
}
