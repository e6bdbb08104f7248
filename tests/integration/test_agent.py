"""pharos-agent against the real Mosquitto and the real Docker Engine (loopback only).

The test plays the anchor: it publishes retained desired documents as the `anchor` user and
watches the agent's status, state and events as the operator `ops`, and the containers
through the `docker` CLI. Each test enrols its own node id, so containers of other suites
sharing the engine are never touched; everything labelled with that node is removed after.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = "pharos/v1"


def wait_until(predicate, timeout=60.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class AgentProc:
    """One pharos-agent process with its own state file and data folder."""

    def __init__(self, binary, node, broker, engine, workdir, broker_url=None, extra_args=()):
        self.binary = binary
        self.node = node
        self.broker = broker
        self.engine = engine
        self.workdir = pathlib.Path(workdir)
        self.broker_url = broker_url or broker.url
        self.extra_args = list(extra_args)  # more flags (--keep-alive 2, --label k=v, ...)
        self.proc = None
        self.log_path = self.workdir / "agent.log"

    def start(self):
        user, password = self.broker.credentials(f"agent-{self.node}")
        pw_file = self.workdir / "password"
        pw_file.write_text(password + "\n")
        args = [str(self.binary), "--config", "/dev/null",
                "--node-id", self.node, "--broker-url", self.broker_url,
                "--username", user, "--password-file", str(pw_file),
                "--state-file", str(self.workdir / "state.json"),
                "--data-dir", str(self.workdir / "data"),
                "--docker-host", self.engine.host,
                "--reconcile-interval", "2", "--pull-jitter", "0",
                "--health-timeout", "60", "--log-level", "debug",
                "--label", "line=itest"] + self.extra_args
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except FileNotFoundError:
            return ""


class Node:
    """A test node: its agent, the anchor's publisher and an operator's observer."""

    def __init__(self, pharos_bin, broker, engine):
        self.id = f"itest-{uuid.uuid4().hex[:10]}"
        broker.add_agent(self.id)
        self.broker = broker
        self.engine = engine
        self.dir = tempfile.mkdtemp(prefix="pharos-agent-itest-")
        self.agent = AgentProc(pharos_bin("pharos-agent"), self.id, broker, engine, self.dir)
        self.anchor = broker.client("anchor")
        self.ops = broker.client("ops")
        self.seen = self.ops.subscribe_collect(f"{ROOT}/nodes/{self.id}/#")
        self.generation = 0

    def topic(self, kind):
        return f"{ROOT}/nodes/{self.id}/{kind}"

    def publish_desired(self, apps, epoch="itest-epoch"):
        self.generation += 1
        doc = {"v": 1, "epoch": epoch, "generation": self.generation, "labels": {},
               "groups": [], "apps": apps}
        self.anchor.publish(self.topic("desired"), doc, retain=True)

    def latest(self, kind):
        msgs = [m for m in self.seen.messages if m.topic == self.topic(kind) and m.payload]
        return json.loads(msgs[-1].payload) if msgs else None

    def status(self):
        return self.latest("status")

    def app_state(self, name):
        st = self.latest("state")
        for a in (st or {}).get("apps", []):
            if a["name"] == name:
                return a
        return None

    def wait_phase(self, name, phase, timeout=90, revision=None):
        def check():
            a = self.app_state(name)
            ok = a and a["phase"] == phase and (revision is None or a["revision"] == revision)
            return a if ok else None
        try:
            return wait_until(check, timeout, what=f"{name} phase {phase}")
        except AssertionError:
            raise AssertionError(f"{name} never reached {phase}: {self.app_state(name)}\n"
                                 f"agent log:\n{self.agent.log()}")

    def events(self, kind=None):
        out = []
        for m in self.seen.messages:
            if m.topic == self.topic("events") and m.payload:
                e = json.loads(m.payload)
                if kind is None or e["kind"] == kind:
                    out.append(e)
        return out

    def wait_event(self, kind, predicate=lambda e: True, timeout=60):
        return wait_until(lambda: next((e for e in self.events(kind) if predicate(e)), None),
                          timeout, what=f"event {kind}")

    def container(self, app, service):
        ids = self.engine.containers(f"com.docker.compose.project={app}")
        for cid in ids:
            proc = self.engine.run("inspect", "--type", "container", cid, check=False)
            if proc.returncode != 0:
                continue  # removed meanwhile (the agent's probe container, a recreate)
            info = json.loads(proc.stdout)[0]
            if info["Name"].endswith("_pharos_probe"):
                continue
            labels = info["Config"]["Labels"]
            if labels.get("com.docker.compose.service") == service and \
                    labels.get("io.pharos.node") == self.id:
                return info
        return None

    def cleanup(self):
        self.agent.kill()
        label = f"io.pharos.node={self.id}"
        self.engine.cleanup(label)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def node(pharos_bin, broker, docker_engine, registry):
    n = Node(pharos_bin, broker, docker_engine)
    yield n
    n.cleanup()


def app_name():
    return f"a{uuid.uuid4().hex[:8]}"


def three_service_compose(registry, web_tag="1", port=None):
    return f"""
