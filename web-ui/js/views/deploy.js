// Deploy view: app name, target (a node or a group), deploy variables and the compose file
// in a line-numbered editor; app.deploy sends it to the anchor, whose validation errors
// (with path, line and column) are shown at their line. On success it moves to the app's
// live rollout view. #/deploy/{app} loads an existing app for an update.
// Secrets are entered as name + password fields, sent once in app.deploy and never shown
// again (app.get returns their names only). Registry credentials (host, user, password) for
// the target go with registry.set just before the deploy, so the nodes can pull from a
// private registry; the password field is emptied afterwards and nothing shows it back (the
// anchor has no operation that returns it). The target picker has a search field, so a
// fleet of thousands of nodes is not one long list. setWritable() disables and re-enables the
// form in place while the anchor is offline. Main thread only.
import { h, replace, errorText, toast } from 'pharos/dom.js';
import { isAppName } from 'pharos/topics.js';
import { LineEditor } from 'pharos/line_editor.js';

const kExample = `services:
  web:
    image: nginx:1.25-alpine
    ports:
      - "8080:80"
    environment:
      SITE: \${PHAROS_NODE_ID}
    restart: unless-stopped
`;

function parseVariables(text) {
  const variables = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) {
      throw new Error(`variables, line ${i + 1}: expected NAME=value`);
    }
    variables[key] = line.slice(eq + 1);
  }
  return variables;
}

const kPickerLimit = 200;  // options listed at once in the target picker

function hashQuery() {
  const hash = window.location.hash;
  const q = hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? hash.slice(q + 1) : '');
}

