"""Fault injection (docs/reliability.md): the real Mosquitto, pharos-anchor, pharos-agent and
Docker Engine, with one of them broken on purpose — broker restarts and store loss, anchor
kill -9 in the middle of changes, agent kill -9 while it works, a frozen agent (SIGSTOP), an
offline reboot and a corrupt state file. Engine faults (daemon restart, container faults) are
in test_faults_engine.py, the anchor's full disk in test_faults_disk.py.

Each case's docstring states the invariant it checks. One real agent per case, small apps,
a 2 s keep-alive, so the whole suite stays within a few minutes.
Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q tests/integration/test_faults.py
"""
import json
import os
import pathlib
import random
import signal
import time
import uuid

import pytest

from fault_support import (FREEZE_BOUND, KEEP_ALIVE, ROOT,
                           assert_generations_monotonic, compose, deploy, fleet_fixture,
                           one_per_service)
from test_agent import wait_until


@pytest.fixture
def fleet(pharos_bin, broker, docker_engine, registry):
    yield from fleet_fixture(pharos_bin, broker, docker_engine, registry)


# --- 1. broker restart mid-rollout, broker store loss ---------------------------------------

def test_broker_restart_mid_rollout_and_store_loss(fleet):
    """Broker restarted with persistence right after a deploy, then restarted with its store
    deleted: the unchanged app keeps the same container (id, StartedAt, restart count) the
    whole time, the node converges to the latest revision after each return, and no node
    document the agent could receive goes back to an older generation."""
    fleet.start()
    stable, moving = f"s{uuid.uuid4().hex[:6]}", f"m{uuid.uuid4().hex[:6]}"
    deploy(fleet, stable, compose(fleet.registry))
    r1 = deploy(fleet, moving, compose(fleet.registry, marker="r1"))
    fleet.wait_app(stable, 1)
    fleet.wait_app(moving, r1)
    before = fleet.identity(stable)

    r2 = deploy(fleet, moving, compose(fleet.registry, marker="r2"))
    fleet.restart_broker(wipe_store=False)  # mid-rollout
    fleet.wait_health("Ready", 60)
    fleet.wait_app(moving, r2)
    assert fleet.identity(stable) == before

    fleet.restart_broker(wipe_store=True)  # the broker lost every retained message
    fleet.wait_health("Ready", 60)
    r3 = deploy(fleet, moving, compose(fleet.registry, marker="r3"))
    fleet.wait_app(moving, r3)
    fleet.wait_app(stable, 1)
    time.sleep(2 * 2)  # two periodic reconciles with the healed documents
    assert fleet.identity(stable) == before
    desired = fleet.latest("desired")
    assert desired and {a["name"] for a in desired["apps"]} == {stable, moving}
    assert_generations_monotonic(fleet)


# --- 2. anchor kill -9 at random points of changes ------------------------------------------

class FakeMsg:
    payload = b""


def fire(client, op, body):
    """Publishes an API request without waiting; returns its reply topic."""
    reply_topic = f"{ROOT}/replies/ops/{uuid.uuid4().hex}"
    payload = dict(body, v=1)
    client.publish(f"{ROOT}/api/ops/{op}", payload, response_topic=reply_topic,
                   correlation=uuid.uuid4().bytes)
    return reply_topic


