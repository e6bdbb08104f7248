// Groups view: create and delete groups, see each group's ancestors, member nodes and the
// whole tree below it (group.get), the apps deployed to it (its retained desired document),
// remove a node from a group, nest a group in another and take it out again (group.add /
// group.remove with `groups`; a cycle is refused by the anchor and shown). Nodes are added
// from the fleet table's multi-select. Main thread only.
import { h, replace, badge, chip, toast, errorText, itemsOf, confirmAction } from 'pharos/dom.js';
import { healthOf, groupsOf } from 'pharos/store.js';
import { isIdentifier } from 'pharos/topics.js';
import { renderTree, ancestorsText } from 'pharos/views/group_tree.js';

export function mount(ctx, host) {
  const { store, conn } = ctx;
  const details = new Map();  // group -> group.get result
  const list = h('div', { class: 'group-list', id: 'group-list' });
  const status = h('span', { class: 'muted' });
  const name = h('input', { id: 'group-name', placeholder: 'e.g. line-1', disabled: !ctx.canWrite });
  const parent = h('select', { id: 'group-parent', disabled: !ctx.canWrite });
  const createButton = h('button', { type: 'submit', class: 'primary', id: 'group-create', disabled: !ctx.canWrite }, 'Create group');
  const createForm = h('form', { class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    const group = name.value.trim();
    if (!isIdentifier(group)) {
      toast('Group names are lower-case letters, digits, ".", "_" and "-" (start with a letter or digit)', 'error');
      return;
    }
    try {
      await conn.request('group.create', parent.value ? { name: group, parent: parent.value } : { name: group });
      toast(`Group ${group} created`, 'ok');
      name.value = '';
      await load();
    } catch (err) {
      toast(`group.create failed: ${errorText(err)}`, 'error');
    }
  } },
  h('label', {}, 'Name', name), h('label', {}, 'Parent (optional)', parent), createButton,
  ctx.canWrite ? null : h('span', { class: 'muted' }, ctx.role === 'viewer' ? 'Viewers cannot change groups.' : 'Read-only until the anchor confirms your role.'));

  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, 'Groups'), status),
    h('div', { class: 'panel' }, h('h2', {}, 'New group'), createForm,
      h('p', { class: 'muted' }, 'Add nodes to a group from the Fleet table: select them, then “Add to group”.')),
    list);

  async function removeNode(group, node) {
    try {
      await conn.request('group.remove', { group, nodes: [node] });
      toast(`${node} removed from ${group}`, 'ok');
      await loadOne(group);
      render();
    } catch (err) {
      toast(`group.remove failed: ${errorText(err)}`, 'error');
    }
  }

  // Nest `child` in `group` (add) or take it out (remove); every tree may change.
  async function nest(group, child, add) {
    const op = add ? 'group.add' : 'group.remove';
    try {
      await conn.request(op, { group, groups: [child] });
      toast(add ? `${child} nested in ${group}` : `${child} taken out of ${group}`, 'ok');
      await load();
    } catch (err) {
      toast(`${op} failed: ${errorText(err)}`, 'error');
    }
  }

  // Cards are rebuilt on every store change: the chosen group survives that.
  const nestChoice = new Map();  // group -> group chosen to nest in it
  function nestForm(group, subgroups) {
    const candidates = store.groupNames().filter((g) => g !== group && !subgroups.includes(g));
    const select = h('select', { class: 'nest-select', disabled: !ctx.canWrite, 'aria-label': `group to nest in ${group}`,
      onchange: () => nestChoice.set(group, select.value) },
    h('option', { value: '' }, 'Nest a group…'), candidates.map((g) => h('option', { value: g }, g)));
    if (candidates.includes(nestChoice.get(group))) select.value = nestChoice.get(group);
    return h('form', { class: 'inline-form nest-form', onsubmit: (e) => {
      e.preventDefault();
      if (select.value) {
        nestChoice.delete(group);
        nest(group, select.value, true);
      }
    } }, select, h('button', { type: 'submit', class: 'nest-add', disabled: !ctx.canWrite }, 'Add group'));
  }

  async function deleteGroup(group) {
    const apps = appsOf(group);
    const ok = await confirmAction(`Delete group ${group}?`,
      apps.length ? `It still holds ${apps.length} app(s): they are removed from its nodes.` : 'Its nodes stay managed; only the grouping goes.',
      'Delete', true);
    if (!ok) return;
    try {
      await conn.request('group.delete', apps.length ? { name: group, force: true } : { name: group });
      toast(`Group ${group} deleted`, 'ok');
      details.delete(group);
      await load();
    } catch (err) {
      toast(`group.delete failed: ${errorText(err)}`, 'error');
    }
  }

  function appsOf(group) {
    const fromDetail = details.get(group) && details.get(group).apps;
    if (Array.isArray(fromDetail)) return fromDetail.map((a) => (typeof a === 'string' ? { name: a } : a));
    const doc = store.groups.get(group);
    return doc && Array.isArray(doc.apps) ? doc.apps.filter((a) => a.state !== 'removed') : [];
  }

  function card(group) {
    const detail = details.get(group) || {};
    // Members from the anchor (group.get); without it, from the nodes' desired documents.
    const nodes = Array.isArray(detail.nodes) ? detail.nodes.map((n) => (typeof n === 'string' ? n : n.name))
      : [...store.nodes.values()].filter((n) => groupsOf(n).includes(group)).map((n) => n.name).sort();
    const subgroups = Array.isArray(detail.groups) ? detail.groups : [];
    const apps = appsOf(group);
    return h('div', { class: 'panel group-card', dataset: { group } },
      h('div', { class: 'panel-head' },
        h('h2', {}, group),
        ancestorsText(detail) ? h('span', { class: 'muted group-ancestors' }, `in ${ancestorsText(detail)}`)
          : detail.parents && detail.parents.length ? h('span', { class: 'muted' }, `in ${detail.parents.join(', ')}`) : null,
        h('div', { class: 'actions' },
          h('button', { class: 'danger', disabled: !ctx.canWrite, onclick: () => deleteGroup(group) }, 'Delete'))),
      h('h3', {}, `Nodes (${nodes.length})`),
      nodes.length === 0 ? h('p', { class: 'muted' }, 'No nodes yet.') :
        h('div', { class: 'member-chips' }, nodes.slice(0, 60).map((n) => {
          const node = store.nodes.get(n);
          const state = node ? healthOf(node).state : 'Unknown';
          return h('span', { class: 'chip', title: state },
            h('a', { href: `#/nodes/${encodeURIComponent(n)}` }, n), ' ', badge(state),
            !ctx.canWrite ? null : h('button', { title: `Remove ${n} from ${group}`, onclick: () => removeNode(group, n), 'aria-label': `remove ${n}` }, '×'));
        }), nodes.length > 60 ? chip(`+${nodes.length - 60} more`, 'chip-more') : null),
      h('h3', {}, `Nested groups (${subgroups.length})`),
      subgroups.length === 0 ? null : h('div', { class: 'member-chips nested-chips' }, subgroups.map((g) => h('span', { class: 'chip chip-group', dataset: { child: g } }, g,
        !ctx.canWrite ? null : h('button', { class: 'unnest', title: `Take ${g} out of ${group}`, onclick: () => nest(group, g, false), 'aria-label': `take ${g} out` }, '×')))),
      ctx.canWrite ? nestForm(group, subgroups) : null,
      detail.tree && subgroups.length ? [h('h3', {}, `Tree (${detail.effective_node_count ?? nodes.length} nodes)`), renderTree(detail.tree, store)] : null,
      h('h3', {}, `Apps (${apps.length})`),
      apps.length === 0 ? h('p', { class: 'muted' }, 'Nothing deployed to this group.') :
        h('div', { class: 'member-chips' }, apps.map((a) => h('span', { class: 'chip' },
          h('a', { href: `#/apps/${encodeURIComponent(a.name)}` }, a.name), a.revision ? ` rev ${a.revision}` : ''))),
      h('div', {}, h('a', { href: `#/deploy?group=${encodeURIComponent(group)}`, hidden: !ctx.canWrite }, 'Deploy to this group…')));
  }

  function render() {
    const names = store.groupNames();
    const current = parent.value;
    replace(parent, h('option', { value: '' }, 'None (top level)'), names.map((g) => h('option', { value: g }, g)));
    parent.value = names.includes(current) ? current : '';
    status.textContent = `${names.length} group(s)`;
    if (names.length === 0) {
      replace(list, h('div', { class: 'panel empty' }, 'No groups yet.'));
      return;
    }
    replace(list, names.map(card));
  }

  async function loadOne(group) {
    try {
      details.set(group, await conn.request('group.get', { name: group }));
    } catch (err) {
      if (err.code === 'not_found') details.delete(group);
    }
  }

  async function load() {
    try {
      const result = await conn.request('group.list', { limit: 1000 });
      store.setGroupCatalog(itemsOf(result, 'groups').map((g) => (typeof g === 'string' ? g : g.name)));
    } catch (err) {
      status.textContent = `group.list failed: ${errorText(err)}`;
    }
    await Promise.all(store.groupNames().map(loadOne));
    render();
  }

  const unsubscribe = store.subscribe((changes) => { if (changes.groups || changes.nodeList) render(); });
  render();
  load();
  return { dispose: unsubscribe };
}
