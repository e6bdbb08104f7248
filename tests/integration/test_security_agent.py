"""A real pharos-agent under the security rules (docs/security.md "Threat model",
docs/protocol.md 3.1 and 5.1), with the real Mosquitto, the shipped configuration and the real
Docker Engine:

  - a command is answered only to its requester: the broker lets a user publish commands only
    under its own name (nodes/{node}/cmd/{command}/{user}), and the agent answers only on that
    user's nodes/{node}/cmd-replies/{user}/...; a reply topic of another user's is refused
    with permission_denied on the requester's own, and a request without the user level gets
    no answer at all;
  - a session per connection: after the broker restarts, the agent's status carries a new,
    larger session, persisted in its state file; a late will of the earlier connection does
    not make the node NotReady, and the will of the new connection carries the new session,
    so the anchor's session rule turns the node NotReady when the agent then dies.
"""
import json
import pathlib
import shutil
import tempfile
import time

import pytest

from harness.broker import TOPIC_ROOT, wait_until
from cli_support import AnchorProcess
from test_agent import AgentProc


def node_topic(node, kind):
    return f"{TOPIC_ROOT}/nodes/{node}/{kind}"


@pytest.fixture
def broker(broker_factory):
    return broker_factory(operators=("ops", "ops2"), viewers=("viewer",), agents=("n1",))


@pytest.fixture
def agent(broker, pharos_bin, docker_engine):
    work = tempfile.mkdtemp(prefix="pharos-secagent-")
    proc = AgentProc(pharos_bin("pharos-agent"), "n1", broker, docker_engine, work)
    yield proc
    proc.kill()
    shutil.rmtree(work, ignore_errors=True)


def latest_status(collector):
    got = [m for m in collector.messages if m.payload]
    return json.loads(got[-1].payload) if got else None


def wait_ready(broker, agent, previous_session=0, timeout=30):
    """The agent's retained status once it is Ready with a session above previous_session."""
    watcher = broker.client("ops")
    try:
        seen = watcher.subscribe_collect(node_topic("n1", "status"))

        def ready():
            st = latest_status(seen)
            return st if st and st["state"] == "Ready" and st["session"] > previous_session \
                else None
        assert wait_until(ready, timeout), (latest_status(seen), agent.log())
        return ready()
    finally:
        watcher.close()


# ---- command answers go to the requester only ---------------------------------------------------


def test_a_command_is_answered_only_to_its_requester(broker, agent):
    agent.start()
    wait_ready(broker, agent)
    ops, ops2 = broker.client("ops"), broker.client("ops2")
    victim = ops2.subscribe_collect(node_topic("n1", "cmd-replies/ops2/#"))
    own = ops.subscribe_collect(node_topic("n1", "cmd-replies/ops/#"))
    # ops may not read ops2's answers either: this subscription gets nothing.
    snoop = ops.subscribe_collect(node_topic("n1", "cmd-replies/ops2/#"))
    delivered = broker.client("anchor").subscribe_collect(node_topic("n1", "cmd/#"))
    victim_inbox = node_topic("n1", "cmd-replies/ops2/inbox")
    body = {"v": 1, "app": "web"}

    # The broker refuses a command under another user's name, or below it, or without the
    # user level (the form that let an operator pick any user's reply topic).
    for refused in ("cmd/inspect/ops2", "cmd/inspect/ops/x", "cmd/inspect"):
        ops.publish(node_topic("n1", refused), body, response_topic=victim_inbox,
                    correlation=b"forged")
    # Under its own name but naming ops2's reply topic (MQTT 5 property, then the MQTT 3.1.1
    # body field): refused by the agent, and ops is told so on its own cmd-replies.
    ops.publish(node_topic("n1", "cmd/inspect/ops"), body, response_topic=victim_inbox,
                correlation=b"c-1")
    ops.publish(node_topic("n1", "cmd/inspect/ops"),
                dict(body, replyTo=node_topic("n1", "cmd-replies/ops2/body"), correlation=2))
    told = own.wait_for(lambda m: m.topic == node_topic("n1", "cmd-replies/ops/inbox"), 15)
    assert told is not None, agent.log()
    assert json.loads(told.payload)["error"]["code"] == "permission_denied"
    told = own.wait_for(lambda m: m.topic == node_topic("n1", "cmd-replies/ops/body"), 15)
    assert told is not None, agent.log()
    assert json.loads(told.payload)["error"]["code"] == "permission_denied"
    assert json.loads(told.payload)["correlation"] == 2

    # ops2's own request is answered in its own inbox: the marker that the agent has handled
    # everything before it (one publisher's order; ops's requests were answered already).
    ops2.publish(node_topic("n1", "cmd/inspect/ops2"), body, response_topic=victim_inbox,
                 correlation=b"mine")
    mine = victim.wait_for(lambda m: m.topic == victim_inbox, 15)
    assert mine is not None, agent.log()
    time.sleep(0.5)
    assert [getattr(m.properties, "CorrelationData", None) for m in victim.messages] == \
        [b"mine"], [(m.topic, m.payload) for m in victim.messages]
    assert [m.topic for m in delivered.messages] == \
        [node_topic("n1", "cmd/inspect/ops")] * 2 + [node_topic("n1", "cmd/inspect/ops2")]
    assert snoop.messages == [], [(m.topic, m.payload) for m in snoop.messages]


