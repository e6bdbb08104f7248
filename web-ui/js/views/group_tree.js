// The tree below a group, from group.get's `tree` (schemas/group-get-result.schema.json):
// nested lists of child groups (with their apps) and member nodes with their health, like
// `pharosctl group get`. An entry the anchor cut at its depth or size bound ends with a
// "…" item. Pure DOM building (text only, never markup from the wire). Main thread only.
import { h, badge } from 'pharos/dom.js';
import { healthOf } from 'pharos/store.js';

// tree: {name, nodes, apps, groups: [entry], truncated?}; store: the shared store (health).
export function renderTree(tree, store) {
  if (!tree || typeof tree !== 'object') return null;
  return h('ul', { class: 'group-tree', dataset: { root: String(tree.name || '') } }, children(tree, store));
}

function children(entry, store) {
  const out = [];
  for (const g of Array.isArray(entry.groups) ? entry.groups : []) {
    if (!g || typeof g.name !== 'string') continue;
    const apps = Array.isArray(g.apps) && g.apps.length ? ` [${g.apps.join(', ')}]` : '';
    out.push(h('li', { class: 'tree-group', dataset: { group: g.name } },
      h('strong', {}, `${g.name}/`),
      apps ? h('span', { class: 'muted' }, apps) : null,
      h('ul', {}, children(g, store))));
  }
  for (const n of Array.isArray(entry.nodes) ? entry.nodes : []) {
    if (typeof n !== 'string') continue;
    const node = store.nodes.get(n);
    out.push(h('li', { class: 'tree-node', dataset: { node: n } },
      h('a', { href: `#/nodes/${encodeURIComponent(n)}` }, n), ' ', badge(node ? healthOf(node).state : 'Unknown')));
  }
  if (entry.truncated) {
    out.push(h('li', { class: 'tree-more muted' }, '… more below (open that group)'));
  }
  return out;
}

// "plant › line-a" for each ancestor path, or null for a top-level group.
export function ancestorsText(detail) {
  const paths = Array.isArray(detail.ancestors) ? detail.ancestors.filter(Array.isArray) : [];
  if (paths.length === 0) return null;
  return paths.map((p) => p.join(' › ')).join('; ');
}
