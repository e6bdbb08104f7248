"""A group of real devices for the anchor's end-to-end suites (test_anchor_group.py): the
real Mosquitto (shipped dynamic-security config), the real pharos-anchor and one real
pharos-agent per device, each device with its own private Docker Engine (so every agent
runs the same compose project without container-name clashes, as on separate machines).

GroupFleet(pharos_bin, broker, private_engines, workdir):
  add_device(name, keep_alive=10, start=True) -> Device (engine + agent, enrolled on the broker)
  ok(op, body) / request(op, body)   API calls as the operator `ops` (retried while the anchor
                                     answers `unavailable` or is restarting)
  health_messages(node)              every retained health verdict seen, with arrival times
  status_messages(node)              every status (Ready, will) seen, with arrival times
  wait_health(node, state, timeout), rollout(app), wait_rollout(app, revision, nodes)
  reconnect()                        new operator clients after a broker restart
Device: name, engine, agent; containers(app) -> {service: inspect}, identity(app) ->
  {service: (id, StartedAt, RestartCount, image, revision label)}.
Message arrival times are paho's `timestamp` (time.monotonic() when the packet was read).
Not thread-safe: one GroupFleet per test, driven from the test's thread.
"""
import json
import pathlib
import shutil
import tempfile
import threading
import time

from cli_support import AnchorProcess
from test_agent import AgentProc, wait_until

ROOT = "pharos/v1"


class Device:
    def __init__(self, name, engine, agent):
        self.name = name
        self.engine = engine
        self.agent = agent

    def containers(self, app):
        """{service: inspect} of the app's containers on this device (running or not),
        asserting one container per service."""
        out = {}
        for cid in self.engine.containers(f"com.docker.compose.project={app}"):
            proc = self.engine.run("inspect", "--type", "container", cid, check=False)
            if proc.returncode != 0:
                continue  # removed meanwhile
            info = json.loads(proc.stdout)[0]
            if info["Name"].endswith("_pharos_probe"):
                continue
            service = info["Config"]["Labels"].get("com.docker.compose.service")
            assert service not in out, f"{self.name}: two containers for {app}/{service}"
            out[service] = info
        return out

    def identity(self, app):
        return {s: (i["Id"], i["State"]["StartedAt"], i["RestartCount"], i["Config"]["Image"],
                    i["Config"]["Labels"].get("io.pharos.revision"))
                for s, i in self.containers(app).items()}

    def running(self, app, image, revision, services):
        """True when every service runs `image` at `revision`, one container each."""
        got = self.containers(app)
        return set(got) == set(services) and all(
            i["State"]["Running"] and i["Config"]["Image"] == image and
            i["Config"]["Labels"].get("io.pharos.revision") == str(revision)
            for i in got.values())


