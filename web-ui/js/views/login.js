// The login screen: broker username and password (an operator or a viewer account), and
// the broker's WebSocket URL (defaults to the listener that served the page). It replaces
// the static copy of the form in index.html, keeping what was typed there. Main thread only.
import { h, replace } from 'pharos/dom.js';

// What was typed into the static form of index.html (shown before the script loaded).
function typed(root, id) {
  const el = root.querySelector(`#${id}`);
  return el ? el.value : '';
}

export function renderLogin(root, brokerUrl, onSubmit) {
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : 'login-user';
  const username = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, value: typed(root, 'login-user') });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, value: typed(root, 'login-password') });
  const url = h('input', { id: 'login-broker', name: 'broker', value: typed(root, 'login-broker') || brokerUrl, spellcheck: 'false' });
  const error = h('div', { class: 'form-error', id: 'login-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Sign in');
  const form = h('form', {
    class: 'login-card',
    onsubmit: async (e) => {
      e.preventDefault();
      error.hidden = true;
      button.disabled = true;
      button.textContent = 'Connecting…';
      try {
        await onSubmit({ username: username.value.trim(), password: password.value, url: url.value.trim() });
      } catch (err) {
        error.textContent = err && err.message ? err.message : String(err);
        error.hidden = false;
        button.disabled = false;
        button.textContent = 'Sign in';
      }
    },
  },
  h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, '◆'), 'Pharos'),
  h('p', { class: 'muted' }, 'Fleet manager for edge devices. Sign in with your broker account.'),
  h('label', {}, 'Username', username),
  h('label', {}, 'Password', password),
  h('details', { class: 'advanced' }, h('summary', {}, 'Broker'), h('label', {}, 'WebSocket URL', url)),
  error,
  button);
  replace(root, h('div', { class: 'login' }, form));
  const focus = root.querySelector(`#${focused}`) || username;
  focus.focus();
}
