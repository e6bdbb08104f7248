// Small DOM and formatting helpers shared by the views. Text always goes in through
// textContent (never innerHTML), so nothing that arrives over MQTT can inject markup.
// Main thread only.

// h('div', {class: 'x', onclick: fn, dataset: {...}}, child, 'text', [more children])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected' || key === 'hidden') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// "4s", "12m 3s", "3h 20m", "5d 2h".
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${m % 60}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

export function since(ts) {
  return ts ? formatDuration(Date.now() - ts) : '–';
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes <= 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 10 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatTime(ts) {
  if (!ts) return '–';
  const d = new Date(ts);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

const kHealthClass = {
  Ready: 'ok', running: 'ok', Running: 'ok', applied: 'info',
  NotReady: 'bad', notready: 'muted', failed: 'bad', Failed: 'bad', CrashLoop: 'bad',
  Degraded: 'warn', Pending: 'warn', pending: 'warn', Pulling: 'info', pulling: 'info',
  Starting: 'info', starting: 'info', Unreachable: 'warn', Stopped: 'muted', Removing: 'muted',
};

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind || kHealthClass[text] || 'muted'}` }, text || '–');
}

// A horizontal usage bar with the number beside it; null shows a dash.
export function meter(percent) {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) {
    return h('span', { class: 'meter-empty' }, '–');
  }
  const p = Math.max(0, Math.min(100, percent));
  const level = p >= 90 ? 'bad' : p >= 70 ? 'warn' : 'ok';
  return h('span', { class: 'meter' },
    h('span', { class: 'meter-track' }, h('span', { class: `meter-fill meter-${level}`, style: { width: `${p}%` } })),
    h('span', { class: 'meter-label' }, `${p.toFixed(0)}%`));
}

export function chip(text, extra) {
  return h('span', { class: 'chip' + (extra ? ' ' + extra : '') }, text);
}

let toastHost = null;
export function toast(message, kind = 'info') {
  if (!toastHost) {
    toastHost = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastHost);
  }
  const el = h('div', { class: `toast toast-${kind}` }, message);
  toastHost.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// A modal dialog; resolves with the value of the button pressed (or null).
export function dialog(title, body, buttons = [{ label: 'Close', value: null }]) {
  return new Promise((resolve) => {
    const close = (value) => {
      overlay.remove();
      resolve(value);
    };
    const overlay = h('div', { class: 'overlay', onclick: (e) => { if (e.target === overlay) close(null); } },
      h('div', { class: 'dialog', role: 'dialog', 'aria-label': title },
        h('h2', {}, title),
        h('div', { class: 'dialog-body' }, body),
        h('div', { class: 'dialog-buttons' },
          buttons.map((b) => h('button', { class: b.class || '', onclick: () => close(b.value) }, b.label)))));
    document.body.appendChild(overlay);
  });
}

export function confirmAction(title, text, label = 'Confirm', danger = false) {
  return dialog(title, h('p', {}, text), [
    { label: 'Cancel', value: false },
    { label, value: true, class: danger ? 'danger' : 'primary' },
  ]);
}

// A visible error line for an API failure.
export function errorText(err) {
  if (!err) return '';
  const where = err.path ? ` (${err.path}${err.line ? `, line ${err.line}` : ''})` : '';
  return `${err.code ? err.code + ': ' : ''}${err.message}${where}`;
}

// Items of a list result, whatever the key the anchor uses for them.
export function itemsOf(result, ...keys) {
  if (Array.isArray(result)) return result;
  if (!result || typeof result !== 'object') return [];
  for (const key of [...keys, 'items']) if (Array.isArray(result[key])) return result[key];
  return [];
}
