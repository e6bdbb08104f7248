// Events view: every kind of event, live: agent events (nodes/+/events), health changes
// (seen live in the anchor's retained health verdicts, store.js) and the anchor's own log
// (registrations, audit entries of every accepted API change), which has no live topic and
// is polled with events.query {since} every few seconds while the view is open. Filters by
// node, app, kind, severity and source, and a time range: "From" pages forward through the
// anchor's log 500 at a time ("Next 500"), up to "To" when set; "To" alone shows the newest
// 500 up to it and pages backward ("Earlier 500"); with neither the newest 500 are shown.
// Main thread only.
import { h, replace, itemsOf, errorText } from 'pharos/dom.js';
import { renderEvents, mergeEvents, severityOf } from 'pharos/views/event_list.js';

const kPage = 500;
const kKept = 20000;
const kShownStep = 500;
const kPollMs = 3000;

function sourceOf(e) {
  return e.source === 'api' || e.user ? 'audit' : e.source === 'anchor' ? 'anchor' : 'agent';
}

export function mount(ctx, host) {
  const { store } = ctx;
  const events = new Map();
  const filters = { node: '', app: '', kind: '', severity: '', source: '' };
  let fresh = new Set();
  let shownLimit = kShownStep;
  let newestLogTs = 0;   // newest ts seen from events.query: the next poll starts there
  let pageFrom = 0;      // start of the time range, Unix ms (0: the newest page)
  let pageUntil = 0;     // end of the time range, Unix ms, inclusive (0: none)
  let pageNext = 0;      // where "Next 500" continues, 0 when the range is exhausted
  let pageEarlier = 0;   // where "Earlier 500" continues (To alone), 0 when exhausted
  let historyError = ''; // why the anchor's log could not be read, or ''
  const input = (id, placeholder, key) => {
    const el = h('input', { id, type: 'search', placeholder, oninput: () => { filters[key] = el.value.trim(); render(); } });
    return el;
  };
  const select = (id, key, options) => {
    const el = h('select', { id, onchange: () => { filters[key] = el.value; render(); } },
      options.map(([value, label]) => h('option', { value }, label)));
    return el;
  };
  const kindSelect = select('events-kind', 'kind', [['', 'Any kind']]);
  const severitySelect = select('events-severity', 'severity', [['', 'Any severity'], ['error', 'Errors'], ['warning', 'Warnings'], ['info', 'Info']]);
  const sourceSelect = select('events-source', 'source', [['', 'Any source'], ['agent', 'Agents'], ['anchor', 'Health and registrations'], ['audit', 'Audit (API changes)']]);
  // Times to the second; "To" includes its whole second.
  const rangeChanged = () => loadRange(from.value ? new Date(from.value).getTime() : 0,
    to.value ? new Date(to.value).getTime() + 999 : 0);
  const from = h('input', { id: 'events-from', type: 'datetime-local', step: '1', title: 'Show the anchor\'s log from this time on', onchange: rangeChanged });
  const to = h('input', { id: 'events-until', type: 'datetime-local', step: '1', title: 'Show the anchor\'s log up to this time', onchange: rangeChanged });
  const next = h('button', { id: 'events-next', hidden: true, onclick: () => loadPage(pageNext, true) }, `Next ${kPage}`);
  const earlier = h('button', { id: 'events-earlier', hidden: true, onclick: () => loadEarlier() }, `Earlier ${kPage}`);
  const more = h('button', { id: 'events-more', class: 'ghost', hidden: true, onclick: () => { shownLimit += kShownStep; render(); } }, 'Show more');
  const status = h('span', { class: 'muted', id: 'events-status' });
  const list = h('div', { class: 'event-list', id: 'events-list' });
  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, 'Events'), status),
    h('div', { class: 'toolbar' }, input('events-node', 'Node', 'node'), input('events-app', 'App', 'app'), kindSelect,
      severitySelect, sourceSelect, h('label', { class: 'inline' }, 'From ', from),
      h('label', { class: 'inline' }, 'To ', to), next, earlier),
    h('div', { class: 'panel' }, list, more));

  function matches(e) {
    return (!filters.node || (e.node || '').includes(filters.node)) &&
      (!filters.app || (e.app || '').includes(filters.app)) &&
      (!filters.kind || e.kind === filters.kind) &&
      (!filters.severity || severityOf(e) === filters.severity) &&
      (!filters.source || sourceOf(e) === filters.source) &&
      (!pageFrom || (e.ts || 0) >= pageFrom) &&
      (!pageUntil || (e.ts || 0) <= pageUntil);
  }

  function render() {
    const kinds = [...new Set([...events.values()].map((e) => e.kind).filter(Boolean))].sort();
    const current = kindSelect.value;
    replace(kindSelect, h('option', { value: '' }, 'Any kind'), kinds.map((k) => h('option', { value: k }, k)));
    kindSelect.value = kinds.includes(current) ? current : '';
    const shown = [...events.values()].filter(matches);
    renderEvents(list, shown, { showNode: true, limit: shownLimit, fresh });
    more.hidden = shown.length <= shownLimit;
    status.textContent = `${Math.min(shown.length, shownLimit)} of ${shown.length} events shown (${events.size} loaded) · live` +
      (historyError ? ` · history unavailable (${historyError})` : '');
    status.dataset.count = String(shown.length);
  }

  function add(items, live) {
    const added = mergeEvents(events, items);
    fresh = live ? new Set(added) : new Set();
    if (events.size > kKept) {
      const oldest = [...events.entries()].sort((a, b) => (a[1].ts || 0) - (b[1].ts || 0));
      for (const [key] of oldest.slice(0, events.size - kKept)) events.delete(key);
    }
    render();
  }

  function fromLog(result) {
    const items = itemsOf(result, 'events');
    for (const e of items) newestLogTs = Math.max(newestLogTs, e.ts || 0);
    return items;
  }

  // One page of the anchor's log from `since` on (ascending), or the newest page; up to the
  // range's end when it has one.
  async function loadPage(since, live) {
    const body = { limit: kPage };
    if (since) body.since = since;
    if (pageUntil) body.until = pageUntil;
    const items = fromLog(await ctx.conn.request('events.query', body));
    add(items, live);
    const first = items.length ? items[0].ts || 0 : 0;
    const last = items.length ? items[items.length - 1].ts || 0 : 0;
    pageNext = since && items.length >= kPage ? last : 0;
    // The range's end alone: older pages end where this one starts (its first millisecond
    // again, as a page may cut it; the merge drops repeats).
    pageEarlier = !since && pageUntil && items.length >= kPage ? (first < pageUntil ? first : first - 1) : 0;
    next.hidden = !pageNext;
    earlier.hidden = !pageEarlier;
    return items;
  }

  async function loadEarlier() {
    const until = pageEarlier;
    try {
      const items = itemsOf(await ctx.conn.request('events.query', { until, limit: kPage }), 'events');
      add(items, false);
      const first = items.length ? items[0].ts || 0 : 0;
      pageEarlier = items.length >= kPage ? (first < until ? first : first - 1) : 0;
      earlier.hidden = !pageEarlier;
    } catch (err) {
      historyError = errorText(err);
      render();
    }
  }

  async function loadRange(start, end) {
    pageFrom = start;
    pageUntil = end;
    shownLimit = kShownStep;
    try {
      await loadPage(start, false);
      historyError = '';
    } catch (err) {
      historyError = errorText(err);
    }
    render();
  }

  // The anchor's log has no live topic: ask for what is newer than the newest seen.
  let polling = false;
  const poll = setInterval(async () => {
    if (polling || !newestLogTs) return;
    polling = true;
    try {
      add(fromLog(await ctx.conn.request('events.query', { since: newestLogTs, limit: kPage }, { timeoutMs: kPollMs * 2 })), true);
    } catch (e) {
      // the anchor is offline or slow: the next tick tries again
    } finally {
      polling = false;
    }
  }, kPollMs);

  const unsubscribe = store.subscribe((changes) => { if (changes.events.length) add(changes.events, true); });
  add(store.events, false);
  loadPage(0, false)
    .then(() => { if (!newestLogTs) newestLogTs = Date.now(); })
    .catch((err) => {
      newestLogTs = Date.now();
      historyError = errorText(err);
      render();
    });
  return {
    dispose() {
      unsubscribe();
      clearInterval(poll);
    },
  };
}
