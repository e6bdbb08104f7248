"""The broker configuration (broker-config/mosquitto.conf + tools/dynsec.py) against the real
Mosquitto: authentication, the per-role ACLs of DESIGN.md section 5, persistence of
retained messages, the message size limit, the WebSocket listener and enrolment of an
agent on a running broker.

Negative checks ("X never arrives") publish the forbidden messages first and an allowed
marker last on the same connection; MQTT keeps one publisher's order, so once the marker
has arrived anything forbidden would have arrived before it.
"""
import base64
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import urllib.request

import pytest

from harness.broker import Client, ConnectRefused, TOPIC_ROOT, wait_until
import dynsec  # noqa: E402,I100  (tools/dynsec.py: harness.broker puts tools/ on the path)

NOT_AUTHORIZED = 0x87
BAD_CREDENTIALS = 0x86
REFUSED = (BAD_CREDENTIALS, NOT_AUTHORIZED)


def node_topic(node, kind):
    return f"{TOPIC_ROOT}/nodes/{node}/{kind}"


def test_anonymous_login_is_refused(broker):
    with pytest.raises(ConnectRefused) as refused:
        Client(broker.host, broker.port, None, None)
    assert refused.value.reason_code in REFUSED


def test_wrong_password_is_refused_and_right_one_accepted(broker):
    user, password = broker.credentials("operator-ops")
    assert broker.connect_error(user, password + "x") in REFUSED
    assert broker.connect_error("nobody", password) in REFUSED
    assert broker.connect_error(user, password) == 0


def test_agent_client_id_must_equal_its_node_id(broker):
    user, password = broker.credentials("agent-n1")
    assert broker.connect_error(user, password, client_id="n2") in REFUSED
    assert broker.connect_error(user, password, client_id="n1-other") in REFUSED
    assert broker.connect_error(user, password, client_id="n1") == 0


def test_operator_request_reaches_the_anchor_and_the_reply_comes_back(broker):
    anchor = broker.client("anchor")
    requests = anchor.subscribe_collect(f"{TOPIC_ROOT}/api/+/+")
    assert requests.granted

    def answer(message):
        props = message.properties
        anchor.publish(props.ResponseTopic, {"v": 1, "ok": True, "result": {"echo": message.topic}},
                       correlation=props.CorrelationData)

    stop = threading.Event()

    def responder():
        seen = 0
        while not stop.is_set():
            msgs = requests.messages
            for m in msgs[seen:]:
                answer(m)
            seen = len(msgs)
            stop.wait(0.02)

    thread = threading.Thread(target=responder, daemon=True)
    thread.start()
    try:
        ops = broker.client("ops")
        reply = ops.request("node.list", {"limit": 10}, timeout=5)
        assert reply == {"v": 1, "ok": True, "result": {"echo": f"{TOPIC_ROOT}/api/ops/node.list"}}
        # An operator cannot speak for another user: api/viewer/... never reaches the anchor.
        ops.publish(f"{TOPIC_ROOT}/api/viewer/app.deploy", {"v": 1})
        ops.publish(f"{TOPIC_ROOT}/api/ops/app.list", {"v": 1})
        assert requests.wait_payload(f"{TOPIC_ROOT}/api/ops/app.list", b'{"v": 1}')
        assert not [m for m in requests.messages if "/api/viewer/" in m.topic]
    finally:
        stop.set()
        thread.join()