class GroupFleet:
    def __init__(self, pharos_bin, broker, private_engines, workdir):
        self.pharos_bin = pharos_bin
        self.broker = broker
        self.private_engines = private_engines
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-group-", dir=workdir))
        self.anchor = AnchorProcess(pharos_bin("pharos-anchor"), broker, self.dir / "anchor")
        self.devices = {}
        self.reconnect()

    def reconnect(self):
        self.ops = self.broker.client("ops")
        self.seen = self.ops.subscribe_collect(f"{ROOT}/nodes/+/+")
        self.groups_seen = self.ops.subscribe_collect(f"{ROOT}/groups/+/desired")

    def start(self):
        self.anchor.start()
        return self

    def add_device(self, name, keep_alive=10, start=True):
        engine = self.private_engines()
        self.broker.add_agent(name)
        workdir = self.dir / name
        workdir.mkdir()
        agent = AgentProc(self.pharos_bin("pharos-agent"), name, self.broker, engine, workdir,
                          extra_args=["--keep-alive", str(keep_alive), "--label",
                                      f"device={name}"])
        device = Device(name, engine, agent)
        self.devices[name] = device
        if start:
            agent.start()
        return device

    # --- API ------------------------------------------------------------------------------

    def request(self, op, body=None, timeout=30):
        """Sends the request again every 5 s without an answer: one sent while the anchor is
        away (restarting, reconnecting to a restarted broker) is lost, as for any client."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.ops.request(op, body or {}, timeout=max(
                    1, min(5, deadline - time.monotonic())))
                if reply.get("ok") or reply["error"]["code"] != "unavailable" or \
                        time.monotonic() > deadline:
                    return reply
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no reply to {op}\n{self.logs()}")
            time.sleep(0.2)

    def ok(self, op, body=None):
        reply = self.request(op, body)
        assert reply.get("ok"), f"{op}: {reply}\n{self.logs()}"
        return reply["result"]

    def logs(self, agents=True):
        parts = [f"--- anchor log:\n{self.anchor.log()[-4000:]}"]
        if agents:
            for d in self.devices.values():
                parts.append(f"--- agent {d.name} log:\n{d.agent.log()[-2500:]}")
        return "\n".join(parts)

    # --- observations ---------------------------------------------------------------------

    def _messages(self, node, kind):
        topic = f"{ROOT}/nodes/{node}/{kind}"
        return [(m.timestamp, json.loads(m.payload)) for m in self.seen.messages
                if m.topic == topic and m.payload]

    def health_messages(self, node):
        return self._messages(node, "health")

    def status_messages(self, node):
        return self._messages(node, "status")

    def desired(self, node):
        docs = self._messages(node, "desired")
        return docs[-1][1] if docs else None

    def applied_sources(self, node):
        """The sources (node, group:<g>, secrets) of the documents the node's agent reports
        applied in its latest state."""
        states = self._messages(node, "state")
        return {ref["source"] for ref in states[-1][1].get("applied", [])} if states else set()

    def group_documents(self, group):
        topic = f"{ROOT}/groups/{group}/desired"
        return [json.loads(m.payload) for m in self.groups_seen.messages
                if m.topic == topic and m.payload]

    def health(self, node):
        reply = self.request("node.get", {"name": node})
        return reply["result"]["health"] if reply.get("ok") else None

    def wait_health(self, node, state, timeout=60):
        try:
            return wait_until(lambda: self.health(node) == state, timeout, 0.1,
                              what=f"{node} {state}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.logs()}") from None

    def rollout(self, app):
        return self.ok("app.get", {"name": app})["rollout"]

    def wait_rollout(self, app, revision, nodes, timeout=120):
        """Waits until the anchor's summary says every node in `nodes` runs `revision`
        (and nothing else is targeted); returns the summary."""
        def check():
            r = self.rollout(app)
            statuses = {n["node"]: n["status"] for n in r.get("nodes", [])}
            done = r["revision"] == revision and r["total"] == len(nodes) and \
                r["running"] == len(nodes) and statuses == {n: "running" for n in nodes}
            return r if done else None
        try:
            return wait_until(check, timeout, 0.3, what=f"{app} r{revision} on {sorted(nodes)}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nrollout: {self.rollout(app)}\n{self.logs()}") from None

    def wait_devices(self, app, image, revision, services, devices, timeout=60):
        def check():
            return all(d.running(app, image, revision, services) for d in devices)
        try:
            wait_until(check, timeout, 0.3, what=f"{app} r{revision} containers")
        except AssertionError as e:
            got = {d.name: d.identity(app) for d in devices}
            raise AssertionError(f"{e}\ncontainers: {got}\n{self.logs()}") from None

    def cleanup(self):
        for d in self.devices.values():
            try:
                d.agent.kill()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        self.anchor.stop()
        # The engines go in parallel (a few seconds each); the private_engines fixture's own
        # teardown then finds them gone.
        threads = [threading.Thread(target=d.engine.destroy) for d in self.devices.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        shutil.rmtree(self.dir, ignore_errors=True)


__all__ = ["GroupFleet", "Device", "ROOT", "wait_until"]
