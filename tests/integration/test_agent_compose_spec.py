"""pharos-agent handles volumes, profiles, binds and networks as docker-compose 1.29 does.

Against the real engine: a recreate (an env change) keeps the data of an anonymous volume
and leaks no volume (not the old container's, not the create probe's), and an app removed
with `volumes: delete` leaves none; a service with `profiles` runs only when
COMPOSE_PROFILES enables it; a long-syntax bind to a missing host path fails the app with
the engine's message instead of creating the folder; the app's network is attachable.
Volume leaks are judged from the engine's events for this app's containers only, so suites
running at the same time on the shared engine do not disturb the count.
"""
import json
import os
import subprocess
import time
import uuid

from test_agent import node, spec, wait_until  # noqa: F401 (node is a fixture)


def volume_events(engine, since, app):
    """Volumes made or mounted for containers named <app>_* since `since`, and the volumes
    destroyed. The engine makes a container's anonymous volumes just before it reports the
    container created: a volume created after the previous container event and at most
    100 ms before one of ours is ours (a create probe is never started, so never mounts)."""
    proc = engine.run("events", "--since", str(since), "--until", str(int(time.time()) + 1),
                      "--format", "{{json .}}")
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    events.sort(key=lambda e: e.get("timeNano", 0))
    ours, volumes, destroyed = set(), set(), set()
    recent = []  # volumes created since the last container event: (name, timeNano)
    for event in events:
        attributes = event.get("Actor", {}).get("Attributes", {})
        kind, action = event.get("Type"), event.get("Action")
        if kind == "container":
            if action == "create" and attributes.get("name", "").startswith(f"{app}_"):
                ours.add(event["Actor"]["ID"])
                volumes |= {name for name, at in recent
                            if event["timeNano"] - at <= 100_000_000}
            recent = []
        elif kind == "volume" and action == "create":
            recent.append((event["Actor"]["ID"], event.get("timeNano", 0)))
        elif kind == "volume" and action == "mount" and attributes.get("container") in ours:
            volumes.add(event["Actor"]["ID"])
        elif kind == "volume" and action == "destroy":
            destroyed.add(event["Actor"]["ID"])
    return volumes, destroyed


def data_volume(info):
    return next(m["Name"] for m in info["Mounts"] if m["Destination"] == "/data")


def test_recreate_keeps_anonymous_volume_data_and_removal_deletes_it(node, registry,
                                                                     docker_engine):
    app = f"v{uuid.uuid4().hex[:8]}"
    compose = f"""
services:
  db:
    image: {registry.image("1")}
    command: ["sh", "-c", "exec sleep 3600"]
    stop_grace_period: 1s
    environment: {{LEVEL: "{{level}}"}}
    volumes: [/data]
"""
    since = int(time.time()) - 1
    created = set()
    try:
        node.agent.start()
        node.publish_desired([spec(app, compose.replace("{level}", "1"))])
        node.wait_phase(app, "Running")
        first = node.container(app, "db")
        volume = data_volume(first)
        created.add(volume)
        docker_engine.run("exec", first["Id"], "sh", "-c", "echo kept > /data/f")

        node.publish_desired([spec(app, compose.replace("{level}", "2"), revision=2)])
        node.wait_phase(app, "Running", revision=2)
        second = wait_until(lambda: (lambda c: c if c and c["Id"] != first["Id"] else None)(
            node.container(app, "db")), 60, what="recreated container")
        assert "LEVEL=2" in second["Config"]["Env"]
        assert data_volume(second) == volume
        read = docker_engine.run("exec", second["Id"], "cat", "/data/f")
        assert read.stdout.strip() == "kept"
        mounted, destroyed = volume_events(docker_engine, since, app)
        created |= mounted
        assert volume in mounted
        # Nothing else of the app's remains: not the old container's, not the create probe's.
        assert mounted - destroyed == {volume}, (mounted, destroyed)

        node.publish_desired([spec(app, compose.replace("{level}", "2"), revision=2,
                                   state="removed", volumes="delete")])
        wait_until(lambda: not docker_engine.containers(f"com.docker.compose.project={app}"),
                   60, what="containers removed")
        node.wait_event("app_removed", lambda e: e.get("app") == app)
        mounted, destroyed = volume_events(docker_engine, since, app)
        created |= mounted
        assert mounted and mounted <= destroyed, (mounted, destroyed)
        assert docker_engine.run("volume", "inspect", volume, check=False).returncode != 0
    finally:
        created |= volume_events(docker_engine, since, app)[0]
        for name in created:
            docker_engine.run("volume", "rm", "-f", name, check=False)


def test_profiles_bind_sources_and_attachable_network(node, registry, docker_engine):
    app = f"s{uuid.uuid4().hex[:8]}"
    compose = f"""
services:
  web:
    image: {registry.image("1")}
    command: ["sh", "-c", "exec sleep 3600"]
    stop_grace_period: 1s
  admin:
    image: {registry.image("1")}
    command: ["sh", "-c", "exec sleep 3600"]
    stop_grace_period: 1s
    profiles: [debug]
"""
    node.agent.start()
    node.publish_desired([spec(app, compose)])
    node.wait_phase(app, "Running")
    assert node.container(app, "web")
    assert node.container(app, "admin") is None  # inactive without its profile

    # The project network is attachable: a plain `docker run` can join it.
    network = docker_engine.json("network", "inspect", f"{app}_default")[0]
    assert network["Attachable"] is True
    run = docker_engine.run("run", "--rm", "--network", f"{app}_default", registry.image("1"),
                            "true", check=False)
    assert run.returncode == 0, run.stderr

    node.publish_desired([spec(app, compose, revision=2,
                               variables={"COMPOSE_PROFILES": "debug"})])
    node.wait_phase(app, "Running", revision=2)
    assert node.container(app, "admin")

    # A long-syntax bind whose source is missing: Failed with the engine's reason, and no
    # folder made on the host.
    missing = f"/tmp/pharos-missing-{uuid.uuid4().hex[:8]}"
    bad = compose + f"""    volumes: [{{type: bind, source: {missing}, target: /in}}]
"""
    node.publish_desired([spec(app, bad, revision=3, variables={"COMPOSE_PROFILES": "debug"})])
    failed = node.wait_phase(app, "Failed", revision=3)
    assert "bind source path does not exist" in failed["message"], failed
    assert not os.path.exists(missing)
    assert node.container(app, "admin")["State"]["Running"]  # the old one left running
