// How current each value the UI shows is. A value is "fresh" while it is younger than its
// reporting period; past that it shows its age. Everything a node reported is "last
// reported" (never current) while the anchor's verdict on the node is not Ready: the agent
// cannot be updating it. Pure functions over the store's node records (store.js), with
// `now` passed in so they are testable. Main thread only.
import { healthOf } from 'pharos/store.js';
import { formatDuration, formatTime } from 'pharos/dom.js';

// The agent's default metrics_interval (docs/agent.md), ±20 % jitter.
export const kDefaultMetricsPeriodMs = 15000;
const kJitter = 1.25;
const kDownStates = new Set(['NotReady', 'Unreachable']);

// The metrics period of a node: the gap between its last two samples, else the default.
export function metricsPeriodMs(node) {
  const ts = node.history ? node.history.ts : [];
  if (ts.length >= 2) {
    const gap = (ts[ts.length - 1] - ts[ts.length - 2]) * 1000;
    if (gap > 0 && gap < 3600_000) return gap;
  }
  return kDefaultMetricsPeriodMs;
}

// Whether the node's own reports can no longer change (its health is NotReady/Unreachable).
export function isDown(node) {
  return kDownStates.has(healthOf(node).state);
}

// {stale, at, age} for the node's latest metrics: stale when older than one period (with the
// agent's jitter) or when the node is down; `at` is when the UI received them.
export function metricsFreshness(node, now = Date.now()) {
  if (!node.metrics || !node.metricsAt) return { stale: false, at: 0, age: 0, none: true };
  const age = now - node.metricsAt;
  return { stale: isDown(node) || age > metricsPeriodMs(node) * kJitter, at: node.metricsAt, age };
}

// {stale, at} for the node's reported app state: stale while the node is down.
export function stateFreshness(node) {
  const at = (node.state && node.state.ts) || node.stateAt || 0;
  return { stale: isDown(node), at };
}

// "last reported 12:03:04 (2m 5s ago)".
export function lastReported(at, now = Date.now()) {
  if (!at) return 'last reported at an unknown time';
  return `last reported ${formatTime(at)} (${formatDuration(now - at)} ago)`;
}

// "20s ago" for a stale value, '' for a fresh one.
export function ageText(freshness, now = Date.now()) {
  if (!freshness.stale || !freshness.at) return '';
  return `${formatDuration(now - freshness.at)} ago`;
}

// An element showing a value's age that refreshAges() keeps current: `format` is 'last'
// ("last reported 12:03:04 (5s ago)") or 'ago' ("5s ago").
export function ageElement(tag, attrs, at, format = 'ago') {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  el.dataset.ageAt = String(at || 0);
  el.dataset.ageFormat = format;
  el.textContent = format === 'last' ? lastReported(at) : at ? `${formatDuration(Date.now() - at)} ago` : '';
  return el;
}

// Updates every age element below `root` (called once a second by the views).
export function refreshAges(root, now = Date.now()) {
  for (const el of root.querySelectorAll('[data-age-at]')) {
    const at = Number(el.dataset.ageAt);
    el.textContent = el.dataset.ageFormat === 'last' ? lastReported(at, now) : at ? `${formatDuration(now - at)} ago` : '';
  }
}
