#!/usr/bin/python3
"""Agent benchmarks: failover latency, apply time vs docker-compose, memory.

Runs one pharos-agent (a Release/RelWithDebInfo build) against a real Mosquitto started on a
free loopback port (tests/integration/harness/broker.py: rendered broker-config + dynsec
credentials) and a real Docker Engine (the one on $DOCKER_HOST, else
unix:///tmp/pharos-dockerd/docker.sock, else tools/dockerd.sh start). It plays the anchor:
desired documents are published retained as the `anchor` user. Container timings come from
the engine's own events stream (`docker events`, timeNano), read by one thread.

  /usr/bin/python3 bench/agent_bench.py [--agent PATH] [--runs 20] [--apply-runs 5]
                                        [--stop-runs 15] [--only a,b,c,d,e] [--no-results]

(a) `docker kill` of a managed container -> `start` event of the same container
(b) `docker rm -f` -> `start` event of a new container of the same app/service
(c) publish of a 5-service app -> 5th `start` event, vs `docker-compose -p X up -d`
(d) VmRSS of the agent, idle, with 5 apps (25 containers) running; smaps breakdown
(e) `docker kill` -> `start` of the services of an app on an idle agent, then of another
    app's while an app whose container ignores SIGTERM (stop_grace_period 60 s) is being
    removed: no app waits for another (its own section of RESULTS.md)
Everything it creates carries its node id / project prefix and is removed at the end.
Single-threaded except the paho network threads and the events reader.
"""
import argparse
import datetime
import json
import os
import pathlib
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
# broker.py imports pytest only for fixtures and pytest.fail; Debian's python3 has no pytest.
if "pytest" not in sys.modules:
    try:
        import pytest  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pytest")
        stub.fixture = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))

        def _fail(msg):
            raise RuntimeError(msg)
        stub.fail = _fail
        sys.modules["pytest"] = stub
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from harness.broker import Broker  # noqa: E402

TOPIC_ROOT = "pharos/v1"
IMAGE = "pharos-test/busybox:1"
DEFAULT_ENGINE = "unix:///tmp/pharos-dockerd/docker.sock"
SECTION = "## Agent"
STOP_SECTION = "## Agent: failover while another app stops"
SLOW_GRACE_S = 60
ONE_SERVICE_APP = f"services:\n  svc:\n    image: {IMAGE}\n"
SLOW_APP = f"""services:
  svc:
    image: {IMAGE}
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
    stop_grace_period: {SLOW_GRACE_S}s
"""

FIVE_SERVICE_APP = f"""services:
  s1:
    image: {IMAGE}
    networks: [net]
    volumes: ["data:/data"]
  s2:
    image: {IMAGE}
    networks: [net]
  s3:
    image: {IMAGE}
    networks: [net]
  s4:
    image: {IMAGE}
    networks: [net]
  s5:
    image: {IMAGE}
    networks: [net]
networks:
  net: {{}}
volumes:
  data: {{}}
"""


def log(*args):
    print(*args, flush=True)


# ----------------------------------------------------------------------------- engine
class Engine:
    def __init__(self, host):
        self.host = host
        self.env = dict(os.environ, DOCKER_HOST=host)

    def run(self, *args, check=True, timeout=120):
        p = subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {p.stderr.strip()}")
        return p

    def ids(self, label, all_=True):
        args = ["ps", "-q", "--no-trunc", "--filter", f"label={label}"]
        if all_:
            args.insert(1, "-a")
        return self.run(*args).stdout.split()

    def cleanup(self, label):
        ids = self.ids(label)
        if ids:
            self.run("rm", "-f", "-v", *ids, check=False)
        for kind in ("network", "volume"):
            out = self.run(kind, "ls", "-q", "--filter", f"label={label}", check=False).stdout
            if out.split():
                self.run(kind, "rm", *out.split(), check=False)


def find_engine():
    candidates = [os.environ.get("DOCKER_HOST"), DEFAULT_ENGINE]
    for host in [c for c in candidates if c]:
        e = Engine(host)
        if e.run("info", "--format", "{{.ServerVersion}}", check=False, timeout=30).returncode == 0:
            return e
    state = "/tmp/pharos-dockerd"
    out = subprocess.run([str(ROOT / "tools" / "dockerd.sh"), "start", state], check=True,
                         capture_output=True, text=True, timeout=180).stdout
    host = next(line.split("=", 1)[1] for line in out.splitlines()
                if line.startswith("DOCKER_HOST="))
    return Engine(host)


