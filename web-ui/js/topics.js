// Topic names of the pharos/v1 tree (DESIGN.md section 2, docs/protocol.md) as the web UI
// uses them. The one place in the UI that spells a topic: views and the store call these.
// Pure functions.

export const kRoot = 'pharos/v1';

// Retained and live node topics the UI reads (never `secrets`: the UI has no business there).
export const kNodeKinds = ['status', 'info', 'state', 'health', 'desired', 'events', 'metrics'];

const kIdentifier = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const kAppName = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isIdentifier(name) {
  return typeof name === 'string' && kIdentifier.test(name);
}

export function isAppName(name) {
  return typeof name === 'string' && kAppName.test(name);
}

export const topics = {
  node: (node, kind) => `${kRoot}/nodes/${node}/${kind}`,
  groupDesired: (group) => `${kRoot}/groups/${group}/desired`,
  rollout: (app) => `${kRoot}/apps/${app}/rollout`,
  anchorStatus: () => `${kRoot}/anchor/status`,
  api: (user, op) => `${kRoot}/api/${user}/${op}`,
  replies: (user, inbox) => `${kRoot}/replies/${user}/${inbox}`,
  // The requester's own name is the last level: the broker lets a user publish commands only
  // there, and the agent answers only on that user's commandReplies.
  command: (node, command, user) => `${kRoot}/nodes/${node}/cmd/${command}/${user}`,
  // Agents answer inside their own subtree: only {user} may read these.
  commandReplies: (node, user, inbox) => `${kRoot}/nodes/${node}/cmd-replies/${user}/${inbox}`,
};

// Subscriptions that build the UI's picture of the fleet.
export function stateSubscriptions() {
  return [
    ...kNodeKinds.map((kind) => `${kRoot}/nodes/+/${kind}`),
    `${kRoot}/groups/+/desired`,
    `${kRoot}/apps/+/rollout`,
    `${kRoot}/anchor/status`,
  ];
}

// {kind: 'node', node, sub} | {kind: 'group', group} | {kind: 'rollout', app} |
// {kind: 'anchor'} | null for anything else.
export function parseTopic(topic) {
  if (!topic.startsWith(kRoot + '/')) return null;
  const parts = topic.slice(kRoot.length + 1).split('/');
  if (parts[0] === 'nodes' && parts.length === 3 && isIdentifier(parts[1])) {
    return { kind: 'node', node: parts[1], sub: parts[2] };
  }
  if (parts[0] === 'groups' && parts.length === 3 && parts[2] === 'desired') {
    return isIdentifier(parts[1]) ? { kind: 'group', group: parts[1] } : null;
  }
  if (parts[0] === 'apps' && parts.length === 3 && parts[2] === 'rollout') {
    return isIdentifier(parts[1]) ? { kind: 'rollout', app: parts[1] } : null;
  }
  if (parts[0] === 'anchor' && parts[1] === 'status' && parts.length === 2) {
    return { kind: 'anchor' };
  }
  return null;
}
