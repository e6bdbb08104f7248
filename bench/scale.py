#!/usr/bin/python3
"""Scale benchmarks with hollow agents (pharos-fleetsim, a LOAD GENERATOR) against the real
Mosquitto and the real pharos-anchor, all on 127.0.0.1.

  bench/scale.py all        [--nodes N] [--shards S] [--runs R] [--json FILE]
  bench/scale.py storm      [--nodes N] ...      registration storm: N connect at once
  bench/scale.py fanout     [--nodes N] ...      one app.deploy to groups of 100/1,000/N
                                                 vs the broker-only floor (retained to N)
  bench/scale.py notready   [--runs R] ...       kill -> NotReady (R runs), freeze -> NotReady
  bench/scale.py api        [--nodes N] ...      node.list (paginated), app.get p50/p99
  bench/scale.py restart    [--nodes N] [--apps A] anchor restart: serving, all republished

Every subcommand prints its figures as it goes and a JSON summary at the end (--json FILE
also writes it, with the exact command, nproc, CPU model and date); bench/scale_report.py
FILE... then replaces the "## Scale (hollow agents)" section of bench/RESULTS.md. Defaults
are small (N = 200) and every wait is bounded (--timeout).
Build first: cmake -S . -B build/fleetsim-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
-DPHAROS_TESTS=OFF && cmake --build build/fleetsim-release -j2 --target pharos-anchor
pharos-fleetsim
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale_env import (FLEET_NICE, TOPIC_ROOT, Env, HealthWatch, RolloutWatch, add_members,  # noqa: E402
                       deploy_compose, node_name, proc_cpu_rss, request, wait_group_rights)

def log(*args):
    print(*args, flush=True)


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def cpu_of(pids):
    """CPU seconds (user+system) of these processes together; gone ones count 0."""
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_rss(pid)[0]
        except OSError:
            pass
    return total


def fan_sizes(n):
    return [s for s in (100, 1000, 10000) if s < n] + [n]


class Bench:
    def __init__(self, args):
        self.args = args
        self.n = args.nodes
        self.results = {"nodes": self.n, "shards": args.shards}
        sizes = fan_sizes(self.n)
        memberships = {f"fan-{s}": list(range(s)) for s in sizes}
        for g in range(args.groups):
            memberships[f"g-{g:03d}"] = list(range(g, self.n, args.groups))
        self.memberships = memberships
        self.env = Env(self.n, extra_agents=[node_name("probe", 0)], build_dir=args.build_dir)
        self.ops = None
        self.health = None
        self.rollout = None
        self.fleet = []
        self.floors = {}
        self.round_trips = {}
        self.contract_trips = {}
        self.floor_broker_cpu = {}

    # ---- phases ------------------------------------------------------------------------
    def setup(self):
        self.env.start_broker()
        self.env.start_anchor()
        self.ops = self.env.client()
        self.health = HealthWatch(self.ops)
        self.rollout = RolloutWatch(self.ops)

    def measure_floors(self):
        """The broker-only floors, on the same broker before the fleet starts: N floor
        subscribers next to N connected agents would exceed this machine's 20,000 file
        descriptors."""
        self.floors = {}
        self.round_trips = {}
        self.contract_trips = {}
        self.floor_broker_cpu = {}
        for size in fan_sizes(self.n):
            self.floors[size] = self.floor(size)
            log(f"floor {size}: one retained message to {size} subscribers in "
                f"{self.floors[size]} s")
            self.round_trips[size] = self.floor(size, echo=True)
            log(f"round-trip floor {size}: ... and one QoS 1 answer from each of them to one "
                f"collector in {self.round_trips[size]} s")
            self.contract_trips[size] = self.floor(size, echo="contract")
            log(f"contract round trip {size}: ... answering instead with what an agent reports "
                f"for a rollout (app_applied event, then state) in {self.contract_trips[size]} s")
        self.wait_broker_quiet()

    def wait_broker_quiet(self, limit=15.0):
        """Until the broker uses < 5 % of a core over 0.5 s (it is still closing the floors'
        10,000 sessions when their processes have exited), at most `limit` s."""
        pid = self.env.broker_proc.pid
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            c0 = cpu_of([pid])
            time.sleep(0.5)
            if cpu_of([pid]) - c0 < 0.025:
                return

    def storm(self):
        a = self.args
        extra = ["--threads", str(a.threads), "--keep-alive", str(a.keep_alive)]
        log(f"storm: starting {self.n} hollow agents in {a.shards} process(es)")
        cpu0 = {"anchor": cpu_of([self.env.anchor_proc.pid]),
                "broker": cpu_of([self.env.broker_proc.pid])}
        t0 = time.monotonic()
        self.fleet = self.env.start_fleet(self.n, a.shards, extra=extra)
        ok = self.health.wait(lambda: self.health._count_unlocked("Ready", "sim") >= self.n,
                              a.timeout)
        t_ready = time.monotonic() - t0
        ready = self.health.count("Ready", "sim")
        connected_ms = []
        for p in self.fleet:
            for line in p.lines:
                if line.get("event") == "all-connected":
                    connected_ms.append(line["ms"])
        try:
            listed = self.count_listed_ready()
        except (TimeoutError, RuntimeError) as e:
            listed = f"no answer ({e})"
        cpu = {"anchor_cpu_seconds": round(cpu_of([self.env.anchor_proc.pid]) - cpu0["anchor"], 2),
               "broker_cpu_seconds": round(cpu_of([self.env.broker_proc.pid]) - cpu0["broker"], 2),
               "fleetsim_cpu_seconds": round(cpu_of([p.pid for p in self.fleet]), 2)}
        r = {"ready": ready, "seconds_all_ready": round(t_ready, 2) if ok else None, **cpu,
             "listed_ready": listed,
             "seconds_all_connected_by_shard": [round(m / 1000, 2) for m in connected_ms]}
        self.results["storm"] = r
        log(f"storm: {ready}/{self.n} Ready after {t_ready:.2f} s "
            f"(node.list: {listed} Ready; links connected per shard: {r['seconds_all_connected_by_shard']} s;"
            f" CPU s anchor {cpu['anchor_cpu_seconds']}, broker {cpu['broker_cpu_seconds']},"
            f" fleetsim {cpu['fleetsim_cpu_seconds']})")
        return ok

    def count_listed_ready(self):
        n, cursor = 0, None
        while True:
            body = {"limit": 1000, "health": "Ready"}
            if cursor:
                body["cursor"] = cursor
            res = request(self.ops, "node.list", body, timeout=60)
            n += len(res["nodes"])
            cursor = res.get("next")
            if not cursor:
                return n

    def wait_quiet(self, seconds=2.0, limit=120):
        """Waits until no health/state traffic arrives for `seconds` (bounded)."""
        c = self.env.client()
        last = [time.monotonic()]
        c._mqtt.message_callback_add(f"{TOPIC_ROOT}/nodes/#",
                                     lambda *_: last.__setitem__(0, time.monotonic()))
        c.subscribe(f"{TOPIC_ROOT}/nodes/+/state")
        c.subscribe(f"{TOPIC_ROOT}/nodes/+/desired")
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - last[0] < seconds:
            time.sleep(0.2)
        c.close()

    def groups(self):
        log(f"groups: {len(self.memberships)} groups")
        t0 = time.monotonic()
        wanted = {}
        for g, members in self.memberships.items():
            wanted[g] = [node_name("sim", k) for k in members]
            add_members(self.ops, g, wanted[g])
        # The anchor grants the read rights in paced steps; the fan-out is measured once the
        # broker holds them all.
        waited = wait_group_rights(self.env, wanted)
        log(f"groups: all read rights granted {waited:.1f} s after the last group.add")
        self.wait_quiet()
        self.results["groups_setup_seconds"] = round(time.monotonic() - t0, 1)
        log(f"groups: set up and quiet after {time.monotonic() - t0:.1f} s")

    def idle_usage(self, seconds=10):
        pid = self.env.anchor_proc.pid
        c0, _ = proc_cpu_rss(pid)
        time.sleep(seconds)
        c1, rss = proc_cpu_rss(pid)
        fleet_rss = [ln for p in self.fleet for ln in p.lines if ln.get("event") == "stats"]
        per_agent = [ln["rss_per_agent_kb"] for ln in fleet_rss[-len(self.fleet):]]
        b_cpu, b_rss = proc_cpu_rss(self.env.broker_proc.pid)
        r = {"anchor_rss_mb": round(rss / 1024, 1),
             "anchor_cpu_percent": round(100 * (c1 - c0) / seconds, 1),
             "broker_rss_mb": round(b_rss / 1024, 1),
             "hollow_agent_rss_kb": round(statistics.mean(per_agent), 1) if per_agent else None}
        self.results["idle"] = r
        log(f"idle ({seconds} s): anchor {r['anchor_rss_mb']} MB RSS, {r['anchor_cpu_percent']} % CPU;"
            f" broker {r['broker_rss_mb']} MB; hollow agent {r['hollow_agent_rss_kb']} KiB each")

    def floor(self, size, echo=False):
        """One retained message to `size` plain subscribers (fleetsim --floor); with `echo`,
        until each has answered with one QoS 1 message that one collector subscriber has
        received: the broker-only round trip any acknowledgment (an agent's report) needs.
        With echo="contract" each answers with a rollout's reports instead (an app_applied
        event, then a state: Pharos' wire contract with no agent logic behind it)."""
        kind = {False: "", True: "rt-", "contract": "ct-"}[echo]
        flag = {False: [], True: ["--floor-echo"], "contract": ["--floor-echo-contract"]}[echo]
        topic = f"{TOPIC_ROOT}/bench/floor-{size}-{kind}{int(time.time())}"
        shards = max(1, min(self.args.shards, size // 500))
        collector = []
        if echo:
            collector = self.env.start_fleet(size, 1, prefix="fc",
                                             extra=["--floor", "--floor-collect", "--floor-user",
                                                    "floor", "--floor-topic", topic]
                                             + (flag if echo == "contract" else []))
        procs = self.env.start_fleet(size, shards, prefix="fl",
                                     extra=["--floor", "--floor-user", "floor", "--floor-topic",
                                            topic, "--threads", str(self.args.threads)]
                                     + flag)
        deadline = time.monotonic() + self.args.timeout

        def lines(ev, ps):
            return [ln for p in ps for ln in p.lines if ln.get("event") == ev]
        while len(lines("floor-connected", procs)) < shards and time.monotonic() < deadline:
            time.sleep(0.05)
        while echo and not lines("collect-connected", collector) and time.monotonic() < deadline:
            time.sleep(0.05)
        publisher = self.env.client("floor")
        time.sleep(0.5)  # the subscriptions follow the connects
        broker = [self.env.broker_proc.pid]
        cpu0 = cpu_of(broker)
        t_pub = time.time() * 1000
        publisher.publish(topic, {"v": 1, "floor": size}, retain=True)
        got = None
        event, watched = ("echo", collector) if echo else ("floor", procs)
        while time.monotonic() < deadline:
            last = {}
            for p in watched:
                for ln in p.lines:
                    if ln.get("event") == event:
                        last[p.pid] = ln
            if len(last) == len(watched) and sum(ln["received"] for ln in last.values()) >= size:
                got = max(ln["last_ms"] for ln in last.values()) - t_pub
                # The broker's CPU over the measured window (to the end of this poll).
                self.floor_broker_cpu.setdefault(
                    {"": "floor", "rt-": "round_trip", "ct-": "contract"}[kind], {})[size] = round(
                    cpu_of(broker) - cpu0, 3)
                break
            time.sleep(0.05)
        publisher.publish(topic, b"", retain=True)
        publisher.close()
        self.env.stop_fleet(procs + collector, timeout=60)
        return None if got is None else got / 1000

    def fanout(self):
        out = []
        self.results["fanout"] = out
        pid = self.env.anchor_proc.pid
        others = {"broker": [self.env.broker_proc.pid],
                  "fleetsim": [p.pid for p in self.fleet if p.poll() is None]}
        for size in fan_sizes(self.n):
            app = f"fan{size}"
            c0, _ = proc_cpu_rss(pid)
            o0 = {k: cpu_of(v) for k, v in others.items()}
            peak = [0]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], proc_cpu_rss(pid)[1])
                    time.sleep(0.1)
            th = threading.Thread(target=sample, daemon=True)
            th.start()
            t0 = time.monotonic()
            res = request(self.ops, "app.deploy", {"name": app, "target": {"group": f"fan-{size}"},
                                                   "compose": deploy_compose(marker=app)})
            t_reply = time.monotonic() - t0
            t_done, doc = self.rollout.wait_applied(app, res.get("revision", 1), size,
                                                    self.args.timeout)
            elapsed = None if t_done is None else t_done - t0
            stop.set()
            th.join()
            c1, _ = proc_cpu_rss(pid)
            o1 = {k: cpu_of(v) for k, v in others.items()}
            floor = self.floors.get(size)
            ratio = None if (elapsed is None or not floor) else round(elapsed / floor, 2)
            rt = self.round_trips.get(size)
            ct = self.contract_trips.get(size)
            r = {"size": size, "seconds_all_applied": None if elapsed is None else round(elapsed, 2),
                 "deploy_reply_seconds": round(t_reply, 3),
                 "floor_seconds": None if floor is None else round(floor, 3), "ratio": ratio,
                 # The broker-only round trip (floor + one answer per subscriber to one
                 # collector): what any design whose devices acknowledge through the broker
                 # needs at least. Reported next to the floor, not instead of it.
                 "round_trip_floor_seconds": None if rt is None else round(rt, 3),
                 "round_trip_over_floor": None if (rt is None or not floor) else round(rt / floor, 2),
                 "ratio_to_round_trip": None if (elapsed is None or not rt) else round(elapsed / rt, 2),
                 # The same with each subscriber answering what an agent reports for a
                 # rollout (event + state): the contract's traffic with no agent logic.
                 "contract_trip_seconds": None if ct is None else round(ct, 3),
                 "contract_trip_over_floor": None if (ct is None or not floor) else round(ct / floor, 2),
                 "ratio_to_contract_trip": None if (elapsed is None or not ct) else round(elapsed / ct, 2),
                 # Broker CPU s in each broker-only window (floor, round_trip, contract).
                 "floors_broker_cpu_seconds": {k: v.get(size) for k, v in
                                               self.floor_broker_cpu.items()},
                 "anchor_cpu_seconds": round(c1 - c0, 2),
                 # Who used the 2 cores meanwhile: what bounds the fan-out.
                 "broker_cpu_seconds": round(o1["broker"] - o0["broker"], 2),
                 "fleetsim_cpu_seconds": round(o1["fleetsim"] - o0["fleetsim"], 2),
                 "anchor_peak_rss_mb": round(peak[0] / 1024, 1),
                 "last_summary": {k: (doc or {}).get(k) for k in
                                  ("total", "pending", "applied", "running", "failed", "notready")}}
            out.append(r)
            log(f"fanout {size}: all applied after {r['seconds_all_applied']} s (reply "
                f"{r['deploy_reply_seconds']} s); floor {r['floor_seconds']} s; ratio {ratio}; "
                f"round-trip floor {r['round_trip_floor_seconds']} s "
                f"({r['round_trip_over_floor']} x the floor; fan-out {r['ratio_to_round_trip']} x it); "
                f"contract round trip {r['contract_trip_seconds']} s ({r['contract_trip_over_floor']} "
                f"x the floor; fan-out {r['ratio_to_contract_trip']} x it); broker CPU s in the "
                f"floors {r['floors_broker_cpu_seconds']}; "
                f"anchor {r['anchor_cpu_seconds']} CPU s, peak {r['anchor_peak_rss_mb']} MB; "
                f"broker {r['broker_cpu_seconds']} CPU s, fleetsim {r['fleetsim_cpu_seconds']} CPU s; "
                f"summary {r['last_summary']}")
        self.results["fanout"] = out

    def probe(self, keep_alive):
        p = self.env.start_fleet(1, 1, prefix="probe",
                                 extra=["--keep-alive", str(keep_alive), "--threads", "1"])[0]
        node = node_name("probe", 0)
        t = self.health.wait_event(node, "Ready", time.monotonic() - 0.001, 30)
        if t is None:
            raise RuntimeError("probe agent never Ready")
        return p, node

    def notready(self):
        runs = self.args.runs
        kill = []
        for i in range(runs):
            p, node = self.probe(10)
            time.sleep(0.2)
            t0 = time.monotonic()
            p.send_signal(signal.SIGKILL)
            t = self.health.wait_event(node, "NotReady", t0, 10)
            p.wait()
            self.env.fleet_procs.remove(p)
            if t is not None:
                kill.append((t - t0) * 1000)
        k = self.args.freeze_keep_alive
        freeze = []
        for i in range(self.args.freeze_runs):
            p, node = self.probe(k)
            time.sleep(0.2)
            t0 = time.monotonic()
            p.send_signal(signal.SIGSTOP)
            t = self.health.wait_event(node, "NotReady", t0, 3 * k + 10)
            p.send_signal(signal.SIGKILL)
            p.send_signal(signal.SIGCONT)
            p.wait()
            self.env.fleet_procs.remove(p)
            if t is not None:
                freeze.append(t - t0)
        r = {"kill_runs": runs, "kill_detected": len(kill),
             "kill_ms_median": round(statistics.median(kill), 1) if kill else None,
             "kill_ms_p99": round(pct(kill, 99), 1) if kill else None,
             "kill_ms_max": round(max(kill), 1) if kill else None,
             "freeze_keep_alive_s": k, "freeze_runs": self.args.freeze_runs,
             "freeze_seconds": [round(x, 2) for x in freeze],
             "freeze_multiple_of_k_max": round(max(freeze) / k, 2) if freeze else None}
        self.results["notready"] = r
        log(f"notready: kill median {r['kill_ms_median']} ms, p99 {r['kill_ms_p99']} ms "
            f"({len(kill)}/{runs}); freeze K={k}s: {r['freeze_seconds']} s "
            f"(max {r['freeze_multiple_of_k_max']} x K)")

    def api(self):
        reqs = self.args.api_requests
        lat = {"node.list": [], "node.list.page": [], "app.get": []}
        apps = [f"fan{s}" for s in fan_sizes(self.n)]
        names = [node_name("sim", k) for k in range(self.n)]
        for i in range(reqs):
            t0 = time.monotonic()
            request(self.ops, "node.list", {"limit": 100})
            lat["node.list"].append((time.monotonic() - t0) * 1000)
            cursor = names[(i * 7919) % self.n]
            t0 = time.monotonic()
            request(self.ops, "node.list", {"limit": 100, "cursor": cursor})
            lat["node.list.page"].append((time.monotonic() - t0) * 1000)
            t0 = time.monotonic()
            request(self.ops, "app.get", {"name": apps[i % len(apps)]})
            lat["app.get"].append((time.monotonic() - t0) * 1000)
        r = {op: {"p50_ms": round(pct(v, 50), 2), "p99_ms": round(pct(v, 99), 2), "n": len(v)}
             for op, v in lat.items() if v}
        self.results["api"] = r
        log(f"api ({reqs} each, sequential): " +
            "; ".join(f"{op} p50 {v['p50_ms']} ms p99 {v['p99_ms']} ms" for op, v in r.items()))

    def restart(self):
        apps = self.args.apps
        log(f"restart: deploying {apps} node apps")
        t0 = time.monotonic()
        for i in range(apps):
            node = node_name("sim", (i * 7) % self.n)
            request(self.ops, "app.deploy", {"name": f"r{i:04d}", "target": {"node": node},
                                             "compose": deploy_compose(marker=str(i))})
        log(f"restart: {apps} apps deployed in {time.monotonic() - t0:.1f} s")
        self.wait_quiet(2.0, 120)
        # Every desired document the anchor owns: one per node, one per group.
        expected = self.n + len(self.memberships)
        c = self.env.client()
        seen = set()
        lock = threading.Lock()
        t_all = [None]
        start = [None]

        def on_doc(_c, _u, msg):
            if start[0] is None or not msg.payload:
                return
            with lock:
                seen.add(msg.topic)
                if len(seen) >= expected and t_all[0] is None:
                    t_all[0] = time.monotonic()
        c._mqtt.message_callback_add(f"{TOPIC_ROOT}/nodes/+/desired", on_doc)
        c._mqtt.message_callback_add(f"{TOPIC_ROOT}/groups/+/desired", on_doc)
        c.subscribe(f"{TOPIC_ROOT}/nodes/+/desired")
        c.subscribe(f"{TOPIC_ROOT}/groups/+/desired")
        time.sleep(3)  # the retained copies arrive now, before `start`
        self.env.stop_anchor()
        start[0] = time.monotonic()
        self.env.start_anchor(wait=False)
        serving = None
        deadline = time.monotonic() + self.args.timeout
        while time.monotonic() < deadline:
            try:
                self.ops.request("node.get", {"name": node_name("sim", 0)}, timeout=0.5)
                serving = time.monotonic() - start[0]
                break
            except TimeoutError:
                pass
        while t_all[0] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        c.close()
        r = {"nodes": self.n, "apps": apps, "documents": expected,
             "seconds_to_serving": None if serving is None else round(serving, 2),
             "seconds_to_all_republished": None if t_all[0] is None else round(t_all[0] - start[0], 2),
             "republished_seen": len(seen)}
        self.results["restart"] = r
        log(f"restart: serving after {r['seconds_to_serving']} s; {len(seen)}/{expected} desired "
            f"documents republished after {r['seconds_to_all_republished']} s")

    def close(self):
        if self.ops:
            self.ops.close()
        self.env.close()


def machine():
    cpu = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = open("/proc/loadavg").read().split()[:3]
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg_at_start": " ".join(load)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["all", "storm", "fanout", "notready", "api", "restart"])
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--shards", type=int, default=None,
                    help="fleetsim processes (default: one per 500 agents; one Paho process "
                         "cannot keep 2,000 sessions alive here)")
    ap.add_argument("--threads", type=int, default=8, help="executor threads per process")
    ap.add_argument("--groups", type=int, default=5, help="ordinary groups (besides fan-*)")
    ap.add_argument("--keep-alive", type=int, default=10)
    ap.add_argument("--runs", type=int, default=10, help="kill runs")
    ap.add_argument("--freeze-runs", type=int, default=3)
    ap.add_argument("--freeze-keep-alive", type=int, default=2)
    ap.add_argument("--api-requests", type=int, default=200)
    ap.add_argument("--apps", type=int, default=100, help="apps for the restart benchmark")
    ap.add_argument("--timeout", type=float, default=120, help="bound of every wait, seconds")
    ap.add_argument("--build-dir")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.shards is None:
        args.shards = max(1, -(-args.nodes // 500))

    info = machine()
    log(f"machine: {info}")
    b = Bench(args)
    b.results["machine"] = info
    b.results["fleet_nice"] = FLEET_NICE
    b.results["command"] = "bench/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    t_start = time.monotonic()
    def phase(name, fn):
        # The machine is shared: every phase records the load average it started under.
        b.results.setdefault("loadavg", {})[name] = " ".join(
            open("/proc/loadavg").read().split()[:3])
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - recorded, the next phase still runs
            log(f"{name}: FAILED: {e}")
            b.results.setdefault("failures", {})[name] = str(e)
            return None

    try:
        b.setup()
        if args.command in ("all", "fanout"):
            phase("floor", b.measure_floors)
        if not phase("storm", b.storm) and args.command != "storm":
            log("storm incomplete: continuing with the nodes that are Ready")
        if args.command in ("all", "fanout", "api", "restart"):
            phase("groups", b.groups)
        if args.command == "all":
            phase("idle", b.idle_usage)
        if args.command in ("all", "fanout", "api"):
            phase("fanout", b.fanout)
        if args.command in ("all", "api"):
            phase("api", b.api)
        if args.command in ("all", "notready"):
            phase("notready", b.notready)
        if args.command in ("all", "restart"):
            phase("restart", b.restart)
    finally:
        b.results["wall_seconds"] = round(time.monotonic() - t_start, 1)
        b.close()
    print(json.dumps(b.results, indent=1), flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(b.results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
