// The log viewer of one service (node page, Logs button): its last 200 lines, then new
// ones live from a log stream of the agent (cmd/logs with follow, docs/protocol.md "Log
// streams"), renewed every 5 s while the dialog is open and stopped when it closes (a tab
// that goes away simply stops renewing: the agent ends the stream when its lease runs out).
// Each line shows its time; the search box filters the lines shown (case-insensitive); the
// Download button saves every line received, with its time, as a text file. The stream ends
// at the agent's limits (10 000 lines or 10 min), which the status line says. Main thread.
import { h, replace, dialog, errorText } from 'pharos/dom.js';

const kLease = 15;          // seconds: the agent ends the stream without a renew
const kRenewMs = 5000;
const kMaxShown = 5000;     // lines kept in the page (the download keeps all received)

function stamp(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Lines as a downloadable text: one "ISO-time text" per line.
export function logFileText(lines) {
  return lines.map((l) => `${new Date(l.ts).toISOString()} ${l.text}`).join('\n') + (lines.length ? '\n' : '');
}

export async function showLogs(ctx, node, app, service) {
  const lines = [];
  const view = h('div', { class: 'mono logs', id: 'logs-text' });
  const status = h('span', { class: 'muted', id: 'logs-status', dataset: { state: 'starting' } }, 'Connecting to the agent…');
  const count = h('span', { class: 'muted', id: 'logs-count' }, '');
  const search = h('input', { type: 'search', id: 'logs-search', placeholder: 'Search lines', 'aria-label': 'Search lines' });
  const download = h('button', { id: 'logs-download', onclick: () => {
    const url = URL.createObjectURL(new Blob([logFileText(lines)], { type: 'text/plain' }));
    const a = h('a', { href: url, download: `${node}-${app}-${service}.log` });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } }, 'Download');
  const toolbar = h('div', { class: 'logs-toolbar' }, search, download, status, count);

  let term = '';
  function lineElement(l) {
    return h('div', { class: 'log-line' }, h('time', { datetime: new Date(l.ts).toISOString() }, stamp(l.ts)), ' ', l.text);
  }
  function matches(l) {
    return !term || l.text.toLowerCase().includes(term);
  }
  function rerender() {
    const shown = lines.filter(matches).slice(-kMaxShown);
    replace(view, shown.map(lineElement));
    count.textContent = term ? `${shown.length} of ${lines.length} lines` : `${lines.length} lines`;
    view.dataset.shown = String(shown.length);
    view.scrollTop = view.scrollHeight;
  }
  search.addEventListener('input', () => {
    term = search.value.trim().toLowerCase();
    rerender();
  });
  function append(items) {
    const atBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
    for (const l of items) {
      if (!l || typeof l.text !== 'string') continue;
      lines.push(l);
      if (matches(l)) view.appendChild(lineElement(l));
    }
    while (view.childElementCount > kMaxShown) view.firstElementChild.remove();
    view.dataset.shown = String(view.childElementCount);
    view.dataset.received = String(lines.length);
    count.textContent = term ? `${view.childElementCount} of ${lines.length} lines` : `${lines.length} lines`;
    if (atBottom) view.scrollTop = view.scrollHeight;
  }
  function setStatus(state, text, bad = false) {
    status.dataset.state = state;
    status.textContent = text;
    status.classList.toggle('bad-text', bad);
  }

  let stream = null;
  let key = null;
  let renew = null;
  const shown = dialog(`Logs of ${app}/${service} on ${node}`, h('div', {}, toolbar, view));
  try {
    key = await ctx.conn.commandStream(node, 'logs', { app, service, tail: 200, follow: true, lease: kLease }, (reply) => {
      if (!reply || reply.ok !== true) {
        setStatus('failed', `logs failed: ${errorText(reply && reply.error)}`, true);
        clearInterval(renew);
        return;
      }
      const r = reply.result || {};
      if (!stream && r.stream) {
        stream = r.stream;
        setStatus('following', 'Following (live)');
      }
      append(Array.isArray(r.lines) ? r.lines : []);
      if (r.done) {
        clearInterval(renew);
        setStatus('ended', `Stream ended: ${r.end}${r.message ? ` (${r.message})` : ''}`);
      }
    });
    renew = setInterval(() => {
      if (stream) ctx.conn.command(node, 'logs', { stream, action: 'renew' }).catch(() => {});
    }, kRenewMs);
  } catch (err) {
    setStatus('failed', `logs failed: ${errorText(err)}`, true);
  }
  await shown;
  clearInterval(renew);
  if (stream && status.dataset.state === 'following') {
    ctx.conn.command(node, 'logs', { stream, action: 'stop' }).catch(() => {});
  }
  if (key) setTimeout(() => ctx.conn.stopStream(key), 2000);
  rerender();
}
