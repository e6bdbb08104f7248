// The login screen: broker username and password (an operator or a viewer account), and
// the broker's WebSocket URL (defaults to the listener that served the page). When
// index.html's static copy of the form is on the page (shown at the first paint, before any
// script), it is adopted as it is: its fields keep what was typed and the focus, and its
// button is enabled once the handler is attached. Main thread only.
import { h, replace } from 'pharos/dom.js';

function buildForm() {
  const username = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const url = h('input', { id: 'login-broker', name: 'broker', spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Sign in');
  const form = h('form', { class: 'login-card' },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, '◆'), 'Pharos'),
    h('p', { class: 'muted' }, 'Fleet manager for edge devices. Sign in with your broker account.'),
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    h('details', { class: 'advanced' }, h('summary', {}, 'Broker'), h('label', {}, 'WebSocket URL', url)),
    button);
  return form;
}

export function renderLogin(root, brokerUrl, onSubmit) {
  let form = root.querySelector('#login-static');
  if (!form) {
    form = buildForm();
    replace(root, h('div', { class: 'login' }, form));
    form.querySelector('#login-user').focus();
  }
  form.onsubmit = null;  // the static form's inline "not yet"
  const username = form.querySelector('#login-user');
  const password = form.querySelector('#login-password');
  const url = form.querySelector('#login-broker');
  const button = form.querySelector('#login-submit');
  username.required = true;
  password.required = true;
  if (!url.value) url.value = brokerUrl;
  const error = h('div', { class: 'form-error', id: 'login-error', hidden: true });
  form.insertBefore(error, button);
  form.addEventListener('submit', async (e) => {
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
  });
  button.disabled = false;
}
