"""Shared pieces of the Sparkplug suite (test_sparkplug.py, docs/scada.md): the Eclipse Tahu
payload codec from npm as a subprocess, a Sparkplug host (a paho subscriber whose every
message the codec must decode), a pharos-sparkplug process, and a SparkplugSite (broker with
the Sparkplug identities, the real anchor, real agents, the edge node, a host). Not
thread-safe apart from the host's message list; one site per test."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import paho.mqtt.client as mqtt

import dynsec
from cli_support import AnchorProcess
from test_agent import AgentProc, wait_until

ROOT = "pharos/v1"
REPO = pathlib.Path(__file__).resolve().parents[2]
CODEC_DIR = REPO / "tests" / "sparkplug-host"
GROUP = "itest"
EDGE = "site"


class TahuCodec:
    """node tests/sparkplug-host/codec.js: the npm sparkplug-payload codec, one JSON line in,
    one out. Raises when the npm packages are missing (tools/setup.sh installs them)."""

    def __init__(self):
        if not (CODEC_DIR / "node_modules" / "sparkplug-payload").is_dir():
            raise RuntimeError("tests/sparkplug-host/node_modules is missing: run tools/setup.sh "
                               "(or npm ci in tests/sparkplug-host)")
        self.proc = subprocess.Popen(["node", str(CODEC_DIR / "codec.js")], cwd=CODEC_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()

    def _call(self, request):
        with self.lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def decode(self, payload: bytes) -> dict:
        out = self._call({"op": "decode", "hex": payload.hex()})
        if not out["ok"]:
            raise ValueError(f"the Tahu codec cannot decode {payload.hex()}: {out['error']}")
        return out["payload"]

    def encode(self, payload: dict) -> bytes:
        out = self._call({"op": "encode", "payload": payload})
        if not out["ok"]:
            raise ValueError(out["error"])
        return bytes.fromhex(out["hex"])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(5)


class Host:
    """A Sparkplug host application: subscribes to spBv1.0/# as a SCADA identity, decodes every
    message with the Tahu codec (a message it cannot decode fails the test) and can publish
    its STATE and commands (encoded by the codec too)."""

    def __init__(self, broker, user, codec, host_id=None):
        self.codec = codec
        self.host_id = host_id
        self.messages = []  # (arrival monotonic time, topic, decoded payload or STATE dict)
        self.errors = []
        self.lock = threading.Lock()
        username, password = broker.credentials(user)
        self.client = mqtt.Client(client_id=f"host-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv311)
        self.client.username_pw_set(username, password)
        if host_id:
            self.client.will_set(f"spBv1.0/STATE/{host_id}",
                                 json.dumps({"online": False, "timestamp": self._now()}),
                                 qos=1, retain=True)
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect(broker.host, broker.port, 10)
        self.client.loop_start()
        self.client.subscribe("spBv1.0/#", 1)
        assert self.subscribed.wait(5), "host subscription not answered"

    @staticmethod
    def _now():
        return int(time.time() * 1000)

    def _on_message(self, client, userdata, message):
        arrived = time.monotonic()
        try:
            if "/STATE/" in message.topic:
                decoded = json.loads(message.payload) if message.payload else None
            else:
                decoded = self.codec.decode(message.payload)
        except Exception as e:  # noqa: BLE001 - recorded and asserted by the test
            with self.lock:
                self.errors.append(f"{message.topic}: {e}")
            return
        with self.lock:
            self.messages.append((arrived, message.topic, decoded))

    def online(self, online=True):
        """Publishes this host's retained STATE (Sparkplug 3.0 JSON payload)."""
        info = self.client.publish(f"spBv1.0/STATE/{self.host_id}",
                                   json.dumps({"online": online, "timestamp": self._now()}),
                                   qos=1, retain=True)
        info.wait_for_publish(5)

    def command(self, topic, metrics, seq=None):
        payload = {"timestamp": self._now(), "metrics": metrics}
        if seq is not None:
            payload["seq"] = seq
        self.client.publish(topic, self.codec.encode(payload), qos=1).wait_for_publish(5)

    def of(self, kind, device=None):
        """Decoded payloads of one message type (NBIRTH, DDATA, ...), optionally of a device."""
        with self.lock:
            out = []
            for _, topic, payload in self.messages:
                parts = topic.split("/")
                if len(parts) >= 4 and parts[2] == kind and \
                        (device is None or (len(parts) == 5 and parts[4] == device)):
                    out.append(payload)
            return out

    def sparkplug_messages(self):
        with self.lock:
            return [(t, topic, p) for t, topic, p in self.messages if "/STATE/" not in topic]

    def mark(self):
        with self.lock:
            return len(self.messages)

    def since(self, mark):
        with self.lock:
            return list(self.messages[mark:])

    def wait(self, predicate, timeout=20, what="Sparkplug message"):
        return wait_until(predicate, timeout, 0.02, what=what)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def metric(payload, name):
    for m in payload.get("metrics", []):
        if m.get("name") == name:
            return m
    return None


