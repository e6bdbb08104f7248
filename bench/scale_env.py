"""The scale benchmarks' environment: a real Mosquitto (broker-config template, dynamic
security file written BEFORE the broker starts, because Mosquitto 2.0.11 rewrites the whole
file on every command), a real pharos-anchor, and pharos-fleetsim shards (hollow agents, a
LOAD GENERATOR). Used by bench/scale.py and tests/integration/test_fleetsim.py.

Everything listens on 127.0.0.1 only. Not thread-safe: one Env per process.
"""
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import dynsec  # noqa: E402
from harness.broker import Client, free_port, port_open, wait_until  # noqa: E402

TOPIC_ROOT = "pharos/v1"
MOSQUITTO = "/usr/sbin/mosquitto"
NOFILE = 20000  # the machine's hard limit (DESIGN.md: nofile above 20000 fails here)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(NOFILE, hard) if hard != resource.RLIM_INFINITY else NOFILE
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


# The load generator runs at a lower CPU priority than the system under test (broker,
# anchor): 10,000 devices would not take the anchor's CPU, and 160 runnable simulator
# threads would otherwise get most of it whenever the fleet's timers fall due together.
# PHAROS_SCALE_FLEET_NICE=0 runs it at the same priority (docs/benchmarks.md).
FLEET_NICE = int(os.environ.get("PHAROS_SCALE_FLEET_NICE", "10"))


def find_binary(name, build_dir=None):
    dirs = [pathlib.Path(build_dir)] if build_dir else []
    if os.environ.get("PHAROS_BUILD_DIR"):
        dirs.append(pathlib.Path(os.environ["PHAROS_BUILD_DIR"]))
    dirs += [ROOT / "build" / d for d in ("fleetsim-release", "release", "ci", "debug")]
    for d in dirs:
        for sub in ("tools/fleetsim", "anchor", "agent", "cli", "sparkplug", "."):
            p = d / sub / name
            if p.exists():
                return p
    raise FileNotFoundError(f"{name} not built (set PHAROS_BUILD_DIR)")


def node_name(prefix, k):
    return f"{prefix}-{k:05d}"