export function mount(ctx, host, [existing]) {
  const { store, conn } = ctx;
  const query = hashQuery();
  let kind = query.get('node') ? 'node' : 'group';
  const readOnly = !ctx.canWrite;

  const name = h('input', { id: 'deploy-name', placeholder: 'e.g. telemetry', value: existing || '', disabled: readOnly || Boolean(existing) });
  const target = h('select', { id: 'deploy-target', disabled: readOnly });
  const targetSearch = h('input', { id: 'deploy-target-search', type: 'search', placeholder: 'Search…', disabled: readOnly,
    oninput: () => fillTargets() });
  const targetMore = h('span', { class: 'muted', id: 'deploy-target-more' });
  const secretRows = h('div', { class: 'secret-rows', id: 'deploy-secrets' });
  const secretNames = h('div', { class: 'muted', id: 'deploy-secret-names' });
  const addSecret = () => {
    const name = h('input', { class: 'secret-name mono', placeholder: 'NAME', spellcheck: 'false', disabled: readOnly });
    const value = h('input', { class: 'secret-value', type: 'password', autocomplete: 'new-password', placeholder: 'value (never shown again)', disabled: readOnly });
    secretRows.appendChild(h('div', { class: 'secret-row' }, name, value,
      h('button', { type: 'button', class: 'ghost', title: 'Remove', disabled: readOnly, onclick: (e) => e.target.closest('.secret-row').remove() }, '×')));
  };
  const registryHost = h('input', { id: 'deploy-registry-host', class: 'mono', placeholder: 'registry.example:5000', spellcheck: 'false', disabled: readOnly });
  const registryUser = h('input', { id: 'deploy-registry-user', placeholder: 'user', autocomplete: 'off', disabled: readOnly });
  const registryPassword = h('input', { id: 'deploy-registry-password', type: 'password', autocomplete: 'new-password', placeholder: 'password', disabled: readOnly });
  const kindButtons = ['node', 'group'].map((k) => h('button', {
    type: 'button', dataset: { kind: k }, disabled: readOnly,
    onclick: () => { kind = k; fillTargets(); },
  }, k === 'node' ? 'Node' : 'Group'));
  const variables = h('textarea', { id: 'deploy-variables', rows: 4, placeholder: 'NAME=value, one per line', spellcheck: 'false', class: 'mono', disabled: readOnly });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'deploy-submit', disabled: readOnly }, existing ? 'Deploy update' : 'Deploy');
  const error = h('div', { class: 'editor-error', id: 'deploy-error', hidden: true });
  const editorHost = h('div', {});
  const form = h('form', { class: 'deploy-form', onsubmit: (e) => { e.preventDefault(); deploy(); } },
    h('label', {}, 'App name', name),
    h('div', {}, h('label', {}, 'Target'), h('div', { class: 'segmented' }, kindButtons)),
    h('label', {}, kind === 'node' ? 'Node' : 'Group', target),
    h('div', { class: 'picker-search' }, targetSearch, targetMore),
    h('label', {}, 'Variables', variables),
    h('div', {}, h('label', {}, 'Secrets'), secretNames, secretRows,
      h('button', { type: 'button', id: 'deploy-add-secret', disabled: readOnly, onclick: addSecret }, 'Add secret')),
    h('div', {}, h('label', {}, 'Private registry (optional)'),
      h('div', { class: 'secret-row', id: 'deploy-registry' }, registryHost, registryUser, registryPassword),
      h('p', { class: 'muted', id: 'deploy-registry-note' }, 'Sent to the target\'s nodes before the deploy, replacing what was set for that host; the password is never shown again.')),
    submit,
    readOnly ? h('p', { class: 'muted', id: 'deploy-readonly' }, ctx.role === 'viewer'
      ? 'You are signed in as a viewer: deploying is disabled.'
      : 'The anchor has not confirmed your role yet: deploying is disabled until it answers.') : null);

  replace(host,
    h('div', { class: 'page-head' }, h('h1', {}, existing ? `Update ${existing}` : 'Deploy an app'),
      h('span', { class: 'muted' }, 'Compose file, validated by the anchor before anything is published')),
    h('div', { class: 'deploy-grid' },
      h('div', { class: 'panel' }, form),
      h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'docker-compose.yml')), editorHost, error)));
  const editor = new LineEditor(editorHost, { value: existing ? '' : kExample, onChange: () => { error.hidden = true; } });
  editor.disabled = readOnly;

  function fillTargets(selectValue) {
    for (const b of kindButtons) b.classList.toggle('active', b.dataset.kind === kind);
    target.previousSibling.textContent = kind === 'node' ? 'Node' : 'Group';
    const all = kind === 'node' ? [...store.nodes.keys()].sort() : store.groupNames();
    const text = targetSearch.value.trim().toLowerCase();
    const matching = text ? all.filter((n) => n.includes(text)) : all;
    const names = matching.slice(0, kPickerLimit);
    targetMore.textContent = matching.length > names.length ? `${names.length} of ${matching.length} shown: refine the search` : '';
    const current = selectValue || target.value || query.get(kind) || '';
    replace(target, h('option', { value: '' }, `Choose a ${kind}…`), names.map((n) => h('option', { value: n }, n)));
    if (current && !names.includes(current)) target.appendChild(h('option', { value: current }, current));
    if (text && !current && names.length === 1) target.value = names[0];
    else target.value = current;
  }

  function showError(message, line, column) {
    error.textContent = line ? `Line ${line}${column ? `, column ${column}` : ''}: ${message}` : message;
    error.hidden = false;
    if (line) editor.markError(line);
  }

  async function deploy() {
    error.hidden = true;
    editor.clearError();
    const app = name.value.trim();
    if (!isAppName(app)) {
      showError('App names are lower-case letters, digits, "_" and "-", starting with a letter or digit.');
      return;
    }
    if (!target.value) {
      showError(`Choose a ${kind} to deploy to.`);
      return;
    }
    let vars;
    try {
      vars = parseVariables(variables.value);
    } catch (err) {
      showError(err.message);
      return;
    }
    const secrets = {};
    for (const row of secretRows.querySelectorAll('.secret-row')) {
      const key = row.querySelector('.secret-name').value.trim();
      const value = row.querySelector('.secret-value').value;
      if (!key && !value) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) {
        showError(`secret name "${key}": letters, digits and "_", not starting with a digit`);
        return;
      }
      secrets[key] = value;
    }
    const registry = registryHost.value.trim();
    if (registry && !/^[A-Za-z0-9.:_[\]-]{1,255}$/.test(registry)) {
      showError(`registry host "${registry}": a host name or address with an optional port`);
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Deploying…';
    try {
      if (registry) {
        try {
          await conn.request('registry.set', { host: registry, username: registryUser.value, password: registryPassword.value, target: { [kind]: target.value } });
        } catch (err) {
          throw new Error(`registry credentials: ${errorText(err)}`);
        }
        registryPassword.value = '';
        toast(`credentials for ${registry} set on ${kind} ${target.value}`, 'ok');
      }
      const body = { name: app, target: { [kind]: target.value }, compose: editor.value };
      if (Object.keys(vars).length) body.variables = vars;
      if (Object.keys(secrets).length) body.secrets = secrets;
      const result = await conn.request('app.deploy', body);
      for (const input of secretRows.querySelectorAll('.secret-value')) input.value = '';
      toast(`${app} revision ${(result && result.revision) || ''} submitted`, 'ok');
      ctx.navigate(`#/apps/${encodeURIComponent(app)}`);
    } catch (err) {
      // The anchor's message already names the path; the line goes in front.
      showError(err.line ? err.message : errorText(err), err.line, err.column);
    } finally {
      submit.disabled = !ctx.canWrite;
      submit.textContent = existing ? 'Deploy update' : 'Deploy';
    }
  }

  async function loadExisting() {
    try {
      const app = await conn.request('app.get', { name: existing });
      const spec = (app && (app.spec || app)) || {};
      if (typeof spec.compose === 'string') editor.value = spec.compose;
      const t = spec.target || app.target || {};
      if (t.group || t.node) {
        kind = t.group ? 'group' : 'node';
        fillTargets(t.group || t.node);
      }
      const names = Array.isArray(app.secrets) ? app.secrets : [];
      secretNames.textContent = names.length
        ? `Set: ${names.join(', ')} (values never shown). Entering secrets here replaces all of them.`
        : '';
      const vars = spec.variables || {};
      variables.value = Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n');
    } catch (err) {
      showError(`Cannot load ${existing}: ${errorText(err)}`);
    }
  }

  fillTargets();
  const unsubscribe = store.subscribe((changes) => { if (changes.nodeList || changes.groups) fillTargets(); });
  if (existing) loadExisting();
  // The anchor going offline (or coming back) toggles the controls without a re-render, so
  // what the operator typed survives.
  function setWritable(writable) {
    for (const el of form.querySelectorAll('input, select, textarea, button')) el.disabled = !writable;
    if (existing) name.disabled = true;
    editor.disabled = !writable;
  }
  return { dispose: unsubscribe, setWritable };
}
