#!/usr/bin/env python3
"""The operator console's benchmarks in one run (bench/RESULTS.md "Operator console"):

1. first paint of the web UI (bench/web_ui_first_paint.mjs);
2. sign-in to a full render of 2,000 nodes (bench/web_ui_fleet_render.mjs);
3. metrics.query for one node over 7 days with --nodes nodes' history stored: in process
   (bench_metrics_history, MetricsHistory::query plus the answer's JSON text) and through a
   real pharos-anchor over a real Mosquitto on loopback (request to answer, as an operator's
   tool sees it);
4. that anchor's RSS (idle after start, after the queries, peak) and its store on disk.

Each web UI figure is measured for this tree's web-ui/ and, with --baseline-ui, another copy
(e.g. main's) in the same run. Everything listens on 127.0.0.1; every loop is bounded
(--runs, --render-runs, --queries). Needs a release build (--build-dir) of pharos-anchor
and bench_metrics_history, tests/browser's npm packages, web-ui's `npm run build`, and
/usr/bin/chromium.

    python3 bench/console_bench.py --build-dir build/release [--baseline-ui /tmp/web-ui-main/web-ui]
        [--nodes 10000] [--queries 500] [--runs 15] [--render-runs 7]
"""
import argparse
import os
import pathlib
import random
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale_env import ROOT, Env, proc_cpu_rss  # noqa: E402

WEEK_MS = 7 * 86_400_000


def loadavg():
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def run(argv, timeout):
    print("$ " + " ".join(map(str, argv)), flush=True)
    proc = subprocess.run([str(a) for a in argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    print(proc.stdout + proc.stderr, flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode})")
    return proc.stdout


def ui_dirs(args):
    dirs = ["--dir", f"after={ROOT / 'web-ui'}"]
    if args.baseline_ui:
        dirs = ["--dir", f"before={args.baseline_ui}"] + dirs
    return dirs


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def dir_bytes(path):
    return sum(p.stat().st_size for p in pathlib.Path(path).rglob("*") if p.is_file())


def settle(pid, limit_s=120):
    """Waits (at most limit_s) until the process used under 0.1 s of CPU in 2 s: its
    start-up work (a verdict for every node) done. Returns the seconds waited."""
    t0 = time.monotonic()
    cpu, _ = proc_cpu_rss(pid)
    while time.monotonic() - t0 < limit_s:
        time.sleep(2)
        now, _ = proc_cpu_rss(pid)
        if now - cpu < 0.1:
            break
        cpu = now
    return time.monotonic() - t0


def percentile(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))]


def anchor_with_history(args):
    env = Env(args.nodes, prefix="press", build_dir=args.build_dir)
    try:
        store = env.dir / "anchor-store"
        run([pathlib.Path(args.build_dir) / "bench" / "bench_metrics_history", "--nodes", args.nodes,
             "--queries", 2000, "--dir", store, "--now", "--register", "--keep"], timeout=3600)
        env.start_broker()
        t0 = time.monotonic()
        env.start_anchor()
        started = time.monotonic() - t0
        pid = env.anchor_proc.pid
        settled = settle(pid)
        idle = vm(pid, "VmRSS")
        client = env.client()
        # Not timed: the client's subscription to its reply inbox comes with its first request.
        client.request("metrics.query", {"node": "press-00000"}, timeout=30)
        rng = random.Random(11)
        latencies, points = [], 0
        for _ in range(args.queries):
            node = f"press-{rng.randrange(args.nodes):05d}"
            t = time.monotonic()
            reply = client.request("metrics.query", {"node": node,
                                                     "from": int(time.time() * 1000) - WEEK_MS},
                                   timeout=30)
            latencies.append((time.monotonic() - t) * 1000)
            if not reply.get("ok"):
                raise SystemExit(f"metrics.query {node}: {reply.get('error')}")
            points += len(reply["result"]["ts"])
        client.close()
        latencies.sort()
        _, after = proc_cpu_rss(pid)
        peak = vm(pid, "VmHWM")
        env.stop_anchor()
        on_disk = dir_bytes(store)
        print(f"anchor: online {started:.1f} s after start with {args.nodes} nodes' history, "
              f"idle (under 0.1 s of CPU in 2 s) {settled:.1f} s later")
        print(f"anchor metrics.query 7 days x {args.queries} over MQTT: "
              f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
              f"max {latencies[-1]:.1f} ms, {points / args.queries:.0f} points per answer")
        print(f"anchor RSS: idle {idle / 1024:.1f} MiB, after the queries {after / 1024:.1f} MiB, "
              f"peak {peak / 1024:.1f} MiB")
        print(f"anchor store on disk after stop: {on_disk / 1e6:.1f} MB")
    except BaseException:
        print(env.anchor_log()[-3000:])
        raise
    finally:
        env.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=str(ROOT / "build" / "release"))
    parser.add_argument("--baseline-ui", help="another web-ui/ copy (after npm run build)")
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--render-runs", type=int, default=7)
    parser.add_argument("--skip-ui", action="store_true")
    args = parser.parse_args()
    args.queries = max(1, min(args.queries, 10000))
    print(f"start: {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average "
          f"{loadavg()}, nproc {os.cpu_count()}", flush=True)
    if not args.skip_ui:
        run(["node", "bench/web_ui_first_paint.mjs", *ui_dirs(args), "--runs", args.runs], 1200)
        run(["node", "bench/web_ui_fleet_render.mjs", *ui_dirs(args), "--nodes", 2000,
             "--runs", args.render_runs], 1800)
    anchor_with_history(args)
    print(f"end: {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average "
          f"{loadavg()}", flush=True)


if __name__ == "__main__":
    main()
