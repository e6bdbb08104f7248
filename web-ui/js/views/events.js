// Events view: the live feed of node events, backfilled from the anchor (events.query),
// with filters by node, app and kind. Main thread only.
import { h, replace, itemsOf, errorText } from 'pharos/dom.js';
import { renderEvents, mergeEvents } from 'pharos/views/event_list.js';

const kKept = 2000;

export function mount(ctx, host) {
  const { store } = ctx;
  const events = new Map();
  const filters = { node: '', app: '', kind: '' };
  let fresh = new Set();
  const input = (id, placeholder, key) => {
    const el = h('input', { id, type: 'search', placeholder, oninput: () => { filters[key] = el.value.trim(); render(); } });
    return el;
  };
  const kindSelect = h('select', { id: 'events-kind', onchange: () => { filters.kind = kindSelect.value; render(); } });
  const status = h('span', { class: 'muted', id: 'events-status' });
  const list = h('div', { class: 'event-list', id: 'events-list' });
  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, 'Events'), status),
    h('div', { class: 'toolbar' }, input('events-node', 'Node', 'node'), input('events-app', 'App', 'app'), kindSelect),
    h('div', { class: 'panel' }, list));

  function render() {
    const kinds = [...new Set([...events.values()].map((e) => e.kind).filter(Boolean))].sort();
    const current = kindSelect.value;
    replace(kindSelect, h('option', { value: '' }, 'Any kind'), kinds.map((k) => h('option', { value: k }, k)));
    kindSelect.value = kinds.includes(current) ? current : '';
    const shown = [...events.values()].filter((e) =>
      (!filters.node || (e.node || '').includes(filters.node)) &&
      (!filters.app || (e.app || '').includes(filters.app)) &&
      (!filters.kind || e.kind === filters.kind));
    renderEvents(list, shown, { showNode: true, limit: 300, fresh });
    status.textContent = `${shown.length} of ${events.size} events · live`;
  }

  function add(list, live) {
    const added = mergeEvents(events, list);
    fresh = live ? new Set(added) : new Set();
    if (events.size > kKept) {
      const oldest = [...events.entries()].sort((a, b) => (a[1].ts || 0) - (b[1].ts || 0));
      for (const [key] of oldest.slice(0, events.size - kKept)) events.delete(key);
    }
    render();
  }

  const unsubscribe = store.subscribe((changes) => { if (changes.events.length) add(changes.events, true); });
  add(store.events, false);
  ctx.conn.request('events.query', { limit: 500 })
    .then((result) => add(itemsOf(result, 'events'), false))
    .catch((err) => { status.textContent = `history unavailable (${errorText(err)}) · live`; });
  return { dispose: unsubscribe };
}