def test_operator_reads_the_tree_but_not_secrets_nor_other_users_replies(broker):
    ops = broker.client("ops")
    everything = ops.subscribe_collect(f"{TOPIC_ROOT}/#")
    assert everything.granted
    assert ops.subscribe(node_topic("+", "secrets"))[0] >= 0x80
    assert ops.subscribe(f"{TOPIC_ROOT}/replies/viewer/#")[0] >= 0x80
    assert ops.subscribe(node_topic("+", "cmd-replies/viewer/#"))[0] >= 0x80
    assert ops.subscribe(node_topic("n1", "cmd-replies/ops/#"))[0] < 0x80
    anchor = broker.client("anchor")
    anchor.publish(node_topic("n1", "secrets"), {"v": 1, "variables": {"DB_PASSWORD": "x"}})
    anchor.publish(f"{TOPIC_ROOT}/replies/viewer/1", {"v": 1, "ok": True})
    anchor.publish(f"{TOPIC_ROOT}/replies/ops/1", {"v": 1, "ok": True})
    # Agents' answers to cmd requests: each user reads only its own.
    n1 = broker.client("n1", client_id="n1")
    n1.publish(node_topic("n1", "cmd-replies/viewer/1"), {"v": 1, "ok": True})
    n1.publish(node_topic("n1", "cmd-replies/ops/1"), {"v": 1, "ok": True})
    anchor.publish(node_topic("n1", "desired"), {"v": 1, "marker": True})
    assert everything.wait_for(lambda m: m.topic == node_topic("n1", "desired"))
    assert everything.wait_for(lambda m: m.topic == node_topic("n1", "cmd-replies/ops/1"))
    topics = [m.topic for m in everything.messages]
    assert f"{TOPIC_ROOT}/replies/ops/1" in topics
    assert node_topic("n1", "secrets") not in topics
    assert f"{TOPIC_ROOT}/replies/viewer/1" not in topics
    assert node_topic("n1", "cmd-replies/viewer/1") not in topics


def test_viewer_may_send_read_only_commands_only(broker):
    """...and only under its own name (nodes/+/cmd/{command}/{user}), so the agent knows whom
    to answer: a command without the user level or under another user's is refused too."""
    anchor = broker.client("anchor")
    cmds = anchor.subscribe_collect(node_topic("+", "cmd/#"))
    viewer = broker.client("viewer")
    for refused in ("cmd/restart/viewer", "cmd/logs", "cmd/logs/ops", "cmd/logs/viewer/x"):
        viewer.publish(node_topic("n1", refused), {"v": 1})
    viewer.publish(node_topic("n1", "cmd/logs/viewer"), {"v": 1})
    assert cmds.wait_for(lambda m: m.topic == node_topic("n1", "cmd/logs/viewer"))
    assert [m.topic for m in cmds.messages] == [node_topic("n1", "cmd/logs/viewer")]


def test_dynsec_substitutes_no_user_name_so_each_user_has_its_own_role(broker):
    """Mosquitto 2.0.11's dynamic security matches %u and %c literally (no user name or client
    id substitution): a user's own topics are written with its literal name in its own role
    (api/<u>/#, nodes/+/cmd/+/<u>). Should a broker start substituting, this fails and the
    roles could be shared."""
    admin = broker.client("admin")
    answers = admin.subscribe_collect("$CONTROL/dynamic-security/v1/response")
    acls = [{"acltype": "publishClientSend", "topic": f"{TOPIC_ROOT}/probe/{p}", "allow": True,
             "priority": 0} for p in ("%u", "%c")]
    admin.publish("$CONTROL/dynamic-security/v1", {"commands": [
        {"command": "createRole", "rolename": "probe", "acls": acls},
        {"command": "addClientRole", "username": "ops", "rolename": "probe"}]})
    assert answers.wait_for(timeout=5) is not None
    seen = broker.client("anchor").subscribe_collect(f"{TOPIC_ROOT}/probe/#")
    ops = broker.client("ops", client_id="ops-probe")
    for level in ("ops", "ops-probe", "%u"):
        ops.publish(f"{TOPIC_ROOT}/probe/{level}", b"x")
    assert seen.wait_for(lambda m: m.topic.endswith("/%u"))
    assert [m.topic for m in seen.messages] == [f"{TOPIC_ROOT}/probe/%u"]


