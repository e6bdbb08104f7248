"""Factories in levels (docs/levels.md): a site broker with the anchor, two line brokers
bridged to it with broker-config/mosquitto-line.conf, one real pharos-agent per line on the
session's Docker Engine. Everything on loopback.

Each line's bridge reaches the site through a small TCP relay owned by the test, so "cutting
the bridge" is closing the relay's connections and refusing new ones while the line broker
and its agent keep running; healing lets the bridge reconnect.

Checks: one deploy to the site-level group reaches agents on both lines; a deploy to a nested
group reaches only its subtree; a group cycle is refused with the path; a cut bridge turns its
nodes Unreachable at the anchor within the bridge keep-alive, their containers keep running,
and a change published while cut is applied after the bridge returns; a SILENT link (bytes
stop, nothing is closed) is noticed through the bridge keep-alive alone.
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from cli_support import AnchorProcess
from harness.broker import Broker, dynsec, free_port

ROOT = "pharos/v1"
REPO = pathlib.Path(__file__).resolve().parents[2]
KEEPALIVE = 5  # bridge keep-alive (s; Mosquitto's minimum): a dead bridge is seen within 1.5 x this


def wait_until(predicate, timeout=60.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


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

    def __init__(self, line, site_port, bridge_password, agents, groups):
        super().__init__(operators=("ops",), viewers=(), agents=())
        self.line = line
        self.site_port = site_port
        self.bridge_password = bridge_password
        self._creds.update(dynsec.add(self.data_dir, "agent", agents, groups=groups))

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
                              self.bridge_creds[f"bridge-line-{x}"][1], [self.nodes[x]],
                              self.groups)
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
            raise AssertionError(f"{node} never {state}: {self.health_of(node)}\n"
                                 f"anchor log:\n{self.anchor.log()[-3000:]}")

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


def test_silent_bridge_is_seen_within_the_keep_alive(levels):
    b = levels.nodes["b"]
    levels.wait_health(b, "Ready")
    t0 = time.monotonic()
    levels.relays["b"].freeze()
    # Mosquitto 2.0.11 notices a silent bridge after 1.5 x its keep-alive at best; its
    # keep-alive checks are coarse, and 10-13 s were measured with 5 s: the bound is 3 x.
    h = levels.wait_health(b, "Unreachable", timeout=3 * KEEPALIVE)
    took = time.monotonic() - t0
    print(f"silent bridge seen after {took:.1f} s")
    assert KEEPALIVE <= took <= 3 * KEEPALIVE, took
    assert "bridge-line-b" in h["reason"], h
    levels.relays["b"].heal()
    levels.wait_health(b, "Ready", timeout=30)
