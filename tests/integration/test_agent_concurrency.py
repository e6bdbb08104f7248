"""No app waits for another: pharos-agent against the real Mosquitto and Docker Engine.

An app whose container ignores SIGTERM and has `stop_grace_period: 60s` is removed: the
engine's stop takes the whole minute. Meanwhile another app's container is `docker kill`ed
(Docker does not restart a killed `unless-stopped` container: the agent must) and a third
app is deployed. Both happen while the slow stop is still under way (docs/agent.md
"Threads"). Fixtures and helpers are test_agent.py's.
"""
import time

import pytest

from test_agent import Node, app_name, spec, wait_until

GRACE_S = 60


@pytest.fixture
def node(pharos_bin, broker, docker_engine, registry):
    n = Node(pharos_bin, broker, docker_engine)
    yield n
    n.cleanup()


def quick_app(registry):
    return f"services:\n  svc:\n    image: {registry.image('1')}\n"


def slow_app(registry):
    return f"""
services:
  svc:
    image: {registry.image("1")}
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
    stop_grace_period: {GRACE_S}s
"""


def running(node, app, not_started_at=None):
    c = node.container(app, "svc")
    if not c or not c["State"]["Running"]:
        return None
    if not_started_at is not None and c["State"]["StartedAt"] == not_started_at:
        return None
    return c


def test_failover_and_deploy_while_another_app_stops_for_its_grace_period(node, registry):
    node.agent.start()
    a, b, c = app_name(), app_name(), app_name()
    node.publish_desired([spec(a, quick_app(registry)), spec(b, slow_app(registry))])
    node.wait_phase(a, "Running")
    node.wait_phase(b, "Running")
    first = node.container(a, "svc")

    # b is removed: the engine's stop waits out the grace period (SIGTERM is ignored).
    node.publish_desired([spec(a, quick_app(registry)),
                          spec(b, slow_app(registry), state="removed")])
    node.wait_phase(b, "Removing", timeout=30)
    time.sleep(1)  # the stop is under way
    stop_began = time.monotonic()

    # a's container is killed and c is deployed while b stops.
    node.engine.run("kill", first["Id"])
    node.publish_desired([spec(a, quick_app(registry)),
                          spec(b, slow_app(registry), state="removed"),
                          spec(c, quick_app(registry))])
    wait_until(lambda: running(node, a, first["State"]["StartedAt"]), GRACE_S - 15,
               what=f"{a} running again")
    wait_until(lambda: running(node, c), GRACE_S - 15, what=f"{c} running")
    served_after = time.monotonic() - stop_began
    # Well before b's stop could have ended, and it has not.
    assert served_after < GRACE_S / 2, served_after
    slow = node.container(b, "svc")
    assert slow is not None and slow["State"]["Running"], "b's stop ended first"
    node.wait_phase(a, "Running")
    assert node.app_state(c)["phase"] in ("Running", "Starting")