services:
  web:
    image: {registry.image(web_tag)}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1:{port}:8080"]
    stop_grace_period: 2s
  db:
    image: {registry.image("1")}
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      retries: 3
  worker:
    image: {registry.image("1")}
    depends_on:
      db: {{condition: service_healthy}}
volumes:
  data: {{}}
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec(name, compose, revision=1, state="running", **extra):
    d = {"name": name, "revision": revision, "compose": compose, "state": state,
         "variables": {}, "restart": 0, "volumes": "keep"}
    d.update(extra)
    return d


def test_three_service_app_update_stop_remove(node, registry, docker_engine):
    node.agent.start()
    wait_until(lambda: (node.status() or {}).get("state") == "Ready", 30, what="Ready")
    assert node.latest("info")["labels"] == {"line": "itest"}
    app = app_name()
    port = free_port()
    node.publish_desired([spec(app, three_service_compose(registry, "1", port))])
    node.wait_phase(app, "Running")

    web, db, worker = (node.container(app, s) for s in ("web", "db", "worker"))
    assert web and db and worker
    assert web["State"]["Running"] and worker["State"]["Running"]
    assert db["State"]["Health"]["Status"] == "healthy"
    # worker started only after db was healthy.
    assert worker["State"]["StartedAt"] > db["State"]["StartedAt"]
    assert web["HostConfig"]["PortBindings"] == {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert web["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert web["Name"] == f"/{app}_web_1"
    assert any(m.get("Name") == f"{app}_data" for m in db["Mounts"])
    labels = web["Config"]["Labels"]
    assert labels["com.docker.compose.project"] == app
    assert labels["io.pharos.revision"] == "1"
    # docker-compose 1.29 sees the app as its own project.
    ps = subprocess.run(["docker-compose", "-p", app, "ps", "-q"], env=docker_engine.env,
                        capture_output=True, text=True, cwd=node.dir, timeout=60)
    if ps.returncode == 0:
        assert len(ps.stdout.split()) == 3

    # Update one service: only it is recreated.
    node.publish_desired([spec(app, three_service_compose(registry, "2", port), revision=2)])
    wait_until(lambda: (node.container(app, "web") or {}).get("Id") not in (None, web["Id"]),
               60, what="web recreated")
    node.wait_phase(app, "Running", revision=2)
    assert node.container(app, "db")["Id"] == db["Id"]
    assert node.container(app, "worker")["Id"] == worker["Id"]
    assert node.container(app, "web")["Config"]["Image"] == registry.image("2")

    # Stop: containers stay, not running.
    node.publish_desired([spec(app, three_service_compose(registry, "2", port), revision=2,
                               state="stopped")])
    node.wait_phase(app, "Stopped")
    for s in ("web", "db", "worker"):
        c = node.container(app, s)
        assert c is not None and not c["State"]["Running"]

    # Remove: containers and network gone, the named volume kept.
    node.publish_desired([spec(app, three_service_compose(registry, "2", port), revision=2,
                               state="removed")])
    wait_until(lambda: not docker_engine.containers(f"com.docker.compose.project={app}"), 60,
               what="containers removed")
    wait_until(lambda: node.app_state(app) is None, 30, what="app gone from state")
    assert not docker_engine.networks(f"io.pharos.app={app}")
    assert f"{app}_data" in docker_engine.volumes(f"io.pharos.node={node.id}")
    node.wait_event("app_removed", lambda e: e.get("app") == app)


def test_failover_kill_and_rm(node, registry, docker_engine):
    node.agent.start()
    app = app_name()
    compose = f"""
services:
  svc:
    image: {registry.image("1")}
    restart: always
"""
    node.publish_desired([spec(app, compose)])
    node.wait_phase(app, "Running")
    first = node.container(app, "svc")

    # docker kill: Docker restarts it (restart: always), the agent reports the death.
    docker_engine.run("kill", first["Id"])
    node.wait_event("container_died", lambda e: e.get("app") == app)
    wait_until(lambda: node.container(app, "svc")["State"]["Running"], 30, what="restarted")
    assert node.container(app, "svc")["Id"] == first["Id"]

    # docker rm -f: the agent recreates it.
    docker_engine.run("rm", "-f", first["Id"])
    node.wait_event("container_recreated", lambda e: e.get("app") == app)
    wait_until(lambda: (node.container(app, "svc") or {}).get("State", {}).get("Running"), 30,
               what="recreated and running")
    assert node.container(app, "svc")["Id"] != first["Id"]


def test_agent_restart_adopts_containers(node, registry, docker_engine):
    node.agent.start()
    app = app_name()
    node.publish_desired([spec(app, three_service_compose(registry, "1", free_port()))])
    node.wait_phase(app, "Running")
    before = {s: node.container(app, s) for s in ("web", "db", "worker")}
    session = node.status()["session"]

    node.agent.kill()  # kill -9: the broker publishes the will
    wait_until(lambda: node.status()["state"] == "NotReady", 15, what="will published")
    node.agent.start()
    wait_until(lambda: node.status()["state"] == "Ready" and node.status()["session"] > session,
               30, what="Ready with a newer session")
    time.sleep(5)  # two periodic reconciles
    for s, info in before.items():
        now = node.container(app, s)
        assert now["Id"] == info["Id"], s
        assert now["State"]["StartedAt"] == info["State"]["StartedAt"], f"{s} was restarted"
        assert now["RestartCount"] == info["RestartCount"]


def test_clean_shutdown_publishes_not_ready(node):
    node.agent.start()
    wait_until(lambda: (node.status() or {}).get("state") == "Ready", 30, what="Ready")
    node.agent.stop()
    assert node.agent.proc.returncode == 0
    wait_until(lambda: node.status()["reason"] == "agent stopped", 10, what="NotReady")
    assert node.status()["state"] == "NotReady"


def test_broker_down_apps_from_state_file(node, registry, docker_engine, broker):
    node.agent.start()
    app = app_name()
    compose = f"services: {{svc: {{image: '{registry.image('1')}'}}}}\n"
    node.publish_desired([spec(app, compose)])
    node.wait_phase(app, "Running")
    node.agent.stop()
    docker_engine.cleanup(f"io.pharos.node={node.id}")  # a device reset: nothing runs

    # The agent starts with the broker unreachable: the state file is enough.
    node.agent.broker_url = "tcp://127.0.0.1:1"
    node.agent.start()
    wait_until(lambda: (node.container(app, "svc") or {}).get("State", {}).get("Running"), 60,
               what="app from the state file running")


def test_broken_compose_changes_nothing(node, registry):
    node.agent.start()
    app = app_name()
    compose = f"services: {{svc: {{image: '{registry.image('1')}'}}}}\n"
    node.publish_desired([spec(app, compose)])
    node.wait_phase(app, "Running")
    before = node.container(app, "svc")
    node.publish_desired([spec(app, "services: {svc: {build: .}}\n", revision=2)])
    node.wait_event("bad_document", lambda e: e.get("app") == app)
    failed = node.wait_phase(app, "Failed", revision=2)
    assert "build" in failed["message"]
    time.sleep(3)
    after = node.container(app, "svc")
    assert after["Id"] == before["Id"] and after["State"]["Running"]

    # A document that is not even JSON: refused, shown in state, nothing changes.
    node.anchor.publish(node.topic("desired"), "{garbage", retain=True)
    node.wait_event("bad_document", lambda e: not e.get("app"))
    wait_until(lambda: "bad_documents" in (node.latest("state") or {}), 10,
               what="bad document in state")
    assert node.container(app, "svc")["Id"] == before["Id"]


def test_cmd_logs_and_inspect_over_the_broker(node, registry):
    node.agent.start()
    app = app_name()
    compose = f"""
services:
  svc:
    image: {registry.image("1")}
    command: ["sh", "-c", "echo hello-from-$$PHAROS_NODE; trap 'exit 0' TERM; while :; do sleep 1 & wait $$!; done"]
    environment:
      PHAROS_NODE: ${{PHAROS_NODE_ID}}
"""
    node.publish_desired([spec(app, compose)])
    node.wait_phase(app, "Running")
    # The agent answers inside its own subtree, on the requesting user's cmd-replies.
    replies = node.ops.subscribe_collect(f"{ROOT}/nodes/{node.id}/cmd-replies/ops/#")
    reply_topic = f"{ROOT}/nodes/{node.id}/cmd-replies/ops/logs-{uuid.uuid4().hex[:6]}"
    node.ops.publish(f"{ROOT}/nodes/{node.id}/cmd/logs/ops",
                     {"v": 1, "app": app, "service": "svc", "tail": 20},
                     response_topic=reply_topic, correlation=b"c-1")

    def logs_reply():
        m = replies.wait_for(lambda m: m.topic == reply_topic, timeout=1)
        if m is None:
            return None
        body = json.loads(m.payload)
        return body if body.get("ok") and "hello-from-" + node.id in body["result"]["logs"] \
            else None
    wait_until(logs_reply, 30, what="logs reply")

    inspect_topic = f"{ROOT}/nodes/{node.id}/cmd-replies/ops/inspect-{uuid.uuid4().hex[:6]}"
    node.ops.publish(f"{ROOT}/nodes/{node.id}/cmd/inspect/ops", {"v": 1, "app": app},
                     response_topic=inspect_topic)
    m = replies.wait_for(lambda m: m.topic == inspect_topic, timeout=30)
    assert m is not None
    body = json.loads(m.payload)
    assert body["ok"] is True
    assert body["result"]["containers"][0]["service"] == "svc"
