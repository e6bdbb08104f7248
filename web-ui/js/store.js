// The UI's picture of the fleet, built from the retained topics (and the live events and
// metrics) the connection receives. Messages are decoded as they arrive, but listeners
// are told at most once per frame (kFlushMs) with the set of what changed, so a burst of
// thousands of retained messages at subscribe time costs one render, not thousands.
// Single-threaded (the page's main thread).
import { parseTopic } from 'pharos/topics.js';
import { appendContainerSamples } from 'pharos/metrics_series.js';

const kFlushMs = 60;
const kMetricsHistory = 180;  // samples per node kept for the charts
const kEventsKept = 1000;

const kFailingPhases = new Set(['Failed', 'CrashLoop', 'Degraded']);

function emptyNode(name) {
  return {
    name,
    status: null,
    info: null,
    state: null,
    health: null,
    desired: null,
    metrics: null,
    metricsAt: 0,  // when the UI received the latest metrics (local clock)
    stateAt: 0,    // when the UI received the latest state document
    history: { ts: [], cpu: [], mem: [] },
    // "app/service" -> {app, service, ts: [Unix s], cpu: [%], mem: [bytes]}: the samples of
    // the managed containers (metrics' `containers`), as many as `history` keeps.
    containers: new Map(),
  };
}

function decode(payload) {
  if (!payload || payload.length === 0) return null;  // an empty retained payload deletes
  try {
    const value = JSON.parse(new TextDecoder().decode(payload));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch (e) {
    return undefined;
  }
}

// Health shown for a node: the anchor's verdict, else the agent's raw status.
export function healthOf(node) {
  if (node.health && node.health.state) {
    return { state: node.health.state, since: node.health.since || 0, reason: node.health.reason || '', raw: false };
  }
  if (node.status && node.status.state) {
    return { state: node.status.state, since: node.status.ts || 0, reason: node.status.reason || '', raw: true };
  }
  return { state: 'Unknown', since: 0, reason: 'no status yet', raw: true };
}

export function appCounts(node) {
  const apps = (node.state && Array.isArray(node.state.apps)) ? node.state.apps : [];
  let running = 0;
  let failing = 0;
  for (const app of apps) {
    if (app.phase === 'Running') running += 1;
    else if (kFailingPhases.has(app.phase)) failing += 1;
  }
  return { total: apps.length, running, failing };
}

// Operator labels (desired) over the device's own labels (info).
export function labelsOf(node) {
  return {
    ...((node.info && node.info.labels) || {}),
    ...((node.desired && node.desired.labels) || {}),
  };
}

export function groupsOf(node) {
  return (node.desired && Array.isArray(node.desired.groups)) ? node.desired.groups : [];
}

export function memPercent(metrics) {
  if (!metrics || !metrics.mem_total) return null;
  return (100 * metrics.mem_used) / metrics.mem_total;
}

export class Store {
  constructor() {
    this.nodes = new Map();
    this.groups = new Map();    // group -> its desired document
    this.rollouts = new Map();  // app -> rollout summary
    this.events = [];           // newest last
    this.anchor = null;
    this.groupCatalog = new Set();  // group names the anchor listed (group.list)
    this.listeners_ = new Set();
    this.dirty_ = this.freshDirty_();
    this.timer_ = null;
    this.version = 0;  // bumps whenever the node list or any node changes
  }

  freshDirty_() {
    return { nodes: new Set(), nodeList: false, groups: false, rollouts: new Set(), events: [], anchor: false };
  }

  // listener(changes) with changes = {nodes: Set, nodeList, groups, rollouts: Set, events: [], anchor}.
  subscribe(listener) {
    this.listeners_.add(listener);
    return () => this.listeners_.delete(listener);
  }

  // Feeds one MQTT message in. Returns false for a topic or payload it does not understand.
  ingest(topic, payload) {
    const where = parseTopic(topic);
    if (!where) return false;
    const doc = decode(payload);
    if (doc === undefined) return false;
    switch (where.kind) {
      case 'node':
        this.ingestNode_(where.node, where.sub, doc);
        break;
      case 'group':
        if (doc) this.groups.set(where.group, doc);
        else this.groups.delete(where.group);
        this.dirty_.groups = true;
        break;
      case 'rollout':
        if (doc) this.rollouts.set(where.app, doc);
        else this.rollouts.delete(where.app);
        this.dirty_.rollouts.add(where.app);
        break;
      case 'anchor':
        this.anchor = doc;
        this.dirty_.anchor = true;
        break;
      default:
        return false;
    }
    this.schedule_();
    return true;
  }

  ingestNode_(name, sub, doc) {
    if (sub === 'events') {
      if (!doc) return;
      const event = { ...doc, node: name, ts: doc.ts || Date.now(), live: true };
      this.events.push(event);
      if (this.events.length > kEventsKept) this.events.splice(0, this.events.length - kEventsKept);
      this.dirty_.events.push(event);
      return;
    }
    let node = this.nodes.get(name);
    if (!node) {
      if (!doc) return;
      node = emptyNode(name);
      this.nodes.set(name, node);
      this.dirty_.nodeList = true;
    }
    if (sub === 'metrics') {
      if (!doc) return;
      node.metrics = doc;
      node.metricsAt = Date.now();
      const h = node.history;
      h.ts.push((doc.ts || Date.now()) / 1000);
      h.cpu.push(typeof doc.cpu_percent === 'number' ? doc.cpu_percent : null);
      h.mem.push(memPercent(doc));
      if (h.ts.length > kMetricsHistory) {
        h.ts.shift();
        h.cpu.shift();
        h.mem.shift();
      }
      appendContainerSamples(node.containers, doc, kMetricsHistory);
    } else if (['status', 'info', 'state', 'health', 'desired'].includes(sub)) {
      if (sub === 'health') this.noteHealthChange_(name, node.health, doc);
      if (sub === 'state') node.stateAt = Date.now();
      node[sub] = doc;
      if (!doc && !node.status && !node.info && !node.health && !node.desired) {
        this.nodes.delete(name);  // every retained document of the node is gone
        this.dirty_.nodeList = true;
      }
    } else {
      return;
    }
    this.dirty_.nodes.add(name);
  }

  // A change of the anchor's verdict seen live is an event like the ones the anchor logs
  // (kind health_changed, reason = the new state, message = its reason), so views show it at
  // once; the first verdict of a node (the retained burst at subscribe) is not a change.
  noteHealthChange_(name, before, after) {
    if (!before || !after || before.state === after.state) return;
    const event = {
      source: 'anchor', kind: 'health_changed', node: name, reason: after.state,
      message: after.reason || '', ts: after.since || Date.now(), live: true,
    };
    this.events.push(event);
    if (this.events.length > kEventsKept) this.events.splice(0, this.events.length - kEventsKept);
    this.dirty_.events.push(event);
  }

  schedule_() {
    if (this.timer_ === null) this.timer_ = setTimeout(() => this.flush(), kFlushMs);
  }

  flush() {
    this.timer_ = null;
    const changes = this.dirty_;
    this.dirty_ = this.freshDirty_();
    if (changes.nodes.size > 0 || changes.nodeList) this.version += 1;
    for (const listener of this.listeners_) {
      try {
        listener(changes);
      } catch (e) {
        console.error('store listener failed', e);
      }
    }
  }

  // Fleet-wide counts by health state.
  counts() {
    const counts = { total: 0, Ready: 0, NotReady: 0, Pending: 0, Unreachable: 0, Unknown: 0 };
    for (const node of this.nodes.values()) {
      counts.total += 1;
      const state = healthOf(node).state;
      counts[state] = (counts[state] || 0) + 1;
    }
    return counts;
  }

  // Every group name known from retained documents or node documents.
  groupNames() {
    const names = new Set([...this.groups.keys(), ...this.groupCatalog]);
    for (const node of this.nodes.values()) for (const g of groupsOf(node)) names.add(g);
    return [...names].sort();
  }

  // Replaces the catalogue of group names from a group.list answer.
  setGroupCatalog(names) {
    this.groupCatalog = new Set(names);
    this.dirty_.groups = true;
    this.schedule_();
  }

  labelPairs() {
    const pairs = new Set();
    for (const node of this.nodes.values()) {
      for (const [k, v] of Object.entries(labelsOf(node))) pairs.add(`${k}=${v}`);
    }
    return [...pairs].sort();
  }
}
