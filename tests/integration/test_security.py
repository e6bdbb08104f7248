"""Security (DESIGN.md section 5, docs/security.md) end to end against the real Mosquitto with
the shipped configuration (broker-config/ rendered by tools/render-broker-config.sh, the
identities of tools/dynsec.py), the real pharos-anchor holding the dynamic-security admin
rights, pharosctl, and — for enrolment and secrets — a real pharos-agent on the real Docker
Engine:

  - enrolment: `pharosctl node add dev -o dev.conf` creates the device identity, the agent
    runs from that file alone and registers Ready; `pharosctl node remove` revokes it;
  - authentication: anonymous, wrong password, another device's client id are refused;
  - least privilege: a device's forged publishes (another node's status/state, any desired
    or secrets document, anchor/status, api/...) never reach a subscriber, its
    subscriptions to another node's documents or to a group it is not in deliver nothing;
    group.add grants and group.remove revokes the group's desired document, through the
    anchor's dynamic-security commands;
  - roles: a viewer's app.deploy is permission_denied, an operator's succeeds;
  - TLS: the TLS template with a CA and certificates made by tools/make-ca.sh; clients that
    do not trust that CA cannot connect, clients (paho, pharosctl, pharos-agent) that do can;
  - secrets: deploy secrets and registry credentials appear only in the target node's
    `nodes/{node}/secrets` document (DESIGN.md keeps them out of `desired`) — never in
    another topic, app.get output, events, or the anchor, agent or broker logs;
  - per-request limits: compose > 512 KiB, > 100 services, group.add with > 1000 nodes are
    answered too_large.

Negative checks ("X never arrives") publish the forbidden messages first and an allowed
marker last on the same connection: MQTT keeps one publisher's order, so once the marker
has arrived anything forbidden would have arrived before it.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from harness.binaries import ROOT
from harness.broker import Client, ConnectRefused, TOPIC_ROOT, wait_until
from harness.security import (Agent, ctl, enrol, group_topic, node_topic, read_agent_config,
                              request_error, request_ok, running_anchor, sleep_compose, unique)
from cli_support import AnchorProcess

NOT_AUTHORIZED = 0x87
BAD_CREDENTIALS = 0x86
REFUSED = (BAD_CREDENTIALS, NOT_AUTHORIZED)


def device(broker, node, client_id=None, retries=True, **kwargs) -> Client:
    """A device's MQTT session (client id = node id unless given). The broker disconnects
    clients whose role changes, so a login right after an ACL change is retried."""
    deadline = time.monotonic() + (10 if retries else 0)
    while True:
        try:
            return broker.client(node, client_id=client_id or node, **kwargs)
        except ConnectRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def may_subscribe(broker, node, topic) -> bool:
    """Whether the broker grants `node` a subscription to `topic`. A membership change the
    anchor is still sending disconnects the session it concerns, perhaps between the login
    and the SUBSCRIBE: then the question is asked again on a new session (within 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        c = device(broker, node)
        try:
            return c.subscribe(topic)[0] < 0x80
        except (RuntimeError, TimeoutError):  # disconnected before the SUBACK
            if time.monotonic() > deadline:
                raise
        finally:
            c.close()
        time.sleep(0.2)


@pytest.fixture
def broker(broker_factory):
    """The shipped configuration with two operators and a viewer; devices are enrolled by
    the tests themselves through the anchor."""
    return broker_factory(operators=("ops", "ops2"), viewers=("viewer",), agents=())


@pytest.fixture
def anchor(broker, pharos_bin):
    with running_anchor(broker, pharos_bin) as proc:
        yield proc


def health_of(ops, node):
    msgs = ops.messages
    docs = [json.loads(m.payload) for m in msgs if m.topic == node_topic(node, "health")]
    return docs[-1].get("state") if docs else None


# ---- enrolment with a real agent, and secrets ---------------------------------------------


def test_enrolled_agent_registers_ready_and_secrets_reach_only_its_secrets_topic(
        broker, anchor, pharos_bin, docker_engine, registry, tmp_path):
    node, other = unique("dev"), unique("dev")
    config, conf_path = enrol(pharos_bin, broker, node, tmp_path)
    enrol(pharos_bin, broker, other, tmp_path)
    # The file is everything the device needs, and private.
    assert oct(os.stat(conf_path).st_mode & 0o777) == "0o600"
    assert config["node_id"] == node and config["username"] == node
    assert config["broker_url"] == broker.url and len(config["password"]) >= 24

    # Everything the broker carries from here on, as the anchor sees it.
    anchor_user = broker.client("anchor")
    everything = anchor_user.subscribe_collect(f"{TOPIC_ROOT}/#")
    ops = broker.client("ops")
    health = ops.subscribe_collect(node_topic("+", "health"))

    app = unique("sec")
    agent = Agent(pharos_bin("pharos-agent"), conf_path, docker_engine).start()
    try:
        assert wait_until(lambda: health_of(health, node) == "Ready", 30), \
            f"{health_of(health, node)}\n{agent.log()[-3000:]}\n{anchor.log()[-2000:]}"
        got = request_ok(ops, "node.get", {"name": node})
        assert got["health"] == "Ready" and got["registration"] == "accepted", got

        # The device password works only with the device's own client id.
        assert broker.connect_error(node, config["password"], client_id=other) in REFUSED
        assert broker.connect_error(other, broker.credentials(other)[1],
                                    client_id=node) in REFUSED

        # A second operator and a viewer read the whole tree meanwhile: neither may see a
        # secret, not even in the requests that carry them (api/# is the anchor's alone).
        readers = []
        for user in ("viewer", "ops2"):
            client = broker.client(user)
            assert client.subscribe(f"{TOPIC_ROOT}/api/#")[0] >= 0x80
            readers.append(client.subscribe_collect(f"{TOPIC_ROOT}/#"))
        # A deployment with a secret variable and registry credentials for this node.
        secret = "s3cr3t-" + uuid.uuid4().hex
        reg_password = "regpw-" + uuid.uuid4().hex
        request_ok(ops, "registry.set", {"host": registry.address, "username": "puller",
                                         "password": reg_password, "target": {"node": node}})
        compose = sleep_compose(registry.image("1"),
                                {"DB_PASSWORD": "${DB_PASSWORD}", "MODE": "${MODE}"})
        request_ok(ops, "app.deploy", {"name": app, "target": {"node": node},
                                       "compose": compose, "variables": {"MODE": "plain"},
                                       "secrets": {"DB_PASSWORD": secret}})
        state = ops.subscribe_collect(node_topic(node, "state"))

        def running():
            for m in state.messages:
                doc = json.loads(m.payload)
                for a in doc.get("apps", []):
                    if a.get("name") == app and a.get("phase") == "Running":
                        return True
            return False

        assert wait_until(running, 120), agent.log()[-4000:]
        # The agent resolved the secret: the container has it in its environment.
        ids = docker_engine.containers(label=f"com.docker.compose.project={app}")
        assert ids, "no container for the app"
        env = docker_engine.inspect(ids[0])["Config"]["Env"]
        assert f"DB_PASSWORD={secret}" in env and "MODE=plain" in env

        # Read paths an operator or the UI uses: none shows the secret.
        got_app = request_ok(ops, "app.get", {"name": app})
        assert secret not in json.dumps(got_app) and reg_password not in json.dumps(got_app)
        request_ok(ops, "events.query", {"limit": 1000})
        request_ok(ops, "app.history", {"name": app})
        # The agent's inspect answer (the UI's container view) redacts the secret's value.
        replies = ops.subscribe_collect(f"{TOPIC_ROOT}/nodes/{node}/cmd-replies/ops/#")
        inspect_topic = f"{TOPIC_ROOT}/nodes/{node}/cmd-replies/ops/inspect-{uuid.uuid4().hex[:6]}"
        ops.publish(node_topic(node, "cmd/inspect/ops"), {"v": 1, "app": app},
                    response_topic=inspect_topic, correlation=b"inspect-1")
        answer = replies.wait_for(lambda m: m.topic == inspect_topic, 20)
        assert answer is not None, agent.log()[-3000:]
        inspected = json.loads(answer.payload)
        assert inspected.get("ok") is True, inspected
        assert b"DB_PASSWORD=<redacted>" in answer.payload and b"MODE=plain" in answer.payload
        assert secret.encode() not in answer.payload

        assert everything.wait_for(lambda m: m.topic == node_topic(node, "secrets")
                                   and b'"sealed"' in m.payload, 10)
        time.sleep(1.0)  # events and metrics the agent sends after Running
        # The only carriers: the operator's own requests (read by the anchor alone). The
        # target node's secrets document holds them sealed to the node's own key
        # (test_security_secrets.py).
        carriers = {m.topic for m in everything.messages
                    if secret.encode() in m.payload or reg_password.encode() in m.payload}
        assert carriers == {f"{TOPIC_ROOT}/api/ops/app.deploy",
                            f"{TOPIC_ROOT}/api/ops/registry.set"}, carriers
        for reader in readers:
            assert reader.wait_for(lambda m: m.topic == node_topic(node, "desired"), 5)
            seen = {m.topic for m in reader.messages
                    if secret.encode() in m.payload or reg_password.encode() in m.payload}
            assert not seen, seen
        # Not in the desired document (DESIGN.md: secrets live in nodes/{node}/secrets).
        desired = [m for m in everything.messages if m.topic == node_topic(node, "desired")]
        assert desired and all(secret.encode() not in m.payload for m in desired)
        # The other node never received a secrets document naming this secret, and no log
        # (anchor, agent, broker) holds the secret, the registry password or a device
        # password.
        assert not [m for m in everything.messages if m.topic == node_topic(other, "secrets")
                    and secret.encode() in m.payload]
        for name, text in (("anchor", anchor.log()), ("agent", agent.log()),
                           ("broker", broker.log())):
            assert secret not in text, f"secret in the {name} log"
            assert reg_password not in text, f"registry password in the {name} log"
            assert config["password"] not in text, f"device password in the {name} log"

        # node remove revokes the identity: the agent is disconnected and cannot log in.
        r = ctl(pharos_bin, broker, "node", "remove", node)
        assert r.returncode == 0, r.stdout + r.stderr
        assert wait_until(lambda: broker.connect_error(node, config["password"], node) in REFUSED,
                          10)
        # ...and its node-targeted apps went with the node.
        assert request_error(ops, "app.get", {"name": app})["code"] == "not_found"
    finally:
        agent.cleanup()


# ---- authentication ------------------------------------------------------------------------


def test_anonymous_wrong_password_and_foreign_client_id_are_refused(broker, anchor,
                                                                    pharos_bin, tmp_path):
    a, b = unique("da"), unique("db")
    ca, _ = enrol(pharos_bin, broker, a, tmp_path)
    cb, _ = enrol(pharos_bin, broker, b, tmp_path)
    with pytest.raises(ConnectRefused) as refused:
        Client(broker.host, broker.port, None, None)
    assert refused.value.reason_code in REFUSED
    assert broker.connect_error(a, ca["password"] + "x", a) in REFUSED
    assert broker.connect_error(a, cb["password"], a) in REFUSED
    # Device A's own password with B's client id (or any other id) is refused...
    assert broker.connect_error(a, ca["password"], b) in REFUSED
    assert broker.connect_error(a, ca["password"], "anchor") in REFUSED
    # ...and A logs in with its own.
    assert broker.connect_error(a, ca["password"], a) == 0
    # One connection per device: a second login with the same identity takes the session
    # over (the first is disconnected), so stolen credentials cannot run beside the device.
    first = device(broker, a)
    second = device(broker, a)
    assert wait_until(lambda: not first.connected, 5) and second.connected
    # pharosctl with a wrong password: exit 6 (refused login).
    r = subprocess.run([str(pharos_bin("pharosctl")), "--broker", broker.url, "--user", "ops",
                        "--password", "wrong", "nodes", "ls"], capture_output=True, text=True,
                       timeout=60, env={"HOME": "/nonexistent", "PATH": os.environ["PATH"]})
    assert r.returncode == 6, r.stderr


# ---- least privilege of a device -----------------------------------------------------------


def test_device_cannot_forge_other_topics_nor_read_other_documents(broker, anchor, pharos_bin,
                                                                   tmp_path):
    a, b = unique("da"), unique("db")
    enrol(pharos_bin, broker, a, tmp_path)
    enrol(pharos_bin, broker, b, tmp_path)
    ops = broker.client("ops")
    request_ok(ops, "group.create", {"name": "line-b"})
    request_ok(ops, "group.add", {"group": "line-b", "nodes": [b]})

    watcher = broker.client("anchor")
    everything = watcher.subscribe_collect(f"{TOPIC_ROOT}/#")
    dev = device(broker, a)
    forged = b'{"v":1,"forged":"' + a.encode() + b'","state":"Ready"}'
    forbidden = [node_topic(b, "status"), node_topic(b, "state"), node_topic(b, "info"),
                 node_topic(b, "events"), node_topic(b, "heartbeat"), node_topic(b, "desired"),
                 node_topic(a, "desired"),
                 node_topic(a, "secrets"), node_topic(b, "secrets"), node_topic(a, "health"),
                 group_topic("line-b"), group_topic("line-a"), f"{TOPIC_ROOT}/anchor/status",
                 f"{TOPIC_ROOT}/api/{a}/app.deploy", f"{TOPIC_ROOT}/api/ops/app.deploy",
                 node_topic(b, "cmd/logs/ops"), "$CONTROL/dynamic-security/v1"]
    for topic in forbidden:
        dev.publish(topic, forged, retain=True)
    # Its own reports pass, the heartbeat included (the node.add role allows it).
    dev.publish(node_topic(a, "heartbeat"), forged)
    dev.publish(node_topic(a, "status"), forged, retain=True)
    assert everything.wait_for(lambda m: m.topic == node_topic(a, "status")
                               and m.payload == forged, 10)
    leaked = sorted(m.topic for m in everything.messages if m.payload == forged)
    assert leaked == sorted([node_topic(a, "heartbeat"), node_topic(a, "status")]), leaked
    # The anchor ignored the forged api request: no reply, node B and the fleet unchanged.
    assert request_ok(ops, "node.get", {"name": b})["health"] != "Ready"
    assert not [m for m in everything.messages if m.topic.startswith(f"{TOPIC_ROOT}/replies/{a}")]

    # Reading: another node's desired/secrets, a group it is not in, the API replies.
    for topic in (node_topic(b, "desired"), node_topic(b, "secrets"), node_topic("+", "desired"),
                  group_topic("line-b"), f"{TOPIC_ROOT}/groups/+/desired",
                  f"{TOPIC_ROOT}/replies/ops/#", f"{TOPIC_ROOT}/#"):
        assert dev.subscribe(topic)[0] >= 0x80, topic
    sink = dev.subscribe_collect("#")
    own = dev.subscribe_collect(node_topic(a, "desired"))
    assert own.granted and not sink.granted
    # The anchor (the only writer of documents) publishes B's and the group's documents.
    request_ok(ops, "app.deploy", {"name": unique("gb"), "target": {"group": "line-b"},
                                   "compose": sleep_compose()})
    request_ok(ops, "app.deploy", {"name": unique("nb"), "target": {"node": b},
                                   "compose": sleep_compose()})
    request_ok(ops, "app.deploy", {"name": unique("na"), "target": {"node": a},
                                   "compose": sleep_compose()})
    assert own.wait_for(lambda m: b'"apps"' in m.payload and b'"na-' in m.payload, 10)
    received = {m.topic for m in sink.messages}
    assert received <= {node_topic(a, "desired")}, received


def test_group_membership_grants_and_revokes_the_group_document(broker, anchor, pharos_bin,
                                                                tmp_path):
    node = unique("dg")
    enrol(pharos_bin, broker, node, tmp_path)
    ops = broker.client("ops")
    request_ok(ops, "group.create", {"name": "line-g"})
    watch = ops.subscribe_collect(group_topic("line-g"))

    # Not a member: subscription refused, no document.
    dev = device(broker, node)
    assert dev.subscribe(group_topic("line-g"))[0] == NOT_AUTHORIZED
    dev.close()

    # group.add: the anchor adds the ACL (the broker reconnects the device's session).
    request_ok(ops, "group.add", {"group": "line-g", "nodes": [node]})

    def granted():
        return may_subscribe(broker, node, group_topic("line-g"))

    assert wait_until(granted, 10), "group.add did not grant groups/line-g/desired"
    dev = device(broker, node)
    docs = dev.subscribe_collect(group_topic("line-g"))
    assert docs.granted
    first = unique("app")
    request_ok(ops, "app.deploy", {"name": first, "target": {"group": "line-g"},
                                   "compose": sleep_compose()})
    assert docs.wait_for(lambda m: first.encode() in m.payload, 10), "member missed the doc"
    dev.close()

    # group.remove: the ACL goes; a new session is refused and receives no update.
    request_ok(ops, "group.remove", {"group": "line-g", "nodes": [node]})
    assert wait_until(lambda: not granted(), 10), "group.remove did not revoke the ACL"
    dev = device(broker, node)
    revoked = dev.subscribe_collect(group_topic("line-g"))
    assert not revoked.granted
    own = dev.subscribe_collect(node_topic(node, "desired"))
    second = unique("app")
    request_ok(ops, "app.deploy", {"name": second, "target": {"group": "line-g"},
                                   "compose": sleep_compose()})
    assert watch.wait_for(lambda m: second.encode() in m.payload, 10)
    # The node's own document follows the removal (a round trip on the device's session).
    request_ok(ops, "app.deploy", {"name": unique("own"), "target": {"node": node},
                                   "compose": sleep_compose()})
    assert own.wait_for(lambda m: b'"own-' in m.payload, 10)
    assert not [m for m in revoked.messages if second.encode() in m.payload]
    assert not revoked.messages
    dev.close()

    # Nested groups: membership of a child group grants the parent's document; deleting the
    # child revokes it again.
    request_ok(ops, "group.create", {"name": "site-g"})
    request_ok(ops, "group.create", {"name": "cell-g", "parent": "site-g"})
    request_ok(ops, "group.add", {"group": "cell-g", "nodes": [node]})

    def can_read(group):
        return may_subscribe(broker, node, group_topic(group))

    assert wait_until(lambda: can_read("site-g") and can_read("cell-g"), 10)
    request_ok(ops, "group.delete", {"name": "cell-g", "force": True})
    assert wait_until(lambda: not can_read("site-g") and not can_read("cell-g"), 10)


# ---- roles ---------------------------------------------------------------------------------


def test_viewer_may_only_read_operator_may_change(broker, anchor, pharos_bin, tmp_path):
    node = unique("dv")
    enrol(pharos_bin, broker, node, tmp_path)
    viewer, ops = broker.client("viewer"), broker.client("ops")
    deploy = {"name": unique("v"), "target": {"node": node}, "compose": sleep_compose()}
    err = request_error(viewer, "app.deploy", deploy)
    assert err["code"] == "permission_denied", err
    for op, body in (("node.add", {"name": unique("x")}), ("group.create", {"name": "vg"}),
                     ("node.remove", {"name": node}),
                     ("registry.set", {"host": "r.example", "username": "u", "password": "p",
                                       "target": {"node": node}}),
                     ("registry.remove", {"host": "r.example", "target": {"node": node}})):
        assert request_error(viewer, op, body)["code"] == "permission_denied", op
    assert request_ok(viewer, "node.list", {})["nodes"]
    assert request_ok(ops, "app.deploy", deploy)["revision"] == 1
    assert request_ok(viewer, "app.get", {"name": deploy["name"]})["revision"] == 1
    # pharosctl as the viewer: exit 6 for a change, 0 for a read.
    r = ctl(pharos_bin, broker, "group", "create", "vg2", user="viewer")
    assert r.returncode == 6, r.stdout + r.stderr
    assert ctl(pharos_bin, broker, "nodes", "ls", user="viewer").returncode == 0
    # A viewer cannot speak for the operator: api/ops/... from the viewer never arrives.
    watcher = broker.client("anchor")
    api = watcher.subscribe_collect(f"{TOPIC_ROOT}/api/#")
    viewer.publish(f"{TOPIC_ROOT}/api/ops/group.create", {"v": 1, "name": "forged"})
    viewer.publish(f"{TOPIC_ROOT}/api/viewer/group.list", {"v": 1})
    assert api.wait_for(lambda m: m.topic.endswith("/api/viewer/group.list"), 10)
    assert [m.topic for m in api.messages] == [f"{TOPIC_ROOT}/api/viewer/group.list"]
    # Operators and viewers change things only through the anchor: no document, no status.
    everything = watcher.subscribe_collect(f"{TOPIC_ROOT}/#")
    forged = b'{"v":1,"forged":true}'
    for user in (ops, viewer):
        for topic in (node_topic(node, "desired"), node_topic(node, "secrets"),
                      node_topic(node, "health"), node_topic(node, "status"), group_topic("g"),
                      f"{TOPIC_ROOT}/anchor/status", f"{TOPIC_ROOT}/replies/ops/x"):
            user.publish(topic, forged, retain=True)
        user.publish(f"{TOPIC_ROOT}/api/{user.username}/group.list", {"v": 1, "marker": 1})
    for user in ("ops", "viewer"):
        assert everything.wait_for(lambda m: m.topic.endswith(f"/api/{user}/group.list")
                                   and b"marker" in m.payload, 10)
    assert not [m.topic for m in everything.messages if m.payload == forged]


# ---- TLS -----------------------------------------------------------------------------------


def make_ca(directory, *names):
    """tools/make-ca.sh DIR [server names...] (the CA once, then a server certificate)."""
    r = subprocess.run([str(ROOT / "tools" / "make-ca.sh"), str(directory), *names],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return pathlib.Path(directory)


def test_tls_clients_must_trust_the_site_ca(broker_factory, pharos_bin, docker_engine,
                                            tmp_path):
    b = broker_factory(tls=True, start=False)
    tls_dir = b.dir / "tls"
    shutil.rmtree(tls_dir)
    make_ca(tls_dir, "127.0.0.1", "localhost")
    for name in ("ca.crt", "server.crt", "server.key"):
        assert (tls_dir / name).exists(), name
        os.chmod(tls_dir / name, 0o644)  # test material: mosquitto runs as another user
    os.chmod(tls_dir, 0o755)
    b.start()
    # A second site's CA: a client trusting only that one must not connect.
    stranger = make_ca(tmp_path / "other-ca", "127.0.0.1")

    def tls_client(ca_file, transport="tcp"):
        port = b.wss_port if transport == "websockets" else b.tls_port
        return Client(b.host, port, *b.credentials("ops"), transport=transport,
                      ca_file=ca_file, timeout=3)

    for transport in ("tcp", "websockets"):
        tls_client(b.ca_file, transport).close()
        with pytest.raises(Exception):
            tls_client(stranger / "ca.crt", transport)
        with pytest.raises(Exception):
            tls_client("/etc/ssl/certs/ca-certificates.crt", transport)  # system trust only

    # The anchor, pharosctl and a real agent over TLS with the site CA.
    anchor_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-sec-anchor-"))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), b, anchor_dir)
    base = proc.command

    def command():
        cmd = base()
        cmd[cmd.index("--broker-url") + 1] = b.tls_url
        # node.add writes the TLS URL and the CA's path on the device into agent configs.
        return cmd + ["--ca-file", str(b.ca_file), "--agent-broker-url", b.tls_url,
                      "--agent-ca-file", str(b.ca_file)]

    proc.command = command
    agent = None
    try:
        proc.start()
        node = unique("dt")
        path = tmp_path / f"{node}.conf"
        r = ctl(pharos_bin, b, "node", "add", node, "-o", str(path), url=b.tls_url,
                ca_file=b.ca_file)
        assert r.returncode == 0, r.stdout + r.stderr
        refused = ctl(pharos_bin, b, "nodes", "ls", url=b.tls_url,
                      ca_file=stranger / "ca.crt", timeout=60)
        assert refused.returncode != 0
        config = read_agent_config(path)
        assert config["broker_url"] == b.tls_url and config["tls_ca"] == str(b.ca_file), config
        b._creds[f"agent-{node}"] = (config["username"], config["password"])
        ops = b.client("ops", tls=True)
        health = ops.subscribe_collect(node_topic(node, "health"))
        # The device trusts a stranger's CA: it never registers.
        bad = Agent(pharos_bin("pharos-agent"), path, docker_engine,
                    ["--broker-url", b.tls_url, "--tls-ca", str(stranger / "ca.crt")]).start()
        time.sleep(3)
        bad.cleanup()
        assert health_of(health, node) != "Ready"
        # The generated file alone is enough.
        agent = Agent(pharos_bin("pharos-agent"), path, docker_engine).start()
        assert wait_until(lambda: health_of(health, node) == "Ready", 30), agent.log()[-3000:]
    finally:
        if agent is not None:
            agent.cleanup()
        proc.stop()
        shutil.rmtree(anchor_dir, ignore_errors=True)


# ---- per-request limits --------------------------------------------------------------------


def test_oversized_requests_are_answered_too_large(broker, anchor, pharos_bin, tmp_path):
    node = unique("dl")
    enrol(pharos_bin, broker, node, tmp_path)
    ops = broker.client("ops")
    big = sleep_compose() + "# " + "x" * (512 * 1024) + "\n"
    err = request_error(ops, "app.deploy", {"name": "big", "target": {"node": node},
                                            "compose": big})
    assert err["code"] == "too_large", err
    services = "services:\n" + "".join(
        f"  s{i}:\n    image: busybox:1\n" for i in range(101))
    err = request_error(ops, "app.deploy", {"name": "many", "target": {"node": node},
                                            "compose": services})
    assert err["code"] == "too_large", err
    hundred = "services:\n" + "".join(f"  s{i}:\n    image: busybox:1\n" for i in range(100))
    assert request_ok(ops, "app.deploy", {"name": "hundred", "target": {"node": node},
                                          "compose": hundred})["revision"] == 1
    request_ok(ops, "group.create", {"name": "huge"})
    err = request_error(ops, "group.add", {"group": "huge",
                                           "nodes": [f"n{i}" for i in range(1001)]})
    assert err["code"] == "too_large", err
    # The anchor is still answering, and nothing of the refused requests was stored.
    names = [a["name"] for a in request_ok(ops, "app.list", {})["apps"]]
    assert "hundred" in names and "big" not in names and "many" not in names
    assert request_ok(ops, "group.get", {"name": "huge"}).get("nodes", []) == []


# ---- credential rotation (the procedure of docs/security.md) -------------------------------


def mosquitto_ctrl(broker, *args):
    user, password = broker.credentials("admin")
    r = subprocess.run(["mosquitto_ctrl", "-h", broker.host, "-p", str(broker.port), "-u", user,
                        "-P", password, "dynsec", *args], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_stolen_device_credentials_are_disabled_and_rotated(broker, anchor, pharos_bin,
                                                            tmp_path):
    node = unique("dr")
    config, _ = enrol(pharos_bin, broker, node, tmp_path)
    old = config["password"]
    session = device(broker, node)
    assert session.connected
    # Disable at once: the live session is dropped and the identity cannot log in.
    mosquitto_ctrl(broker, "disableClient", node)
    assert wait_until(lambda: not session.connected, 10)
    assert broker.connect_error(node, old, node) in REFUSED
    # New password, enable: the old one stays refused, the new one works.
    new = uuid.uuid4().hex + uuid.uuid4().hex
    mosquitto_ctrl(broker, "setClientPassword", node, new)
    mosquitto_ctrl(broker, "enableClient", node)
    assert broker.connect_error(node, old, node) in REFUSED
    assert broker.connect_error(node, new, node) == 0
    # The role (ACLs) is untouched: the node still only reads its own documents.
    broker._creds[f"agent-{node}"] = (node, new)
    dev = device(broker, node)
    assert dev.subscribe(node_topic(node, "desired"))[0] < 0x80
    assert dev.subscribe(node_topic("+", "desired"))[0] >= 0x80
    # Operators rotate the same way; the anchor keeps answering the new login.
    ops_new = uuid.uuid4().hex
    mosquitto_ctrl(broker, "setClientPassword", "ops", ops_new)
    assert broker.connect_error("ops", broker.credentials("ops")[1]) in REFUSED
    broker._creds["operator-ops"] = ("ops", ops_new)
    assert request_ok(broker.client("ops"), "node.get", {"name": node})["name"] == node


def test_tls_clients_check_the_broker_host_name(broker_factory, pharos_bin):
    b = broker_factory(tls=True, start=False)
    tls_dir = b.dir / "tls"
    shutil.rmtree(tls_dir)
    make_ca(tls_dir, "broker.example.net")  # the right CA, but not this host's name
    for name in ("ca.crt", "server.crt", "server.key"):
        os.chmod(tls_dir / name, 0o644)
    os.chmod(tls_dir, 0o755)
    b.start()
    with pytest.raises(Exception):
        Client(b.host, b.tls_port, *b.credentials("ops"), ca_file=b.ca_file, timeout=3)
    r = ctl(pharos_bin, b, "--request-timeout", "2s", "nodes", "ls", url=b.tls_url,
            ca_file=b.ca_file)
    assert r.returncode == 5 and "cannot reach the broker" in r.stderr, r.stderr
