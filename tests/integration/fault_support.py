"""Shared pieces of the fault suites (test_faults*.py, docs/reliability.md): a pharos-agent
with a short keep-alive, and a Fleet — a broker, the real anchor and one real agent on a
given Docker Engine — with helpers that deploy one-service apps and inspect the node's
topics and containers. Not thread-safe; one Fleet per test.
"""
import json
import pathlib
import shutil
import tempfile
import time
import uuid

from cli_support import AnchorProcess
from test_agent import AgentProc, wait_until

ROOT = "pharos/v1"
KEEP_ALIVE = 2
# A frozen agent is NotReady within 1.5 x keep-alive + 1 s (issues 4 and 8): the anchor times
# the agents' heartbeats itself (docs/anchor.md "Health"), so Debian's Mosquitto 2.0.11, whose
# keep-alive scan runs only every 6 s, no longer decides when.
FREEZE_BOUND = 1.5 * KEEP_ALIVE + 1


class FaultAgent(AgentProc):
    """pharos-agent with a short keep-alive (AgentProc's flags plus --keep-alive)."""

    def __init__(self, binary, node, broker, engine, workdir):
        super().__init__(binary, node, broker, engine, workdir,
                         extra_args=("--keep-alive", str(KEEP_ALIVE)))


class Fleet:
    """A broker, the anchor and one real agent; `ops` talks to the anchor's API and watches
    the node's topics. Clients are re-created after a broker restart (which closes them)."""

    def __init__(self, pharos_bin, broker, engine, registry):
        self.broker = broker
        self.engine = engine
        self.registry = registry
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-faults-"))
        self.node = f"flt-{uuid.uuid4().hex[:8]}"
        broker.add_agent(self.node)
        self.anchor = AnchorProcess(pharos_bin("pharos-anchor"), broker, self.dir / "anchor")
        self.agent = FaultAgent(pharos_bin("pharos-agent"), self.node, broker, engine,
                                self.dir)
        self.desired_generations = []  # (client epoch, generation) of every node document seen
        self._epoch = 0
        self.connect()

    def connect(self):
        self._epoch += 1
        self.ops = self.broker.client("ops")
        self.seen = self.ops.subscribe_collect(f"{ROOT}/nodes/{self.node}/#")

    def topic(self, kind):
        return f"{ROOT}/nodes/{self.node}/{kind}"

    def start(self):
        self.anchor.start()
        self.agent.start()
        self.wait_health("Ready", 30)
        return self

    def restart_broker(self, wipe_store=False):
        self.record_generations()
        self.broker.restart(wipe_store=wipe_store)
        self.connect()

    def request(self, op, body=None, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            try:
                left = max(1, deadline - time.monotonic())
                reply = self.ops.request(op, body or {}, timeout=left)
                if reply.get("ok") or reply["error"]["code"] != "unavailable" or \
                        time.monotonic() > deadline:
                    return reply
            except TimeoutError:
                if time.monotonic() > deadline:
                    alive = self.anchor.proc is not None and self.anchor.proc.poll() is None
                    raise TimeoutError(f"no reply to {op} (anchor alive: {alive})\nanchor log:\n"
                                       f"{self.anchor.log()[-4000:]}")
            time.sleep(0.3)

    def ok(self, op, body=None):
        reply = self.request(op, body)
        assert reply.get("ok"), f"{op}: {reply}\nanchor log:\n{self.anchor.log()[-3000:]}"
        return reply["result"]

    def health(self):
        try:
            reply = self.ops.request("node.get", {"name": self.node}, timeout=3)
        except TimeoutError:
            return None
        return reply["result"]["health"] if reply.get("ok") else None

    def wait_verdict(self, state, after_ms, timeout):
        """The first retained health verdict `state` the anchor decided at or after `after_ms`
        (Unix ms), as published: its `since` is the anchor's transition time, so what is
        measured does not include how long this test took to notice."""
        def check():
            for m in self.seen.messages:
                if m.topic != self.topic("health") or not m.payload:
                    continue
                doc = json.loads(m.payload)
                if doc["state"] == state and doc["since"] >= after_ms:
                    return doc
            return None
        try:
            return wait_until(check, timeout, 0.02, what=f"health verdict {state}")
        except AssertionError:
            raise AssertionError(f"node never {state}\nagent log:\n{self.agent.log()}\n"
                                 f"anchor log:\n{self.anchor.log()[-3000:]}")

    def wait_health(self, state, timeout):
        try:
            return wait_until(lambda: self.health() == state, timeout, what=f"health {state}")
        except AssertionError:
            raise AssertionError(f"node never {state}\nagent log:\n{self.agent.log()}\n"
                                 f"anchor log:\n{self.anchor.log()[-3000:]}")

    def latest(self, kind):
        msgs = [m for m in self.seen.messages if m.topic == self.topic(kind) and m.payload]
        return json.loads(msgs[-1].payload) if msgs else None

    def app_state(self, app):
        for a in (self.latest("state") or {}).get("apps", []):
            if a["name"] == app:
                return a
        return None

    def wait_app(self, app, revision, phase="Running", timeout=90):
        def check():
            a = self.app_state(app)
            return a if a and a["phase"] == phase and a["revision"] == revision else None
        try:
            return wait_until(check, timeout, what=f"{app} r{revision} {phase}")
        except AssertionError:
            raise AssertionError(f"{app} never {phase} at r{revision}: {self.app_state(app)}\n"
                                 f"agent log:\n{self.agent.log()}")

    def events(self, kind):
        out = []
        for m in self.seen.messages:
            if m.topic == self.topic("events") and m.payload:
                e = json.loads(m.payload)
                if e.get("kind") == kind:
                    out.append(e)
        return out

    def record_generations(self):
        for m in self.seen.messages:
            if m.topic == self.topic("desired") and m.payload:
                doc = json.loads(m.payload)
                self.desired_generations.append((doc["epoch"], doc["generation"]))

    def containers(self, app):
        """{service: [inspect, ...]} of the app's containers (all, running or not)."""
        out = {}
        for info in self.engine.inspect_all(f"io.pharos.node={self.node}"):
            labels = info["Config"]["Labels"]
            if labels.get("com.docker.compose.project") != app:
                continue
            out.setdefault(labels.get("com.docker.compose.service"), []).append(info)
        return out

    def identity(self, app):
        """{service: (id, StartedAt, RestartCount)}, asserting one container per service."""
        result = {}
        for service, infos in self.containers(app).items():
            assert len(infos) == 1, f"{app}/{service}: {len(infos)} containers"
            i = infos[0]
            result[service] = (i["Id"], i["State"]["StartedAt"], i["RestartCount"])
        return result

    def cleanup(self):
        try:
            self.agent.kill()
        finally:
            self.anchor.stop()
            self.engine.cleanup(f"io.pharos.node={self.node}")
            shutil.rmtree(self.dir, ignore_errors=True)


def fleet_fixture(pharos_bin, broker, engine, registry):
    """Body of each suite's `fleet` fixture: a Fleet on `engine`, cleaned up afterwards."""
    f = Fleet(pharos_bin, broker, engine, registry)
    try:
        yield f
    finally:
        f.cleanup()


def compose(registry, tag="1", marker="a"):
    lines = ["services:", "  svc:", f"    image: {registry.image(tag)}",
             "    command: [\"sh\", \"-c\",",
             "              \"trap 'exit 0' TERM; while :; do sleep 1 & wait $$!; done\"]",
             "    stop_grace_period: 1s",
             "    environment:", f"      MARKER: \"{marker}\""]
    return "\n".join(lines) + "\n"


def deploy(fleet, app, body_compose, target=None, variables=None):
    body = {"name": app, "target": target or {"node": fleet.node}, "compose": body_compose}
    if variables is not None:
        body["variables"] = variables
    return fleet.ok("app.deploy", body)["revision"]


def assert_generations_monotonic(fleet):
    fleet.record_generations()
    assert fleet.desired_generations, "no node document observed"
    seen = {}
    for epoch, generation in fleet.desired_generations:
        assert generation >= seen.get(epoch, 0), \
            f"desired document regressed: {fleet.desired_generations}"
        seen[epoch] = generation


def one_per_service(fleet, app):
    for service, infos in fleet.containers(app).items():
        assert len(infos) == 1, f"duplicate containers for {app}/{service}: " \
            f"{[i['Name'] for i in infos]}"

