#!/usr/bin/python3
"""Staged rollout benchmark with hollow agents (pharos-fleetsim, a LOAD GENERATOR) against the
real Mosquitto and the real pharos-anchor, all on 127.0.0.1 (bench/scale_env.py).

  bench/rollout_bench.py [--nodes N] [--shards S] [--threads T] [--timeout S] [--json FILE]

In one run, on one group of N hollow agents:
  1. plain fan-out: app.deploy of a first revision, then of a second one, without a strategy
     (the baseline): app.deploy -> every node running it;
  2. a 4-wave staged update (1 %, 10 %, 50 %, 100 %, soak 0, so the figure is the rollout's
     own mechanics: publish, apply, report, gate): per wave, the wave's document -> the next
     wave's document (the last: -> phase complete), and the desired documents the anchor
     published in that wave (group and node documents; the goal is one per wave);
  3. a failing canary: a revision whose image no registry has (the hollow agents' pull fails,
     so the app reports Failed, as on a device) staged 1 %, 100 % with on_failure rollback:
     app.deploy -> the gate's failure (phase rolled_back) -> every node running the previous
     revision again, and the documents published.
Every wait is bounded by --timeout. Prints figures as it goes and a JSON summary at the end
(--json FILE writes it too, with the command, the machine and the load average per phase).
Build first (release): cmake -S . -B build/fleetsim-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
-DPHAROS_TESTS=OFF && cmake --build build/fleetsim-release -j2 --target pharos-anchor
pharos-fleetsim
"""
import argparse
import json
import pathlib
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale import machine  # noqa: E402
from scale_env import (TOPIC_ROOT, Env, HealthWatch, add_members, deploy_compose,  # noqa: E402
                       node_name, request, wait_group_rights)

GROUP = "line"
APP = "web"
WAVES = ["1%", "10%", "50%", "100%"]


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


class Watch:
    """Follows the app's rollout summary and every desired document the anchor publishes,
    with arrival times (time.monotonic())."""

    def __init__(self, client):
        self.cond = threading.Condition()
        self.summary = None
        self.summaries = []  # (t, summary) of APP
        self.docs = []  # (t, topic, generation, the APP entry or None)
        m = client._mqtt
        m.message_callback_add(f"{TOPIC_ROOT}/apps/{APP}/rollout", self._on_summary)
        m.message_callback_add(f"{TOPIC_ROOT}/groups/+/desired", self._on_doc)
        m.message_callback_add(f"{TOPIC_ROOT}/nodes/+/desired", self._on_doc)
        for topic in (f"apps/{APP}/rollout", "groups/+/desired", "nodes/+/desired"):
            client.subscribe(f"{TOPIC_ROOT}/{topic}")

    def _on_summary(self, _c, _u, msg):
        now = time.monotonic()
        if not msg.payload:
            return
        doc = json.loads(msg.payload)
        with self.cond:
            self.summary = doc
            self.summaries.append((now, doc))
            self.cond.notify_all()

    def _on_doc(self, _c, _u, msg):
        now = time.monotonic()
        if not msg.payload or msg.retain:
            return  # a retained copy sent on subscribe was not published now
        doc = json.loads(msg.payload)
        entry = next((a for a in doc.get("apps", []) if a.get("name") == APP), None)
        with self.cond:
            self.docs.append((now, msg.topic, doc.get("generation"), entry))
            self.cond.notify_all()

    def wait(self, predicate, timeout):
        """Monotonic time when predicate(summary) first holds, or None at the timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.summary is not None and predicate(self.summary):
                    return time.monotonic()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.05))

    def wait_doc(self, predicate, after, timeout):
        """Arrival time of the first desired document after `after` whose APP entry matches."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, _topic, _gen, entry in self.docs:
                    if t >= after and entry is not None and predicate(entry):
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.05))

    def published(self, start, end):
        """{group: n, node: n} desired documents published in [start, end)."""
        with self.cond:
            docs = [d for d in self.docs if start <= d[0] < end]
        return {"group": sum("/groups/" in d[1] for d in docs),
                "node": sum("/nodes/" in d[1] for d in docs)}

    def first_summary(self, predicate, after):
        with self.cond:
            return next((t for t, s in self.summaries if t >= after and predicate(s)), None)


