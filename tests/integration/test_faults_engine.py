"""Fault injection (docs/reliability.md, case 4): the container runtime broken under a real
pharos-agent — the Docker daemon restarted cleanly and killed with SIGKILL (on a private
engine, tests/integration/harness/private_engine.py, which only this test uses), and the
containers of the shared engine killed, removed with their image, and OOM-killed.
Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q tests/integration/test_faults_engine.py
"""
import json
import time
import uuid

import pytest

from harness.docker_engine import TEST_IMAGES
from fault_support import compose, deploy, fleet_fixture, one_per_service
from test_agent import wait_until


@pytest.fixture
def fleet(pharos_bin, broker, docker_engine, registry):
    yield from fleet_fixture(pharos_bin, broker, docker_engine, registry)


@pytest.fixture
def device(pharos_bin, broker, registry, private_engines):
    """A Fleet whose agent works on a private Docker Engine (a device of its own)."""
    yield from fleet_fixture(pharos_bin, broker, private_engines(), registry)


# --- Docker daemon restart and crash ---------------------------------------------------------

def engine_events(fleet, since):
    """(kind, app, reason) of the node's events from index `since` of the collected messages."""
    out = []
    for m in fleet.seen.messages[since:]:
        if m.topic == fleet.topic("events") and m.payload:
            e = json.loads(m.payload)
            out.append((e.get("kind"), e.get("app"), e.get("reason") or e.get("message")))
    return out


def device_compose(fleet, marker):
    """compose() with the image the private engine holds already (its network namespace has
    no route to the test registry, nor anywhere else)."""
    return compose(fleet.registry, marker=marker).replace(fleet.registry.image("1"),
                                                          TEST_IMAGES[0])


def running_one(fleet, app):
    """The app's container when it is the only one of its service and running, else None."""
    svc = fleet.containers(app).get("svc") or []
    return svc[0] if len(svc) == 1 and svc[0]["State"]["Running"] else None


def test_docker_daemon_restart_and_crash(device):
    """The agent's Docker daemon restarted cleanly, then killed with SIGKILL and started again:
    each time the agent reports the engine unreachable (NotReady), its /events stream
    reconnects with backoff (within its 5 s backoff cap of the engine answering again; the
    loss reported once, not per attempt); an app with the agent's default restart policy
    (unless-stopped) is brought back by the engine after its clean restart and left alone
    (same container, no start by the agent; after the crash, which Docker 20.10 does not
    always restore, the agent starts it after a grace period, saying why); an app with
    `restart: "no"`, which the engine does not bring back, is
    started again by the agent (same container: restarted, not recreated) with an event
    saying the engine's restart is why; no service ever has two containers; the node is
    Ready and both apps Running afterwards; and the stream delivers container events again
    (a `docker kill` is seen as container_died; the `restart: "no"` app then stays exited)."""
    fleet = device
    engine = fleet.engine
    fleet.start()
    plain, always = f"en{uuid.uuid4().hex[:6]}", f"ed{uuid.uuid4().hex[:6]}"
    deploy(fleet, plain, device_compose(fleet, "plain") + "    restart: \"no\"\n")
    deploy(fleet, always, device_compose(fleet, "default"))
    fleet.wait_app(plain, 1)
    fleet.wait_app(always, 1)
    kept = fleet.containers(always)["svc"][0]["Id"]
    plain_id = fleet.containers(plain)["svc"][0]["Id"]

    for fault in ("restart", "kill"):
        mark = len(fleet.seen.messages)
        if fault == "restart":
            engine.stop()
        else:
            engine.kill()
        wait_until(lambda: any(k == "engine_unreachable" for k, _, _ in
                               engine_events(fleet, mark)), 30,
                   what=f"engine_unreachable event ({fault})")
        fleet.wait_health("NotReady", 30)
        time.sleep(2)  # a few reconnect attempts while the engine is down
        engine.start()
        answered = time.monotonic()
        wait_until(lambda: any(k == "engine_reconnected" for k, _, _ in
                               engine_events(fleet, mark)), 30,
                   what=f"engine_reconnected event ({fault})")
        took = time.monotonic() - answered
        assert took <= 5 + 3, f"events stream reconnected {took:.1f} s after the engine answered"
        fleet.wait_health("Ready", 30)
        wait_until(lambda: running_one(fleet, plain) and running_one(fleet, always), 60,
                   what=f"both apps running again after the daemon {fault}")
        fleet.wait_app(plain, 1)
        fleet.wait_app(always, 1)
        events = engine_events(fleet, mark)
        assert [k for k, _, _ in events].count("engine_unreachable") == 1, events
        assert fleet.containers(always)["svc"][0]["Id"] == kept, "recreated a restored container"
        assert fleet.containers(plain)["svc"][0]["Id"] == plain_id, "recreated, not restarted"
        restored = [e for e in events if e[0] == "container_restarted" and e[1] == plain]
        assert restored and "container engine's restart" in restored[-1][2], \
            f"no event says the engine restart is why {plain} was started again: {events}"
        by_agent = [e for e in events if e[0] == "container_restarted" and e[1] == always]
        if fault == "restart":  # a clean restart: the engine restores it itself
            assert not by_agent, f"the agent raced the engine's own restore: {events}"
        else:  # after a crash Docker 20.10 may not: then the agent does, after a grace period
            assert all("container engine's restart" in e[2] for e in by_agent), events
        time.sleep(4)  # two periodic reconciles: nothing duplicated or recreated meanwhile
        one_per_service(fleet, plain)
        one_per_service(fleet, always)

    # The reconnected stream delivers container events again; and `restart: "no"` is honoured
    # again for an exit of the app's own (the engine-restart exception is over).
    mark = len(fleet.seen.messages)
    engine.run("kill", plain_id)
    wait_until(lambda: any(k == "container_died" and a == plain
                           for k, a, _ in engine_events(fleet, mark)), 30,
               what="container_died after the reconnect")
    time.sleep(4)  # two periodic reconciles
    assert not running_one(fleet, plain), "restart: \"no\" not honoured after the restarts"
    one_per_service(fleet, plain)


