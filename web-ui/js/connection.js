// The UI's one MQTT 5 connection to the broker (over WebSocket) and the request/response
// client of the management API (DESIGN.md section 4).
//
// connect() resolves once the broker has accepted the credentials (and rejects with the
// broker's reason otherwise). request(op, body) publishes to pharos/v1/api/{user}/{op} with
// a Response Topic under pharos/v1/replies/{user}/ and random Correlation Data, and resolves
// with the anchor's `result` or rejects with an ApiError carrying {code, message, path,
// line, column}. A publish the broker refuses (ACL) rejects at once with permission_denied.
// command(node, cmd, body) publishes to pharos/v1/nodes/{node}/cmd/{cmd}/{user} and waits for
// the agent, whose answer comes on
// pharos/v1/nodes/{node}/cmd-replies/{user}/{inbox} (subscribed before the first request to
// that node). An answer delivered with the retain flag was planted, never sent for a request:
// it is dropped.
// Runs on the page's main thread; callbacks fire from the mqtt library's event handlers.
import mqtt from 'mqtt';
import { topics, stateSubscriptions } from 'pharos/topics.js';

const kRequestTimeoutMs = 15000;

export class ApiError extends Error {
  constructor(error) {
    super(error.message || error.code || 'request failed');
    this.code = error.code || 'internal';
    this.path = error.path;
    this.line = error.line;
    this.column = error.column;
  }
}

function randomId(bytes = 8) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('');
}

function decodeCorrelation(data) {
  if (!data) return '';
  if (typeof data === 'string') return data;
  return new TextDecoder().decode(data);
}

