#!/usr/bin/python3
"""pharos-sparkplug at scale: hollow agents (pharos-fleetsim, a LOAD GENERATOR) against the
real Mosquitto and the real pharos-anchor on 127.0.0.1, and one pharos-sparkplug process.

  bench/sparkplug_bench.py [--nodes N] [--shards S] [--steady SECONDS] [--json FILE]

Measures, with N nodes Ready before the edge node starts:
  births    time from the process start to its NBIRTH and to the last of N DBIRTHs, and the
            DBIRTH rate;
  steady    over --steady seconds of agent metrics (every --metrics-interval-ms per agent):
            DDATA and NDATA per second, metrics per second, the component's CPU (% of one
            core) and RSS;
  rebirth   NCMD Node Control/Rebirth -> every DBIRTH again.
A plain paho subscriber counts the messages (a sample of each kind is decoded with the Tahu
codec when tests/sparkplug-host/node_modules exists). Figures go to stdout and, with --json,
to FILE with the command, machine and date.
Build first (release): cmake --build build/release -j2 --target pharos-anchor pharos-fleetsim
pharos-sparkplug
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale_env import (TOPIC_ROOT, Client, Env, HealthWatch, find_binary,  # noqa: E402
                       node_name, proc_cpu_rss)

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import dynsec  # noqa: E402

GROUP, EDGE = "bench", "site"


def log(*args):
    print(*args, flush=True)


class Counter:
    """A Sparkplug host that only counts (and keeps one payload of each kind)."""

    def __init__(self, port, user, password):
        self.lock = threading.Lock()
        self.count = {}
        self.first = {}
        self.last = {}
        self.sample = {}
        self.dbirth_devices = set()
        self.c = mqtt.Client(client_id="bench-host", protocol=mqtt.MQTTv311)
        self.c.username_pw_set(user, password)
        self.c.on_message = self._on
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        self.c.subscribe("spBv1.0/#", 0)

    def _on(self, _c, _u, msg):
        now = time.monotonic()
        parts = msg.topic.split("/")
        kind = parts[2] if len(parts) > 2 else "?"
        with self.lock:
            self.count[kind] = self.count.get(kind, 0) + 1
            self.first.setdefault(kind, now)
            self.last[kind] = now
            self.sample.setdefault(kind, msg.payload)
            if kind == "DBIRTH":
                self.dbirth_devices.add(parts[4])

    def snapshot(self):
        with self.lock:
            return dict(self.count)

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.05)
        return False


def churn(env, nodes, rate, seconds):
    """Publishes `rate` metrics documents per second for `seconds`, each with a new CPU
    figure, to nodes/<sp-k>/metrics round robin (QoS 0). Returns how many were sent."""
    c = Client("127.0.0.1", env.port, "anchor", env.anchor_password, keepalive=60)
    sent = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while sent < due:
            node = node_name("sp", sent % nodes)
            doc = {"v": 1, "cpu_percent": float(sent % 997) / 10, "mem_used": 1 << 30,
                   "mem_total": 4 << 30, "disk_used": 1 << 33, "disk_total": 1 << 35,
                   "load1": 0.5, "load5": 0.5, "load15": 0.5, "containers": [],
                   "ts": int(time.time() * 1000)}
            c._mqtt.publish(f"{TOPIC_ROOT}/nodes/{node}/metrics", json.dumps(doc), qos=0)
            sent += 1
        time.sleep(0.01)
    c.close()
    return sent


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--steady", type=float, default=60)
    ap.add_argument("--metrics-interval-ms", type=int, default=15000)
    ap.add_argument("--churn", type=float, default=0,
                    help="also publish this many changing metrics documents per second "
                         "(as the anchor identity, round robin over the nodes) in the steady "
                         "window: hollow agents report constant figures")
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    env = Env(args.nodes, prefix="sp", build_dir=args.build_dir)
    creds = dynsec.add_sparkplug(env.data, "sparkplug", GROUP, EDGE)
    creds.update(dynsec.add_scada(env.data, ["scada"]))
    result = {"nodes": args.nodes, "shards": args.shards, "metrics_interval_ms":
              args.metrics_interval_ms, "command": " ".join(sys.argv), "machine": machine(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    edge = None
    try:
        env.start_broker()
        env.start_anchor()
        ops = env.client()
        health = HealthWatch(ops)
        inputs = {"metrics": 0, "state": 0}

        def count_input(_c, _u, msg):
            inputs[msg.topic.rsplit("/", 1)[1]] += 1
        for kind in inputs:
            ops._mqtt.message_callback_add(f"{TOPIC_ROOT}/nodes/+/{kind}", count_input)
            ops.subscribe(f"{TOPIC_ROOT}/nodes/+/{kind}")
        env.start_fleet(args.nodes, args.shards,
                        extra=("--metrics-interval-ms", str(args.metrics_interval_ms)))
        if not health.wait(lambda: health._count_unlocked("Ready", "sp") >= args.nodes, args.timeout):
            raise RuntimeError(f"only {health.count('Ready', 'sp')} of {args.nodes} Ready")
        log(f"{args.nodes} nodes Ready")
        host = Counter(env.port, "scada", creds["scada-scada"][1])
        pw = env.dir / "sparkplug.password"
        pw.write_text(creds["sparkplug-sparkplug"][1] + "\n")
        conf = env.dir / "sparkplug.conf"
        conf.write_text(f"broker_url = tcp://127.0.0.1:{env.port}\nusername = sparkplug\n"
                        f"password_file = {pw}\ndata_dir = {env.dir / 'sparkplug'}\n"
                        f"group_id = {GROUP}\nedge_node_id = {EDGE}\nlog_level = info\n")
        started = time.monotonic()
        edge = subprocess.Popen([str(find_binary("pharos-sparkplug", args.build_dir)), "--config",
                                 str(conf)], stdout=open(env.dir / "sparkplug.log", "ab"),
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not host.wait(lambda h: len(h.dbirth_devices) >= args.nodes, args.timeout):
            raise RuntimeError(f"only {len(host.dbirth_devices)} DBIRTHs")
        nbirth = host.first["NBIRTH"] - started
        last = host.last["DBIRTH"] - started
        births = {"nbirth_s": round(nbirth, 3), "all_dbirths_s": round(last, 3),
                  "dbirth_per_s": round(args.nodes / max(last - nbirth, 1e-3), 1)}
        log("births:", births)
        cpu0, rss0 = proc_cpu_rss(edge.pid)
        result["births"] = dict(births, cpu_s=round(cpu0, 2), rss_mib=round(rss0 / 1024, 1))

        time.sleep(2)  # let the births' aftermath (first metrics) pass
        before = host.snapshot()
        inputs_before = dict(inputs)
        cpu_a, _ = proc_cpu_rss(edge.pid)
        t0 = time.monotonic()
        churned = churn(env, args.nodes, args.churn, args.steady) if args.churn else 0
        time.sleep(max(0.0, args.steady - (time.monotonic() - t0)))
        t1 = time.monotonic()
        cpu_b, rss = proc_cpu_rss(edge.pid)
        after = host.snapshot()
        span = t1 - t0

        def rate(kind):
            return round((after.get(kind, 0) - before.get(kind, 0)) / span, 1)
        steady = {"seconds": round(span, 1), "churn_in_per_s": round(churned / span, 1), "ddata_per_s": rate("DDATA"),
                  "ndata_per_s": rate("NDATA"), "dbirth_per_s": rate("DBIRTH"),
                  "ddeath_per_s": rate("DDEATH"),
                  "pharos_metrics_in_per_s": round((inputs["metrics"] -
                                                    inputs_before["metrics"]) / span, 1),
                  "pharos_state_in_per_s": round((inputs["state"] - inputs_before["state"]) /
                                                 span, 1),
                  "cpu_percent": round(100 * (cpu_b - cpu_a) / span, 1),
                  "rss_mib": round(rss / 1024, 1)}
        log("steady:", steady)
        result["steady"] = steady

        host.dbirth_devices.clear()
        t = time.monotonic()
        node_ncmd = f"spBv1.0/{GROUP}/NCMD/{EDGE}"
        # Node Control/Rebirth = true, encoded by hand (field numbers of the spec).
        name = b"Node Control/Rebirth"
        metric = b"\x0a" + bytes([len(name)]) + name + b"\x20\x0b\x70\x01"
        payload = b"\x08" + b"\x01" + b"\x12" + bytes([len(metric)]) + metric
        host.c.publish(node_ncmd, payload, qos=1)
        if host.wait(lambda h: len(h.dbirth_devices) >= args.nodes, args.timeout):
            result["rebirth_s"] = round(time.monotonic() - t, 3)
            log("rebirth:", result["rebirth_s"], "s")
        result["messages"] = host.snapshot()
    finally:
        if edge and edge.poll() is None:
            edge.terminate()
            edge.wait(20)
        env.close()
    print(json.dumps(result, indent=2))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
