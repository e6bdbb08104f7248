"""Factories in levels (docs/levels.md): a site broker with the anchor, two line brokers
bridged to it with broker-config/mosquitto-line.conf, one real pharos-agent per line on the
session's Docker Engine. Everything on loopback.

Each line's bridge reaches the site through a small TCP relay owned by the test, so "cutting
the bridge" is closing the relay's connections and refusing new ones while the line broker
and its agent keep running; healing lets the bridge reconnect.

Checks: one deploy to the site-level group reaches agents on both lines; a deploy to a nested
group reaches only its subtree; a group cycle is refused with the path; a cut bridge turns its
nodes Unreachable at the anchor within the bridge keep-alive, their containers keep running,
and a change published while cut is applied after the bridge returns; the agents' heartbeats
reach the anchor across the bridge; a SILENT link (bytes
stop, nothing is closed) is noticed through the line broker's heartbeat, before the bridge
keep-alive; group.get returns the
whole tree; the agents' group read rights on their line broker are granted and revoked by the
anchor through the bridge (none are given at creation), also for a change made while the
bridge was cut, and nobody but the anchor can administer a line broker that way.
"""
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from cli_support import AnchorProcess
from harness.broker import Broker, dynsec
from test_agent import wait_until

ROOT = "pharos/v1"
REPO = pathlib.Path(__file__).resolve().parents[2]
KEEPALIVE = 5  # bridge keep-alive (s; Mosquitto's minimum): a dead bridge is seen within 1.5 x this
HEARTBEAT = 5  # the anchor's default line_heartbeat_timeout (s): a silent line is seen after it