// Default broker URL: the WebSocket listener that served this page.
export function defaultBrokerUrl(location) {
  const params = new URLSearchParams(location.search);
  if (params.get('broker')) return params.get('broker');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/mqtt`;
}

export class Connection {
  constructor({ url, username, password }) {
    this.url_ = url;
    this.username = username;
    this.password_ = password;
    this.client_ = null;
    this.inboxName_ = 'web-' + randomId(6);
    this.inbox_ = topics.replies(username, this.inboxName_);
    this.commandInboxes_ = new Set();  // agents' answer topics subscribed to
    this.pending_ = new Map();  // correlation -> {resolve, reject, timer}
    this.streams_ = new Map();  // correlation -> answer handler (commandStream)
    this.messageHandler_ = () => {};
    this.statusHandler_ = () => {};
    this.apiBlocked_ = '';  // why API requests fail at once (the anchor is offline), or ''
  }

  // While `reason` is non-empty, request() fails at once with `unavailable` instead of
  // waiting for an answer that cannot come (the anchor said it is offline).
  blockApi(reason) {
    this.apiBlocked_ = reason || '';
  }

  onMessage(handler) {
    this.messageHandler_ = handler;
  }

  // handler(state, detail): state is 'online' | 'reconnecting' | 'offline'.
  onStatus(handler) {
    this.statusHandler_ = handler;
  }

  connect() {
    return new Promise((resolve, reject) => {
      let settled = false;
      let failures = 0;  // closed attempts before the first CONNACK
      const client = mqtt.connect(this.url_, {
        protocolVersion: 5,
        username: this.username,
        password: this.password_,
        clientId: `web-${this.username}-${randomId(4)}`,
        clean: true,
        keepalive: 30,
        reconnectPeriod: 2000,
        connectTimeout: 8000,
        resubscribe: true,
      });
      this.client_ = client;
      client.on('connect', () => {
        // State at QoS 0: retained documents are re-sent on every (re)subscribe anyway, and
        // QoS 0 keeps a burst of thousands of them out of the broker's per-client queue
        // limit (max_queued_messages) and saves the browser a PUBACK per message.
        const subscriptions = { [this.inbox_]: { qos: 1 } };
        for (const inbox of this.commandInboxes_) subscriptions[inbox] = { qos: 1 };
        for (const topic of stateSubscriptions()) subscriptions[topic] = { qos: 0 };
        client.subscribe(subscriptions, (err) => {
          if (err && !settled) {
            settled = true;
            reject(err);
            client.end(true);
            return;
          }
          this.statusHandler_('online');
          if (!settled) {
            settled = true;
            resolve();
          }
        });
      });
      client.on('error', (err) => {
        // Bad credentials or an unauthorised client are final: stop retrying.
        const code = err && err.code;
        if (code === 4 || code === 5 || code === 134 || code === 135) {
          client.end(true);
          if (!settled) {
            settled = true;
            reject(new Error('the broker refused these credentials'));
          }
          return;
        }
        if (!settled && (failures += 1) >= 3) {
          settled = true;
          client.end(true);
          reject(new Error(err && err.message ? err.message : 'cannot reach the broker'));
        }
      });
      client.on('close', () => {
        if (settled) this.statusHandler_(client.disconnecting ? 'offline' : 'reconnecting');
      });
      client.on('offline', () => {
        failures += 1;
        // A dropped first attempt (network change) is retried by the client; give up after 3.
        if (!settled && failures >= 3) {
          settled = true;
          client.end(true);
          reject(new Error('cannot reach the broker at ' + this.url_));
        }
      });
      client.on('message', (topic, payload, packet) => this.dispatch_(topic, payload, packet));
    });
  }

  close() {
    if (this.client_) this.client_.end(true);
    for (const { reject, timer } of this.pending_.values()) {
      clearTimeout(timer);
      reject(new ApiError({ code: 'unavailable', message: 'disconnected' }));
    }
    this.pending_.clear();
  }

  dispatch_(topic, payload, packet) {
    if (topic === this.inbox_ || this.commandInboxes_.has(topic)) {
      if (packet.retain !== true) this.settleReply_(payload, packet);
      return;
    }
    this.messageHandler_(topic, payload, packet.retain === true);
  }

  settleReply_(payload, packet) {
    const props = packet.properties || {};
    let reply;
    try {
      reply = JSON.parse(new TextDecoder().decode(payload));
    } catch (e) {
      return;
    }
    let key = decodeCorrelation(props.correlationData);
    if (!key && reply && typeof reply.correlation === 'string') key = reply.correlation;
    const stream = this.streams_.get(key);
    if (stream) {
      stream(reply);
      return;
    }
    const waiter = this.pending_.get(key);
    if (!waiter) return;
    this.pending_.delete(key);
    clearTimeout(waiter.timer);
    if (reply && reply.ok === true) {
      waiter.resolve(reply.result === undefined ? null : reply.result);
    } else {
      waiter.reject(new ApiError((reply && reply.error) || { code: 'internal' }));
    }
  }

  // Calls one API operation. Resolves with `result`, rejects with ApiError.
  request(op, body = {}, options = {}) {
    if (this.apiBlocked_) return Promise.reject(new ApiError({ code: 'unavailable', message: this.apiBlocked_ }));
    return this.send_(topics.api(this.username, op), op, body, options);
  }

  // A command answered by the agent itself (nodes/{node}/cmd/{command}/{user}: logs, inspect).
  async command(node, command, body = {}, options = {}) {
    const inbox = await this.commandInbox_(node);
    return this.send_(topics.command(node, command, this.username), `${command} on ${node}`,
      body, options, inbox);
  }

  // A command whose answers keep coming (cmd/logs with follow): onAnswer(reply) gets every
  // answer ({ok, result} or {ok: false, error}) until stopStream(key). Resolves with the key.
  async commandStream(node, command, body, onAnswer) {
    const inbox = await this.commandInbox_(node);
    if (!this.client_ || !this.client_.connected) throw new ApiError({ code: 'unavailable', message: 'not connected to the broker' });
    const key = randomId(12);
    this.streams_.set(key, onAnswer);
    this.client_.publish(topics.command(node, command, this.username), JSON.stringify({ v: 1, ...body }), {
      qos: 1,
      properties: { responseTopic: inbox, correlationData: new TextEncoder().encode(key), contentType: 'application/json' },
    });
    return key;
  }

  stopStream(key) {
    this.streams_.delete(key);
  }

  // Subscribes (once) to the topic where `node` answers this user's commands.
  async commandInbox_(node) {
    const inbox = topics.commandReplies(node, this.username, this.inboxName_);
    if (!this.commandInboxes_.has(inbox) && this.client_ && this.client_.connected) {
      await new Promise((resolve, reject) => {
        this.client_.subscribe({ [inbox]: { qos: 1 } }, (err, granted) => {
          const refused = err || (granted && granted.some((g) => g.qos >= 128));
          if (refused) {
            reject(new ApiError({ code: 'permission_denied', message: `the broker refused the answers of ${node} for ${this.username}` }));
            return;
          }
          this.commandInboxes_.add(inbox);
          resolve();
        });
      });
    }
    return inbox;
  }

  send_(topic, op, body, { timeoutMs = kRequestTimeoutMs } = {}, inbox = this.inbox_) {
    return new Promise((resolve, reject) => {
      if (!this.client_ || !this.client_.connected) {
        reject(new ApiError({ code: 'unavailable', message: 'not connected to the broker' }));
        return;
      }
      const key = randomId(12);
      const timer = setTimeout(() => {
        this.pending_.delete(key);
        reject(new ApiError({ code: 'unavailable', message: `no answer to ${op} (is ${topic.includes('/cmd/') ? 'the agent' : 'the anchor'} running?)` }));
      }, timeoutMs);
      this.pending_.set(key, { resolve, reject, timer });
      const payload = JSON.stringify({ v: 1, ...body });
      this.client_.publish(
        topic,
        payload,
        {
          qos: 1,
          properties: {
            responseTopic: inbox,
            correlationData: new TextEncoder().encode(key),
            contentType: 'application/json',
          },
        },
        (err) => {
          if (!err) return;
          const waiter = this.pending_.get(key);
          if (!waiter) return;
          this.pending_.delete(key);
          clearTimeout(timer);
          const denied = err.code === 135 || /authori[sz]ed/i.test(err.message || '');
          reject(
            new ApiError({
              code: denied ? 'permission_denied' : 'unavailable',
              message: denied ? `the broker refused ${op} for ${this.username}` : err.message,
            }),
          );
        },
      );
    });
  }

  // 'operator' | 'viewer' | 'unknown'. An empty app.deploy is harmless: for a viewer the
  // broker refuses it (or the anchor answers permission_denied); for an operator the anchor
  // answers invalid_argument. No answer (the anchor is down) leaves the role unknown.
  async probeRole() {
    try {
      await this.request('app.deploy', {}, { timeoutMs: 4000 });
      return 'operator';
    } catch (e) {
      if (e.code === 'permission_denied') return 'viewer';
      return e.code === 'unavailable' ? 'unknown' : 'operator';
    }
  }
}
