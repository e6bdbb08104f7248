"""pharos-anchor end to end against the real Mosquitto (dynamic security, ACLs): the
management API over MQTT 5 and the MQTT 3.1.1 fallback, registration and health from a
simulated agent, group ACLs granted through the dynamic-security control topic, node.add
identities that really log in, hostile requests, and kill -9 + restart keeping state.

Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q tests/integration/test_anchor_api.py
"""
import json
import os
import pathlib
import signal
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
import pytest

from harness.broker import Client, wait_until

TOPIC_ROOT = "pharos/v1"
COMPOSE = "services:\n  web:\n    image: busybox:latest\n    command: sleep 3600\n"
COMPOSE2 = "services:\n  web:\n    image: busybox:latest\n    command: sleep 7200\n"


class Anchor:
    """A pharos-anchor process logged in as the broker's `anchor` identity."""

    def __init__(self, binary, broker, workdir, extra=()):
        self.binary = binary
        self.broker = broker
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.extra = list(extra)
        self.proc = None
        self.log_path = self.workdir / "anchor.log"

    def start(self, timeout=20):
        user, password = self.broker.credentials("anchor")
        pw_file = self.workdir / "anchor.password"
        pw_file.write_text(password + "\n")
        os.chmod(pw_file, 0o600)
        cmd = [str(self.binary), "--broker-url", self.broker.url, "--username", user,
               "--password-file", str(pw_file), "--data-dir", str(self.workdir / "store"),
               "--log-level", "debug"] + self.extra
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        watcher = self.broker.client("ops")
        try:
            status = watcher.subscribe_collect(f"{TOPIC_ROOT}/anchor/status")
            ok = status.wait_for(lambda m: b'"online"' in m.payload, timeout) is not None
        finally:
            watcher.close()
        assert ok and self.proc.poll() is None, f"anchor did not come online:\n{self.log()}"
        return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@pytest.fixture
