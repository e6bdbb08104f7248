"""Smoke test of the hollow-agent fleet simulator (pharos-fleetsim, a load generator) against
the real Mosquitto and the real pharos-anchor: 50 hollow agents register, join a group, and
one app.deploy to the group is applied by all 50 (the rollout summary says so). Bounded well
under 60 s. Uses bench/scale_env.py, the same environment as bench/scale.py."""
import json
import pathlib
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import scale_env  # noqa: E402

NODES = 50


@pytest.fixture
def env():
    try:
        scale_env.find_binary("pharos-fleetsim")
        scale_env.find_binary("pharos-anchor")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    e = scale_env.Env(NODES, prefix="sim")
    yield e
    e.close()


def test_fifty_hollow_agents_register_and_apply_a_group_deployment(env):
    deadline = time.monotonic() + 55
    env.start_broker()
    env.start_anchor()
    ops = env.client()
    try:
        health = scale_env.HealthWatch(ops)
        rollout = scale_env.RolloutWatch(ops)
        fleet = env.start_fleet(NODES, shards=2, extra=["--threads", "4"])
        assert health.wait(lambda: health._count_unlocked("Ready", "sim") == NODES,
                           deadline - time.monotonic() - 30), \
            f"{health.count('Ready', 'sim')}/{NODES} Ready"
        listed = scale_env.request(ops, "node.list", {"limit": 1000, "health": "Ready"})
        assert len([n for n in listed["nodes"] if n["name"].startswith("sim-")]) == NODES

        scale_env.add_members(ops, "line-1", [scale_env.node_name("sim", k) for k in range(NODES)])
        time.sleep(1)  # the agents subscribe to the group document they were just given
        res = scale_env.request(ops, "app.deploy", {
            "name": "smoke", "target": {"group": "line-1"},
            "compose": scale_env.deploy_compose(marker="smoke")})
        t, doc = rollout.wait_applied("smoke", res.get("revision", 1), NODES,
                                      max(5, deadline - time.monotonic()))
        assert t is not None, f"rollout never reached {NODES} applied: {doc}"
        assert doc["total"] == NODES and doc["failed"] == 0
        assert all(p.poll() is None for p in fleet), "a fleetsim process died"

        env.stop_fleet(timeout=20)
        assert all(p.returncode == 0 for p in fleet)
        # A clean stop publishes NotReady ("agent stopped") for every hollow agent.
        assert health.wait(lambda: health._count_unlocked("NotReady", "sim") == NODES,
                           max(2, deadline - time.monotonic()))
    finally:
        ops.close()


@pytest.mark.parametrize("mode", ["echo", "contract"])
def test_floor_subscribers_answer_and_the_collector_counts_them(env, mode):
    """The broker-only floors of bench/scale.py: every --floor subscriber gets the retained
    message once and answers (one small message, or an agent's rollout reports: event then
    state, decoded here against the contract); the collector counts one answer per node."""
    env.start_broker()
    topic = f"{scale_env.TOPIC_ROOT}/bench/floor-test-{mode}"
    flag = ["--floor-echo"] if mode == "echo" else ["--floor-echo-contract"]
    collector = env.start_fleet(NODES, 1, prefix="fc", extra=[
        "--floor", "--floor-collect", "--floor-user", "floor", "--floor-topic", topic]
        + (flag if mode == "contract" else []))
    subs = env.start_fleet(NODES, 2, prefix="fl", extra=[
        "--floor", "--floor-user", "floor", "--floor-topic", topic, "--threads", "2"] + flag)
    watcher = env.client("floor")
    try:
        seen = watcher.subscribe_collect(f"{topic}/echo/#")
        assert seen.granted

        def events(name, procs):
            return [ln for p in procs for ln in p.lines if ln.get("event") == name]
        deadline = time.monotonic() + 30
        while (len(events("floor-connected", subs)) < 2 or not events("collect-connected", collector)) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [ln["connected"] for ln in events("floor-connected", subs)] == [NODES // 2] * 2
        time.sleep(0.5)  # the subscriptions follow the connects
        watcher.publish(topic, json.dumps({"v": 1, "floor": NODES}), retain=True)

        def done():
            return any(ln["received"] == NODES for ln in events("echo", collector))
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done(), events("echo", collector)[-3:]

        def noted():
            return {p.pid: max((ln["received"] for ln in p.lines if ln.get("event") == "floor"),
                               default=0) for p in subs}
        # Each subscriber process reports its count on its own 20-ms tick, which may come
        # after the collector's: wait for it, then check that nobody noted the message twice.
        while sum(noted().values()) < NODES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(noted().values()) == NODES, noted()  # each subscriber noted it once
        per_answer = 2 if mode == "contract" else 1
        assert seen.wait_for(lambda m: False, 0.5) is None  # let the last answers arrive
        msgs = seen.messages
        assert len(msgs) == NODES * per_answer
        if mode == "contract":
            states = [m for m in msgs if m.topic.endswith("/state")]
            evs = [m for m in msgs if m.topic.endswith("/events")]
            assert len(states) == NODES and len(evs) == NODES
            s = json.loads(states[0].payload)
            e = json.loads(evs[0].payload)
            assert s["v"] == 1 and s["apps"][0]["phase"] == "Running"
            assert s["apps"][0]["services"][0]["state"] == "running"
            assert e["kind"] == "app_applied" and "created network" in e["message"]
            # the collector counted states only: NODES, not 2 x NODES
            assert max(ln["received"] for ln in events("echo", collector)) == NODES
        watcher.publish(topic, b"", retain=True)
    finally:
        watcher.close()