def test_anchor_kill9_during_changes(fleet, broker):
    """20 times: a change request (group create, deploy, update, membership change), kill -9
    of the anchor 0-50 ms after the request (even rounds) or after its reply (odd rounds),
    restart. After each restart the store opens and lists
    everything; every acknowledged change is present; an unacknowledged one is either fully
    applied or absent; at the end the real agent runs the latest revision of every app."""
    fleet.start()
    ops = fleet.ops
    replies = ops.subscribe_collect(f"{ROOT}/replies/ops/#")
    sim = f"sim-{uuid.uuid4().hex[:6]}"
    broker.add_agent(sim)
    from cli_support import node_online
    sim_client = node_online(broker, sim)
    fleet.ok("group.create", {"name": "fleet"})
    fleet.ok("group.add", {"group": "fleet", "nodes": [fleet.node]})
    wait_until(lambda: fleet.request("node.get", {"name": sim}).get("ok"), 15, what="sim node")
    rng = random.Random(int(os.environ.get("PHAROS_FAULT_SEED", time.time())))
    apps = [f"k{uuid.uuid4().hex[:5]}" for _ in range(2)]
    acked, unacked = [], []
    member = False
    for i in range(20):
        kind = i % 4
        if kind == 0:
            op, body = "group.create", {"name": f"g{i}-{uuid.uuid4().hex[:4]}", "parent": "fleet"}
        elif kind in (1, 3):
            op, body = "app.deploy", {"name": apps[(i // 4) % 2], "target": {"group": "fleet"},
                                      "compose": compose(fleet.registry, marker=f"i{i}"),
                                      "variables": {"STEP": str(i)}}
        else:
            op = "group.remove" if member else "group.add"
            body = {"group": "fleet", "nodes": [sim]}
        topic = fire(ops, op, body)
        if i % 2:  # kill 0-50 ms after the acknowledgement: it must already be durable
            replies.wait_for(lambda m: m.topic == topic, timeout=10)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(fleet.anchor.proc.pid, signal.SIGKILL)
        fleet.anchor.proc.wait(10)
        wait_until(lambda: b'"offline"' in (ops.subscribe_collect(f"{ROOT}/anchor/status")
                                            .wait_for(timeout=2) or FakeMsg).payload,
                   10, what="the anchor's will")
        reply = next((json.loads(m.payload) for m in replies.messages if m.topic == topic),
                     None)
        assert reply is None or reply.get("ok"), f"{op} refused: {reply}"
        (acked if reply else unacked).append((i, op, body))
        if op in ("group.add", "group.remove") and reply:
            member = op == "group.add"
        fleet.anchor.start()
        # The store opened: everything lists.
        for list_op in ("group.list", "app.list", "node.list"):
            fleet.ok(list_op)
        if op in ("group.add", "group.remove") and not reply:
            got = fleet.ok("group.get", {"name": "fleet"})["nodes"]
            member = sim in got  # fully applied or absent, never half

    print(f"kill -9 points: {len(acked)} acknowledged, {len(unacked)} not")
    groups = {g["name"] for g in fleet.ok("group.list")["groups"]}
    for i, op, body in acked + unacked:
        if op == "group.create":
            if (i, op, body) in acked:
                assert body["name"] in groups, f"acknowledged group {body['name']} lost"
            if body["name"] in groups:
                assert fleet.ok("group.get", {"name": body["name"]})["parents"] == ["fleet"]
    for app in apps:
        deploys = [(i, body, (i, op, body) in acked) for i, op, body in acked + unacked
                   if op == "app.deploy" and body["name"] == app]
        deploys.sort(key=lambda d: d[0])
        last_acked = max((d[0] for d in deploys if d[2]), default=None)
        got = fleet.request("app.get", {"name": app})
        if last_acked is None and not got.get("ok"):
            continue  # never acknowledged and absent
        assert got.get("ok"), f"acknowledged app {app} lost: {got}"
        step = int(got["result"]["variables"]["STEP"])
        allowed = {d[0] for d in deploys if last_acked is None or d[0] >= last_acked}
        assert step in allowed, f"{app} at step {step}, acknowledged up to {last_acked}"
        assert f'MARKER: "i{step}"' in got["result"]["compose"], "half-applied deploy"
        fleet.wait_app(app, got["result"]["revision"], timeout=60)
    members = fleet.ok("group.get", {"name": "fleet"})["nodes"]
    assert (sim in members) == member
    sim_client.close()


# --- 3. agent kill -9 while it works ---------------------------------------------------------

class SlowProxy:
    """A TCP proxy on 127.0.0.1 to the test registry that delays every chunk by 300 ms."""

    def __init__(self, target_port, delay=0.3):
        import socket
        import threading
        self.connections = 0
        self.delay = delay
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.closed = False
        self.threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                self.threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.server.close()



def test_agent_kill9_during_pull_create_recreate(fleet, docker_engine, registry):
    """The agent killed -9 while it pulls an image, creates containers and recreates them,
    then restarted: exactly one container per service, no container of the node left outside
    the apps, the app converges, and an unchanged app's container is never restarted."""
    fleet.start()
    stable, app = f"s{uuid.uuid4().hex[:6]}", f"p{uuid.uuid4().hex[:6]}"
    deploy(fleet, stable, compose(registry))
    fleet.wait_app(stable, 1)
    keep = fleet.identity(stable)
    rng = random.Random()

    # During pull: the image comes through a slow proxy of the test registry (every chunk
    # delayed), so the agent is killed while the engine is still pulling.
    proxy = SlowProxy(registry.port)
    slow_image = f"127.0.0.1:{proxy.port}/pharos-test/busybox:2"
    try:
        slow = compose(registry, tag="2", marker="pull").replace(registry.image("2"), slow_image)
        revision = deploy(fleet, app, slow)
        wait_until(lambda: proxy.connections, 20, 0.01, what="the pull through the proxy")
        time.sleep(rng.uniform(0, 0.2))
        fleet.agent.kill()
        pulled = docker_engine.run("image", "inspect", slow_image, check=False)
        assert pulled.returncode != 0, "the pull finished before the kill: the proxy is too fast"
        fleet.agent.start()
        fleet.wait_app(app, revision)
        one_per_service(fleet, app)
    finally:
        proxy.close()
        fleet.engine.run("rmi", "-f", slow_image, check=False)

    # During create and recreate: kill at random points after a change.
    for marker in ("c1", "c2", "c3"):
        revision = deploy(fleet, app, compose(registry, tag="2", marker=marker))
        time.sleep(rng.uniform(0.05, 0.6))
        fleet.agent.kill()
        one_per_service(fleet, app)
        fleet.agent.start()
        fleet.wait_app(app, revision)
        one_per_service(fleet, app)
        svc = fleet.containers(app)["svc"][0]
        assert f"MARKER={marker}" in svc["Config"]["Env"]
    time.sleep(4)  # two periodic reconciles
    one_per_service(fleet, app)
    assert fleet.identity(stable) == keep, "the unchanged app was restarted"
    projects = {json.loads(docker_engine.run("inspect", c).stdout)[0]["Config"]["Labels"]
                .get("com.docker.compose.project")
                for c in docker_engine.containers(f"io.pharos.node={fleet.node}")}
    projects.discard(None)
    assert projects <= {stable, app}, f"orphaned containers: {projects}"


# --- 5. network partition (SIGSTOP) ----------------------------------------------------------

def test_agent_partition_sigstop(fleet):
    """A frozen agent (SIGSTOP) is NotReady within 1.5 x keep-alive + 1 s (its heartbeats
    stopped), its apps keep running on the device; on SIGCONT it is Ready again and a change
    published meanwhile is applied."""
    fleet.start()
    app = f"n{uuid.uuid4().hex[:6]}"
    deploy(fleet, app, compose(fleet.registry))
    fleet.wait_app(app, 1)
    before = fleet.identity(app)
    stopped_ms, stopped_at = time.time() * 1000, time.monotonic()
    os.kill(fleet.agent.proc.pid, signal.SIGSTOP)
    try:
        # Measured to the anchor's transition time (its `since`); waited for with room to spare
        # so that a slow machine shows the number instead of a timeout.
        verdict = fleet.wait_verdict("NotReady", stopped_ms, FREEZE_BOUND + 10)
        decided = (verdict["since"] - stopped_ms) / 1000
        print(f"frozen agent NotReady {decided:.2f} s after SIGSTOP (published after "
              f"{time.monotonic() - stopped_at:.2f} s; keep-alive {KEEP_ALIVE} s): "
              f"{verdict['reason']}")
        # (The reason is "heartbeat timeout ..." unless the broker's own scan happened to drop
        # the client first, in the moment before: either is the anchor's verdict in time.)
        assert decided <= FREEZE_BOUND, f"NotReady {decided:.2f} s after SIGSTOP"
        revision = deploy(fleet, app, compose(fleet.registry, marker="meanwhile"))
        time.sleep(1)
        assert fleet.identity(app) == before and \
            fleet.containers(app)["svc"][0]["State"]["Running"]
    finally:
        os.kill(fleet.agent.proc.pid, signal.SIGCONT)
    fleet.wait_health("Ready", 30)
    fleet.wait_app(app, revision)
    assert "MARKER=meanwhile" in fleet.containers(app)["svc"][0]["Config"]["Env"]


# --- 6. offline reboot, corrupt state file ---------------------------------------------------

@pytest.mark.parametrize("corruption", ["truncated", "garbage"])
def test_state_file_corruption_and_offline_reboot(fleet, docker_engine, corruption):
    """Agent restarted with the broker unreachable: its apps come back from the state file.
    Then a truncated / garbage state file: detected, reported as a `state_file` event, and
    the agent recovers its documents from the broker without touching the running app."""
    fleet.start()
    app = f"o{uuid.uuid4().hex[:6]}"
    deploy(fleet, app, compose(fleet.registry))
    fleet.wait_app(app, 1)
    fleet.agent.stop()
    docker_engine.cleanup(f"io.pharos.node={fleet.node}")  # a reboot that lost containers

    url = fleet.agent.broker_url
    fleet.agent.broker_url = "tcp://127.0.0.1:1"
    fleet.agent.start()
    wait_until(lambda: (fleet.containers(app).get("svc") or [{}])[0].get("State", {})
               .get("Running"), 60, what="app from the state file")
    fleet.agent.kill()
    fleet.agent.broker_url = url
    running = fleet.identity(app)

    state = pathlib.Path(fleet.agent.workdir) / "state.json"
    raw = state.read_bytes()
    state.write_bytes(raw[: len(raw) // 2] if corruption == "truncated" else os.urandom(512))
    fleet.agent.start()
    wait_until(lambda: fleet.events("state_file"), 30, what="state_file event")
    fleet.wait_health("Ready", 30)
    wait_until(lambda: (fleet.latest("state") or {}).get("frozen") is False or
               "frozen" not in (fleet.latest("state") or {"frozen": True}), 30,
               what="documents recovered from the broker (not frozen)")
    revision = deploy(fleet, app, compose(fleet.registry), variables={})
    fleet.wait_app(app, revision)
    assert fleet.identity(app) == running, "recovering from the broker restarted the app"
    assert json.loads(state.read_text())  # rewritten whole