def anchor(broker, pharos_bin, tmp_path):
    a = Anchor(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor").start()
    yield a
    code = a.stop()
    if code not in (None, 0):
        print(a.log())
    assert code in (None, 0), "the anchor did not exit cleanly on SIGTERM"


def agent_online(broker, node, session=None):
    """A simulated agent: NotReady will, retained Ready status and info."""
    session = session or int(time.time() * 1000)
    status = f"{TOPIC_ROOT}/nodes/{node}/status"
    will = json.dumps({"v": 1, "state": "NotReady", "session": session,
                       "reason": "connection lost", "ts": session})
    client = broker.client(node, client_id=node, will=(status, will))
    client.publish(f"{TOPIC_ROOT}/nodes/{node}/info",
                   {"v": 1, "agent_version": "test", "hostname": node, "os": "linux",
                    "arch": "x86_64", "broker": broker.url, "labels": {}, "ts": session},
                   retain=True)
    client.publish(status, {"v": 1, "state": "Ready", "session": session, "reason": "connected",
                            "ts": session}, retain=True)
    return client


def ok(client, op, body=None):
    reply = client.request(op, body or {})
    assert reply["ok"], f"{op}: {reply}"
    return reply["result"]


def wait_health(client, node, state, timeout=10):
    def check():
        r = client.request("node.get", {"name": node})
        return r["ok"] and r["result"]["health"] == state
    return wait_until(check, timeout, 0.1)


def retained(broker, topic, timeout=5):
    c = broker.client("ops")
    try:
        col = c.subscribe_collect(topic)
        m = col.wait_for(lambda m: len(m.payload) > 0, timeout)
        return json.loads(m.payload) if m else None
    finally:
        c.close()


def test_registration_health_and_node_queries(broker, anchor):
    ops = broker.client("ops")
    n1 = agent_online(broker, "n1")
    assert wait_health(ops, "n1", "Ready"), anchor.log()
    nodes = ok(ops, "node.list")["nodes"]
    assert [n["name"] for n in nodes] == ["n1"]
    desired = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")
    assert desired["generation"] == 1 and desired["apps"] == []
    health = retained(broker, f"{TOPIC_ROOT}/nodes/n1/health")
    assert health["state"] == "Ready"
    n1.kill()  # the kernel closes the socket: the will fires
    assert wait_health(ops, "n1", "NotReady"), anchor.log()
    history = ok(ops, "node.get", {"name": "n1"})["history"]
    assert [h["state"] for h in history][-2:] == ["Ready", "NotReady"]


def test_group_deploy_is_one_group_document_readable_by_members(broker, anchor):
    ops = broker.client("ops")
    agent_online(broker, "n1")
    assert wait_health(ops, "n1", "Ready")
    ok(ops, "group.create", {"name": "site"})
    ok(ops, "group.create", {"name": "line1", "parent": "site"})
    ok(ops, "group.add", {"group": "line1", "nodes": ["n1"]})
    r = ok(ops, "app.deploy", {"name": "web", "target": {"group": "line1"}, "compose": COMPOSE})
    assert r["revision"] == 1
    doc = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")
    assert doc["groups"] == ["line1", "site"]
    # The anchor granted n1 read access to its groups' documents (dynamic security).
    def readable():
        c = broker.client("n1", client_id="n1")
        try:
            col = c.subscribe_collect(f"{TOPIC_ROOT}/groups/line1/desired")
            m = col.wait_for(lambda m: len(m.payload) > 0, 2)
            return m is not None and json.loads(m.payload)["apps"][0]["name"] == "web"
        finally:
            c.close()
    assert wait_until(readable, 10, 0.5), anchor.log()
    # ...but not to other groups' documents.
    ok(ops, "group.create", {"name": "other"})
    c = broker.client("n1", client_id="n1")
    col = c.subscribe_collect(f"{TOPIC_ROOT}/groups/other/desired")
    assert not col.granted or col.wait_for(lambda m: True, 1) is None
    c.close()
    got = ok(ops, "group.get", {"name": "line1"})
    assert got == {**got, "name": "line1", "parents": ["site"], "nodes": ["n1"], "apps": ["web"]}
    # Update, no-op, history, rollback.
    assert ok(ops, "app.deploy", {"name": "web", "target": {"group": "line1"},
                                  "compose": COMPOSE})["changed"] is False
    assert ok(ops, "app.deploy", {"name": "web", "target": {"group": "line1"},
                                  "compose": COMPOSE2})["revision"] == 2
    assert ok(ops, "app.rollback", {"name": "web", "revision": 1})["revision"] == 3
    assert [r["revision"] for r in ok(ops, "app.history", {"name": "web"})["revisions"]] == [3, 2, 1]
    group_doc = retained(broker, f"{TOPIC_ROOT}/groups/line1/desired")
    assert group_doc["apps"][0]["revision"] == 3 and group_doc["apps"][0]["compose"] == COMPOSE


def test_node_add_identity_logs_in_and_node_remove_revokes_it(broker, anchor):
    ops = broker.client("ops")
    r = ok(ops, "node.add", {"name": "edge9", "labels": {"zone": "a"}})
    assert r["username"] == "edge9" and "password = " in r["config"]
    assert wait_until(lambda: broker.connect_error("edge9", r["password"], "edge9") == 0, 5)
    # The new identity may publish its own status but not another node's.
    agent = Client(broker.host, broker.port, "edge9", r["password"], "edge9")
    now = int(time.time() * 1000)
    agent.publish(f"{TOPIC_ROOT}/nodes/edge9/status",
                  {"v": 1, "state": "Ready", "session": now, "reason": "", "ts": now}, retain=True)
    assert wait_health(ops, "edge9", "Ready"), anchor.log()
    agent.close()
    ok(ops, "node.remove", {"name": "edge9"})
    assert wait_until(lambda: broker.connect_error("edge9", r["password"], "edge9") != 0, 5)
    assert ops.request("node.get", {"name": "edge9"})["error"]["code"] == "not_found"


def test_mqtt311_fallback_reply_to_and_correlation(broker, anchor):
    user, password = broker.credentials("ops")
    got = []
    client = mqtt.Client(client_id=f"v311-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311)
    client.username_pw_set(user, password)
    client.on_message = lambda c, u, m: got.append(m)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.subscribe(f"{TOPIC_ROOT}/replies/{user}/#", qos=1)
        time.sleep(0.3)
        body = {"v": 1, "name": "g311", "replyTo": f"{TOPIC_ROOT}/replies/{user}/sh",
                "correlation": {"id": 42}}
        client.publish(f"{TOPIC_ROOT}/api/{user}/group.create", json.dumps(body), qos=1)
        assert wait_until(lambda: got, 5)
        reply = json.loads(got[0].payload)
        assert got[0].topic == f"{TOPIC_ROOT}/replies/{user}/sh"
        assert reply["ok"] is True and reply["correlation"] == {"id": 42}
        # A replyTo under another user's replies is not executed: permission_denied comes
        # on the same suffix under the caller's own replies (never on the topic it named).
        got.clear()
        body = {"v": 1, "name": "g312", "replyTo": f"{TOPIC_ROOT}/replies/viewer/x",
                "correlation": "c312"}
        client.publish(f"{TOPIC_ROOT}/api/{user}/group.create", json.dumps(body), qos=1)
        assert wait_until(lambda: got, 5)
        assert [m.topic for m in got] == [f"{TOPIC_ROOT}/replies/{user}/x"]
        denied = json.loads(got[0].payload)
        assert denied["ok"] is False and denied["error"]["code"] == "permission_denied", denied
        assert denied["correlation"] == "c312"
    finally:
        client.loop_stop()
        client.disconnect()
    ops = broker.client("ops")
    assert ops.request("group.get", {"name": "g312"})["error"]["code"] == "not_found"


def test_hostile_requests_get_errors_and_the_anchor_survives(broker, anchor):
    ops = broker.client("ops")
    agent_online(broker, "n1")
    assert wait_health(ops, "n1", "Ready")
    bad = ops.request("app.deploy", {"name": "web", "target": {"node": "n1"},
                                     "compose": "services:\n  web:\n    image: [1]\n"})
    assert bad["error"]["code"] == "invalid_argument" and bad["error"]["line"] == 3
    assert ops.request("app.deploy", {"name": "web", "target": {"node": "ghost"},
                                      "compose": COMPOSE})["error"]["code"] == "not_found"
    assert ops.request("app.deploy", {"name": "Web!", "target": {"node": "n1"},
                                      "compose": COMPOSE})["error"]["code"] == "invalid_argument"
    big = ops.request("app.deploy", {"name": "web", "target": {"node": "n1"},
                                     "compose": "#" * (2 << 20)})
    assert big["error"]["code"] == "too_large"
    # Garbage on the API and agent topics.
    reply_topic = f"{TOPIC_ROOT}/replies/ops/raw"
    # (Invalid UTF-8 may be dropped before it reaches the anchor; it must not hurt it.)
    ops.publish(f"{TOPIC_ROOT}/api/ops/group.create", b"\xff\xfe", response_topic=reply_topic,
                correlation=b"x")
    time.sleep(0.5)
    replies = ops.subscribe_collect(reply_topic)
    for payload in (b"", b"{", b"[]", b'{"v":1,"name":{"x":1}}'):
        ops.publish(f"{TOPIC_ROOT}/api/ops/group.create", payload, response_topic=reply_topic,
                    correlation=b"x")
    assert wait_until(lambda: len(replies.messages) >= 4, 5), replies.messages
    assert all(not json.loads(m.payload)["ok"] for m in replies.messages)
    n1 = broker.client("n1", client_id="n1")
    for payload in (b"{", b'{"v":1}', b'{"v":1,"state":"Maybe","session":1}'):
        n1.publish(f"{TOPIC_ROOT}/nodes/n1/status", payload)
        n1.publish(f"{TOPIC_ROOT}/nodes/n1/state", payload)
    # Viewers may publish on api/viewer/#, but the anchor (asking the broker's dynamic
    # security who they are) refuses their changes.
    viewer = broker.client("viewer")
    assert viewer.request("group.create", {"name": "vg"})["error"]["code"] == "permission_denied"
    assert ok(viewer, "group.list")["groups"] == []
    assert ok(ops, "node.get", {"name": "n1"})["name"] == "n1"
    assert anchor.proc.poll() is None


def test_kill9_and_restart_keeps_state_and_documents(broker, pharos_bin, tmp_path):
    a = Anchor(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor").start()
    try:
        ops = broker.client("ops")
        agent_online(broker, "n1")
        assert wait_health(ops, "n1", "Ready")
        ok(ops, "group.create", {"name": "g"})
        ok(ops, "group.add", {"group": "g", "nodes": ["n1"]})
        ok(ops, "app.deploy", {"name": "web", "target": {"node": "n1"}, "compose": COMPOSE})
        ok(ops, "app.deploy", {"name": "web", "target": {"node": "n1"}, "compose": COMPOSE2})
        before = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")
        a.kill9()
        status = retained(broker, f"{TOPIC_ROOT}/anchor/status")
        assert status["state"] == "offline"  # the will
        # The broker restarts and loses its retained store: the anchor heals it.
        broker.restart(wipe_store=True)
        a.start()
        after = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")
        assert after == before
        assert ok(ops_client(broker), "app.get", {"name": "web"})["revision"] == 2
        assert ok(ops_client(broker), "group.get", {"name": "g"})["nodes"] == ["n1"]
    finally:
        a.stop()


def ops_client(broker):
    return broker.client("ops")


def test_require_approval_keeps_new_nodes_pending(broker, pharos_bin, tmp_path):
    a = Anchor(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor",
               extra=["--require-approval"]).start()
    try:
        ops = broker.client("ops")
        agent_online(broker, "n2")
        assert wait_health(ops, "n2", "Pending"), a.log()
        ok(ops, "node.approve", {"name": "n2"})
        assert wait_health(ops, "n2", "Ready")
        assert retained(broker, f"{TOPIC_ROOT}/nodes/n2/desired")["generation"] == 1
    finally:
        assert a.stop() == 0
    # A clean shutdown (SIGTERM) publishes anchor/status offline itself.
    assert retained(broker, f"{TOPIC_ROOT}/anchor/status")["state"] == "offline"


def test_backup_and_restore_keep_the_registry_under_a_new_epoch(broker, pharos_bin, tmp_path):
    binary = pharos_bin("pharos-anchor")
    a = Anchor(binary, broker, tmp_path / "anchor").start()
    ops = broker.client("ops")
    ok(ops, "group.create", {"name": "kept"})
    agent_online(broker, "n1")
    assert wait_health(ops, "n1", "Ready")
    ok(ops, "app.deploy", {"name": "web", "target": {"node": "n1"}, "compose": COMPOSE})
    epoch = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")["epoch"]
    assert a.stop() == 0
    store = tmp_path / "anchor" / "store"
    backup = tmp_path / "backup"
    r = subprocess.run([str(binary), "backup", str(backup), "--data-dir", str(store)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    restored = tmp_path / "restored"
    r = subprocess.run([str(binary), "restore", str(backup), "--data-dir", str(restored / "store")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # Restoring over an existing store is refused.
    r = subprocess.run([str(binary), "restore", str(backup), "--data-dir", str(restored / "store")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    b = Anchor(binary, broker, restored).start()
    try:
        ops = broker.client("ops")
        assert ok(ops, "group.get", {"name": "kept"})["name"] == "kept"
        assert ok(ops, "app.get", {"name": "web"})["revision"] == 1
        def new_epoch():
            doc = retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired")
            return doc is not None and doc["epoch"] != epoch
        assert wait_until(new_epoch, 5)
    finally:
        b.stop()


# Every operation of the API (docs/protocol.md 5.2) with its hostile bodies. Operations that
# name an existing thing get "ghost" (not_found); names are refused when invalid.
OPERATIONS = {
    "node.list": {}, "node.get": {"name": "n1"}, "node.add": {"name": "n9"},
    "node.remove": {"name": "n1"}, "node.approve": {"name": "n1"},
    "node.label": {"name": "n1", "set": {"k": "v"}}, "group.create": {"name": "g9"},
    "group.delete": {"name": "g"}, "group.list": {}, "group.get": {"name": "g"},
    "group.add": {"group": "g", "nodes": ["n1"]}, "group.remove": {"group": "g", "nodes": ["n1"]},
    "app.deploy": {"name": "web", "target": {"node": "n1"}, "compose": COMPOSE2},
    "app.remove": {"name": "web"}, "app.start": {"name": "web"}, "app.stop": {"name": "web"},
    "app.restart": {"name": "web"}, "app.list": {}, "app.get": {"name": "web"},
    "app.history": {"name": "web"}, "app.rollback": {"name": "web", "revision": 1},
    "registry.set": {"host": "127.0.0.1:5000", "username": "u", "password": "p",
                     "target": {"node": "n1"}},
    "registry.list": {"target": {"node": "n1"}},
    "registry.remove": {"host": "127.0.0.1:5000", "target": {"node": "n1"}},
    "events.query": {"node": "n1"}, "metrics.query": {"node": "n1"},
    "rollout.pause": {"name": "web"}, "rollout.resume": {"name": "web"},
    "rollout.promote": {"name": "web"}, "rollout.abort": {"name": "web"},
}
# Every field any operation reads, each with a wrong type.
WRONG_TYPES = {"name": 5, "group": 5, "nodes": "n1", "groups": "g", "target": "n1", "compose": 5,
               "variables": [1], "secrets": "x", "revision": "1", "limit": "x", "cursor": 5,
               "since": "x", "host": 5, "username": 5, "password": 5, "labels": "x", "set": "x",
               "remove": "x", "purge": "x", "force": "x", "parent": 5, "volumes": 5, "node": 5,
               "app": 5, "kind": 5, "label": 5, "health": 5, "strategy": 5, "from": "x", "to": "x",
               "step": "x"}


def raw_request(client, replies, op, payload: bytes, timeout=10):
    topic = f"{TOPIC_ROOT}/replies/ops/{uuid.uuid4().hex}"
    client.publish(f"{TOPIC_ROOT}/api/ops/{op}", payload, response_topic=topic,
                   correlation=b"h")
    m = replies.wait_for(lambda m: m.topic == topic, timeout)
    assert m is not None, f"{op}: no answer to a hostile request"
    return json.loads(m.payload)


def test_every_operation_refuses_hostile_bodies_and_changes_nothing(broker, anchor):
    ops = broker.client("ops")
    agent_online(broker, "n1")
    assert wait_health(ops, "n1", "Ready")
    ok(ops, "group.create", {"name": "g"})
    ok(ops, "group.add", {"group": "g", "nodes": ["n1"]})
    ok(ops, "app.deploy", {"name": "web", "target": {"group": "g"}, "compose": COMPOSE})

    def snapshot():
        return (ok(ops, "node.list")["nodes"], ok(ops, "group.list")["groups"],
                ok(ops, "group.get", {"name": "g"}), ok(ops, "app.list")["apps"],
                {k: v for k, v in ok(ops, "app.get", {"name": "web"}).items()
                 if k != "rollout"}, ok(ops, "app.history", {"name": "web"}),
                retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired"),
                retained(broker, f"{TOPIC_ROOT}/groups/g/desired"))

    before = snapshot()
    replies = ops.subscribe_collect(f"{TOPIC_ROOT}/replies/ops/#")
    big = json.dumps({"v": 1, "name": "web", "pad": "#" * (2 << 20)}).encode()
    codes = {}
    for op, good in OPERATIONS.items():
        cases = {"malformed": b'{"v":1,"name":', "not an object": b"[1]",
                 "wrong types": json.dumps({"v": 1, **WRONG_TYPES}).encode(), "2 MB": big}
        for field in ("name", "group"):
            if field in good:
                cases[f"invalid {field}"] = json.dumps({**good, "v": 1,
                                                        field: "Bad Name!"}).encode()
                if op not in ("node.add", "group.create", "app.deploy"):  # new names create
                    cases[f"unknown {field}"] = json.dumps({**good, "v": 1,
                                                            field: "ghost"}).encode()
        if "target" in good:
            cases["unknown target"] = json.dumps({**good, "v": 1,
                                                  "target": {"node": "ghost"}}).encode()
        if op == "events.query":
            cases["invalid node"] = json.dumps({"v": 1, "node": "Bad Name!"}).encode()
        if op == "app.deploy":
            cases["invalid compose"] = json.dumps(
                {**good, "v": 1, "compose": "services:\n  web:\n    ports: [99999]\n"}).encode()
        for case, payload in cases.items():
            reply = raw_request(ops, replies, op, payload)
            assert reply["ok"] is False, f"{op} with {case} accepted: {reply}"
            codes[(op, case)] = reply["error"]["code"]
    expected = {"malformed": "invalid_argument", "not an object": "invalid_argument",
                "wrong types": "invalid_argument", "2 MB": "too_large",
                "invalid name": "invalid_argument", "invalid group": "invalid_argument",
                "invalid node": "invalid_argument", "invalid compose": "invalid_argument",
                "unknown name": "not_found", "unknown group": "not_found",
                "unknown target": "not_found"}
    wrong = {k: v for k, v in codes.items() if v != expected[k[1]]}
    assert not wrong, f"unexpected error codes: {wrong}"
    print(f"\n{len(codes)} hostile requests over {len(OPERATIONS)} operations refused")
    assert anchor.proc.poll() is None
    assert snapshot() == before