class Events:
    """`docker events` for containers, read on one thread; waiters match on predicates."""

    def __init__(self, engine):
        self._proc = subprocess.Popen(
            ["docker", "events", "--filter", "type=container", "--filter", "event=start",
             "--filter", "event=die", "--filter", "event=destroy",
             "--filter", "event=create", "--format", "{{json .}}"],
            env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._cv = threading.Condition()
        self._events = []
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.5)  # let the stream attach before anything is measured

    def _read(self):
        for line in self._proc.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            attrs = e.get("Actor", {}).get("Attributes", {})
            rec = {"action": e.get("Action") or e.get("status"), "id": e.get("id"),
                   "t": int(e.get("timeNano", 0)) / 1e9, "attrs": attrs}
            with self._cv:
                self._events.append(rec)
                self._cv.notify_all()

    def mark(self):
        with self._cv:
            return len(self._events)

    def wait(self, start_index, predicate, count=1, timeout=60.0):
        """The first `count` events from start_index on that satisfy predicate (or None)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                hits = [e for e in self._events[start_index:] if predicate(e)]
                if len(hits) >= count:
                    return hits[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cv.wait(left)

    def close(self):
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()


# ----------------------------------------------------------------------------- agent
def find_agent():
    best = None
    for cache in sorted(ROOT.glob("build/*/CMakeCache.txt")):
        text = cache.read_text(errors="replace")
        if not any(f"CMAKE_BUILD_TYPE:STRING={t}\n" in text for t in ("Release", "RelWithDebInfo")):
            continue
        binary = cache.parent / "agent" / "pharos-agent"
        if binary.exists() and (best is None or binary.stat().st_mtime > best.stat().st_mtime):
            best = binary
    return best


def build_type(binary):
    cache = pathlib.Path(binary).resolve().parent.parent / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_BUILD_TYPE:"):
                return line.split("=", 1)[1]
    return "unknown"


class Agent:
    def __init__(self, binary, node, broker, engine, workdir):
        self.binary, self.node, self.broker, self.engine = binary, node, broker, engine
        self.workdir = pathlib.Path(workdir)
        self.proc = None
        self.args = None

    def start(self):
        user, password = self.broker.credentials(f"agent-{self.node}")
        (self.workdir / "password").write_text(password + "\n")
        self.args = [str(self.binary), "--config", "/dev/null", "--node-id", self.node,
                     "--broker-url", self.broker.url, "--username", user,
                     "--password-file", str(self.workdir / "password"),
                     "--state-file", str(self.workdir / "state.json"),
                     "--data-dir", str(self.workdir / "data"),
                     "--docker-host", self.engine.host, "--pull-jitter", "0",
                     "--log-level", "info"]
        out = open(self.workdir / "agent.log", "ab")
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        out.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def status(self):
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        return fields

    def smaps_breakdown(self):
        """RSS (kB) by mapping kind from /proc/<pid>/smaps."""
        groups = {}
        self.libs = {}
        lib = None
        binary = os.path.realpath(self.binary)
        current = None
        with open(f"/proc/{self.proc.pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if parts and "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                    path = parts[5] if len(parts) >= 6 else ""
                    if path == binary or path.endswith("/pharos-agent"):
                        current = "agent binary (text+data)"
                    elif ".so" in path:
                        current = "shared libraries"
                        lib = os.path.basename(path)
                    elif path == "[heap]":
                        current = "[heap] (brk, main arena)"
                    elif path == "[stack]":
                        current = "[stack] (main thread)"
                    elif path.startswith("["):
                        current = path
                    elif path:
                        current = "other files"
                    else:
                        current = "anonymous (thread stacks, malloc arenas, mmap)"
                    if current != "shared libraries":
                        lib = None
                elif parts and parts[0] == "Rss:" and current:
                    groups[current] = groups.get(current, 0) + int(parts[1])
                    if lib:
                        self.libs.setdefault(lib, [0, 0])[0] += int(parts[1])
                elif parts and parts[0] == "Pss:" and lib:
                    self.libs[lib][1] += int(parts[1])
        return dict(sorted(groups.items(), key=lambda kv: -kv[1]))


# ----------------------------------------------------------------------------- helpers
def spec(name, compose, state="running"):
    return {"name": name, "revision": 1, "compose": compose, "state": state, "variables": {},
            "restart": 0, "volumes": "keep"}


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values):
    if not values:
        return "no samples"
    return (f"n={len(values)} median={statistics.median(values) * 1000:.0f} ms "
            f"p95={pct(values, 95) * 1000:.0f} ms min={min(values) * 1000:.0f} ms "
            f"max={max(values) * 1000:.0f} ms")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def running_container(engine, app, svc):
    """The id of the running container of service `svc` of compose project `app`, or None."""
    for cid in engine.ids(f"com.docker.compose.project={app}", all_=False):
        info = json.loads(engine.run("inspect", cid).stdout)[0]
        labels = info["Config"]["Labels"]
        if labels.get("com.docker.compose.service") == svc and info["State"]["Running"]:
            return cid
    return None


def kill_to_running(engine, events, targets, notes):
    """(a): `docker kill` each (app, service) of `targets` in turn and time, from the engine's
    events, kill -> the same container's `start` (the agent restarts it) and the engine's own
    die -> start. Returns the two lists of seconds; misses go to `notes`."""
    total, engine_side = [], []
    for app, svc in targets:
        cid = running_container(engine, app, svc)
        if cid is None:
            notes.append(f"(a) {app}/{svc}: no running container, skipped")
            continue
        mark = events.mark()
        t0 = time.time()
        engine.run("kill", cid)
        started = events.wait(mark, lambda e: e["id"] == cid and e["action"] == "start",
                              timeout=30)
        died = events.wait(mark, lambda e: e["id"] == cid and e["action"] == "die", timeout=1)
        if not started:
            notes.append(f"(a) {app}/{svc}: not running again within 30 s")
            log(f"(a) {app}/{svc}: TIMEOUT")
            continue
        total.append(started[0]["t"] - t0)
        if died:
            engine_side.append(started[0]["t"] - died[0]["t"])
        log(f"(a) {app}/{svc}: kill->start {total[-1] * 1000:.0f} ms"
            + (f" (die->start {engine_side[-1] * 1000:.0f} ms)" if died else ""))
        time.sleep(0.5)
    return total, engine_side


class Bench:
    def __init__(self, args):
        self.args = args
        self.results = {}
        self.notes = []
        self.loads = {}
        self.node = f"bench-{uuid.uuid4().hex[:8]}"
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-agent-bench-"))
        self.generation = 0
        self.apps = {}

    def publish(self):
        self.generation += 1
        doc = {"v": 1, "epoch": "bench-epoch", "generation": self.generation, "labels": {},
               "groups": [], "apps": list(self.apps.values())}
        self.anchor.publish(f"{TOPIC_ROOT}/nodes/{self.node}/desired", doc, retain=True)

    def containers_of(self, project):
        return self.engine.ids(f"com.docker.compose.project={project}", all_=False)

    def wait_running(self, project, count, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.containers_of(project)) >= count:
                return True
            time.sleep(0.5)
        return False

    def remove_apps(self, names, timeout=180):
        for n in names:
            self.apps.pop(n, None)
        self.publish()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(self.engine.ids(f"com.docker.compose.project={n}") for n in names):
                break
            time.sleep(0.5)
        for n in names:  # volumes are kept by the agent ("keep"): remove them here
            out = self.engine.run("volume", "ls", "-q", "--filter", f"name={n}_",
                                  check=False).stdout.split()
            if out:
                self.engine.run("volume", "rm", *out, check=False)

    # ------------------------------------------------------------------ setup
    def setup(self):
        self.engine = find_engine()
        if self.engine.run("image", "inspect", IMAGE, check=False).returncode != 0:
            subprocess.run([str(ROOT / "tools" / "test-image.sh")], env=self.engine.env,
                           check=True, timeout=300)
        self.binary = pathlib.Path(self.args.agent) if self.args.agent else find_agent()
        if self.binary is None:
            sys.exit("no Release/RelWithDebInfo pharos-agent under build/: build one or --agent")
        self.broker = Broker(operators=("ops",), viewers=(), agents=(self.node,)).start()
        self.anchor = self.broker.client("anchor")
        self.events = Events(self.engine)
        self.agent = Agent(self.binary, self.node, self.broker, self.engine, self.dir)
        self.agent.start()
        ops = self.broker.client("ops")
        status = ops.subscribe_collect(f"{TOPIC_ROOT}/nodes/{self.node}/status")
        ready = status.wait_for(lambda m: m.payload and b'"Ready"' in m.payload, timeout=60)
        if ready is None:
            raise RuntimeError("agent never published Ready")
        time.sleep(3)
        st = self.agent.status()
        self.results["rss_empty_kb"] = int(st["VmRSS"].split()[0])
        log(f"agent {self.binary} ({build_type(self.binary)}) pid {self.agent.proc.pid}, "
            f"engine {self.engine.host}, broker {self.broker.url}")
        log(f"(d0) VmRSS with no app: {st['VmRSS']}, threads {st['Threads']}")

    def teardown(self):
        try:
            self.agent.stop()
        finally:
            self.engine.cleanup(f"io.pharos.node={self.node}")
            for p in getattr(self, "compose_projects", []):
                self.engine.cleanup(f"com.docker.compose.project={p}")
            self.events.close()
            self.broker.cleanup()
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ (d) + fleet
    def fleet(self):
        """5 apps of the 5-service file: the fleet (a), (b) and (d) work on."""
        self.fleet_names = [f"bf{i}{uuid.uuid4().hex[:6]}" for i in range(5)]
        for n in self.fleet_names:
            self.apps[n] = spec(n, FIVE_SERVICE_APP)
        t0 = time.monotonic()
        self.publish()
        for n in self.fleet_names:
            if not self.wait_running(n, 5, timeout=300):
                raise RuntimeError(f"fleet app {n} never ran 5 containers")
        log(f"fleet: 5 apps x 5 services running after {time.monotonic() - t0:.1f} s")

    def memory(self):
        time.sleep(self.args.idle)  # idle: no change for a while
        st = self.agent.status()
        rss = int(st["VmRSS"].split()[0])
        self.loads["d"] = loadavg()
        self.results["d"] = {
            "VmRSS_kb": rss, "VmHWM_kb": int(st["VmHWM"].split()[0]),
            "RssAnon_kb": int(st["RssAnon"].split()[0]),
            "RssFile_kb": int(st["RssFile"].split()[0]),
            "VmSize_kb": int(st["VmSize"].split()[0]), "threads": int(st["Threads"]),
            "breakdown": self.agent.smaps_breakdown(),
            "libs": sorted(self.agent.libs.items(), key=lambda kv: -kv[1][0]),
            "containers": sum(len(self.containers_of(n)) for n in self.fleet_names)}
        with open(f"/proc/{self.agent.proc.pid}/smaps_rollup") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Pss", "Private_Clean", "Private_Dirty"):
                    self.results["d"][k + "_kb"] = int(v.split()[0])
        d = self.results["d"]
        log(f"(d) smaps_rollup: Pss {d.get('Pss_kb')} kB, Private_Clean "
            f"{d.get('Private_Clean_kb')} kB, Private_Dirty {d.get('Private_Dirty_kb')} kB")
        log(f"(d) idle with 5 apps ({d['containers']} containers): VmRSS {rss} kB "
            f"({rss / 1024:.1f} MiB), VmHWM {d['VmHWM_kb']} kB, RssAnon {d['RssAnon_kb']} kB, "
            f"RssFile {d['RssFile_kb']} kB, VmSize {d['VmSize_kb']} kB, threads {d['threads']}")
        for k, v in d["breakdown"].items():
            log(f"    {v:8d} kB  {k}")
        for name, (rss_kb, pss_kb) in d["libs"][:12]:
            log(f"    {rss_kb:8d} kB RSS {pss_kb:8d} kB PSS  {name}")

    # ------------------------------------------------------------------ (a) (b)
    def targets(self):
        out = []
        for svc in ("s1", "s2", "s3", "s4", "s5"):
            for n in self.fleet_names:
                out.append((n, svc))
        return out[: self.args.runs]

    def container_of(self, app, svc):
        return running_container(self.engine, app, svc)

    def failover_kill(self):
        total, engine_side = kill_to_running(self.engine, self.events, self.targets(), self.notes)
        self.loads["a"] = loadavg()
        self.results["a"] = {"kill_to_start": total, "die_to_start": engine_side}
        log(f"(a) docker kill -> running: {summary(total)}")
        log(f"(a) die -> start (engine timestamps): {summary(engine_side)}")

    def kill_control(self):
        """Control for (a): the same kill on plain `docker run --restart unless-stopped`
        containers the agent does not manage. Docker treats `docker kill` as a manual stop
        and does not restart them: who restarts the managed ones is the agent."""
        label = f"io.pharos.bench.control={self.node}"
        n = 5
        ids = []
        for i in range(n):
            ids.append(self.engine.run("run", "-d", "--restart", "unless-stopped", "--label",
                                       label, "--name", f"{self.node}-ctl{i}",
                                       IMAGE).stdout.strip())
        time.sleep(11)  # Docker resets its restart backoff after 10 s of running
        restarted, total = [], 0
        try:
            for cid in ids:
                mark = self.events.mark()
                t0 = time.time()
                self.engine.run("kill", cid)
                total += 1
                started = self.events.wait(
                    mark, lambda e, cid=cid: e["id"] == cid and e["action"] == "start",
                    timeout=self.args.control_wait)
                if started:
                    restarted.append(started[0]["t"] - t0)
                log(f"(a0) control {cid[:12]}: "
                    + (f"kill->start {restarted[-1] * 1000:.0f} ms" if started else
                       f"not restarted within {self.args.control_wait:.0f} s"))
        finally:
            self.engine.cleanup(label)
        self.results["a0"] = {"killed": total, "restarted": restarted}
        log(f"(a0) control, unmanaged containers: {len(restarted)} of {total} restarted by "
            f"Docker within {self.args.control_wait:.0f} s")

    # ------------------------------------------------------------------ (e)
    def kill_to_start(self, app, svc):
        cid = self.container_of(app, svc)
        if cid is None:
            self.notes.append(f"(e) {app}/{svc}: no running container, skipped")
            return None
        mark = self.events.mark()
        t0 = time.time()
        self.engine.run("kill", cid)
        started = self.events.wait(mark, lambda e: e["id"] == cid and e["action"] == "start",
                                   timeout=SLOW_GRACE_S)
        if not started:
            self.notes.append(f"(e) {app}/{svc}: not running again within {SLOW_GRACE_S} s")
            return None
        return started[0]["t"] - t0

    def failover_during_stop(self):
        """(e): kill -> start on an idle agent, then while another app stops for 60 s. Each
        kill hits another service (its own restart backoff, at 100 ms); the services of a
        side share one app, so the run needs three networks of the shared engine."""
        n = self.args.stop_runs
        tag = uuid.uuid4().hex[:6]
        idle, busy, slow = f"bei{tag}", f"bes{tag}", f"beslow{tag}"
        services = [f"s{i}" for i in range(n)]
        many = "services:\n" + "".join(f"  {s}:\n    image: {IMAGE}\n" for s in services)
        self.apps[idle] = spec(idle, many)
        self.apps[busy] = spec(busy, many)
        self.apps[slow] = spec(slow, SLOW_APP)
        self.publish()
        for name, count in ((idle, n), (busy, n), (slow, 1)):
            if not self.wait_running(name, count, timeout=300):
                tail = (self.dir / "agent.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"(e) app {name} never ran; agent log:\n{tail}")
        time.sleep(2)
        result = {"idle": [], "during": [], "late": 0}
        for svc in services:
            t = self.kill_to_start(idle, svc)
            if t is not None:
                result["idle"].append(t)
                log(f"(e) idle {idle}/{svc}: kill->start {t * 1000:.0f} ms")
            time.sleep(0.5)
        self.loads["e-idle"] = loadavg()
        # The slow app is removed: the engine's stop waits out its grace period.
        self.apps[slow] = spec(slow, SLOW_APP, state="removed")
        self.publish()
        time.sleep(2)
        began = time.monotonic()
        for svc in services:
            if time.monotonic() - began > SLOW_GRACE_S - 15:
                self.notes.append("(e) the slow stop's window ran out before every kill")
                break
            t = self.kill_to_start(busy, svc)
            if t is None:
                continue
            if not self.containers_of(slow):  # its stop already ended: not "during"
                result["late"] += 1
                continue
            result["during"].append(t)
            log(f"(e) while {slow} stops {busy}/{svc}: kill->start {t * 1000:.0f} ms")
            time.sleep(0.5)
        self.loads["e-during"] = loadavg()
        self.results["e"] = result
        log(f"(e) idle: {summary(result['idle'])}")
        log(f"(e) while another app stops: {summary(result['during'])}")
        self.remove_apps([idle, busy, slow], timeout=SLOW_GRACE_S + 120)

    def failover_rm(self):
        total, engine_side = [], []
        for app, svc in self.targets():
            cid = self.container_of(app, svc)
            if cid is None:
                self.notes.append(f"(b) {app}/{svc}: no running container, skipped")
                continue
            mark = self.events.mark()
            t0 = time.time()
            self.engine.run("rm", "-f", cid)

            def new_start(e, app=app, svc=svc, cid=cid):
                a = e["attrs"]
                return (e["action"] == "start" and e["id"] != cid
                        and a.get("com.docker.compose.project") == app
                        and a.get("com.docker.compose.service") == svc)
            started = self.events.wait(mark, new_start, timeout=60)
            destroyed = self.events.wait(
                mark, lambda e: e["id"] == cid and e["action"] == "destroy", timeout=1)
            if not started:
                self.notes.append(f"(b) {app}/{svc}: no new container running within 60 s")
                log(f"(b) {app}/{svc}: TIMEOUT")
                continue
            total.append(started[0]["t"] - t0)
            if destroyed:
                engine_side.append(started[0]["t"] - destroyed[0]["t"])
            log(f"(b) {app}/{svc}: rm -f->new running {total[-1] * 1000:.0f} ms"
                + (f" (destroy->start {engine_side[-1] * 1000:.0f} ms)" if destroyed else ""))
            time.sleep(0.5)
        self.loads["b"] = loadavg()
        self.results["b"] = {"rm_to_start": total, "destroy_to_start": engine_side}
        log(f"(b) docker rm -f -> new container running: {summary(total)}")
        log(f"(b) destroy -> start (engine timestamps): {summary(engine_side)}")

    # ------------------------------------------------------------------ (c)
    def apply_vs_compose(self):
        compose_dir = self.dir / "compose"
        compose_dir.mkdir()
        (compose_dir / "docker-compose.yml").write_text(FIVE_SERVICE_APP)
        self.compose_projects = []
        agent_t, compose_t, compose_proc_t = [], [], []
        agent_first, compose_first = [], []
        for i in range(self.args.apply_runs):
            order = ("agent", "compose") if i % 2 == 0 else ("compose", "agent")
            for who in order:
                name = f"bc{who[0]}{i}{uuid.uuid4().hex[:6]}"
                mark = self.events.mark()

                def started(e, name=name):
                    return e["action"] == "start" and \
                        e["attrs"].get("com.docker.compose.project") == name

                def created(e, name=name):
                    return e["action"] == "create" and \
                        e["attrs"].get("com.docker.compose.project") == name
                if who == "agent":
                    self.apps[name] = spec(name, FIVE_SERVICE_APP)
                    t0 = time.time()
                    self.publish()
                    hits = self.events.wait(mark, started, count=5, timeout=180)
                    if hits:
                        agent_t.append(max(h["t"] for h in hits) - t0)
                        first = self.events.wait(mark, created, timeout=1)
                        if first:
                            agent_first.append(first[0]["t"] - t0)
                        log(f"(c) run {i} agent:   {agent_t[-1] * 1000:.0f} ms")
                    else:
                        self.notes.append(f"(c) agent run {i}: not 5 running within 180 s")
                    self.remove_apps([name])
                else:
                    self.compose_projects.append(name)
                    t0 = time.time()
                    p = subprocess.run(["docker-compose", "-p", name, "up", "-d"],
                                       cwd=compose_dir, env=self.engine.env,
                                       capture_output=True, text=True, timeout=300)
                    t1 = time.time()
                    hits = self.events.wait(mark, started, count=5, timeout=30)
                    if p.returncode == 0 and hits:
                        compose_t.append(max(h["t"] for h in hits) - t0)
                        compose_proc_t.append(t1 - t0)
                        first = self.events.wait(mark, created, timeout=1)
                        if first:
                            compose_first.append(first[0]["t"] - t0)
                        log(f"(c) run {i} compose: {compose_t[-1] * 1000:.0f} ms "
                            f"(process exit {compose_proc_t[-1] * 1000:.0f} ms)")
                    else:
                        self.notes.append(f"(c) compose run {i} failed: {p.stderr[-300:]}")
                    subprocess.run(["docker-compose", "-p", name, "down", "-v", "-t", "1"],
                                   cwd=compose_dir, env=self.engine.env, capture_output=True,
                                   timeout=300)
                time.sleep(1)
        self.loads["c"] = loadavg()
        self.results["c"] = {"agent": agent_t, "compose": compose_t,
                             "compose_process": compose_proc_t, "agent_first": agent_first,
                             "compose_first": compose_first}
        log(f"(c) agent publish -> 1st container create: {summary(agent_first)}")
        log(f"(c) compose start -> 1st container create: {summary(compose_first)}")
        log(f"(c) agent publish -> 5 running:   {summary(agent_t)}")
        log(f"(c) compose up -d -> 5 running:   {summary(compose_t)}")
        log(f"(c) compose up -d process exit:   {summary(compose_proc_t)}")
        if agent_t and compose_t:
            ratio = statistics.median(agent_t) / statistics.median(compose_t)
            self.results["c"]["ratio"] = ratio
            log(f"(c) ratio agent/compose (medians): {ratio:.2f}")


# ----------------------------------------------------------------------------- report
def ms(v):
    return f"{v * 1000:.0f} ms"


def row(name, values, target):
    if not values:
        return f"| {name} | 0 | - | - | - | - | {target} |"
    return (f"| {name} | {len(values)} | {ms(statistics.median(values))} | {ms(pct(values, 95))} "
            f"| {ms(min(values))} | {ms(max(values))} | {target} |")


def machine():
    cpu = "unknown"
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return nproc, cpu


def report(b, command, started_at, load_start):
    nproc, cpu = machine()
    r = b.results
    lines = [SECTION, "",
             "What: `bench/agent_bench.py` — one `pharos-agent` "
             f"({build_type(b.binary)} build, `{os.path.relpath(b.binary, ROOT)}`) against a real "
             "Mosquitto on a free loopback port (rendered broker-config + dynsec, as the "
             "integration tests) and the real Docker Engine "
             f"(`{b.engine.host}`, Docker "
             f"{b.engine.run('info', '--format', '{{.ServerVersion}}').stdout.strip()}); "
             "the script plays the anchor (retained `nodes/<node>/desired` as user `anchor`). "
             "Times come from the engine's `docker events` (`timeNano`) against the host clock "
             "taken just before the command/publish. Image `pharos-test/busybox:1` is local "
             "(no pulls). Agent flags: `--pull-jitter 0 --log-level info`, everything else "
             "default (reconcile_interval 30 s, threads 4).", "",
             "Command:", "", "```", command, "```", "",
             f"Machine: `nproc` = {nproc}, CPU = {cpu}. Date: {started_at} UTC. "
             f"**Heavily loaded** by other engineers' builds and test suites sharing the 2 "
             f"cores and the same Docker engine: load average (1/5/15 min) {load_start} at start; "
             + ", ".join(f"{k}: {v}" for k, v in sorted(b.loads.items()))
             + " at the end of each part. The numbers are real measurements on that loaded "
             "machine; latencies on an idle device would be lower.", "",
             "| measurement | runs | median | p95 | min | max | target |",
             "|---|---|---|---|---|---|---|"]
    if "a" in r:
        lines.append(row("(a) `docker kill` → same container running (`start` event)",
                         r["a"]["kill_to_start"], "median < 1 s"))
        lines.append(row("(a') engine `die` → `start` (agent reaction + backoff + start)",
                         r["a"]["die_to_start"], "-"))
    if "a0" in r:
        a0 = r["a0"]
        lines.append(f"| (a0) control: same `docker kill` on plain `docker run --restart "
                     f"unless-stopped` containers (no agent) | {a0['killed']} | restarted by "
                     f"Docker: {len(a0['restarted'])} of {a0['killed']} within "
                     f"{b.args.control_wait:.0f} s | | | | - |")
    if "b" in r:
        lines.append(row("(b) `docker rm -f` → new container running",
                         r["b"]["rm_to_start"], "< 2 s"))
        lines.append(row("(b') engine `destroy` → new `start` (agent reaction)",
                         r["b"]["destroy_to_start"], "-"))
    if "c" in r:
        lines.append(row("(c) agent: publish desired → 5th container `start`",
                         r["c"]["agent"], "faster than compose"))
        lines.append(row("(c) `docker-compose -p X up -d` → 5th `start`",
                         r["c"]["compose"], "baseline"))
        lines.append(row("(c) `docker-compose up -d` process exit",
                         r["c"]["compose_process"], "-"))
        lines.append(row("(c) agent: publish → 1st container `create`",
                         r["c"]["agent_first"], "-"))
        lines.append(row("(c) compose: launch → 1st container `create`",
                         r["c"]["compose_first"], "-"))
    lines.append("")
    verdicts = []
    if "a" in r and r["a"]["kill_to_start"]:
        m = statistics.median(r["a"]["kill_to_start"])
        verdicts.append(f"(a) median {ms(m)}: target < 1 s "
                        + ("**met**." if m < 1 else f"**missed by {ms(m - 1)}**.")
                        + " Who restarts: the agent. Docker counts `docker kill` as a manual "
                        "stop and does not apply the restart policy (control row (a0)); the "
                        "agent sees the `die` event, finds the container should run, waits "
                        "its initial 100 ms backoff and starts it through the Engine API "
                        "(`container_restarted`, \"Docker stopped restarting it\"). Bounds: "
                        "`docker kill` CLI + engine stop, the 100 ms backoff, and the engine's "
                        "container start (network attach, overlay mount) on the loaded host — "
                        "the (a') row, die→start, is the agent's part incl. engine start.")
    if "b" in r and r["b"]["rm_to_start"]:
        m = statistics.median(r["b"]["rm_to_start"])
        p = pct(r["b"]["rm_to_start"], 95)
        verdicts.append(f"(b) median {ms(m)}, p95 {ms(p)}: target < 2 s "
                        + ("**met**" if m < 2 and p < 2 else
                           ("**met for the median, missed at p95**" if m < 2 else
                            f"**missed by {ms(m - 2)}**"))
                        + ". Path: `destroy` event → agent reconcile pass of the app → "
                        "create + start via the Engine API; bounded by the engine's "
                        "create/start time (network attach, overlay mount) on the loaded host.")
    if "c" in r and "ratio" in r["c"]:
        ratio = r["c"]["ratio"]
        verdicts.append(f"(c) baseline ratio agent/compose (medians) = **{ratio:.2f}** — "
                        + ("the agent is faster: target **met**." if ratio < 1 else
                           f"the agent is slower by {(ratio - 1) * 100:.0f} %: target "
                           "**missed**.")
                        + (f" Where the time goes: the agent creates its first container "
                           f"{ms(statistics.median(r['c']['agent_first']))} after the publish "
                           "(median), then creates and starts the 5 services one after the "
                           "other on its strand (depends_on order); docker-compose needs "
                           f"{ms(statistics.median(r['c']['compose_first']))} (median) of "
                           "Python start-up and project inspection before its first create, "
                           "then creates/starts the services in parallel. On 2 loaded cores "
                           "the engine's per-container create+start dominates both."
                           if r["c"]["agent_first"] and r["c"]["compose_first"] else "")
                        + " Runs alternate agent/compose (order flipped each run) with "
                        "cleanup in between (agent: app dropped from the desired document, "
                        "containers and network removed by the agent, the kept volume "
                        "removed by the script; compose: `down -v`).")
    if "d" in r:
        d = r["d"]
        rss = d["VmRSS_kb"]
        verdicts.append(f"(d) VmRSS idle with 5 apps ({d['containers']} containers) = "
                        f"**{rss} kB ({rss / 1024:.1f} MiB)**; target < 10 MB (10240 kB) "
                        + ("**met**." if rss < 10240 else
                           f"**missed by {rss - 10240} kB**.")
                        + f" (VmRSS with no app: {r['rss_empty_kb']} kB; VmHWM {d['VmHWM_kb']} "
                        f"kB; RssAnon {d['RssAnon_kb']} kB, RssFile {d['RssFile_kb']} kB; "
                        f"VmSize {d['VmSize_kb']} kB; {d['threads']} threads; PSS "
                        f"{d.get('Pss_kb')} kB, private clean+dirty "
                        f"{d.get('Private_Clean_kb', 0) + d.get('Private_Dirty_kb', 0)} kB.)")
    lines += [f"- {v}" for v in verdicts]
    if "d" in r:
        lines += ["", "RSS breakdown of (d) from `/proc/<pid>/smaps` (kB resident):", "",
                  "| mapping kind | RSS kB |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in r["d"]["breakdown"].items() if v]
        lines += ["", "Largest shared libraries (RSS = resident pages mapped, PSS = this "
                  "process's proportional share):", "", "| library | RSS kB | PSS kB |",
                  "|---|---|---|"]
        lines += [f"| {n} | {a} | {p} |" for n, (a, p) in r["d"]["libs"][:12]]
        pss_libs = sum(p for _, (a, p) in r["d"]["libs"])
        lines += ["", f"Shared libraries in total: PSS {pss_libs} kB of RSS "
                  f"{r['d']['breakdown'].get('shared libraries', 0)} kB."]
        lines += ["", b.memory_explanation()]
    if b.notes:
        lines += ["", "Problems during the run:", ""] + [f"- {n}" for n in b.notes]
    not_measured = [p for p in "abcd" if p not in r]
    if not_measured:
        lines += ["", "Not measured in this run: " + ", ".join(f"({p})" for p in not_measured)
                  + "."]
    return "\n".join(lines) + "\n"


def stop_report(b, command, started_at, load_start):
    nproc, cpu = machine()
    e = b.results["e"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    lines = [STOP_SECTION, "",
             "What: `bench/agent_bench.py --only e` — one `pharos-agent` "
             f"({build_type(b.binary)} build, `{os.path.relpath(b.binary, ROOT)}`, commit "
             f"{commit}) on the real Docker Engine (`{b.engine.host}`) and a real Mosquitto. "
             f"The {b.args.stop_runs} containers of an app are `docker kill`ed one after the "
             f"other on an idle agent, then the {b.args.stop_runs} of another app while an app "
             "whose container "
             f"ignores SIGTERM (`stop_grace_period: {SLOW_GRACE_S}s`) is being removed, so the "
             "engine's stop of it lasts the whole minute. `docker kill` is a manual stop for "
             "Docker: the agent restarts each container (each its own service, so each waits "
             "the initial 100 ms backoff). Time: the host "
             "clock just before `docker kill` to the engine's `start` event (`timeNano`); a "
             "run counts as \"while stopping\" only if the slow container still ran after it.",
             "", "Command:", "", "```", command, "```", "",
             f"Machine: `nproc` = {nproc}, CPU = {cpu}. Date: {started_at} UTC. Load average "
             f"(1/5/15 min) {load_start} at start; "
             + ", ".join(f"{k}: {v}" for k, v in sorted(b.loads.items()) if k.startswith("e"))
             + " after each half (the machine is shared with other engineers' builds).", "",
             "| kill → running | runs | median | p95 | min | max | target |",
             "|---|---|---|---|---|---|---|",
             row("idle agent", e["idle"], "-"),
             row(f"while another app stops ({SLOW_GRACE_S} s grace)", e["during"],
                 "same median as idle"), ""]
    if e["idle"] and e["during"]:
        ratio = statistics.median(e["during"]) / statistics.median(e["idle"])
        lines.append(f"- Ratio of medians (while stopping / idle): **{ratio:.2f}**.")
    if e["late"]:
        lines.append(f"- {e['late']} run(s) ended after the slow stop and were left out.")
    if b.notes:
        lines += [f"- {n}" for n in b.notes if n.startswith("(e)")]
    return "\n".join(lines) + "\n"


def memory_explanation(self):
    d = self.results["d"]
    br = d["breakdown"]
    libs = br.get("shared libraries", 0)
    text = ("Reading: shared-library pages (libstdc++, libcurl and its TLS/SSH/LDAP "
            "dependency tree, OpenSSL, paho, yaml-cpp, spdlog/fmt, glibc) are file-backed and "
            f"counted in VmRSS though shared with other processes ({libs} kB here); "
            "anonymous memory is the heap plus glibc per-thread malloc arenas and the touched "
            f"part of the {d['threads']} thread stacks (executor workers, paho, the Docker "
            "events reader).")
    if d["VmRSS_kb"] >= 10240:
        text += (" What bounds it: the dynamic-library footprint alone is a large share of the "
                 "budget; reaching < 10 MB would need static linking with LTO/`--gc-sections` "
                 "(or fewer dependencies, e.g. no libcurl), `MALLOC_ARENA_MAX=2` and fewer "
                 "worker threads (`threads = 1` or 2 on a small device).")
    return text


Bench.memory_explanation = memory_explanation


def write_results(text, section=SECTION):
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines(keepends=True)
    out, i, replaced = [], 0, False
    while i < len(lines):
        if lines[i].rstrip("\n") == section:
            i += 1
            while i < len(lines) and not lines[i].startswith("## "):
                i += 1
            out.append(text + ("\n" if i < len(lines) else ""))
            replaced = True
            continue
        out.append(lines[i])
        i += 1
    if not replaced:
        body = "".join(out)
        if body and not body.endswith("\n\n"):
            body += "\n" if body.endswith("\n") else "\n\n"
        out = [body, text]
    path.write_text("".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agent", help="pharos-agent binary (default: newest Release/"
                    "RelWithDebInfo build under build/)")
    ap.add_argument("--runs", type=int, default=20, help="runs of (a) and (b), max 25")
    ap.add_argument("--apply-runs", type=int, default=5, help="runs of (c) per side")
    ap.add_argument("--idle", type=float, default=20, help="idle seconds before (d)")
    ap.add_argument("--control-wait", type=float, default=5,
                    help="seconds to wait for Docker to restart a control container")
    ap.add_argument("--stop-runs", type=int, default=15, help="runs of (e) per side, max 20")
    ap.add_argument("--only", default="a,b,c,d", help="subset of a,b,c,d,e")
    ap.add_argument("--no-results", action="store_true", help="do not touch bench/RESULTS.md")
    args = ap.parse_args()
    args.runs = max(1, min(args.runs, 25))
    args.apply_runs = max(1, min(args.apply_runs, 20))
    args.stop_runs = max(1, min(args.stop_runs, 20))
    parts = set(args.only.split(","))
    command = "/usr/bin/python3 bench/agent_bench.py " + " ".join(sys.argv[1:])
    started_at = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    load_start = loadavg()
    log(f"load average at start: {load_start}")
    b = Bench(args)
    b.setup()
    try:
        if parts & {"a", "b", "d"}:
            b.fleet()
            if "d" in parts:
                b.memory()
            if "a" in parts:
                b.failover_kill()
                b.kill_control()
            if "b" in parts:
                b.failover_rm()
            b.remove_apps(list(b.fleet_names))
        if "c" in parts:
            b.apply_vs_compose()
        if "e" in parts:
            b.failover_during_stop()
    finally:
        b.teardown()
    if parts & {"a", "b", "c", "d"}:
        text = report(b, command.strip(), started_at, load_start)
        print("\n" + text)
        if not args.no_results:
            write_results(text)
    if "e" in b.results:
        text = stop_report(b, command.strip(), started_at, load_start)
        print("\n" + text)
        if not args.no_results:
            write_results(text, STOP_SECTION)


if __name__ == "__main__":
    main()