def test_agent_cannot_publish_as_another_node_nor_any_desired_document(broker):
    anchor = broker.client("anchor")
    seen = anchor.subscribe_collect(f"{TOPIC_ROOT}/#")
    agent = broker.client("n1", client_id="n1")
    forbidden = [
        node_topic("n2", "status"),
        node_topic("n2", "state"),
        node_topic("n1", "desired"),
        node_topic("n1", "secrets"),
        node_topic("n1", "health"),
        f"{TOPIC_ROOT}/groups/line-1/desired",
        f"{TOPIC_ROOT}/anchor/status",
        f"{TOPIC_ROOT}/api/n1/app.deploy",
        # Answers only inside its own subtree: never the anchor's replies, never another
        # node's cmd-replies.
        f"{TOPIC_ROOT}/replies/ops/1",
        node_topic("n2", "cmd-replies/ops/1"),
    ]
    for topic in forbidden:
        agent.publish(topic, {"v": 1, "state": "Ready"}, retain=True)
    agent.publish(node_topic("n1", "status"), {"v": 1, "state": "Ready"}, retain=True)
    assert seen.wait_for(lambda m: m.topic == node_topic("n1", "status"))
    assert [m.topic for m in seen.messages] == [node_topic("n1", "status")]
    # Nothing forbidden was stored as retained either.
    late = broker.client("anchor").subscribe_collect(f"{TOPIC_ROOT}/#")
    assert late.wait_for(lambda m: m.topic == node_topic("n1", "status"))
    assert [m.topic for m in late.messages] == [node_topic("n1", "status")]


def test_bridge_publishes_only_what_agents_report(broker_factory):
    b = broker_factory(start=False)
    creds = dynsec.add(b.data_dir, "bridge", ["l1"])
    b._creds.update(creds)
    b.start()
    anchor = b.client("anchor")
    seen = anchor.subscribe_collect(f"{TOPIC_ROOT}/#")
    bridge = b.client("bridge-l1", client_id="bridge-l1")
    for topic in (f"{TOPIC_ROOT}/replies/ops/1", f"{TOPIC_ROOT}/api/ops/app.deploy",
                  node_topic("n1", "desired"), node_topic("n1", "secrets"),
                  node_topic("n1", "health"), f"{TOPIC_ROOT}/anchor/status",
                  f"{TOPIC_ROOT}/lines/l2/control/dynamic-security/v1/response"):
        bridge.publish(topic, {"v": 1, "forged": True}, retain=True)
    bridge.publish(node_topic("n1", "cmd-replies/ops/1"), {"v": 1, "ok": True})
    bridge.publish(node_topic("n1", "status"), {"v": 1, "state": "Ready"})
    assert seen.wait_for(lambda m: m.topic == node_topic("n1", "status"))
    assert sorted(m.topic for m in seen.messages) == sorted(
        [node_topic("n1", "cmd-replies/ops/1"), node_topic("n1", "status")])


def test_agent_cannot_subscribe_to_another_nodes_documents(broker):
    agent = broker.client("n1", client_id="n1")
    assert agent.subscribe(node_topic("n2", "desired"))[0] >= 0x80
    assert agent.subscribe(node_topic("+", "desired"))[0] >= 0x80
    assert agent.subscribe(node_topic("n2", "secrets"))[0] >= 0x80
    assert agent.subscribe(f"{TOPIC_ROOT}/#")[0] >= 0x80
    everything = agent.subscribe_collect("#")
    assert not everything.granted
    own = agent.subscribe_collect(node_topic("n1", "desired"))
    assert own.granted
    assert agent.subscribe_collect(node_topic("n1", "secrets")).granted
    assert agent.subscribe_collect(node_topic("n1", "cmd/#")).granted
    assert agent.subscribe_collect(f"{TOPIC_ROOT}/anchor/status").granted
    anchor = broker.client("anchor")
    anchor.publish(node_topic("n2", "desired"), {"v": 1, "for": "n2"}, retain=True)
    anchor.publish(node_topic("n1", "desired"), {"v": 1, "for": "n1"}, retain=True)
    assert own.wait_for()
    assert [json.loads(m.payload)["for"] for m in own.messages] == ["n1"]
    # The "#" collector sees (client side) everything this connection received: n2's
    # document never reached it.
    assert [m.topic for m in everything.messages] == [node_topic("n1", "desired")]


def test_agent_will_on_its_own_status_is_delivered(broker):
    anchor = broker.client("anchor")
    status = anchor.subscribe_collect(node_topic("n1", "status"))
    agent = broker.client("n1", client_id="n1",
                          will=(node_topic("n1", "status"), '{"v":1,"state":"NotReady"}'))
    agent.publish(node_topic("n1", "status"), '{"v":1,"state":"Ready"}', retain=True)
    assert status.wait_payload(node_topic("n1", "status"), b'{"v":1,"state":"Ready"}')
    agent.kill()
    assert status.wait_payload(node_topic("n1", "status"), b'{"v":1,"state":"NotReady"}')


