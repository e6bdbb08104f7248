#!/usr/bin/python3
"""Bridge-level benchmark: the extra latency one line-broker level adds to a group
fan-out, measured in ONE run on one site: N hollow agents (pharos-fleetsim, a LOAD
GENERATOR) connected DIRECTLY to the site broker, and N more connected to a line broker
rendered from broker-config/mosquitto-line.conf and bridged to the same site broker. Both
groups get the same app.deploy, alternately, R times; each time is measured from the request
to the rollout summary (apps/{app}/rollout, at the site) saying all N applied the revision,
so it includes the document going down and the N state reports coming back up.

Also measured: the bridge hop of the group document itself (groups/{g}/desired seen by a
subscriber on the site broker vs one on the line broker).

  bench/levels_bench.py [--nodes 1000] [--runs 5] [--shards 2] [--json FILE]

Everything on 127.0.0.1. Build first (release, like bench/scale.py):
  cmake -S . -B build/fleetsim-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHAROS_TESTS=OFF
  cmake --build build/fleetsim-release -j2 --target pharos-anchor pharos-fleetsim
(--build-dir picks another tree). Prints one line per run and a JSON summary.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale_env import (MOSQUITTO, ROOT, TOPIC_ROOT, Env, HealthWatch,  # noqa: E402
                       RolloutWatch, add_members, deploy_compose, dynsec, find_binary, free_port,
                       node_name, port_open, request, wait_until)
from harness.broker import Client  # noqa: E402
from scale import machine  # noqa: E402  (bench/scale.py: nproc, CPU, kernel, date, load)

LINE = "bench"
BRIDGE = f"bridge-{LINE}"


def log(*args):
    print(*args, flush=True)


class LevelsEnv(Env):
    """Env (site broker, anchor, direct fleet) plus a line broker bridged to the site with
    its own agents (prefix "lb"), all sharing one password like the direct ones."""

    def __init__(self, nodes, build_dir=None, keepalive=10):
        super().__init__(nodes, prefix="sim", build_dir=build_dir)
        self.keepalive = keepalive
        self.bridge_password = dynsec.new_password()
        dyn = dynsec.Dynsec.load(self.data / dynsec.FILE_NAME)
        dyn.add_bridge(LINE, self.bridge_password)
        dynsec._save(self.data, dyn)
        self.line_data = self.dir / "line"
        self.line_port = free_port()
        self.line_ws_port = free_port()
        creds = dynsec.init(self.line_data, ("ops",), (), ())
        self.line_ops_password = creds["operator-ops"][1]
        line = dynsec.Dynsec.load(self.line_data / dynsec.FILE_NAME)
        hashed = dynsec.hash_password(self.agent_password)
        for k in range(nodes):
            node = node_name("lb", k)
            role = dynsec.agent_role(node)  # the anchor grants "bridged" through the bridge
            line.doc["roles"].append(role)
            client = {"username": node, "textname": f"agent of node {node}", "clientid": node}
            client.update(hashed)
            client["roles"] = [{"rolename": role["rolename"]}]
            client["groups"] = []
            line.doc["clients"].append(client)
        dynsec._save(self.line_data, line)
        self.line_proc = None

    def anchor_command(self):
        return super().anchor_command() + ["--bridge",
                                           f"{BRIDGE}=tcp://127.0.0.1:{self.line_port}"]

    def start_line(self):
        env = dict(os.environ, PHAROS_BROKER_TEMPLATE=str(ROOT / "broker-config/mosquitto-line.conf"),
                   PHAROS_LINE=LINE, PHAROS_SITE_ADDRESS=f"127.0.0.1:{self.port}",
                   PHAROS_BRIDGE_PASSWORD=self.bridge_password,
                   PHAROS_BRIDGE_KEEPALIVE=str(self.keepalive))
        subprocess.run([str(ROOT / "tools" / "render-broker-config.sh"), str(self.line_data),
                        str(self.line_port), str(self.line_ws_port)], check=True,
                       capture_output=True, env=env)
        out = open(self.dir / "line.log", "ab")
        self.line_proc = subprocess.Popen([MOSQUITTO, "-c", str(self.line_data / "mosquitto.conf")],
                                          stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        out.close()
        if not wait_until(lambda: port_open(self.line_port), 20):
            raise RuntimeError("line broker did not start")

    def start_line_fleet(self, nodes, shards, extra=()):
        procs = []
        for i in range(shards):
            cmd = [str(find_binary("pharos-fleetsim", self.build_dir)), "--url",
                   f"tcp://127.0.0.1:{self.line_port}", "--prefix", "lb", "--nodes", str(nodes),
                   "--first", "0", "--shard", f"{i}/{shards}", "--password-file",
                   str(self.password_file), *extra]
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                 stderr=open(self.dir / f"line-fleet-{i}.log", "ab"),
                                 stdin=subprocess.DEVNULL, text=True)
            p.lines = []
            threading.Thread(target=self._read_lines, args=(p,), daemon=True).start()
            procs.append(p)
        self.fleet_procs += procs
        return procs

    def line_client(self):
        return Client("127.0.0.1", self.line_port, "ops", self.line_ops_password, keepalive=60,
                      timeout=30)

    def close(self):
        if self.line_proc and self.line_proc.poll() is None:
            self.line_proc.terminate()
            try:
                self.line_proc.wait(20)
            except subprocess.TimeoutExpired:
                self.line_proc.kill()
        super().close()


class DocWatch:
    """Arrival time (monotonic) of each generation of a retained document on one client."""

    def __init__(self, client, topic):
        self.seen = {}
        self.cond = threading.Condition()
        client._mqtt.message_callback_add(topic, self._on)
        client.subscribe(topic)

    def _on(self, _c, _u, msg):
        now = time.monotonic()
        try:
            gen = json.loads(msg.payload).get("generation")
        except ValueError:
            return
        with self.cond:
            self.seen.setdefault(gen, now)
            self.cond.notify_all()

    def wait(self, generation, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while generation not in self.seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.1))
            return self.seen[generation]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000, help="hollow agents per side")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shards", type=int, default=2, help="fleetsim processes per side")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--build-dir")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    results = {"command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
               "machine": machine(), "nodes_per_side": a.nodes, "runs": a.runs,
               "anchor": str(find_binary("pharos-anchor", a.build_dir))}
    env = LevelsEnv(a.nodes, a.build_dir)
    try:
        env.start_broker()
        env.start_line()
        env.start_anchor()
        ops = env.client()
        health = HealthWatch(ops)
        extra = ["--threads", str(a.threads)]
        t0 = time.monotonic()
        env.start_fleet(a.nodes, a.shards, extra=extra)
        env.start_line_fleet(a.nodes, a.shards, extra=extra)
        ok = health.wait(lambda: health._count_unlocked("Ready", "sim") >= a.nodes and
                         health._count_unlocked("Ready", "lb") >= a.nodes, a.timeout)
        log(f"fleet: {health.count('Ready', 'sim')} direct + {health.count('Ready', 'lb')} "
            f"bridged Ready after {time.monotonic() - t0:.1f} s")
        if not ok:
            raise RuntimeError("fleet did not become Ready")
        add_members(ops, "direct", [node_name("sim", k) for k in range(a.nodes)])
        add_members(ops, "bridged", [node_name("lb", k) for k in range(a.nodes)])
        time.sleep(5)  # membership documents and the line grants settle
        rollout = RolloutWatch(ops)
        site_doc = DocWatch(ops, f"{TOPIC_ROOT}/groups/bridged/desired")
        line_doc = DocWatch(env.line_client(), f"{TOPIC_ROOT}/groups/bridged/desired")
        # One untimed deploy per side first (recorded as warm_up_seconds): it includes the
        # line broker applying 3 x N grants (Mosquitto rewrites its file for each), which is
        # set-up, not the fan-out measured here.
        for kind in ("direct", "bridged"):
            t = time.monotonic()
            res = request(ops, "app.deploy", {"name": f"fan-{kind}", "target": {"group": kind},
                                              "compose": deploy_compose(marker="warm-up")})
            done, doc = rollout.wait_applied(f"fan-{kind}", res.get("revision", 1), a.nodes,
                                             a.timeout)
            results.setdefault("warm_up_seconds", {})[kind] = (
                None if done is None else round(done - t, 3))
            log(f"warm-up {kind}: {results['warm_up_seconds'][kind]} s")
            time.sleep(2)
        times = {"direct": [], "bridged": []}
        hops = []
        for r in range(a.runs):
            order = ("direct", "bridged") if r % 2 == 0 else ("bridged", "direct")
            for kind in order:
                app = f"fan-{kind}"
                t = time.monotonic()
                res = request(ops, "app.deploy", {"name": app, "target": {"group": kind},
                                                  "compose": deploy_compose(marker=f"{r}")})
                done, doc = rollout.wait_applied(app, res.get("revision", 1), a.nodes, a.timeout)
                if done is None:
                    raise RuntimeError(f"{app} run {r}: not applied by all: {doc}")
                times[kind].append(done - t)
                log(f"run {r} {kind:8s}: all {a.nodes} applied after {done - t:.3f} s")
                time.sleep(2)  # let state reports drain before the next deploy
        # The document hop: generations seen on both brokers during the runs.
        for gen, t_site in sorted(site_doc.seen.items(), key=lambda x: x[0] or 0):
            t_line = line_doc.seen.get(gen)
            if t_line is not None and gen is not None:
                hops.append(t_line - t_site)
        med = {k: statistics.median(v) for k, v in times.items()}
        results.update({
            "seconds_all_applied": {k: [round(x, 3) for x in v] for k, v in times.items()},
            "median_seconds": {k: round(v, 3) for k, v in med.items()},
            "extra_seconds_median": round(med["bridged"] - med["direct"], 3),
            "document_hop_ms": [round(h * 1000, 1) for h in hops],
            "document_hop_ms_median": round(statistics.median(hops) * 1000, 1) if hops else None,
            "loadavg_at_end": " ".join(open("/proc/loadavg").read().split()[:3]),
        })
        log(json.dumps(results, indent=1))
        if a.json:
            pathlib.Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
        return 0
    finally:
        env.close()


if __name__ == "__main__":
    sys.exit(main())