def proc_cpu_rss(pid):
    """(CPU seconds user+system, RSS in KiB) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return cpu, rss


class Env:
    """Broker + anchor + fleet. The agents' identities are written before the broker starts,
    with no group rights: the anchor grants those (group.add), and reconciles the broker's
    identities with its registry at start anyway."""

    def __init__(self, nodes, prefix="sim", extra_agents=(), build_dir=None):
        raise_nofile()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-scale-"))
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "broker"
        self.port = free_port()
        self.ws_port = free_port()
        self.nodes = nodes
        self.prefix = prefix
        self.build_dir = build_dir
        self.agent_password = dynsec.new_password()
        self.broker_proc = None
        self.anchor_proc = None
        self.fleet_procs = []
        self._write_dynsec(extra_agents)

    # --- identities ---------------------------------------------------------------------
    def _write_dynsec(self, extra_agents):
        creds = dynsec.init(self.data, ("ops",), ("viewer",), ())
        self.ops_password = creds["operator-ops"][1]
        self.anchor_password = creds["anchor"][1]
        self.admin_password = creds["admin"][1]
        dyn = dynsec.Dynsec.load(self.data / dynsec.FILE_NAME)
        hashed = dynsec.hash_password(self.agent_password)  # one hash: a load generator
        names = [node_name(self.prefix, k) for k in range(self.nodes)] + list(extra_agents)
        for node in names:
            role = dynsec.agent_role(node)
            dyn.doc["roles"].append(role)
            client = {"username": node, "textname": f"agent of node {node}", "clientid": node}
            client.update(hashed)
            client["roles"] = [{"rolename": role["rolename"]}]
            client["groups"] = [{"groupname": "agents"}]
            dyn.doc["clients"].append(client)
        # The broker-only floor: one user, any client id, may use pharos/v1/bench/#.
        dyn.doc["roles"].append({"rolename": "bench-floor", "textname": "scale bench floor",
                                 "acls": dynsec.read_only(f"{TOPIC_ROOT}/bench/#") +
                                 [dynsec.acl("publishClientSend", f"{TOPIC_ROOT}/bench/#")]})
        client = {"username": "floor", "textname": "scale bench floor subscribers"}
        client.update(hashed)
        client["roles"] = [{"rolename": "bench-floor"}]
        client["groups"] = []
        dyn.doc["clients"].append(client)
        dynsec._save(self.data, dyn)
        self.password_file = self.dir / "agents.password"
        self.password_file.write_text(self.agent_password + "\n")
        os.chmod(self.password_file, 0o600)

    # --- processes ------------------------------------------------------------------------
    def start_broker(self):
        subprocess.run([str(ROOT / "tools" / "render-broker-config.sh"), str(self.data),
                        str(self.port), str(self.ws_port)], check=True, capture_output=True)
        log = open(self.dir / "mosquitto.log", "ab")
        self.broker_proc = subprocess.Popen([MOSQUITTO, "-c", str(self.data / "mosquitto.conf")],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        log.close()
        if not wait_until(lambda: port_open(self.port), 20):
            raise RuntimeError("mosquitto did not start: " + self.broker_log()[-2000:])

    def broker_log(self):
        return (self.dir / "mosquitto.log").read_text(errors="replace")

    def anchor_command(self):
        pw = self.dir / "anchor.password"
        pw.write_text(self.anchor_password + "\n")
        os.chmod(pw, 0o600)
        # PHAROS_SCALE_ANCHOR_WRAPPER: a command prefix for experiments (e.g. strace
        # injecting setsockopt failures for a before/after of TCP_NODELAY); the anchor's
        # CPU/RSS figures then describe the wrapper's pid and are not reported as such.
        wrapper = os.environ.get("PHAROS_SCALE_ANCHOR_WRAPPER", "").split()
        return wrapper + [str(find_binary("pharos-anchor", self.build_dir)), "--broker-url",
                f"tcp://127.0.0.1:{self.port}", "--username", "anchor", "--password-file",
                str(pw), "--data-dir", str(self.dir / "anchor-store"), "--viewer", "viewer",
                "--log-level", "warn"]

    def start_anchor(self, wait=True):
        log = open(self.dir / "anchor.log", "ab")
        # A wrapper (strace detaches on SIGTERM) gets its own process group, signalled whole.
        self.anchor_wrapped = bool(os.environ.get("PHAROS_SCALE_ANCHOR_WRAPPER"))
        self.anchor_proc = subprocess.Popen(self.anchor_command(), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=self.anchor_wrapped)
        log.close()
        if wait:
            c = self.client()
            got = c.subscribe_collect(f"{TOPIC_ROOT}/anchor/status")
            ok = got.wait_for(lambda m: b'"online"' in m.payload, 30) is not None
            c.close()
            if not ok:
                raise RuntimeError("anchor did not come online: " + self.anchor_log()[-2000:])

    def stop_anchor(self, sig=signal.SIGTERM):
        if self.anchor_proc and self.anchor_proc.poll() is None:
            if getattr(self, "anchor_wrapped", False):
                os.killpg(self.anchor_proc.pid, sig)
            else:
                self.anchor_proc.send_signal(sig)
            try:
                self.anchor_proc.wait(30)
            except subprocess.TimeoutExpired:
                if getattr(self, "anchor_wrapped", False):
                    os.killpg(self.anchor_proc.pid, signal.SIGKILL)
                self.anchor_proc.kill()
                self.anchor_proc.wait()
        self.anchor_proc = None

    def anchor_log(self):
        p = self.dir / "anchor.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def client(self, user="ops", timeout=10.0):
        pw = {"ops": self.ops_password, "floor": self.agent_password,
              "admin": self.admin_password}[user]
        c = Client("127.0.0.1", self.port, user, pw, keepalive=60, timeout=timeout)
        # paho-mqtt 1.6 leaves Nagle on: with delayed ACKs it adds ~35 ms to a request.
        c._mqtt.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return c

    def fleet_command(self, nodes, shard="0/1", first=0, prefix=None, extra=()):
        return [str(find_binary("pharos-fleetsim", self.build_dir)), "--url",
                f"tcp://127.0.0.1:{self.port}", "--prefix", prefix or self.prefix, "--nodes",
                str(nodes), "--first", str(first), "--shard", shard, "--password-file",
                str(self.password_file), *extra]

    def start_fleet(self, nodes, shards=1, first=0, prefix=None, extra=()):
        """Starts `shards` fleetsim processes; returns them. Their stdout lines (JSON) are
        collected in proc.lines by a reader thread."""
        procs = []
        for i in range(shards):
            p = subprocess.Popen(self.fleet_command(nodes, f"{i}/{shards}", first, prefix, extra),
                                 stdout=subprocess.PIPE, stderr=open(self.dir / f"fleet-{i}.log", "ab"),
                                 stdin=subprocess.DEVNULL, text=True,
                                 preexec_fn=lambda: os.nice(FLEET_NICE) if FLEET_NICE else None)
            p.lines = []
            t = threading.Thread(target=self._read_lines, args=(p,), daemon=True)
            t.start()
            procs.append(p)
        self.fleet_procs += procs
        return procs

    @staticmethod
    def _read_lines(p):
        for line in p.stdout:
            try:
                p.lines.append(json.loads(line))
            except ValueError:
                pass

    def stop_fleet(self, procs=None, sig=signal.SIGTERM, timeout=60):
        procs = list(self.fleet_procs if procs is None else procs)
        for p in procs:
            if p.poll() is None:
                p.send_signal(sig)
        for p in procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p in self.fleet_procs:
                self.fleet_procs.remove(p)

    def close(self):
        self.stop_fleet(sig=signal.SIGKILL, timeout=10)
        self.stop_anchor()
        if self.broker_proc and self.broker_proc.poll() is None:
            self.broker_proc.terminate()
            try:
                self.broker_proc.wait(20)
            except subprocess.TimeoutExpired:
                self.broker_proc.kill()
        if os.environ.get("PHAROS_SCALE_KEEP"):
            print(f"kept {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def request(client, op, body=None, timeout=30.0):
    reply = client.request(op, body or {}, timeout=timeout)
    if not reply.get("ok"):
        raise RuntimeError(f"{op}: {reply.get('error')}")
    return reply["result"]


MAX_MEMBERS_PER_CALL = 1000  # libpharos/include/pharos/api.h kMaxMembersPerCall


def add_members(client, group, nodes):
    """Creates `group` with `nodes`. Up to 1,000 nodes: one group.add. More: sub-groups
    <group>-part-<i> of 1,000 nodes each, then nested into <group> with one group.add. The
    anchor grants the read rights in paced steps (docs/security.md "Group rights are
    broker-group memberships"): wait_group_rights() tells when they are all in place."""
    request(client, "group.create", {"name": group})
    if len(nodes) <= MAX_MEMBERS_PER_CALL:
        request(client, "group.add", {"group": group, "nodes": nodes}, timeout=120)
        return
    parts = []
    for i in range(0, len(nodes), MAX_MEMBERS_PER_CALL):
        part = f"{group}-part-{len(parts)}"
        request(client, "group.create", {"name": part})
        request(client, "group.add", {"group": part, "nodes": nodes[i:i + MAX_MEMBERS_PER_CALL]},
                timeout=120)
        parts.append(part)
    request(client, "group.add", {"group": group, "groups": parts}, timeout=120)


def deploy_compose(image="busybox:1.36", marker="1"):
    return (f"services:\n  app:\n    image: {image}\n    command: [\"sleep\", \"86400\"]\n"
            f"    environment:\n      MARKER: \"{marker}\"\n")


class HealthWatch:
    """Follows nodes/+/health: the latest state per node, with the time it arrived."""

    def __init__(self, client):
        self.lock = threading.Lock()
        self.state = {}
        self.events = []  # (monotonic, node, state)
        self.cond = threading.Condition(self.lock)
        client._mqtt.message_callback_add(f"{TOPIC_ROOT}/nodes/+/health", self._on)
        client.subscribe(f"{TOPIC_ROOT}/nodes/+/health")

    def _on(self, _client, _userdata, msg):
        now = time.monotonic()
        node = msg.topic.split("/")[3]
        try:
            st = json.loads(msg.payload).get("state") if msg.payload else None
        except ValueError:
            return
        with self.cond:
            self.state[node] = st
            self.events.append((now, node, st))
            self.cond.notify_all()

    def count(self, state, prefix=None):
        with self.lock:
            return sum(1 for n, s in self.state.items()
                       if s == state and (prefix is None or n.startswith(prefix + "-")))

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.1))
            return True

    def wait_event(self, node, state, after, timeout):
        """Monotonic time of the first `state` event of `node` after `after`, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, n, s in reversed(self.events):
                    if t < after:
                        break
                    if n == node and s == state:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.05))

    def _count_unlocked(self, state, prefix):
        return sum(1 for n, s in self.state.items() if s == state and n.startswith(prefix + "-"))


class RolloutWatch:
    """Follows apps/{app}/rollout: the latest summary per app, with its arrival time."""

    def __init__(self, client):
        self.cond = threading.Condition()
        self.latest = {}
        client._mqtt.message_callback_add(f"{TOPIC_ROOT}/apps/+/rollout", self._on)
        client.subscribe(f"{TOPIC_ROOT}/apps/+/rollout")

    def _on(self, _client, _userdata, msg):
        now = time.monotonic()
        if not msg.payload:
            return
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            return
        with self.cond:
            self.latest[msg.topic.split("/")[3]] = (now, doc)
            self.cond.notify_all()

    def wait_applied(self, app, revision, total, timeout):
        """Monotonic time when the summary says `total` nodes applied (or running)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = self.latest.get(app)
                if got:
                    t, doc = got
                    done = doc.get("applied", 0) + doc.get("running", 0)
                    if doc.get("revision") == revision and done >= total:
                        return t, doc
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, (got[1] if got else None)
                self.cond.wait(min(left, 0.1))