def all_running(revision, n):
    return lambda s: s.get("revision") == revision and s.get("running") == n and s.get("total") == n


def staged_phase(phase, revision):
    return lambda s: s.get("staged", {}).get("phase") == phase and \
        s.get("staged", {}).get("revision") == revision


class RolloutBench:
    def __init__(self, args):
        self.args = args
        self.n = args.nodes
        # No memberships known to the broker beforehand: group.add below has the anchor grant
        # them (its start-up reconciliation would remove any it does not know).
        self.env = Env(self.n, build_dir=args.build_dir)
        self.results = {"nodes": self.n, "shards": args.shards, "loadavg": {}}
        self.ops = None
        self.watch = None

    def load(self, phase):
        self.results["loadavg"][phase] = " ".join(open("/proc/loadavg").read().split()[:3])

    def setup(self):
        self.load("storm")
        self.env.start_broker()
        self.env.start_anchor()
        self.ops = self.env.client()
        health = HealthWatch(self.ops)
        self.watch = Watch(self.ops)
        a = self.args
        self.env.start_fleet(self.n, a.shards, extra=["--threads", str(a.threads)])
        t0 = time.monotonic()
        ok = health.wait(lambda: health._count_unlocked("Ready", "sim") >= self.n, a.timeout)
        log(f"{health.count('Ready', 'sim')}/{self.n} hollow agents Ready after "
            f"{time.monotonic() - t0:.1f} s")
        if not ok:
            raise RuntimeError("the fleet did not get Ready")
        t0 = time.monotonic()
        # The read rights of the group document go out in paced steps of up to 1,000 nodes.
        members = [node_name("sim", k) for k in range(self.n)]
        add_members(self.ops, GROUP, members)
        self.results["group_formed_seconds"] = round(time.monotonic() - t0, 1)
        wait_group_rights(self.env, {GROUP: members})
        self.results["group_rights_seconds"] = round(time.monotonic() - t0, 1)
        log(f"group {GROUP} of {self.n} formed in {self.results['group_formed_seconds']} s, "
            f"read rights all granted after {self.results['group_rights_seconds']} s")
        time.sleep(2)  # the agents subscribe to the group document once they may

    def deploy(self, revision_marker, strategy=None, image="busybox:1.36"):
        body = {"name": APP, "target": {"group": GROUP},
                "compose": deploy_compose(image=image, marker=revision_marker)}
        if strategy:
            body["strategy"] = strategy
        t0 = time.monotonic()
        res = request(self.ops, "app.deploy", body, timeout=60)
        return t0, res["revision"]

    def plain(self):
        out = {}
        for marker in ("plain-1", "plain-2"):
            self.load(marker)
            t0, rev = self.deploy(marker)
            t = self.watch.wait(all_running(rev, self.n), self.args.timeout)
            if t is None:
                raise RuntimeError(f"{marker}: not running everywhere: {self.watch.summary}")
            out[marker] = {"revision": rev, "seconds_all_running": round(t - t0, 3),
                           "documents": self.watch.published(t0, t)}
            log(f"{marker}: revision {rev} running on {self.n} after {t - t0:.2f} s; "
                f"documents published {out[marker]['documents']}")
            time.sleep(2)
        self.results["plain"] = out

    def staged(self):
        self.load("staged")
        strategy = {"waves": WAVES, "gate": {"soak": 0, "timeout": "10m"}}
        t0, rev = self.deploy("staged", strategy)
        starts = [self.watch.wait_doc(lambda e: e["revision"] == rev, t0, self.args.timeout)]
        for k in range(1, len(WAVES)):
            last = WAVES[k] == "100%"
            starts.append(self.watch.wait_doc(
                lambda e, last=last: e["revision"] == rev and ("staged" in e) != last,
                starts[-1] + 1e-6, self.args.timeout))
            if starts[-1] is None:
                raise RuntimeError(f"wave {k + 1} never published: {self.watch.summary}")
        t_end = self.watch.wait(lambda s: staged_phase("complete", rev)(s) and
                                all_running(rev, self.n)(s), self.args.timeout)
        if t_end is None:
            raise RuntimeError(f"the staged rollout did not complete: {self.watch.summary}")
        ends = starts[1:] + [t_end]
        waves = []
        for k, (a, b) in enumerate(zip(starts, ends)):
            waves.append({"wave": WAVES[k], "seconds": round(b - a, 3),
                          "documents": self.watch.published(a if k else t0, b)})
            log(f"wave {k + 1} ({WAVES[k]}): {b - a:.2f} s, documents published "
                f"{waves[-1]['documents']}")
        self.results["staged"] = {"revision": rev, "waves": waves,
                                  "deploy_to_first_wave_seconds": round(starts[0] - t0, 3),
                                  "seconds_total": round(t_end - t0, 3)}
        log(f"staged: revision {rev} complete {t_end - t0:.2f} s after app.deploy")
        time.sleep(2)

    def failing_canary(self):
        self.load("canary")
        previous = self.watch.summary["revision"]
        strategy = {"waves": ["1%", "100%"], "on_failure": "rollback",
                    "gate": {"soak": 0, "timeout": "10m"}}
        t0, rev = self.deploy("broken", strategy, image="127.0.0.1:9/pharos-missing/app:1")
        t_rolled = self.watch.wait(staged_phase("rolled_back", rev), self.args.timeout)
        if t_rolled is None:
            raise RuntimeError(f"no rollback: {self.watch.summary}")
        t_back = self.watch.wait(all_running(previous, self.n), self.args.timeout)
        if t_back is None:
            raise RuntimeError(f"the canary never ran revision {previous} again: "
                               f"{self.watch.summary}")
        t_failed = self.watch.first_summary(lambda s: s.get("failed", 0) > 0, t0) or t_rolled
        r = {"revision": rev, "previous": previous,
             "deploy_to_failure_seen_seconds": round(t_failed - t0, 3),
             "deploy_to_rolled_back_seconds": round(t_rolled - t0, 3),
             "failure_to_rollback_complete_seconds": round(t_back - t_failed, 3),
             "deploy_to_rollback_complete_seconds": round(t_back - t0, 3),
             "documents": self.watch.published(t0, t_back),
             "reason": self.watch.summary.get("staged", {}).get("reason", "")[:200]}
        self.results["failing_canary"] = r
        log(f"failing canary: failure seen {r['deploy_to_failure_seen_seconds']} s, rolled "
            f"back {r['deploy_to_rolled_back_seconds']} s, every node on revision {previous} "
            f"{r['deploy_to_rollback_complete_seconds']} s after app.deploy "
            f"(failure -> complete {r['failure_to_rollback_complete_seconds']} s); documents "
            f"{r['documents']}; {r['reason']}")

    def close(self):
        if self.ops:
            self.ops.close()
        self.env.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--shards", type=int, default=None, help="default: one per 500 agents")
    ap.add_argument("--threads", type=int, default=8, help="executor threads per process")
    ap.add_argument("--timeout", type=float, default=180, help="bound of every wait, seconds")
    ap.add_argument("--build-dir")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    if args.shards is None:
        args.shards = max(1, -(-args.nodes // 500))
    b = RolloutBench(args)
    b.results["machine"] = machine()
    b.results["command"] = "bench/rollout_bench.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    log(f"machine: {b.results['machine']}")
    t_start = time.monotonic()
    try:
        b.setup()
        b.plain()
        b.staged()
        b.failing_canary()
    except Exception as e:  # noqa: BLE001 - recorded with what was measured so far
        log(f"FAILED: {e}")
        b.results["failure"] = str(e)
    finally:
        b.results["wall_seconds"] = round(time.monotonic() - t_start, 1)
        b.close()
    print(json.dumps(b.results, indent=1), flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(b.results, indent=1) + "\n")
    return 1 if "failure" in b.results else 0


if __name__ == "__main__":
    sys.exit(main())
