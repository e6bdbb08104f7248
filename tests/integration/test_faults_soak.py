"""Soak (docs/reliability.md): minutes of churn over 50 hollow agents (pharos-fleetsim, a load
generator) plus 3 real pharos-agent processes, a real pharos-anchor, Mosquitto and the Docker
Engine, then the invariants and a resident-memory growth check. NOT run in CI: skipped
unless PHAROS_SOAK_MINUTES is set — run it with tools/soak.sh [minutes].

Six apps are deployed first (three to the group of every node, three to real node b alone).
Churn (one random action every 0.5-2 s): update an app, move hollow nodes in/out of a second
group, kill -9 and restart real agent a or b, kill -9 and restart the anchor (first half of
the run only), restart the broker (persistence kept), docker kill / rm -f a managed
container. Real agent c (on a private Docker Engine, in the group of every node) and, in the
second half, the anchor are never killed: their RSS is compared between the start of their
measured period and the end (bound: MEMORY_BOUND). Not thread-safe; one Env per process.
"""
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import scale_env  # noqa: E402
from fault_support import FaultAgent  # noqa: E402
from harness.docker_engine import TEST_IMAGES  # noqa: E402

MINUTES = float(os.environ.get("PHAROS_SOAK_MINUTES", "0"))
IMAGE = TEST_IMAGES[0]
HOLLOW = 50
REAL = ("soak-real-a", "soak-real-b", "soak-real-c")
KILLED = REAL[:2]  # agents the churn kills; REAL[2] runs the whole soak (memory measured)
APPS = [f"soak{i}" for i in range(6)]  # even: group of every node; odd: REAL[1] alone
# Relative weights of the churn's actions (one every 0.5-2 s).
ACTIONS = {"update": 4, "member": 2, "container_kill": 2, "agent_kill": 1,
           "broker_restart": 0.5, "anchor_kill": 0.5}
# Resident memory growth allowed between the start and the end of a measured period (KiB):
# 10 % of the start value plus 4 MiB (allocator noise, the broker's and engine's buffers).
MEMORY_BOUND = (0.10, 4096)
pytestmark = pytest.mark.skipif(MINUTES <= 0, reason="soak: run tools/soak.sh (not in CI)")


class EnvBroker:
    """What FaultAgent needs of a broker, for scale_env.Env's broker."""

    def __init__(self, env):
        self.env = env
        self.url = f"tcp://127.0.0.1:{env.port}"

    def credentials(self, name):
        return name.removeprefix("agent-"), self.env.agent_password


def sanitized(binary):
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    return "libasan" in ldd


@pytest.fixture
def soak(docker_engine, private_engines):
    for name in ("pharos-anchor", "pharos-agent"):
        assert not sanitized(scale_env.find_binary(name)), \
            f"{name} is built with ASan, whose quarantine grows RSS: the memory check needs " \
            "a build without sanitizers (PHAROS_BUILD_DIR=build/<debug or release dir>)"
    env = scale_env.Env(HOLLOW, prefix="soak", extra_agents=REAL)
    env.start_broker()
    env.start_anchor()
    broker = EnvBroker(env)
    # Agents a and b share the test engine (so they run disjoint apps: container names are
    # global to an engine); c is a device of its own.
    engines = {REAL[0]: docker_engine, REAL[1]: docker_engine, REAL[2]: private_engines()}
    agents = {}
    for node in REAL:
        d = pathlib.Path(tempfile.mkdtemp(prefix="pharos-soak-"))
        agents[node] = FaultAgent(scale_env.find_binary("pharos-agent"), node, broker,
                                  engines[node], d)
    yield env, agents, engines
    for node, agent in agents.items():
        agent.kill()
        engines[node].cleanup(f"io.pharos.node={node}")
        shutil.rmtree(agent.workdir, ignore_errors=True)
    env.close()


def rss_kib(proc):
    return scale_env.proc_cpu_rss(proc.pid)[1]


def restart_broker(env):
    """SIGTERM (Mosquitto saves its persistence file) and start again on the same port."""
    env.broker_proc.terminate()
    env.broker_proc.wait(30)
    env.start_broker()


def check_memory(name, start, end):
    ratio, extra = MEMORY_BOUND
    bound = start * (1 + ratio) + extra
    print(f"memory {name}: RSS {start} KiB -> {end} KiB ({end - start:+d} KiB, bound "
          f"{bound:.0f} KiB)")
    return None if end <= bound else f"{name} grew from {start} to {end} KiB (bound {bound:.0f})"


