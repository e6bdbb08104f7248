// Entry point of the Pharos web UI: the login screen, then the application shell (top bar,
// navigation, connection state) and a hash router that mounts one view at a time.
// Each view module exports `mount(ctx, host, params)` returning `{dispose()}`; `ctx` holds
// the connection, the store, the user's role and `navigate(hash)`. A reload signs the user
// in again from the tab's saved session (session.js), on the same deep link. While the
// anchor's retained status says offline, a banner says so, every change control is
// disabled (ctx.canWrite) and API calls fail at once. Main thread only.
import { h, replace, toast, formatTime } from 'pharos/dom.js';
import { saveSession, loadSession, clearSession } from 'pharos/session.js';
import { Connection, defaultBrokerUrl } from 'pharos/connection.js';
import { Store } from 'pharos/store.js';
import { renderLogin } from 'pharos/views/login.js';
import * as fleetView from 'pharos/views/fleet.js';
import * as nodeView from 'pharos/views/node.js';
import * as groupsView from 'pharos/views/groups.js';
import * as appsView from 'pharos/views/apps.js';
import * as appView from 'pharos/views/app_detail.js';
import * as deployView from 'pharos/views/deploy.js';
import * as eventsView from 'pharos/views/events.js';

const kRoutes = [
  { pattern: /^#\/fleet$/, view: fleetView, nav: 'fleet' },
  { pattern: /^#\/nodes\/([^/]+)$/, view: nodeView, nav: 'fleet' },
  { pattern: /^#\/groups$/, view: groupsView, nav: 'groups' },
  { pattern: /^#\/apps$/, view: appsView, nav: 'apps' },
  { pattern: /^#\/apps\/([^/]+)$/, view: appView, nav: 'apps' },
  { pattern: /^#\/deploy(?:\?.*)?$/, view: deployView, nav: 'deploy' },
  { pattern: /^#\/deploy\/([^/]+)$/, view: deployView, nav: 'deploy' },
  { pattern: /^#\/events$/, view: eventsView, nav: 'events' },
];

const kNav = [
  ['fleet', 'Fleet', '#/fleet'],
  ['groups', 'Groups', '#/groups'],
  ['apps', 'Apps', '#/apps'],
  ['deploy', 'Deploy', '#/deploy'],
  ['events', 'Events', '#/events'],
];

const kAnchorStatusWaitMs = 600;  // how long login waits for the retained anchor/status

// Resolves once the store holds the retained anchor/status (or after `ms`).
function anchorStatus(store, ms) {
  if (store.anchor) return Promise.resolve(store.anchor);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { unsubscribe(); resolve(store.anchor); }, ms);
    const unsubscribe = store.subscribe((changes) => {
      if (!changes.anchor) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(store.anchor);
    });
  });
}

async function signIn(root, credentials, ready) {
  await ready;  // the MQTT library (a separate script in the bundled page)
  const conn = new Connection(credentials);
  const store = new Store();
  conn.onMessage((topic, payload) => store.ingest(topic, payload));
  await conn.connect();
  // No role probe against an anchor that says it is offline: it could only time out.
  const anchor = await anchorStatus(store, kAnchorStatusWaitMs);
  const role = anchor && anchor.state === 'offline' ? 'unknown' : await conn.probeRole();
  startShell(root, conn, store, role);
}

// `ready`: a promise signing in waits for (the bundled page's MQTT library script).
export async function main(root, { ready = Promise.resolve() } = {}) {
  const brokerUrl = defaultBrokerUrl(window.location);
  const saved = await loadSession();
  if (saved) {
    try {
      await signIn(root, saved, ready);
      return;
    } catch (err) {
      await clearSession();
    }
  }
  renderLogin(root, brokerUrl, async (credentials) => {
    await signIn(root, credentials, ready);
    saveSession(credentials);
  });
}

function startShell(root, conn, store, initialRole) {
  const navLinks = new Map();
  const roleBadge = h('span', { class: 'role' });
  const connState = h('span', { class: 'conn conn-online', id: 'conn-state' }, 'connected');
  const anchorState = h('span', { class: 'conn conn-unknown', id: 'anchor-state' }, 'anchor ?');
  const content = h('main', { class: 'content', id: 'content' });
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/fleet' }, h('span', { class: 'brand-mark' }, '◆'), h('span', { class: 'brand-text' }, 'Pharos')),
    h('nav', { class: 'nav' }, kNav.map(([key, label, href]) => {
      const a = h('a', { href, dataset: { nav: key } }, label);
      navLinks.set(key, a);
      return a;
    })),
    h('div', { class: 'topbar-right' },
      anchorState, connState,
      h('span', { class: 'user', id: 'user-badge' }, conn.username, roleBadge),
      h('button', { class: 'ghost', id: 'sign-out', onclick: async () => {
        conn.close();
        await clearSession();
        window.location.hash = '';
        window.location.reload();
      } }, 'Sign out')));
  const banner = h('div', { class: 'anchor-banner', id: 'anchor-banner', role: 'alert', hidden: true });
  replace(root, h('div', { class: 'shell' }, header, banner, content));

  conn.onStatus((state) => {
    connState.className = `conn conn-${state}`;
    connState.textContent = state === 'online' ? 'connected' : state;
  });
  const anchorOffline = () => Boolean(store.anchor && store.anchor.state === 'offline');
  const showAnchor = () => {
    const state = store.anchor && store.anchor.state;
    anchorState.className = `conn conn-${state === 'online' ? 'online' : state ? 'offline' : 'unknown'}`;
    anchorState.textContent = `anchor ${state || '?'}`;
    const offline = anchorOffline();
    banner.hidden = !offline;
    document.body.dataset.anchor = offline ? 'offline' : 'online';
    conn.blockApi(offline ? 'the anchor is offline' : '');
    if (offline) {
      replace(banner, h('strong', {}, 'The anchor is offline'),
        store.anchor.ts ? ` since ${formatTime(store.anchor.ts)}` : '',
        '. Changes are disabled until it is back; nodes, apps and metrics show what was last published.');
    }
  };
  showAnchor();

  const ctx = {
    conn,
    store,
    role: initialRole,
    canWrite: initialRole === 'operator',
    navigate: (hash) => { window.location.hash = hash; },
    // Runs an API call, reporting failure in a toast; returns the result or undefined.
    async call(op, body, successText) {
      try {
        const result = await conn.request(op, body);
        if (successText) toast(successText, 'ok');
        return result;
      } catch (err) {
        toast(`${op} failed: ${err.message}`, 'error');
        throw err;
      }
    },
  };

  const setRole = (role) => {
    ctx.role = role;
    ctx.canWrite = role === 'operator' && !anchorOffline();
    document.body.dataset.role = role;
    roleBadge.className = `role role-${role}`;
    roleBadge.textContent = role;
    roleBadge.title = role === 'unknown' ? 'The anchor did not answer: changes are disabled until it does' : '';
  };
  setRole(initialRole);
  // Unknown role (the anchor was down at login): ask again once the anchor is online.
  // The anchor going offline or coming back re-renders the view with controls disabled or
  // enabled again.
  store.subscribe(async (changes) => {
    if (!changes.anchor) return;
    const couldWrite = ctx.canWrite;
    showAnchor();
    if (ctx.role === 'unknown' && store.anchor && store.anchor.state === 'online') {
      const role = await conn.probeRole();
      if (role !== 'unknown') {
        setRole(role);
        route();
        return;
      }
    }
    setRole(ctx.role);
    if (ctx.canWrite === couldWrite) return;
    // A view that can toggle its controls in place keeps what was typed; others re-render.
    if (current && current.setWritable) current.setWritable(ctx.canWrite);
    else route();
  });

  let current = null;
  const route = () => {
    const hash = window.location.hash || '#/fleet';
    const match = kRoutes.find((r) => r.pattern.test(hash));
    if (!match) {
      window.location.hash = '#/fleet';
      return;
    }
    if (current) current.dispose();
    for (const [key, a] of navLinks) a.classList.toggle('active', key === match.nav);
    const params = hash.match(match.pattern).slice(1).map(decodeURIComponent);
    replace(content);
    current = match.view.mount(ctx, content, params);
  };
  window.addEventListener('hashchange', route);
  route();
}
