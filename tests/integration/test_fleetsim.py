"""Smoke test of the hollow-agent fleet simulator (pharos-fleetsim, a load generator) against
the real Mosquitto and the real pharos-anchor: 50 hollow agents register, join a group, and
one app.deploy to the group is applied by all 50 (the rollout summary says so). Bounded well
under 60 s. Uses bench/scale_env.py, the same environment as bench/scale.py."""
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
    e = scale_env.Env(NODES, prefix="sim", memberships={"line-1": list(range(NODES))})
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