class Relay:
    """TCP relay 127.0.0.1:port -> 127.0.0.1:target; cut() drops and refuses connections."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.open = True
        self.flowing = threading.Event()
        self.flowing.set()
        self.conns = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)  # the bridge may be silent for a keep-alive
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()  # frozen: the link is silent, nobody learns it by a FIN
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.open = False
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def freeze(self):
        """A silent link (a cable pulled mid-way): bytes stop, no connection is closed."""
        self.flowing.clear()

    def heal(self):
        self.open = True
        self.flowing.set()

    def close(self):
        self.closed = True
        self.flowing.set()
        self.cut()
        self.sock.close()


class LineBroker(Broker):
    """A line broker rendered from mosquitto-line.conf, bridged to `site_port`."""

    def __init__(self, line, site_port, bridge_password, agents):
        super().__init__(operators=("ops",), viewers=(), agents=())
        self.line = line
        self.site_port = site_port
        self.bridge_password = bridge_password
        # No group rights at creation: the anchor grants them through the bridge.
        self._creds.update(dynsec.add(self.data_dir, "agent", agents))

    def start(self):
        saved = dict(os.environ)
        os.environ.update(PHAROS_BROKER_TEMPLATE=str(REPO / "broker-config/mosquitto-line.conf"),
                          PHAROS_LINE=self.line, PHAROS_SITE_ADDRESS=f"127.0.0.1:{self.site_port}",
                          PHAROS_BRIDGE_PASSWORD=self.bridge_password,
                          PHAROS_BRIDGE_KEEPALIVE=str(KEEPALIVE))
        try:
            return super().start()
        finally:
            os.environ.clear()
            os.environ.update(saved)


class BridgedAnchor(AnchorProcess):
    def __init__(self, binary, broker, data_dir, bridges):
        super().__init__(binary, broker, data_dir)
        self.bridges = bridges

    def command(self):
        cmd = super().command()
        for name, url in self.bridges.items():
            cmd += ["--bridge", f"{name}={url}"]
        return cmd


class Agent:
    def __init__(self, binary, node, broker, engine):
        self.node = node
        self.broker = broker
        self.engine = engine
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-levels-agent-"))
        self.log_path = self.dir / "agent.log"
        user, password = broker.credentials(f"agent-{node}")
        (self.dir / "password").write_text(password + "\n")
        self.args = [str(binary), "--config", "/dev/null", "--node-id", node,
                     "--broker-url", broker.url, "--username", user,
                     "--password-file", str(self.dir / "password"),
                     "--state-file", str(self.dir / "state.json"),
                     "--data-dir", str(self.dir / "data"), "--docker-host", engine.host,
                     "--reconcile-interval", "2", "--pull-jitter", "0", "--log-level", "debug"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()

    def log(self):
        lines = [x for x in self.log_path.read_text(errors="replace").splitlines()
                 if "periodic" not in x]
        return "\n".join(lines[-60:])

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.engine.cleanup(f"io.pharos.node={self.node}")
        shutil.rmtree(self.dir, ignore_errors=True)


class Site:
    """Site broker + anchor, lines a and b (broker, relay, agent)."""

    def __init__(self, pharos_bin, engine, tag):
        self.tag = tag
        self.nodes = {"a": f"lv-a-{tag}", "b": f"lv-b-{tag}"}
        self.groups = [f"plant-{tag}", f"la-{tag}", f"lb-{tag}", f"cell-{tag}"]
        self.site = Broker(operators=("ops",), viewers=("viewer",), agents=())
        self.bridge_creds = dynsec.add(self.site.data_dir, "bridge", ["line-a", "line-b"])
        self.site._creds.update(self.bridge_creds)
        self.site.start()
        self.relays, self.lines, self.agents = {}, {}, {}
        for x in ("a", "b"):
            self.relays[x] = Relay(self.site.port)
            line = LineBroker(f"line-{x}", self.relays[x].port,
                              self.bridge_creds[f"bridge-line-{x}"][1], [self.nodes[x]])
            self.lines[x] = line.start()
        self.anchor_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-levels-anchor-"))
        self.anchor = BridgedAnchor(pharos_bin("pharos-anchor"), self.site, self.anchor_dir,
                                    {f"bridge-line-{x}": self.lines[x].url for x in "ab"})
        self.anchor.start()
        self.ops = self.site.client("ops")
        self.health = self.ops.subscribe_collect(f"{ROOT}/nodes/+/health")
        for x in ("a", "b"):
            self.agents[x] = Agent(pharos_bin("pharos-agent"), self.nodes[x], self.lines[x],
                                   engine)

    def health_of(self, node):
        msgs = [m for m in self.health.messages
                if m.topic == f"{ROOT}/nodes/{node}/health" and m.payload]
        return json.loads(msgs[-1].payload) if msgs else None

    def wait_health(self, node, state, timeout=30):
        try:
            return wait_until(lambda: (self.health_of(node) or {}).get("state") == state
                              and self.health_of(node), timeout, what=f"{node} {state}")
        except AssertionError:
            agents = [a for a in self.agents.values() if a.node == node]
            agent_log = agents[0].log()[-3000:] if agents else ""
            raise AssertionError(f"{node} never {state}: {self.health_of(node)}\n"
                                 f"anchor log:\n{self.anchor.log()[-3000:]}\n"
                                 f"agent log:\n{agent_log}")

    def request(self, op, body):
        return self.ops.request(op, body, timeout=15)

    def ok(self, op, body):
        reply = self.request(op, body)
        assert reply["ok"], f"{op}: {reply}"
        return reply["result"]

    def cleanup(self):
        for a in self.agents.values():
            a.cleanup()
        self.anchor.stop()
        for r in self.relays.values():
            r.close()
        for b in self.lines.values():
            b.cleanup()
        self.site.cleanup()
        shutil.rmtree(self.anchor_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def levels(pharos_bin, docker_engine, registry):
    site = Site(pharos_bin, docker_engine, uuid.uuid4().hex[:6])
    try:
        for node in site.nodes.values():
            site.wait_health(node, "Ready", 60)
        plant, la, lb, cell = site.groups
        site.ok("group.create", {"name": plant})
        site.ok("group.create", {"name": la, "parent": plant})
        site.ok("group.create", {"name": lb, "parent": plant})
        site.ok("group.create", {"name": cell, "parent": la})
        site.ok("group.add", {"group": cell, "nodes": [site.nodes["a"]]})
        site.ok("group.add", {"group": lb, "nodes": [site.nodes["b"]]})
        yield site
    finally:
        site.cleanup()


def compose(registry, app, seconds=3600):
    """Both agents share the session's Docker Engine: a per-node container name and no
    project network keep the two copies of one app apart (on real devices neither matters)."""
    return (f"services:\n  main:\n    image: {registry.image('1')}\n"
            f"    container_name: \"${{PHAROS_NODE_ID}}-{app}\"\n    network_mode: none\n"
            f"    command: [\"sleep\", \"{seconds}\"]\n    stop_grace_period: 1s\n")


def running(site, x, app):
    node = site.nodes[x]
    mine = set(site.agents[x].engine.containers(f"io.pharos.node={node}", all=False))
    return [c for c in site.agents[x].engine.containers(
        f"com.docker.compose.project={app}", all=False) if c in mine]


def wait_running(site, x, app, timeout=90):
    try:
        return wait_until(lambda: running(site, x, app), timeout, what=f"{app} on line {x}")
    except AssertionError:
        raise AssertionError(f"{app} never ran on line {x}\nagent log:\n"
                             f"{site.agents[x].log()}\nanchor log:\n{site.anchor.log()[-2000:]}")


def test_site_group_deploy_reaches_both_lines(levels, registry):
    plant = levels.groups[0]
    app = f"fan-{levels.tag}"
    levels.ok("app.deploy", {"name": app, "target": {"group": plant},
                             "compose": compose(registry, app)})
    # One document at the site: groups/<plant>/desired, carried down by both bridges.
    wait_running(levels, "a", app)
    wait_running(levels, "b", app)
    got = levels.ok("group.get", {"name": plant})
    assert set(got.get("groups", [])) == {levels.groups[1], levels.groups[2]}, got


def test_nested_group_deploy_reaches_only_its_subtree(levels, registry):
    la = levels.groups[1]
    app = f"cellapp-{levels.tag}"
    levels.ok("app.deploy", {"name": app, "target": {"group": la},
                             "compose": compose(registry, app)})
    wait_running(levels, "a", app)
    time.sleep(4)  # two reconcile intervals of the other line's agent
    assert running(levels, "b", app) == []


def test_group_cycle_is_refused_with_its_path(levels):
    plant, la, _, cell = levels.groups
    reply = levels.request("group.add", {"group": cell, "groups": [plant]})
    err = reply.get("error")
    assert not reply["ok"] and err and err["code"] == "conflict", reply
    assert plant in err["message"] and la in err["message"] and cell in err["message"], err
    assert levels.ok("group.get", {"name": cell}).get("groups", []) == []


def test_agents_heartbeats_cross_the_bridge_to_the_anchor(levels):
    """mosquitto-line.conf forwards nodes/+/heartbeat (QoS 0) to the site, so the anchor times
    agents behind a line as it times its own (a frozen one is NotReady after 1.5 x keep-alive).
    The agents use the default 10 s keep-alive: a heartbeat every 5 s."""
    beats = levels.ops.subscribe_collect(f"{ROOT}/nodes/+/heartbeat", qos=0)
    assert beats.granted
    for x in "ab":
        node = levels.nodes[x]
        topic = f"{ROOT}/nodes/{node}/heartbeat"
        wait_until(lambda: [m for m in beats.messages if m.topic == topic], 15,
                   what=f"a heartbeat of {node} at the site")
        beat = json.loads([m for m in beats.messages if m.topic == topic][-1].payload)
        assert beat["v"] == 1 and beat["keep_alive"] == 10, beat
        assert beat["session"] == levels.health_of(node)["session"], beat
        assert levels.health_of(node)["state"] == "Ready"


def test_cut_bridge_marks_nodes_unreachable_and_heals(levels, registry):
    a, b = levels.nodes["a"], levels.nodes["b"]
    app = f"fan-{levels.tag}"
    if not running(levels, "a", app):
        levels.ok("app.deploy", {"name": app, "target": {"group": levels.groups[0]},
                                 "compose": compose(registry, app)})
        wait_running(levels, "a", app)
    before = running(levels, "a", app)
    levels.wait_health(a, "Ready")
    t0 = time.monotonic()
    levels.relays["a"].cut()
    h = levels.wait_health(a, "Unreachable", timeout=1.5 * KEEPALIVE + 1)
    assert time.monotonic() - t0 <= 1.5 * KEEPALIVE + 1
    assert "bridge-line-a" in h["reason"], h
    assert levels.health_of(b)["state"] == "Ready"
    # The device keeps running its apps behind the cut bridge.
    time.sleep(2)
    assert running(levels, "a", app) == before
    # A change published at the site while the bridge is cut reaches the line when it heals.
    late = f"late-{levels.tag}"
    levels.ok("app.deploy", {"name": late, "target": {"group": levels.groups[3]},
                             "compose": compose(registry, late)})
    time.sleep(3)
    assert running(levels, "a", late) == []
    assert levels.health_of(a)["state"] == "Unreachable"
    levels.relays["a"].heal()
    levels.wait_health(a, "Ready", timeout=30)
    wait_running(levels, "a", late, timeout=60)
    assert running(levels, "a", app) == before


def test_silent_bridge_is_seen_through_the_line_heartbeat(levels):
    b = levels.nodes["b"]
    levels.wait_health(b, "Ready")
    t0 = time.monotonic()
    levels.relays["b"].freeze()
    # The line's heartbeat ($SYS/broker/uptime every 2 s through the bridge) stops: the anchor
    # calls the line silent after HEARTBEAT s without one, before Mosquitto's own keep-alive
    # check declares the bridge dead (10-13 s measured with a 5 s keep-alive).
    h = levels.wait_health(b, "Unreachable", timeout=3 * KEEPALIVE)
    took = time.monotonic() - t0
    print(f"silent bridge seen after {took:.1f} s: {h['reason']}")
    assert HEARTBEAT - 3 <= took <= HEARTBEAT + 5, took
    assert "bridge-line-b" in h["reason"] and "silent" in h["reason"], h
    # Mosquitto's keep-alive confirms it later; healing brings the node back.
    levels.relays["b"].heal()
    levels.wait_health(b, "Ready", timeout=30)


def test_group_get_returns_the_whole_tree(levels):
    plant, la, lb, cell = levels.groups
    a, b = levels.nodes["a"], levels.nodes["b"]
    got = levels.ok("group.get", {"name": plant})
    tree = got["tree"]
    assert tree["name"] == plant and got["ancestors"] == [] and not got.get("truncated"), got
    children = {g["name"]: g for g in tree["groups"]}
    assert set(children) == {la, lb}, tree
    assert children[lb]["nodes"] == [b] and children[lb]["groups"] == [], tree
    assert [g["name"] for g in children[la]["groups"]] == [cell], tree
    assert children[la]["groups"][0]["nodes"] == [a], tree
    assert got["effective_node_count"] == 2, got
    # The ancestor path, and the depth bound marking what it leaves out.
    assert levels.ok("group.get", {"name": cell})["ancestors"] == [[plant, la]]
    cut = levels.ok("group.get", {"name": plant, "depth": 1})
    assert cut["truncated"] is True and cut["depth"] == 1, cut
    la_entry = next(g for g in cut["tree"]["groups"] if g["name"] == la)
    assert la_entry["truncated"] is True and la_entry.get("groups", []) == [], cut
    bad = levels.request("group.get", {"name": plant, "depth": 17})
    assert not bad["ok"] and bad["error"]["code"] == "invalid_argument", bad


READ_ACLS = {"subscribeLiteral", "publishClientReceive", "unsubscribeLiteral"}


def line_group_rights(site, x):
    """{group: set of read ACL types} of the line agent's role in its line broker's
    dynamic-security file (the broker rewrites it after every command), None if unreadable."""
    path = site.lines[x].data_dir / "dynamic-security.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # being rewritten
    role = next((r for r in doc.get("roles", [])
                 if r.get("rolename") == f"agent-{site.nodes[x]}"), None)
    if role is None:
        return None
    out = {}
    for acl in role.get("acls", []):
        m = re.fullmatch(rf"{ROOT}/groups/([^/]+)/desired", acl.get("topic", ""))
        if m:
            out.setdefault(m.group(1), set()).add(acl["acltype"])
    return out


def wait_rights(site, x, groups, timeout=30):
    want = {g: READ_ACLS for g in groups}
    try:
        return wait_until(lambda: line_group_rights(site, x) == want, timeout,
                          what=f"line {x} rights {sorted(groups)}")
    except AssertionError:
        raise AssertionError(f"line {x}: rights {line_group_rights(site, x)}, want {want}\n"
                             f"anchor log:\n{site.anchor.log()[-3000:]}")


def test_anchor_grants_group_rights_on_the_line_brokers(levels, registry):
    plant, la, lb, cell = levels.groups
    a = levels.nodes["a"]
    # Nothing was granted at creation: these come from the anchor, through each bridge.
    wait_rights(levels, "a", {plant, la, cell})
    wait_rights(levels, "b", {plant, lb})
    # Operators cannot read the line control topics, nor administer a line by publishing there.
    assert not levels.ops.subscribe_collect(f"{ROOT}/lines/#").granted
    ops_view = levels.ops.subscribe_collect(f"{ROOT}/#")
    evil = {"commands": [{"command": "addRoleACL", "rolename": f"agent-{a}",
                          "acltype": "subscribeLiteral", "topic": f"{ROOT}/groups/evil/desired",
                          "allow": True, "priority": 0}]}
    levels.ops.publish(f"{ROOT}/lines/line-a/control/dynamic-security/v1", evil)
    # Leaving a group revokes its rights at once; joining grants them.
    levels.ok("group.remove", {"group": cell, "nodes": [a]})
    wait_rights(levels, "a", set())
    levels.ok("group.add", {"group": cell, "nodes": [a]})
    wait_rights(levels, "a", {plant, la, cell})
    # A change made while the bridge is cut reaches the line broker when it heals.
    levels.relays["a"].cut()
    levels.wait_health(a, "Unreachable", timeout=1.5 * KEEPALIVE + 1)
    levels.ok("group.add", {"group": lb, "nodes": [a]})
    assert line_group_rights(levels, "a") == {g: READ_ACLS for g in (plant, la, cell)}
    levels.relays["a"].heal()
    levels.wait_health(a, "Ready", timeout=30)
    wait_rights(levels, "a", {plant, la, cell, lb})
    levels.ok("group.remove", {"group": lb, "nodes": [a]})
    wait_rights(levels, "a", {plant, la, cell})
    assert "evil" not in line_group_rights(levels, "a")
    seen = [m.topic for m in ops_view.messages if m.topic.startswith(f"{ROOT}/lines/")]
    assert ops_view.granted and seen == [], seen[:3]
