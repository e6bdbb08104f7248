#!/usr/bin/python3
"""Agent footprint: memory, threads and idle CPU of pharos-agent with 5 apps / 25 containers.

One real Mosquitto on a free loopback port (tests/integration/harness/broker.py), one real
pharos-anchor, the Docker Engine on $DOCKER_HOST (agent_bench.find_engine). Each agent binary
given is measured in turn, in the same run, under its own node id:

  1. start it, wait for its retained status Ready;
  2. deploy 5 apps of 5 services each (the `FIVE_SERVICE_APP` of agent_bench.py: a network, a
     named volume, busybox-static FROM scratch) through the anchor's `app.deploy`;
  3. wait for the 25 containers to run, then `--settle` seconds with nothing changing;
  4. read /proc: VmRSS/VmHWM/RssAnon/RssFile (status), Pss/USS (smaps_rollup; USS =
     Private_Clean + Private_Dirty), the RSS breakdown by mapping (smaps), the thread count
     and names, the number of shared objects mapped; then the CPU time (utime + stime) over
     `--idle` seconds of wall time, as % of one core, with VmRSS and USS read every 2 s in it
     (min / median / max: the heap breathes with the 15 s metrics tick);
  5. `--failover-runs` times, the apps still deployed: `docker kill` one container and time
     kill -> the same container running again (the agent restarts it), and the engine's own
     die -> start (agent_bench.py's (a));
  6. remove the apps (`app.remove`), wait for their containers to go, stop the agent;
  7. `--ready-runs` times: start the agent again (same state file, no app) and time the
     process start to its retained status Ready (median, p95), then SIGTERM it.

  /usr/bin/python3 bench/agent_footprint.py --agent main=/path/a --agent lean=/path/b \
      [--anchor build/release/anchor/pharos-anchor] [--settle 20] [--idle 60] \
      [--failover-runs 10] [--ready-runs 10] [--json out]

Prints one markdown block (the tables bench/RESULTS.md keeps); writes nothing else.
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import agent_bench as ab  # noqa: E402  (also puts tests/integration on sys.path)
from cli_support import AnchorProcess  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def kb(value):
    return int(value.split()[0])


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def thread_names(pid):
    names = {}
    for task in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            name = pathlib.Path(f"/proc/{pid}/task/{task}/comm").read_text().strip()
        except OSError:
            continue
        names[name] = names.get(name, 0) + 1
    return names


def shared_objects(pid):
    libs = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ".so" in parts[5]:
                libs.add(os.path.basename(parts[5]))
    return sorted(libs)


def private_breakdown(pid, binary):
    """USS (Private_Clean + Private_Dirty, kB) by mapping kind, the kinds of smaps_breakdown."""
    out = {}
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                path = parts[5] if len(parts) >= 6 else ""
                if path == str(binary) or path.endswith("/pharos-agent"):
                    kind = "agent binary (text+data)"
                elif ".so" in path:
                    kind = "shared libraries"
                elif path == "[heap]":
                    kind = "[heap] (brk, main arena)"
                elif path == "[stack]":
                    kind = "[stack] (main thread)"
                elif path.startswith("["):
                    kind = path
                elif path:
                    kind = "other files"
                else:
                    kind = "anonymous (thread stacks, malloc arenas, mmap)"
            elif parts and parts[0] in ("Private_Clean:", "Private_Dirty:") and kind:
                out[kind] = out.get(kind, 0) + int(parts[1])
    return out


class Run:
    """One agent binary against the shared broker, anchor and engine."""

    def __init__(self, label, binary, extra_args, bench):
        self.label, self.binary, self.extra_args, self.b = label, binary, extra_args, bench
        self.node = f"fp{uuid.uuid4().hex[:8]}"
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-footprint-"))
        self.apps = [f"fp{i}{uuid.uuid4().hex[:6]}" for i in range(5)]
        self.result = {"label": label, "binary": str(binary), "args": extra_args}
        self.last_session = 0
        self.proc = None

    def start_agent(self):
        broker = self.b.broker
        user, password = broker.add_agent(self.node)
        (self.dir / "password").write_text(password + "\n")
        self.user = user
        self.result["start_to_ready_ms"] = round(self.launch() * 1000)

    def launch(self):
        """Starts the agent; returns the seconds from Popen to a fresh retained Ready."""
        broker, engine, user = self.b.broker, self.b.engine, self.user
        args = [str(self.binary), "--config", "/dev/null", "--node-id", self.node,
                "--broker-url", broker.url, "--username", user,
                "--password-file", str(self.dir / "password"),
                "--state-file", str(self.dir / "state.json"),
                "--data-dir", str(self.dir / "data"), "--docker-host", engine.host,
                "--pull-jitter", "0", "--log-level", "info", *self.extra_args]
        status = self.b.ops_connected().subscribe_collect(
            f"{ab.TOPIC_ROOT}/nodes/{self.node}/status")
        t0 = time.monotonic()
        with open(self.dir / "agent.log", "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        # A retained Ready of an earlier run carries an older session: wait for a new one.
        ready = status.wait_for(lambda m: m.payload and b'"Ready"' in m.payload and
                                json.loads(m.payload).get("session", 0) > self.last_session,
                                timeout=60)
        if ready is None:
            raise RuntimeError(f"{self.label}: agent never published Ready "
                               f"({(self.dir / 'agent.log').read_text()[-2000:]})")
        elapsed = time.monotonic() - t0
        self.last_session = json.loads(ready.payload)["session"]
        return elapsed

    def stop_agent(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def ready_runs(self, runs):
        self.stop_agent()  # the one that ran the apps
        times = []
        for _ in range(runs):
            times.append(self.launch())
            self.stop_agent()
        if times:
            self.result["ready_median_ms"] = round(statistics.median(times) * 1000)
            self.result["ready_p95_ms"] = round(ab.pct(times, 95) * 1000)
            self.result["ready_runs"] = len(times)

    def deploy(self):
        deadline = time.monotonic() + 30  # the anchor registers the node on first sight
        while not self.b.ops_connected().request("node.get", {"name": self.node},
                                                 timeout=10).get("ok"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.label}: the anchor never registered {self.node}")
            time.sleep(0.2)
        for name in self.apps:
            reply = self.b.ops.request("app.deploy", {"name": name, "target": {"node": self.node},
                                                      "compose": ab.FIVE_SERVICE_APP}, timeout=30)
            if not reply.get("ok"):
                raise RuntimeError(f"app.deploy {name}: {reply}")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            running = sum(len(self.b.engine.ids(f"com.docker.compose.project={n}", all_=False))
                          for n in self.apps)
            if running >= 25:
                self.result["containers"] = running
                return
            time.sleep(1)
        raise RuntimeError(f"{self.label}: the 25 containers never ran")

    def measure(self, settle, idle):
        time.sleep(settle)
        pid = self.proc.pid
        st = read_kv(f"/proc/{pid}/status")
        roll = read_kv(f"/proc/{pid}/smaps_rollup")
        agent = ab.Agent(self.binary, self.node, self.b.broker, self.b.engine, self.dir)
        agent.proc = self.proc
        breakdown = agent.smaps_breakdown()
        libs = sorted(agent.libs.items(), key=lambda kv: -kv[1][0])
        r = self.result
        r.update({
            "VmRSS_kb": kb(st["VmRSS"]), "VmHWM_kb": kb(st["VmHWM"]),
            "RssAnon_kb": kb(st["RssAnon"]), "RssFile_kb": kb(st["RssFile"]),
            "Pss_kb": kb(roll["Pss"]),
            "USS_kb": kb(roll["Private_Clean"]) + kb(roll["Private_Dirty"]),
            "Shared_kb": kb(roll["Shared_Clean"]) + kb(roll["Shared_Dirty"]),
            "threads": int(st["Threads"]), "thread_names": thread_names(pid),
            "shared_objects": len(shared_objects(pid)), "breakdown": breakdown,
            "private": private_breakdown(pid, self.binary),
            "libs": [[name, rss, pss] for name, (rss, pss) in libs],
        })
        t0, c0 = time.monotonic(), cpu_ticks(pid)
        rss, uss = [], []  # sampled every 2 s through the idle window (reading costs ~no CPU)
        while time.monotonic() - t0 < idle:
            time.sleep(min(2.0, max(0.0, idle - (time.monotonic() - t0))))
            rss.append(kb(read_kv(f"/proc/{pid}/status")["VmRSS"]))
            roll = read_kv(f"/proc/{pid}/smaps_rollup")
            uss.append(kb(roll["Private_Clean"]) + kb(roll["Private_Dirty"]))
        t1, c1 = time.monotonic(), cpu_ticks(pid)
        r["idle_VmRSS_kb"] = f"{min(rss)} / {round(statistics.median(rss))} / {max(rss)}"
        r["idle_USS_kb"] = f"{min(uss)} / {round(statistics.median(uss))} / {max(uss)}"
        r["idle_s"] = round(t1 - t0, 1)
        r["idle_cpu_pct"] = round((c1 - c0) / CLK_TCK / (t1 - t0) * 100, 3)
        r["load"] = ab.loadavg()

    def failover(self, runs):
        """Kill -> running (n = `runs`, one service after another across the 5 apps) with the
        apps still deployed: the figures of agent_bench.py's (a), for this binary."""
        if runs <= 0:
            return
        targets = [(app, svc) for svc in ("s1", "s2", "s3", "s4", "s5")
                   for app in self.apps][:runs]
        events = ab.Events(self.b.engine)
        notes = []
        try:
            total, engine_side = ab.kill_to_running(self.b.engine, events, targets, notes)
        finally:
            events.close()
        r = self.result
        r["failover_load"] = ab.loadavg()
        r["failover_notes"] = notes
        if total:
            r["failover_runs"] = len(total)
            r["failover_median_ms"] = round(statistics.median(total) * 1000)
            r["failover_p95_ms"] = round(ab.pct(total, 95) * 1000)
        if engine_side:
            r["die_start_median_ms"] = round(statistics.median(engine_side) * 1000)
            r["die_start_p95_ms"] = round(ab.pct(engine_side, 95) * 1000)

    def remove_apps(self):
        for name in self.apps:
            try:
                self.b.ops.request("app.remove", {"name": name, "volumes": "delete"}, timeout=30)
            except TimeoutError:
                pass
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not any(self.b.engine.ids(f"com.docker.compose.project={n}") for n in self.apps):
                break
            time.sleep(1)

    def teardown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.remove_apps()
        self.stop_agent()
        self.b.engine.cleanup(f"io.pharos.node={self.node}")
        for n in self.apps:
            self.b.engine.cleanup(f"com.docker.compose.project={n}")
            out = self.b.engine.run("volume", "ls", "-q", "--filter", f"name={n}_",
                                    check=False).stdout.split()
            if out:
                self.b.engine.run("volume", "rm", *out, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Bench:
    def __init__(self, args):
        self.args = args

    def __enter__(self):
        self.engine = ab.find_engine()
        if self.engine.run("image", "inspect", ab.IMAGE, check=False).returncode != 0:
            subprocess.run([str(ab.ROOT / "tools" / "test-image.sh")], env=self.engine.env,
                           check=True, timeout=300)
        self.broker = ab.Broker(operators=("ops",), viewers=("viewer",), agents=()).start()
        self.anchor_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-footprint-anchor-"))
        self.anchor = AnchorProcess(self.args.anchor, self.broker, self.anchor_dir).start()
        self.ops = self.broker.client("ops")
        return self

    def ops_connected(self, timeout=30):
        """The operator's client once connected: its link sometimes drops while the anchor
        starts (seen as "subscribe: error 4"); paho reconnects by itself within seconds."""
        deadline = time.monotonic() + timeout
        while not self.ops.connected and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.ops

    def __exit__(self, *exc):
        try:
            self.anchor.stop()
        finally:
            self.broker.cleanup()
            shutil.rmtree(self.anchor_dir, ignore_errors=True)


def table(results):
    rows = [
        ("VmRSS", "VmRSS_kb", "kB", "≤ 10240"), ("USS (Private_Clean+Private_Dirty)", "USS_kb",
                                                  "kB", "≤ 4096"),
        ("VmRSS over the idle window: min / median / max", "idle_VmRSS_kb", "kB", ""),
        ("USS over the idle window: min / median / max", "idle_USS_kb", "kB", ""),
        ("PSS", "Pss_kb", "kB", ""), ("Shared (clean+dirty)", "Shared_kb", "kB", ""),
        ("RssAnon", "RssAnon_kb", "kB", ""), ("RssFile", "RssFile_kb", "kB", ""),
        ("VmHWM (peak)", "VmHWM_kb", "kB", ""), ("threads", "threads", "", ""),
        ("shared objects mapped", "shared_objects", "", ""),
        ("idle CPU (% of one core)", "idle_cpu_pct", "%", "≤ 0.5"),
        ("start to Ready, first start", "start_to_ready_ms", "ms", ""),
        ("start to Ready, restarts: median", "ready_median_ms", "ms", ""),
        ("start to Ready, restarts: p95", "ready_p95_ms", "ms", ""),
        ("`docker kill` → running: median", "failover_median_ms", "ms", ""),
        ("`docker kill` → running: p95", "failover_p95_ms", "ms", ""),
        ("engine `die` → `start`: median", "die_start_median_ms", "ms", ""),
        ("engine `die` → `start`: p95", "die_start_p95_ms", "ms", ""),
    ]
    head = "| | " + " | ".join(r["label"] for r in results) + " | goal |"
    lines = [head, "|---" * (len(results) + 2) + "|"]
    for name, key, unit, goal in rows:
        cells = " | ".join(f"{r.get(key, '-')} {unit}".strip() for r in results)
        lines.append(f"| {name} | {cells} | {goal} |")
    return lines


def breakdown_table(results):
    kinds = []
    for r in results:
        for k in r["breakdown"]:
            if k not in kinds:
                kinds.append(k)
    lines = ["| mapping (kB resident: RSS / USS) | " + " | ".join(r["label"] for r in results)
             + " |", "|---" * (len(results) + 1) + "|"]
    for k in kinds:
        if not any(r["breakdown"].get(k, 0) for r in results):
            continue
        lines.append(f"| {k} | " + " | ".join(
            f"{r['breakdown'].get(k, 0)} / {r['private'].get(k, 0)}" for r in results) + " |")
    return lines


def libs_table(results, top=12):
    names = []
    for r in results:
        for name, _, _ in r["libs"][:top]:
            if name not in names:
                names.append(name)
    lines = ["| library (RSS / PSS kB) | " + " | ".join(r["label"] for r in results) + " |",
             "|---" * (len(results) + 1) + "|"]
    for n in names:
        cells = []
        for r in results:
            hit = next((f"{rss} / {pss}" for name, rss, pss in r["libs"] if name == n), "-")
            cells.append(hit)
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agent", action="append", required=True,
                    help="LABEL=PATH of a pharos-agent binary (repeat to compare)")
    ap.add_argument("--agent-args", action="append", default=[],
                    help="LABEL=ARGS: extra agent flags for that label (space separated)")
    ap.add_argument("--anchor", default=str(ab.ROOT / "build" / "release" / "anchor" /
                                            "pharos-anchor"))
    ap.add_argument("--settle", type=float, default=20, help="idle seconds before reading")
    ap.add_argument("--idle", type=float, default=60, help="seconds of CPU sampling")
    ap.add_argument("--ready-runs", type=int, default=10, help="timed restarts per agent")
    ap.add_argument("--failover-runs", type=int, default=10,
                    help="timed docker kill -> running per agent, after the idle window")
    ap.add_argument("--json", help="also write the raw figures here")
    args = ap.parse_args()
    extra = {}
    for item in args.agent_args:
        label, _, rest = item.partition("=")
        extra[label] = rest.split()
    started = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    load_start = ab.loadavg()
    results = []
    with Bench(args) as bench:
        for item in args.agent:
            label, _, path = item.partition("=")
            run = Run(label, pathlib.Path(path).resolve(), extra.get(label, []), bench)
            ab.log(f"[{label}] {path} {' '.join(run.extra_args)}")
            try:
                run.start_agent()
                run.deploy()
                run.measure(args.settle, args.idle)
                run.failover(args.failover_runs)
                run.remove_apps()
                run.ready_runs(args.ready_runs)
            finally:
                run.teardown()
            r = run.result
            ab.log(f"[{label}] VmRSS {r['VmRSS_kb']} kB USS {r['USS_kb']} kB PSS {r['Pss_kb']} "
                   f"kB threads {r['threads']} {r['thread_names']} idle CPU "
                   f"{r['idle_cpu_pct']} % ({r['idle_s']} s)")
            results.append(r)
    nproc, cpu = ab.machine()
    out = [f"Measured {started}, {nproc} CPUs ({cpu}), load average at start {load_start}; "
           f"command: `/usr/bin/python3 bench/agent_footprint.py {' '.join(sys.argv[1:])}`.",
           "", *table(results), "", *breakdown_table(results), "", *libs_table(results), ""]
    for r in results:
        out.append(f"- {r['label']}: threads {r['thread_names']}; load at its idle window "
                   f"{r['load']}; at the end of its failover runs {r.get('failover_load')} "
                   f"({r.get('failover_runs', 0)} runs){'; ' if r.get('failover_notes') else ''}"
                   f"{'; '.join(r.get('failover_notes', []))}")
    text = "\n".join(out)
    print("\n" + text)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