class SparkplugProc:
    """One pharos-sparkplug process (config file in its own folder)."""

    def __init__(self, binary, broker, workdir, primary_host=None, commands_user=None):
        self.binary = binary
        self.broker = broker
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.log_path = self.dir / "sparkplug.log"
        user, password = broker.credentials("sparkplug-sparkplug")
        (self.dir / "password").write_text(password + "\n")
        lines = [f"broker_url = {broker.url}", f"username = {user}",
                 f"password_file = {self.dir / 'password'}", f"data_dir = {self.dir / 'data'}",
                 f"group_id = {GROUP}", f"edge_node_id = {EDGE}", "log_level = debug",
                 "settle_ms = 200"]
        if primary_host:
            lines.append(f"primary_host_id = {primary_host}")
        if commands_user:
            cuser, cpassword = broker.credentials(commands_user)
            (self.dir / "command.password").write_text(cpassword + "\n")
            lines += ["commands = true", f"command_username = {cuser}",
                      f"command_password_file = {self.dir / 'command.password'}"]
        self.config = self.dir / "sparkplug.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(self.binary), "--config", str(self.config)],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except FileNotFoundError:
            return ""


def add_sparkplug_identities(broker):
    """The edge node, its DCMD identity `spcmd`, a SCADA host `scada` with commands and a
    host `watcher` without (broker stopped)."""
    broker._creds.update(dynsec.add_sparkplug(broker.data_dir, "sparkplug", GROUP, EDGE,
                                              command_user="spcmd"))
    broker._creds.update(dynsec.add_scada(broker.data_dir, ["scada"], commands=True))
    broker._creds.update(dynsec.add_scada(broker.data_dir, ["watcher"], commands=False))


class SparkplugSite:
    """A broker with the Sparkplug identities, the real anchor, `count` real agents, the edge
    node and a host. `ops` talks to the anchor's API."""

    def __init__(self, pharos_bin, broker_factory, engine, count=2, primary_host=None,
                 commands=False):
        self.broker = broker_factory(start=False, agents=())
        add_sparkplug_identities(self.broker)
        self.broker.start()
        self.engine = engine
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-sparkplug-"))
        os.chmod(self.dir, 0o755)
        self.nodes = [f"sp-{uuid.uuid4().hex[:6]}-{i}" for i in range(count)]
        self.agents = {}
        for node in self.nodes:
            self.broker.add_agent(node)
            self.agents[node] = AgentProc(pharos_bin("pharos-agent"), node, self.broker, engine,
                                          self.dir / node, extra_args=("--keep-alive", "2"))
            (self.dir / node).mkdir()
        self.anchor = AnchorProcess(pharos_bin("pharos-anchor"), self.broker, self.dir / "anchor")
        self.codec = TahuCodec()
        self.primary_host = primary_host
        self.host = Host(self.broker, "scada", self.codec, host_id=primary_host)
        self.edge = SparkplugProc(pharos_bin("pharos-sparkplug"), self.broker, self.dir / "edge",
                                  primary_host, "spcmd" if commands else None)
        self.ops = self.broker.client("ops")

    def start(self):
        self.anchor.start()
        for a in self.agents.values():
            a.start()
        self.wait_ready(self.nodes)
        if self.primary_host:
            self.host.online(True)
        self.edge.start()
        return self

    def wait_ready(self, nodes, timeout=40):
        def ready():
            reply = self.ops.request("node.list", {}, timeout=5)
            if not reply.get("ok"):
                return False
            states = {n["name"]: n["health"] for n in reply["result"]["nodes"]}
            return all(states.get(n) == "Ready" for n in nodes)
        wait_until(ready, timeout, what=f"{nodes} Ready")

    def ok(self, op, body):
        reply = self.ops.request(op, body, timeout=15)
        assert reply.get("ok"), f"{op}: {reply}\nanchor log:\n{self.anchor.log()[-3000:]}"
        return reply["result"]

    def logs(self):
        return (f"--- sparkplug log:\n{self.edge.log()}\n--- anchor log:\n"
                f"{self.anchor.log()[-3000:]}\n--- host errors: {self.host.errors}")

    def cleanup(self):
        self.edge.stop()
        for node, a in self.agents.items():
            a.kill()
            self.engine.cleanup(f"io.pharos.node={node}")
        self.anchor.stop()
        self.host.close()
        self.codec.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def check_seq(messages):
    """Sparkplug 3.0 sequence rules over one edge node's messages in arrival order: NBIRTH
    carries seq 0, every later message of the session (DBIRTH, DDATA, DDEATH, NDATA) the
    previous seq + 1 modulo 256; NDEATH carries none. Returns a list of violations."""
    problems = []
    expected = None
    for _, topic, payload in messages:
        kind = topic.split("/")[2]
        seq = payload.get("seq")
        if kind in ("NCMD", "DCMD"):
            continue  # what hosts send
        if kind == "NDEATH":
            if seq is not None:
                problems.append(f"{topic}: NDEATH with seq {seq}")
            expected = None
            continue
        if kind == "NBIRTH":
            if seq != 0:
                problems.append(f"{topic}: NBIRTH seq {seq}")
            expected = 1
            continue
        if expected is None:
            continue  # before the first NBIRTH this host saw
        if seq != expected:
            problems.append(f"{topic}: seq {seq}, expected {expected}")
        expected = (seq + 1) % 256 if seq is not None else None
    return problems