def test_retained_messages_survive_a_broker_restart(broker):
    anchor = broker.client("anchor")
    anchor.publish(node_topic("n1", "desired"), {"v": 1, "generation": 7}, retain=True)
    broker.restart()
    after = broker.client("n1", client_id="n1").subscribe_collect(node_topic("n1", "desired"))
    message = after.wait_for()
    assert message is not None and message.retain
    assert json.loads(message.payload)["generation"] == 7
    # The persistence file is what kept it: without it the document is gone.
    broker.restart(wipe_store=True)
    wiped = broker.client("n1", client_id="n1")
    gone = wiped.subscribe_collect(node_topic("n1", "desired"))
    wiped.publish(node_topic("n1", "status"), "marker")  # round trip before checking
    assert gone.wait_for(timeout=1) is None


def _mosquitto_pub(broker, user, topic, size):
    username, password = broker.credentials(user)
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"x" * size)
        f.flush()
        return subprocess.run(
            ["mosquitto_pub", "-V", "5", "-h", broker.host, "-p", str(broker.port), "-u",
             username, "-P", password, "-q", "1", "-t", topic, "-f", f.name, "-d"],
            capture_output=True, text=True, timeout=30)


def test_messages_over_four_mib_are_refused_and_four_mib_pass(broker):
    anchor = broker.client("anchor")
    seen = anchor.subscribe_collect(f"{TOPIC_ROOT}/api/+/+")
    too_big = _mosquitto_pub(broker, "ops", f"{TOPIC_ROOT}/api/ops/app.deploy", 4 * 1024 * 1024 + 1)
    assert "RC:149" in too_big.stdout, too_big.stdout + too_big.stderr  # 0x95 packet too large
    limit = _mosquitto_pub(broker, "ops", f"{TOPIC_ROOT}/api/ops/app.list", 4 * 1024 * 1024)
    assert limit.returncode == 0, limit.stdout + limit.stderr
    message = seen.wait_for(timeout=10)
    assert message is not None and message.topic == f"{TOPIC_ROOT}/api/ops/app.list"
    assert len(message.payload) == 4 * 1024 * 1024
    assert [m.topic for m in seen.messages] == [f"{TOPIC_ROOT}/api/ops/app.list"]


def test_websocket_listener_serves_mqtt_and_the_web_ui(broker):
    viewer = broker.client("viewer", transport="websockets")
    health = viewer.subscribe_collect(node_topic("+", "health"))
    broker.client("anchor").publish(node_topic("n1", "health"), {"v": 1, "state": "Ready"},
                                    retain=True)
    assert health.wait_for() is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{broker.ws_port}/index.html", timeout=5) as r:
        assert r.status == 200
        assert b"<html" in r.read().lower()


def test_listeners_bind_loopback_only(broker):
    config = broker.config_path.read_text()
    assert f"listener {broker.port} 127.0.0.1" in config
    assert f"listener {broker.ws_port} 127.0.0.1" in config
    sockets = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    local = [line.split()[3] for line in sockets.splitlines() if line.strip()]
    for port in (broker.port, broker.ws_port):
        bound = [a for a in local if a.endswith(f":{port}")]
        assert bound == [f"127.0.0.1:{port}"], bound


def test_agent_enrolled_on_a_running_broker_can_connect(broker):
    user, password = broker.add_agent("n3")
    assert (user, password) == broker.credentials("agent-n3")
    anchor = broker.client("anchor")
    status = anchor.subscribe_collect(node_topic("+", "status"))
    agent = broker.client("n3", client_id="n3")
    agent.publish(node_topic("n3", "status"), "up")
    agent.publish(node_topic("n1", "status"), "spoof")
    agent.publish(node_topic("n3", "status"), "again")
    assert status.wait_payload(node_topic("n3", "status"), b"again")
    assert status.payloads() == [b"up", b"again"]
    env = broker.data_dir / "credentials" / "agent-n3.env"
    assert oct(os.stat(env).st_mode & 0o777) == "0o600"
    assert broker.connect_error("n3", password, client_id="n1") in REFUSED


