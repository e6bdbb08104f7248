"""Soak (docs/reliability.md): minutes of churn over 50 hollow agents (pharos-fleetsim, a load
generator) plus 2 real pharos-agent processes, a real pharos-anchor, Mosquitto and the Docker
Engine, then the invariants. NOT run in CI: skipped unless PHAROS_SOAK_MINUTES is set —
run it with tools/soak.sh [minutes].

Churn (one random action every 0.5-2 s): deploy a new app or update one (to the group of
every node, or to one real node), move a hollow node in/out of a second group, kill -9 and
restart a real agent, kill -9 and restart the anchor, docker kill / rm -f a managed
container. Not thread-safe; one Env per process.
"""
import json
import os
import pathlib
import random
import signal
import sys
import tempfile
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import scale_env  # noqa: E402
from fault_support import FaultAgent  # noqa: E402

MINUTES = float(os.environ.get("PHAROS_SOAK_MINUTES", "0"))
HOLLOW = 50
REAL = ("soak-real-a", "soak-real-b")
pytestmark = pytest.mark.skipif(MINUTES <= 0, reason="soak: run tools/soak.sh (not in CI)")


class EnvBroker:
    """What FaultAgent needs of a broker, for scale_env.Env's broker."""

    def __init__(self, env):
        self.env = env
        self.url = f"tcp://127.0.0.1:{env.port}"

    def credentials(self, name):
        return name.removeprefix("agent-"), self.env.agent_password


@pytest.fixture
def soak(docker_engine, registry):
    env = scale_env.Env(HOLLOW, prefix="soak", memberships={"all": list(range(HOLLOW))},
                        extra_agents=REAL)
    env.start_broker()
    env.start_anchor()
    broker = EnvBroker(env)
    agents = {}
    for node in REAL:
        d = pathlib.Path(tempfile.mkdtemp(prefix="pharos-soak-"))
        agent = FaultAgent(scale_env.find_binary("pharos-agent"), node, broker, docker_engine, d)
        agents[node] = agent
    yield env, agents
    for node, agent in agents.items():
        agent.kill()
        docker_engine.cleanup(f"io.pharos.node={node}")
    env.close()


def test_soak(soak, docker_engine, registry):
    """After the churn and a quiet minute: every change the anchor acknowledged is in its
    store; every app runs at the anchor's revision on every hollow and real node; each real
    node runs exactly one container per service of exactly its apps (no orphan); no node
    document generation seen went backwards within an epoch; every process is still up."""
    env, agents = soak
    rng = random.Random(int(os.environ.get("PHAROS_FAULT_SEED", time.time())))
    ops = env.client()
    docs = ops.subscribe_collect(f"{scale_env.TOPIC_ROOT}/nodes/+/desired")
    for agent in agents.values():
        agent.start()
    env.start_fleet(HOLLOW, extra=("--image", registry.image("1")))  # simulated pulls
    time.sleep(5)
    hollow = [scale_env.node_name("soak", k) for k in range(HOLLOW)]
    # Both real agents share one Docker Engine, where container names are global: one real
    # node is in the group of every node, the other gets the apps targeted at it alone.
    scale_env.add_members(ops, "all", hollow + [REAL[0]])
    scale_env.request(ops, "group.create", {"name": "moving"})
    acked = {}  # app -> last acknowledged revision
    counts = {}
    deadline = time.monotonic() + MINUTES * 60

    def call(op, body):
        try:
            reply = ops.request(op, body, timeout=30)
        except TimeoutError:
            return None
        return reply.get("result") if reply.get("ok") else None

    while time.monotonic() < deadline:
        action = rng.choice(["deploy", "deploy", "update", "member", "agent_kill",
                             "anchor_kill", "container_kill"])
        counts[action] = counts.get(action, 0) + 1
        if action in ("deploy", "update"):
            name = f"soak{rng.randrange(6)}" if action == "update" or len(acked) >= 6 \
                else f"soak{len(acked)}"
            target = {"group": "all"} if int(name[4:]) % 2 == 0 else {"node": REAL[1]}
            got = call("app.deploy", {"name": name, "target": target, "compose":
                                      scale_env.deploy_compose(registry.image("1"),
                                                               str(rng.random()))})
            if got:
                acked[name] = max(acked.get(name, 0), got["revision"])
        elif action == "member":
            op = rng.choice(["group.add", "group.remove"])
            call(op, {"group": "moving", "nodes": rng.sample(hollow, 5)})
        elif action == "agent_kill":
            agent = agents[rng.choice(REAL)]
            agent.kill()
            time.sleep(rng.uniform(0, 2))
            agent.start()
        elif action == "anchor_kill":
            env.stop_anchor(signal.SIGKILL)
            env.start_anchor()
        else:
            ids = docker_engine.containers(f"io.pharos.node={rng.choice(REAL)}")
            if ids:
                verb = rng.choice([["kill"], ["rm", "-f"]])
                docker_engine.run(*verb, rng.choice(ids), check=False)
        time.sleep(rng.uniform(0.5, 2))
    print(f"soak actions: {counts}; apps {acked}")

    time.sleep(60)  # quiet
    assert env.anchor_proc.poll() is None, "anchor died"
    assert all(a.proc.poll() is None for a in agents.values()), "an agent died"
    assert all(p.poll() is None for p in env.fleet_procs), "fleetsim died"
    watch = scale_env.RolloutWatch(ops)
    for name, revision in acked.items():
        app = scale_env.request(ops, "app.get", {"name": name})
        assert app["revision"] >= revision, f"acknowledged {name} r{revision} lost"
        total = HOLLOW + 1 if int(name[4:]) % 2 == 0 else 1
        t, doc = watch.wait_applied(name, app["revision"], total, 120)
        assert t is not None, f"{name} r{app['revision']} not applied everywhere: {doc}"
    for node in REAL:
        services = {}
        for cid in docker_engine.containers(f"io.pharos.node={node}"):
            info = docker_engine.inspect(cid)
            if info["Name"].endswith("_pharos_probe"):
                continue
            labels = info["Config"]["Labels"]
            key = (labels.get("com.docker.compose.project"),
                   labels.get("com.docker.compose.service"))
            services[key] = services.get(key, 0) + 1
        expected = {n for n in acked if (int(n[4:]) % 2 == 0) == (node == REAL[0])}
        assert {k[0] for k in services} == expected, f"{node}: {services}"
        assert all(v == 1 for v in services.values()), f"duplicates on {node}: {services}"
    last = {}
    for m in docs.messages:
        if not m.payload:
            continue
        d = json.loads(m.payload)
        key = (m.topic, d["epoch"])
        assert d["generation"] >= last.get(key, 0), f"{m.topic} went back"
        last[key] = d["generation"]
