#!/usr/bin/python3
"""Renders the "## Scale (hollow agents)" section of bench/RESULTS.md from the JSON files
bench/scale.py --json wrote, against the issue's targets, and replaces that section (other
sections are left untouched).

  bench/scale_report.py RESULT.json... [--notes FILE] [--dry-run]
"""
import argparse
import pathlib
import sys

RESULTS = pathlib.Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Scale (hollow agents)"


def fmt(v, unit=""):
    return "—" if v is None else f"{v}{unit}"


def verdict(ok):
    return "—" if ok is None else ("met" if ok else "**missed**")


def render(runs, notes):
    out = [SECTION, ""]
    out.append("What: `bench/scale.py` runs N hollow agents (`pharos-fleetsim`, a load generator: "
               "the real `Agent` with the in-memory `FakeDockerClient`, real Paho MQTT links) "
               "against the real Mosquitto 2.0.11 (broker-config template, dynamic security) and "
               "the real `pharos-anchor` (RocksDB), everything on 127.0.0.1. See "
               "docs/benchmarks.md for how each figure is measured.")
    out.append("")
    for r in runs:
        m = r.get("machine", {})
        out.append(f"### N = {r['nodes']} ({r['shards']} fleetsim processes)")
        out.append("")
        nice = r.get("fleet_nice")
        env = "" if nice is None else f"PHAROS_SCALE_FLEET_NICE={nice} "
        out.append(f"Command: `{env}{r.get('command')}`  ")
        out.append(f"Machine: `nproc` = {m.get('nproc')}, CPU {m.get('cpu')}, kernel "
                   f"{m.get('kernel')}, {m.get('date')}, load average at start "
                   f"{m.get('loadavg_at_start')} (the 2 cores are shared with other builds and "
                   f"tests; wall-clock figures are pessimistic). Wall time {r.get('wall_seconds')} s.")
        out.append("")
        out.append("| benchmark | figure | target | verdict | load avg at phase start |")
        out.append("|---|---|---|---|---|")
        loads = r.get("loadavg") or {}

        def la(phase):
            return f" {loads[phase]} |" if phase in loads else " — |"

        def cpu(d):
            if "broker_cpu_seconds" not in d:
                return ""
            return (f"; CPU s: anchor {d.get('anchor_cpu_seconds')}, broker "
                    f"{d.get('broker_cpu_seconds')}, fleetsim {d.get('fleetsim_cpu_seconds')}")
        def contract(d):
            if d.get("contract_trip_seconds") is None:
                return ""
            bc = d.get("floors_broker_cpu_seconds") or {}
            return (f"; contract round trip {fmt(d.get('contract_trip_seconds'), ' s')} "
                    f"({fmt(d.get('contract_trip_over_floor'), ' x')} the floor; fan-out "
                    f"{fmt(d.get('ratio_to_contract_trip'), ' x')} it); broker CPU s in the floor / "
                    f"round trip / contract round trip {fmt(bc.get('floor'))} / "
                    f"{fmt(bc.get('round_trip'))} / {fmt(bc.get('contract'))}")
        s = r.get("storm")
        if s:
            t = s.get("seconds_all_ready")
            tgt = 20 if r["nodes"] >= 10000 else None
            out.append(f"| registration storm, {r['nodes']} agents at once | all Ready (anchor "
                       f"health) after {fmt(t, ' s')}; {s.get('ready')}/{r['nodes']} Ready, "
                       f"node.list {s.get('listed_ready')}; links connected per shard "
                       f"{s.get('seconds_all_connected_by_shard')} s{cpu(s)} | "
                       f"{'< 20 s (10,000)' if tgt else '—'} | "
                       f"{verdict(None if not tgt else (t is not None and t < tgt))} |" + la("storm"))
        for f in r.get("fanout", []):
            t = f.get("seconds_all_applied")
            ratio = f.get("ratio")
            big = f["size"] >= 10000
            ok = None if not big else (t is not None and t < 10 and ratio is not None and ratio <= 3)
            out.append(f"| group fan-out to {f['size']} | all applied after {fmt(t, ' s')}; "
                       f"broker-only floor {fmt(f.get('floor_seconds'), ' s')}; ratio "
                       f"{fmt(ratio, ' x')}; broker-only round trip "
                       f"{fmt(f.get('round_trip_floor_seconds'), ' s')} "
                       f"({fmt(f.get('round_trip_over_floor'), ' x')} the floor; fan-out "
                       f"{fmt(f.get('ratio_to_round_trip'), ' x')} it){contract(f)}; app.deploy answered after "
                       f"{fmt(f.get('deploy_reply_seconds'), ' s')}{cpu(f)}; anchor peak "
                       f"{f.get('anchor_peak_rss_mb')} MB | "
                       f"{'< 10 s and < 3x floor' if big else '—'} | {verdict(ok)} |" + la("fanout"))
        i = r.get("idle")
        if i:
            mem_ok = None if r["nodes"] < 10000 else i["anchor_rss_mb"] < 300
            out.append(f"| anchor idle with {r['nodes']} nodes | {i['anchor_rss_mb']} MB RSS, "
                       f"{i['anchor_cpu_percent']} % CPU (broker {i['broker_rss_mb']} MB) | "
                       f"< 300 MB (10,000) | {verdict(mem_ok)} |" + la("idle"))
            out.append(f"| hollow agent memory idle | {fmt(i.get('hollow_agent_rss_kb'), ' KiB')} "
                       f"per agent (fleetsim RSS growth / agents) | — | — |" + la("idle"))
        a = r.get("api")
        if a:
            for op, v in a.items():
                out.append(f"| API `{op}` ({v['n']} sequential, limit 100) | p50 {v['p50_ms']} ms, "
                           f"p99 {v['p99_ms']} ms | p99 < 50 ms | {verdict(v['p99_ms'] < 50)} |"
                           + la("api"))
        n = r.get("notready")
        if n:
            kp = n.get("kill_ms_p99")
            out.append(f"| NotReady after kill ({n['kill_detected']}/{n['kill_runs']} runs) | "
                       f"median {fmt(n.get('kill_ms_median'), ' ms')}, p99 {fmt(kp, ' ms')}, "
                       f"max {fmt(n.get('kill_ms_max'), ' ms')} | p99 < 1 s | "
                       f"{verdict(None if kp is None else kp < 1000)} |" + la("notready"))
            k = n["freeze_keep_alive_s"]
            fz = n.get("freeze_seconds") or []
            worst = max(fz) if fz else None
            out.append(f"| NotReady after freeze, keep-alive K = {k} s ({len(fz)}/"
                       f"{n['freeze_runs']} runs) | {fz} s, worst {fmt(n.get('freeze_multiple_of_k_max'))} x K | "
                       f"< 1.5 K + 1 s = {1.5 * k + 1} s | "
                       f"{verdict(None if worst is None else worst < 1.5 * k + 1)} |" + la("notready"))
        rs = r.get("restart")
        if rs:
            sv = rs.get("seconds_to_serving")
            out.append(f"| anchor restart, {rs['nodes']} nodes, {rs['apps']} apps | serving after "
                       f"{fmt(sv, ' s')}; {rs['republished_seen']}/{rs['documents']} desired "
                       f"documents republished after {fmt(rs.get('seconds_to_all_republished'), ' s')} | "
                       f"serving < 5 s | {verdict(None if sv is None else sv < 5)} |" + la("restart"))
        for name, err in (r.get("failures") or {}).items():
            out.append(f"| {name} | FAILED: {err} | — | **missed** |" + la(name))
        out.append("")
    if notes:
        out.append(notes.rstrip())
        out.append("")
    return "\n".join(out)


def replace_section(text, section):
    start = text.find(SECTION)
    if start < 0:
        return text.rstrip() + "\n\n" + section
    nxt = text.find("\n## ", start + len(SECTION))
    tail = "" if nxt < 0 else text[nxt:]
    return text[:start] + section + tail


def main(argv=None):
    import json
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("--notes", help="markdown appended to the section (analysis, profiles)")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    runs = [json.loads(pathlib.Path(p).read_text()) for p in args.results]
    notes = pathlib.Path(args.notes).read_text() if args.notes else ""
    section = render(runs, notes)
    if args.dry_run:
        print(section)
        return 0
    text = RESULTS.read_text() if RESULTS.exists() else ""
    RESULTS.write_text(replace_section(text, section).rstrip() + "\n")
    print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
