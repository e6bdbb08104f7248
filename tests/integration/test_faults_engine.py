"""Fault injection (docs/reliability.md, case 4): the container runtime broken under a real
pharos-agent — containers killed, removed with their image, and OOM-killed.
Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q tests/integration/test_faults_engine.py
"""
import json
import uuid

import pytest

from fault_support import compose, deploy, fleet_fixture
from test_agent import wait_until


@pytest.fixture
def fleet(pharos_bin, broker, docker_engine, registry):
    yield from fleet_fixture(pharos_bin, broker, docker_engine, registry)


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