def test_soak(soak):
    """After the churn and a quiet minute: every change the anchor acknowledged is in its
    store; every app runs at the anchor's revision on every hollow and real node; each real
    node runs exactly one container per service of exactly its apps (no orphan); no node
    document generation seen went backwards within an epoch; every process is still up; the
    RSS of the anchor (second half) and of agent c (whole run) grew within MEMORY_BOUND."""
    env, agents, engines = soak
    seed = int(os.environ.get("PHAROS_FAULT_SEED", time.time()))
    rng = random.Random(seed)
    docs = []  # collectors of nodes/+/desired, one per broker lifetime
    ops = None

    def connect():
        nonlocal ops
        if ops is not None:
            ops.close()
        ops = env.client()
        docs.append(ops.subscribe_collect(f"{scale_env.TOPIC_ROOT}/nodes/+/desired"))

    connect()
    for agent in agents.values():
        agent.start()
    # One image every engine holds already (c's private engine has no route to the test
    # registry); the hollow agents simulate its pull.
    env.start_fleet(HOLLOW, extra=("--image", IMAGE))
    time.sleep(5)
    hollow = [scale_env.node_name("soak", k) for k in range(HOLLOW)]
    scale_env.add_members(ops, "all", hollow + [REAL[0], REAL[2]])
    scale_env.request(ops, "group.create", {"name": "moving"})

    def target_of(name):
        return {"group": "all"} if int(name[4:]) % 2 == 0 else {"node": REAL[1]}

    def call(op, body):
        try:
            reply = ops.request(op, body, timeout=30)
        except (TimeoutError, OSError):
            return None
        return reply.get("result") if reply.get("ok") else None

    acked = {}  # app -> last acknowledged revision
    for name in APPS:
        got = scale_env.request(ops, "app.deploy", {
            "name": name, "target": target_of(name),
            "compose": scale_env.deploy_compose(IMAGE, "0")})
        acked[name] = got["revision"]
    watch = scale_env.RolloutWatch(ops)
    for name in APPS:
        total = HOLLOW + 2 if int(name[4:]) % 2 == 0 else 1
        t, doc = watch.wait_applied(name, acked[name], total, 180)
        assert t is not None, f"{name} not applied at the start: {doc}"
    memory = {"agent c": (agents[REAL[2]].proc, rss_kib(agents[REAL[2]].proc))}
    print(f"soak seed {seed}; start RSS: anchor {rss_kib(env.anchor_proc)} KiB, "
          f"agent c {memory['agent c'][1]} KiB", flush=True)

    counts = {}
    started = time.monotonic()
    half = started + MINUTES * 30
    deadline = started + MINUTES * 60
    samples = []
    next_sample = started
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_sample:
            samples.append((round(now - started), rss_kib(env.anchor_proc),
                            rss_kib(agents[REAL[2]].proc)))
            next_sample = now + 60
        if now >= half and "anchor" not in memory:
            time.sleep(10)  # the anchor's last restart settles
            memory["anchor"] = (env.anchor_proc, rss_kib(env.anchor_proc))
        weights = dict(ACTIONS)
        if now >= half:
            del weights["anchor_kill"]
        action = rng.choices(list(weights), weights=list(weights.values()))[0]
        counts[action] = counts.get(action, 0) + 1
        if action == "update":
            name = rng.choice(APPS)
            got = call("app.deploy", {"name": name, "target": target_of(name), "compose":
                                      scale_env.deploy_compose(IMAGE,
                                                               str(rng.random()))})
            if got:
                acked[name] = max(acked[name], got["revision"])
        elif action == "member":
            op = rng.choice(["group.add", "group.remove"])
            call(op, {"group": "moving", "nodes": rng.sample(hollow, 5)})
        elif action == "agent_kill":
            agent = agents[rng.choice(KILLED)]
            agent.kill()
            time.sleep(rng.uniform(0, 2))
            agent.start()
        elif action == "anchor_kill":
            env.stop_anchor(signal.SIGKILL)
            env.start_anchor()
        elif action == "broker_restart":
            restart_broker(env)
            connect()
        else:
            node = rng.choice(REAL)
            ids = engines[node].containers(f"io.pharos.node={node}")
            if ids:
                verb = rng.choice([["kill"], ["rm", "-f"]])
                engines[node].run(*verb, rng.choice(ids), check=False)
        time.sleep(rng.uniform(0.5, 2))
    print(f"soak actions: {counts}; apps {acked}", flush=True)

    time.sleep(60)  # quiet
    assert env.anchor_proc.poll() is None, "anchor died"
    assert all(a.proc.poll() is None for a in agents.values()), "an agent died"
    assert all(p.poll() is None for p in env.fleet_procs), "fleetsim died"
    samples.append((round(time.monotonic() - started), rss_kib(env.anchor_proc),
                    rss_kib(agents[REAL[2]].proc)))
    print(f"RSS samples (s, anchor KiB, agent c KiB): {samples}", flush=True)
    watch = scale_env.RolloutWatch(ops)
    for name, revision in acked.items():
        app = scale_env.request(ops, "app.get", {"name": name})
        assert app["revision"] >= revision, f"acknowledged {name} r{revision} lost"
        total = HOLLOW + 2 if int(name[4:]) % 2 == 0 else 1
        t, doc = watch.wait_applied(name, app["revision"], total, 120)
        assert t is not None, f"{name} r{app['revision']} not applied everywhere: {doc}"
    for node in REAL:
        engine = engines[node]
        services = {}
        for cid in engine.containers(f"io.pharos.node={node}"):
            info = engine.inspect(cid)
            if info["Name"].endswith("_pharos_probe"):
                continue
            labels = info["Config"]["Labels"]
            key = (labels.get("com.docker.compose.project"),
                   labels.get("com.docker.compose.service"))
            services[key] = services.get(key, 0) + 1
        expected = {n for n in acked if (int(n[4:]) % 2 == 0) == (node != REAL[1])}
        assert {k[0] for k in services} == expected, f"{node}: {services}"
        assert all(v == 1 for v in services.values()), f"duplicates on {node}: {services}"
    last = {}  # across broker lifetimes too: a restarted broker must not hold an older one
    for collector in docs:
        for m in collector.messages:
            if not m.payload:
                continue
            d = json.loads(m.payload)
            key = (m.topic, d["epoch"])
            assert d["generation"] >= last.get(key, 0), f"{m.topic} went back"
            last[key] = d["generation"]
    grown = [check_memory(name, start, rss_kib(proc)) for name, (proc, start) in memory.items()
             if proc.poll() is None]
    assert len(grown) == 2, "a measured process was replaced during its measured period"
    assert not [g for g in grown if g], grown