# --- container runtime faults ----------------------------------------------------------------

def test_container_runtime_faults(fleet, docker_engine, registry):
    """A killed container, a removed container whose image was removed too, and a container
    killed by the kernel for memory: each is restored, and an event says why."""
    fleet.start()
    app = f"r{uuid.uuid4().hex[:6]}"
    revision = deploy(fleet, app, compose(registry))
    fleet.wait_app(app, revision)
    first = fleet.containers(app)["svc"][0]

    docker_engine.run("kill", first["Id"])
    wait_until(lambda: any(e.get("app") == app for e in fleet.events("container_died")), 30,
               what="container_died event")
    wait_until(lambda: fleet.containers(app)["svc"][0]["State"]["Running"], 30,
               what="restarted after kill")

    docker_engine.run("rm", "-f", first["Id"])
    docker_engine.run("rmi", "-f", registry.image("1"), check=False)
    wait_until(lambda: any(e.get("app") == app for e in fleet.events("container_recreated")),
               60, what="container_recreated event")
    wait_until(lambda: (fleet.containers(app).get("svc") or [{}])[0].get("State", {})
               .get("Running"), 60, what="recreated with the image pulled again")
    assert fleet.containers(app)["svc"][0]["Id"] != first["Id"]

    # OOM: a 16 MiB limit and a process that allocates far more.
    hog = f"o{uuid.uuid4().hex[:6]}"
    hog_compose = f"""services:
  svc:
    image: {registry.image("1")}
    command: ["sh", "-c", "sleep 1; x=$$(head -c 200000000 /dev/zero | tr '\\\\0' a); sleep 3600"]
    mem_limit: 16m
    memswap_limit: 16m
"""
    deploy(fleet, hog, hog_compose)
    died = wait_until(lambda: next((e for e in fleet.events("container_died")
                                    if e.get("app") == hog), None), 60, what="OOM death event")
    text = json.dumps(died)
    assert "out of memory" in text, f"death event does not say out of memory: {died}"
    def restarted():
        svc = fleet.containers(hog).get("svc")
        return svc and svc[0]["RestartCount"] >= 1 or \
            any(e.get("app") == hog for e in fleet.events("container_restarted"))
    wait_until(restarted, 60, what="OOM-killed container restarted")
