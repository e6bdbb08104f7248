"""Forged and retained messages (docs/security.md "Threat model") against the real Mosquitto
with the shipped configuration and the real pharos-anchor and pharosctl:

  - a device publishes only inside its own nodes/{node}/ subtree: it cannot plant an "answer"
    on replies/{user}/... (retained or not) nor on another node's cmd-replies; its own
    answers reach only the requesting user;
  - requests are never retained: a retained API request is neither executed nor replayed by a
    restarted anchor, and a retained command is cleared by the anchor;
  - a status with an absurd session (far ahead of the anchor's clock) is ignored: the node's
    real death (its will) still turns it NotReady;
  - pharosctl logs/inspect go through the agent's answer topic in its subtree;
  - the request envelope as docs/protocol.md states it: malformed operation names get
    invalid_argument on a valid response topic, request-field errors name their `path`, a
    request without a reply topic is not executed.

Negative checks publish the forbidden messages first and an allowed marker last on the same
connection: MQTT keeps one publisher's order.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from harness.broker import TOPIC_ROOT, wait_until
from cli_support import AnchorProcess

ABSURD_SESSION = 9223372036854775807


def node_topic(node, kind):
    return f"{TOPIC_ROOT}/nodes/{node}/{kind}"


@pytest.fixture
def broker(broker_factory):
    return broker_factory(operators=("ops", "ops2"), viewers=("viewer",), agents=("n1", "n2"))


@pytest.fixture
def anchor(broker, pharos_bin):
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-forge-anchor-"))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, work)
    proc.start()
    yield proc
    proc.stop()
    shutil.rmtree(work, ignore_errors=True)


def status(state, session, reason="connected"):
    return json.dumps({"v": 1, "state": state, "session": session, "reason": reason,
                       "ts": int(time.time() * 1000)})


def retained_payloads(broker, user, topic_filter):
    """What a new subscriber logged in as `user` gets at once on `topic_filter`."""
    client = broker.client(user, client_id=user if user.startswith("n") else None)
    try:
        got = client.subscribe_collect(topic_filter)
        time.sleep(0.3)
        return [m.payload for m in got.messages if m.payload]
    finally:
        client.close()


def health_state(ops, node):
    reply = ops.request("node.get", {"name": node})
    return reply["result"]["health"] if reply.get("ok") else None


# ---- a device stays in its own subtree --------------------------------------------------------


def test_device_cannot_plant_answers_outside_its_own_subtree(broker):
    ops = broker.client("ops")
    replies = ops.subscribe_collect(f"{TOPIC_ROOT}/replies/ops/#")
    own_answers = ops.subscribe_collect(f"{TOPIC_ROOT}/nodes/+/cmd-replies/ops/#")
    viewer = broker.client("viewer")
    assert viewer.subscribe(f"{TOPIC_ROOT}/nodes/+/cmd-replies/ops/#")[0] >= 0x80
    viewer_sees = viewer.subscribe_collect(f"{TOPIC_ROOT}/#")
    n1 = broker.client("n1", client_id="n1")
    planted = b'{"v":1,"ok":true,"result":{"planted":true}}'
    for topic in (f"{TOPIC_ROOT}/replies/ops/planted", f"{TOPIC_ROOT}/replies/ops/sh-1",
                  node_topic("n2", "cmd-replies/ops/x")):
        n1.publish(topic, planted, retain=True)
        n1.publish(topic, planted)
    # Its own answers (to a cmd request of ops) are allowed, inside nodes/n1/.
    marker = node_topic("n1", "cmd-replies/ops/marker")
    n1.publish(marker, b'{"v":1,"ok":true,"result":{}}')
    assert own_answers.wait_for(lambda m: m.topic == marker, 5)
    assert [m.topic for m in replies.messages] == []
    assert [m.topic for m in own_answers.messages] == [marker]
    # Another user never reads ops's answers.
    time.sleep(0.3)
    assert not [m for m in viewer_sees.messages if "cmd-replies" in m.topic]
    # Nothing was stored as retained under replies/ (the documented mosquitto_sub example
    # subscribes to replies/ops/#: it would print a planted answer first).
    late = broker.client("ops").subscribe_collect(f"{TOPIC_ROOT}/replies/ops/#")
    time.sleep(0.5)
    assert late.messages == []


# ---- requests are never retained ----------------------------------------------------------------


def test_a_retained_api_request_is_not_executed_nor_replayed(broker, anchor):
    ops = broker.client("ops")
    group = f"planted-{uuid.uuid4().hex[:6]}"
    body = {"v": 1, "name": group, "replyTo": f"{TOPIC_ROOT}/replies/ops/planted"}
    ops.publish(f"{TOPIC_ROOT}/api/ops/group.create", body, retain=True)
    time.sleep(1.0)
    assert ops.request("group.get", {"name": group})["error"]["code"] == "not_found"
    assert wait_until(lambda: "retained request" in anchor.log(), 10), anchor.log()[-2000:]
    # The anchor cleared it: nothing is retained on api/# any more (only the anchor reads it).
    assert wait_until(lambda: retained_payloads(broker, "anchor", f"{TOPIC_ROOT}/api/#") == [],
                      10)
    # A restarted anchor has nothing to replay.
    anchor.stop()
    anchor.start()
    time.sleep(0.5)
    assert broker.client("ops").request("group.get", {"name": group})["error"]["code"] == \
        "not_found"


def test_a_retained_command_is_cleared(broker, anchor):
    ops = broker.client("ops")
    topic = node_topic("n1", "cmd/inspect/ops")
    ops.publish(topic, {"v": 1, "app": "web"}, retain=True,
                response_topic=node_topic("n1", "cmd-replies/ops/planted"))
    # n1's agent would get it again on every (re)subscription: it is gone.
    assert wait_until(lambda: retained_payloads(broker, "n1", node_topic("n1", "cmd/#")) == [],
                      10)
    assert "retained request" in anchor.log(), anchor.log()[-2000:]


# ---- sessions ------------------------------------------------------------------------------------


def test_an_absurd_session_neither_pins_health_nor_hides_the_will(broker, anchor):
    ops = broker.client("ops")
    now = int(time.time() * 1000)
    topic = node_topic("n1", "status")
    info = {"v": 1, "agent_version": "test", "hostname": "n1", "os": "linux", "arch": "x86_64",
            "kernel": "6", "docker_version": "", "docker_api": "", "cpus": 1, "memory_bytes": 1,
            "disk_bytes": 1, "addresses": [], "broker": broker.url, "labels": {}, "ts": now}
    dev = broker.client("n1", client_id="n1",
                        will=(topic, status("NotReady", now, "connection lost")))
    dev.publish(node_topic("n1", "info"), info, retain=True)
    dev.publish(topic, status("Ready", now), retain=True)
    assert wait_until(lambda: health_state(ops, "n1") == "Ready", 10), anchor.log()[-2000:]
    # The device (or whoever holds its password) claims a session from the far future.
    dev.publish(topic, status("Ready", ABSURD_SESSION), retain=True)
    time.sleep(1.0)
    got = ops.request("node.get", {"name": "n1"})["result"]
    assert got["health_detail"]["session"] == now, got["health_detail"]
    # Its real death (the will, with the real session) is seen.
    dev.kill()
    assert wait_until(lambda: health_state(ops, "n1") == "NotReady", 10), anchor.log()[-2000:]
    assert "ahead of the anchor's clock" in anchor.log(), anchor.log()[-2000:]
    # ...and stays seen across an anchor restart (the will replaced the planted status).
    anchor.stop()
    anchor.start()
    assert wait_until(lambda: health_state(broker.client("ops"), "n1") == "NotReady", 10)


# ---- pharosctl logs / inspect through the agent's own subtree ------------------------------------


class FakeAgent:
    """Answers nodes/{node}/cmd/# on the request's response topic, as pharos-agent does."""

    def __init__(self, broker, node):
        user, password = broker.credentials(node)
        self.requests = []
        self.client = mqtt.Client(client_id=node, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, password)
        self.client.on_message = self._on_message
        self.ready = threading.Event()
        self.client.on_subscribe = lambda *a, **k: self.ready.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(node_topic(node, "cmd/#"), qos=1)
        assert self.ready.wait(5)

    def _on_message(self, client, userdata, message):
        props = getattr(message, "properties", None)
        reply_to = getattr(props, "ResponseTopic", None)
        self.requests.append((message.topic, reply_to))
        if not reply_to:
            return
        out = Properties(PacketTypes.PUBLISH)
        out.CorrelationData = getattr(props, "CorrelationData", b"")
        command = message.topic.split("/")[5]  # pharos/v1/nodes/{node}/cmd/{command}/{user}
        result = ({"app": "web", "service": "main", "container_id": "c1", "logs": "line-1\n"}
                  if command == "logs" else {"app": "web", "containers": []})
        client.publish(reply_to, json.dumps({"v": 1, "ok": True, "result": result}), qos=1,
                       properties=out)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_pharosctl_logs_and_inspect_use_the_agents_own_subtree(broker, pharos_bin):
    agent = FakeAgent(broker, "n1")
    try:
        user, password = broker.credentials("ops")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
        env["HOME"] = "/nonexistent"
        base = [str(pharos_bin("pharosctl")), "--broker", broker.url, "--user", user,
                "--password", password]
        r = subprocess.run(base + ["logs", "n1", "web", "main"], capture_output=True, text=True,
                           timeout=30, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "line-1" in r.stdout
        r = subprocess.run(base + ["inspect", "n1", "web"], capture_output=True, text=True,
                           timeout=30, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        # Published under the requester's own name; answers asked for in its own cmd-replies.
        assert [topic.split("/")[4:] for topic, _ in agent.requests] == \
            [["cmd", "logs", "ops"], ["cmd", "inspect", "ops"]]
        assert [reply_to.split("/")[:5] for _, reply_to in agent.requests] == \
            [["pharos", "v1", "nodes", "n1", "cmd-replies"]] * 2
        assert all(reply_to.split("/")[5] == "ops" for _, reply_to in agent.requests)
    finally:
        agent.close()


# ---- the envelope as documented ------------------------------------------------------------------


def test_malformed_operation_names_get_invalid_argument(broker, anchor):
    ops = broker.client("ops")
    replies = ops.subscribe_collect(f"{TOPIC_ROOT}/replies/ops/#")
    for i, op in enumerate(("NODE.LIST", "n" * 200 + ".list", "n\u00f6de.list")):
        reply_topic = f"{TOPIC_ROOT}/replies/ops/bad-{i}"
        ops.publish(f"{TOPIC_ROOT}/api/ops/{op}", {"v": 1}, response_topic=reply_topic,
                    correlation=f"c{i}".encode())
        got = replies.wait_for(lambda m, t=reply_topic: m.topic == t, 10)
        assert got is not None, (op, anchor.log()[-2000:])
        body = json.loads(got.payload)
        assert body["ok"] is False and body["error"]["code"] == "invalid_argument", (op, body)


def test_request_field_errors_name_their_path(broker, anchor):
    ops = broker.client("ops")
    for op, body, path in (("node.get", {"name": 3}, "name"),
                           ("group.create", {"name": "g", "parent": ["x"]}, "parent"),
                           ("app.deploy", {"name": "web", "target": {"node": "n1"},
                                           "compose": 7}, "compose")):
        error = ops.request(op, body)["error"]
        assert error["code"] == "invalid_argument" and error.get("path") == path, (op, error)


def test_a_request_without_a_reply_topic_is_not_executed(broker, anchor):
    ops = broker.client("ops")
    group = f"silent-{uuid.uuid4().hex[:6]}"
    ops.publish(f"{TOPIC_ROOT}/api/ops/group.create", {"v": 1, "name": group})
    assert wait_until(lambda: "request without reply topic" in anchor.log(), 10)
    assert ops.request("group.get", {"name": group})["error"]["code"] == "not_found"