def test_agent_added_before_start_can_connect(broker_factory):
    b = broker_factory(start=False, agents=["n1"])
    b.add_agent("edge-7")
    b.start()
    assert b.connect_error(*b.credentials("agent-edge-7"), client_id="edge-7") == 0
    assert wait_until(lambda: b.running)


def test_tls_template_serves_mqtts_and_wss_with_the_same_acls(broker_factory):
    b = broker_factory(tls=True)
    config = b.config_path.read_text()
    assert f"listener {b.tls_port} 127.0.0.1" in config
    assert "require_certificate false" in config
    anchor = b.client("anchor", tls=True)
    status = anchor.subscribe_collect(node_topic("+", "status"))
    agent = b.client("n1", client_id="n1", tls=True, transport="websockets")
    agent.publish(node_topic("n2", "status"), "spoof")
    agent.publish(node_topic("n1", "status"), "Ready")
    assert status.wait_payload(node_topic("n1", "status"), b"Ready")
    assert status.payloads() == [b"Ready"]
    # Plain MQTT remains for local tools on loopback; without TLS the TLS port refuses.
    assert b.connect_error(*b.credentials("anchor")) == 0
    with pytest.raises(Exception):
        Client(b.host, b.tls_port, *b.credentials("anchor"), timeout=2)


@pytest.mark.parametrize("running", [False, True])
def test_agent_reads_the_desired_document_of_its_groups_only(broker_factory, running):
    b = broker_factory(start=running, agents=[])
    b.add_agent("n5", groups=["line-1"])
    if not running:
        b.start()
    agent = b.client("n5", client_id="n5")
    assert agent.subscribe(f"{TOPIC_ROOT}/groups/line-2/desired")[0] >= 0x80
    assert agent.subscribe(f"{TOPIC_ROOT}/groups/+/desired")[0] >= 0x80
    group = agent.subscribe_collect(f"{TOPIC_ROOT}/groups/line-1/desired")
    assert group.granted
    b.client("anchor").publish(f"{TOPIC_ROOT}/groups/line-1/desired", {"v": 1}, retain=True)
    assert group.wait_for() is not None


def test_dynsec_hashes_match_what_mosquitto_ctrl_writes(tmp_path):
    import dynsec  # tools/dynsec.py, on sys.path through the harness

    path = tmp_path / "ctrl.json"
    subprocess.run(["mosquitto_ctrl", "dynsec", "init", str(path), "admin", "pa55word"],
                   check=True, capture_output=True)
    client = json.loads(path.read_text())["clients"][0]
    assert dynsec.verify_password(client, "pa55word")
    assert not dynsec.verify_password(client, "pa55wore")
    ours = dynsec.hash_password("pa55word", base64.b64decode(client["salt"]), client["iterations"])
    assert ours["password"] == client["password"]


def test_init_credentials_script_writes_private_env_files_once(tmp_path):
    root = pathlib.Path(__file__).resolve().parents[2]
    script = root / "tools" / "init-credentials.sh"
    data = tmp_path / "site"
    first = subprocess.run([str(script), str(data), "--operator", "alice", "--agent", "press-1"],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    cred = data / "credentials"
    names = sorted(p.name for p in cred.iterdir())
    assert names == ["admin.env", "agent-press-1.env", "anchor.env", "operator-alice.env",
                     "viewer-viewer.env"]
    assert oct(os.stat(cred).st_mode & 0o777) == "0o700"
    for p in cred.iterdir():
        assert oct(os.stat(p).st_mode & 0o777) == "0o600"
    agent = (cred / "agent-press-1.env").read_text()
    assert "PHAROS_MQTT_USERNAME=press-1\n" in agent and "PHAROS_MQTT_CLIENT_ID=press-1\n" in agent
    doc = json.loads((data / "dynamic-security.json").read_text())
    client = next(c for c in doc["clients"] if c["username"] == "press-1")
    assert client["clientid"] == "press-1"
    assert [r["rolename"] for r in client["roles"]] == ["agent-press-1"]
    again = subprocess.run([str(script), str(data)], capture_output=True, text=True)
    assert again.returncode != 0 and "exists" in again.stderr
    bad = subprocess.run([str(script), str(tmp_path / "x"), "--agent", "Bad/Node"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "must match" in bad.stderr