def broker_rights(env):
    """group -> the nodes the site broker lets read its document: the members of the broker
    groups group-<g> and group-<g>~<n> (listGroups through the admin account)."""
    admin = env.client("admin")
    try:
        answers = admin.subscribe_collect("$CONTROL/dynamic-security/v1/response")
        admin.publish("$CONTROL/dynamic-security/v1",
                      json.dumps({"commands": [{"command": "listGroups", "verbose": True,
                                                "count": -1, "offset": 0}]}))
        reply = answers.wait_for(timeout=60)
        if reply is None:
            return None
        out = {}
        for g in json.loads(reply.payload)["responses"][0]["data"]["groups"]:
            name = g["groupname"]
            if not name.startswith("group-"):
                continue
            group = name[len("group-"):].split("~")[0]
            out.setdefault(group, set()).update(c["username"] for c in g.get("clients", []))
        return out
    finally:
        admin.close()


def wait_group_rights(env, wanted, limit=600):
    """Waits (bounded) until the broker lets every node of wanted[group] read the group's
    document; returns the seconds waited. Raises if that does not happen within `limit`."""
    t0 = time.monotonic()
    missing = None
    while time.monotonic() - t0 < limit:
        have = broker_rights(env) or {}
        missing = {g: len(set(nodes) - have.get(g, set())) for g, nodes in wanted.items()}
        if not any(missing.values()):
            return time.monotonic() - t0
        time.sleep(1)
    raise RuntimeError(f"group rights not granted within {limit} s: missing {missing}")