# ---- a session per connection ---------------------------------------------------------------------


@pytest.fixture
def anchor(broker, pharos_bin):
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-secagent-anchor-"))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, work)
    proc.start()
    yield proc
    proc.stop()
    shutil.rmtree(work, ignore_errors=True)


def health(broker, node):
    ops = broker.client("ops")
    try:
        reply = ops.request("node.get", {"name": node})
        return reply["result"]["health_detail"] if reply.get("ok") else None
    finally:
        ops.close()


def test_a_reconnection_takes_a_new_session_and_its_will_carries_it(broker, anchor, agent):
    agent.start()
    first = wait_ready(broker, agent)["session"]
    assert wait_until(lambda: (health(broker, "n1") or {}).get("state") == "Ready", 15), \
        anchor.log()[-2000:]

    broker.restart()
    second = wait_ready(broker, agent, previous_session=first)["session"]
    assert second > first
    state = json.loads((agent.workdir / "state.json").read_text())
    assert state["last_session"] == second
    assert wait_until(lambda: (health(broker, "n1") or {}).get("session") == second, 15), \
        (health(broker, "n1"), anchor.log()[-2000:])

    # The will of the first connection, arriving late (after the new Ready), as the broker
    # would publish it when it notices the old connection gone: older than the newest Ready,
    # so the anchor keeps the node Ready.
    late = {"v": 1, "state": "NotReady", "session": first, "reason": "connection lost",
            "ts": int(time.time() * 1000)}
    forger = broker.client("anchor", client_id="late-will")
    forger.publish(node_topic("n1", "status"), late, retain=True)
    forger.close()
    time.sleep(1.0)
    after = health(broker, "n1")
    assert after["state"] == "Ready" and after["session"] == second, \
        (after, anchor.log()[-2000:])

    # Killed: the broker publishes the will of this connection, with its session, and the
    # anchor (whose newest Ready is that session) believes it.
    watcher = broker.client("ops")
    seen = watcher.subscribe_collect(node_topic("n1", "status"))
    agent.kill()

    # (The retained status may already be a late will of a connection attempt the broker
    # accepted after the agent gave up on it: look for this connection's will.)
    def this_will():
        for m in seen.messages:
            st = json.loads(m.payload) if m.payload else {}
            if st.get("state") == "NotReady" and st.get("session") == second:
                return st
        return None
    assert wait_until(this_will, 15), [m.payload for m in seen.messages]
    assert this_will()["reason"] == "connection lost", this_will()
    assert wait_until(lambda: (health(broker, "n1") or {}).get("state") == "NotReady", 15), \
        (health(broker, "n1"), anchor.log()[-2000:])
