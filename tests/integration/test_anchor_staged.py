"""Staged rollouts end to end (docs/rollouts.md): the real Mosquitto, the real pharos-anchor
and three real pharos-agent processes, each on its own private Docker Engine
(group_support.py). The anchor drives the waves: every wave is one new generation of the
group's retained document, judged by a gate (2 s soaks keep the suite short).

1. A good update goes canary -> 50 % -> 100 %: three group documents, the first two staged,
   the nodes outside a wave keep their very containers until their wave. Then a revision
   whose service exits 1 stops at the canary, and with on_failure rollback the canary
   returns to the previous revision while the other nodes' containers are untouched.
   app.history then gives each of the three revisions how it was rolled out (plain; staged
   and complete; staged and rolled back, with the reason), the same after a kill -9.
2. A wave waits while the update window is shut (abort returns to the previous revision);
   pause holds the next wave, resume continues, promote takes the whole group; the anchor
   killed with -9 during a gate continues after its restart, a node added to the group
   mid-rollout runs the revision of its wave, and the rollout completes exactly once.
3. The anchor killed with -9 during a gate and again right after a wave's publish, then the
   broker restarted with its retained store lost during the next gate: the anchor
   republishes the same generation, every wave is published once (one generation each, one
   event each), no gate is cut short, and each device created the new revision's container
   once (the engine's own create events).
4. A node added to the group during a wave whose share covers it (its rollout position is
   below the wave's cutoff) goes straight to the new revision, without a detour through the
   previous one.

Run: PHAROS_BUILD_DIR=build/<dir> /usr/bin/python3 -m pytest -q -s tests/integration/test_anchor_staged.py
"""
import json
import signal
import time

import pytest

from group_support import GroupFleet, wait_until

IMAGE1 = "pharos-test/busybox:1"
IMAGE2 = "pharos-test/busybox:2"
SERVICES = ("main",)
NAMES = ("dev1", "dev2", "dev3")


def compose(image, failing=False):
    command = '    command: ["sh", "-c", "exit 1"]\n' if failing else ""
    return f"services:\n  main:\n    image: {image}\n{command}    stop_grace_period: 1s\n"


@pytest.fixture
def fleet(pharos_bin, broker, private_engines, tmp_path):
    f = GroupFleet(pharos_bin, broker, private_engines, tmp_path)
    yield f
    f.cleanup()


def form_group(fleet, members, others=()):
    fleet.start()
    for name in (*members, *others):
        fleet.add_device(name)
    for name in (*members, *others):
        fleet.wait_health(name, "Ready")
    fleet.ok("group.create", {"name": "line"})
    fleet.ok("group.add", {"group": "line", "nodes": list(members)})


def deploy(fleet, image, strategy=None, failing=False):
    body = {"name": "web", "target": {"group": "line"}, "compose": compose(image, failing)}
    if strategy:
        body["strategy"] = strategy
    return fleet.ok("app.deploy", body)


def staged(fleet):
    return fleet.rollout("web").get("staged", {})


def wait_phase(fleet, phase, timeout=90):
    try:
        return wait_until(lambda: staged(fleet).get("phase") == phase, timeout, 0.2,
                          what=f"rollout phase {phase}")
    except AssertionError as e:
        raise AssertionError(f"{e}\nrollout: {fleet.rollout('web')}\n{fleet.logs()}") from None


def docs_of(fleet, revision):
    """The distinct generations of the group document that carry `revision`, with whether
    each was staged: {generation: staged nodes or None}."""
    out = {}
    for doc in fleet.group_documents("line"):
        for app in doc["apps"]:
            if app["name"] == "web" and app["revision"] == revision:
                out[doc["generation"]] = app.get("staged", {}).get("nodes")
    return out


def kill_and_restart_anchor(fleet):
    fleet.anchor.proc.send_signal(signal.SIGKILL)
    fleet.anchor.proc.wait(10)
    fleet.anchor.start()


def creates(device, since):
    """The revisions of the app's containers the device's engine created since `since`
    (Unix time), one entry per create, from the engine's event log."""
    out = device.engine.run("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                            "--filter", "type=container", "--filter", "event=create",
                            "--filter", "label=com.docker.compose.project=web",
                            "--format", "{{json .Actor.Attributes}}").stdout
    attrs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sorted(a.get("io.pharos.revision") for a in attrs
                  if not a.get("name", "").endswith("_pharos_probe"))


def position(app, node):
    """pharos::rolloutPosition (libpharos/src/rollout_wave.cpp): the upper 32 bits of
    splitmix64's finaliser over FNV-1a 64 of "app/node"."""
    mask = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for c in f"{app}/{node}".encode():
        h = ((h ^ c) * 0x100000001b3) & mask
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & mask
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & mask
    return (h ^ (h >> 31)) >> 32


def identities(fleet, names):
    return {n: fleet.devices[n].identity("web") for n in names}


def test_waves_pass_gates_and_a_failing_canary_rolls_back(fleet):
    form_group(fleet, NAMES)
    devices = [fleet.devices[n] for n in NAMES]
    deploy(fleet, IMAGE1)
    fleet.wait_rollout("web", 1, set(NAMES))
    fleet.wait_devices("web", IMAGE1, 1, SERVICES, devices)

    # (a) canary -> 50 % -> 100 %.
    t0 = time.monotonic()
    r = deploy(fleet, IMAGE2, {"waves": ["dev1", "50%", "100%"],
                               "gate": {"soak": 2, "timeout": "60s"}})
    assert r["revision"] == 2 and r["rollout"]["phase"] == "gating", r
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, [fleet.devices["dev1"]])
    wait_phase(fleet, "complete")
    took = time.monotonic() - t0
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, devices)
    fleet.wait_rollout("web", 2, set(NAMES))
    waves = docs_of(fleet, 2)
    print(f"\n3-wave rollout with 2 s soaks complete {took:.1f} s after app.deploy; "
          f"documents: {waves}")
    assert len(waves) == 3, waves  # one publish per wave
    gens = sorted(waves)
    assert waves[gens[0]] == ["dev1"]
    assert "dev1" in waves[gens[1]]
    assert waves[gens[2]] is None  # the last wave: the whole group, no staged block
    events = fleet.ok("events.query", {"app": "web", "kind": "rollout", "limit": 100})["events"]
    assert sum("wave 2 of 3 gating" in e["message"] for e in events) == 1, events

    # (b) a revision that exits 1 stops at the canary and rolls back there only.
    others = identities(fleet, ("dev2", "dev3"))
    r = deploy(fleet, IMAGE1, {"waves": ["dev1", "100%"], "on_failure": "rollback",
                               "gate": {"soak": 2, "timeout": "60s"}}, failing=True)
    assert r["revision"] == 3
    t0 = time.monotonic()
    wait_phase(fleet, "rolled_back")
    print(f"failing canary rolled back {time.monotonic() - t0:.1f} s after app.deploy: "
          f"{staged(fleet)['reason']}")
    assert "dev1" in staged(fleet)["reason"]
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, [fleet.devices["dev1"]])
    fleet.wait_rollout("web", 2, set(NAMES))
    assert identities(fleet, ("dev2", "dev3")) == others, "a node outside the canary changed"
    assert fleet.ok("app.get", {"name": "web"})["revision"] == 2
    assert len(docs_of(fleet, 3)) == 1  # revision 3 was published once, to the canary

    # (c) app.history says how each revision was rolled out; the store keeps it over a kill -9.
    def rollouts():
        revisions = fleet.ok("app.history", {"name": "web"})["revisions"]
        return {r["revision"]: r.get("rollout") for r in revisions}
    history = rollouts()
    print(f"history: {history}")
    assert history[1]["kind"] == "plain" and history[1]["previous_revision"] == 0, history
    good, bad = history[2], history[3]
    assert good["kind"] == "staged" and good["phase"] == "complete", good
    assert good["wave"] == 3 and good["waves"] == 3 and good["steps"] == ["dev1", "50%", "100%"]
    assert good["previous_revision"] == 1 and good["user"] == "ops"
    assert good["started"] <= good["ended"] <= bad["started"], history
    assert bad["kind"] == "staged" and bad["phase"] == "rolled_back", bad
    assert bad["wave"] == 1 and bad["steps"] == ["dev1", "100%"] and bad["previous_revision"] == 2
    assert "dev1" in bad["reason"] and bad["ended"] >= bad["started"], bad
    kill_and_restart_anchor(fleet)
    assert rollouts() == history


def test_window_commands_anchor_restart_and_a_joining_node(fleet):
    form_group(fleet, ("dev1", "dev2"), others=("dev3",))
    pair = [fleet.devices["dev1"], fleet.devices["dev2"]]
    deploy(fleet, IMAGE1)
    fleet.wait_rollout("web", 1, {"dev1", "dev2"})
    fleet.wait_devices("web", IMAGE1, 1, SERVICES, pair)
    before = identities(fleet, ("dev1", "dev2"))

    # (f) a window that opens in two hours holds the first wave; abort.
    now = time.localtime()
    start = (now.tm_hour + 2) % 24
    window = f"daily {start:02}:00-{(start + 1) % 24:02}:00"
    deploy(fleet, IMAGE2, {"waves": ["dev1", "100%"], "window": window, "gate": {"soak": 2}})
    time.sleep(2)
    assert staged(fleet)["phase"] == "waiting", fleet.rollout("web")
    assert staged(fleet)["reason"] == "waiting for the update window"
    assert identities(fleet, ("dev1", "dev2")) == before
    assert fleet.ok("rollout.abort", {"name": "web"})["revision"] == 1
    fleet.wait_rollout("web", 1, {"dev1", "dev2"})
    assert identities(fleet, ("dev1", "dev2")) == before

    # (e) pause holds the next wave, resume continues, promote takes the whole group.
    strategy = {"waves": ["dev1", "100%"], "gate": {"soak": 2, "timeout": "60s"}}
    assert deploy(fleet, IMAGE2, strategy)["revision"] == 3
    assert fleet.ok("rollout.pause", {"name": "web"})["phase"] == "paused"
    fleet.wait_devices("web", IMAGE2, 3, SERVICES, [fleet.devices["dev1"]])
    time.sleep(3)  # longer than the soak: a paused rollout starts no wave
    assert len(docs_of(fleet, 3)) == 1 and staged(fleet)["phase"] == "paused"
    assert fleet.devices["dev2"].identity("web") == before["dev2"]
    assert fleet.ok("rollout.resume", {"name": "web"})["phase"] == "gating"
    assert fleet.ok("rollout.promote", {"name": "web"})["phase"] == "complete"
    fleet.wait_devices("web", IMAGE2, 3, SERVICES, pair)
    fleet.wait_rollout("web", 3, {"dev1", "dev2"})
    audit = fleet.ok("events.query", {"app": "web", "limit": 100})["events"]
    kinds = [e["kind"] for e in audit if e.get("user") == "ops"]
    for kind in ("rollout.abort", "rollout.pause", "rollout.resume", "rollout.promote"):
        assert kind in kinds, kinds

    # (c) kill -9 of the anchor during a gate, (d) a node joins mid-rollout.
    deploy(fleet, IMAGE1, {"waves": ["dev1", "100%"], "gate": {"soak": 8, "timeout": "60s"}})
    fleet.wait_devices("web", IMAGE1, 4, SERVICES, [fleet.devices["dev1"]])
    wait_phase(fleet, "gating")
    fleet.anchor.proc.send_signal(signal.SIGKILL)
    fleet.anchor.proc.wait(10)
    fleet.anchor.start()
    fleet.ok("rollout.pause", {"name": "web"})
    assert staged(fleet)["wave"] == 1, fleet.rollout("web")
    fleet.ok("group.add", {"group": "line", "nodes": ["dev3"]})
    fleet.wait_devices("web", IMAGE2, 3, SERVICES, [fleet.devices["dev3"]])  # its wave's
    fleet.ok("rollout.resume", {"name": "web"})
    wait_phase(fleet, "complete")
    everyone = [fleet.devices[n] for n in NAMES]
    fleet.wait_devices("web", IMAGE1, 4, SERVICES, everyone)
    fleet.wait_rollout("web", 4, set(NAMES))
    waves = docs_of(fleet, 4)
    assert sorted(waves.values(), key=lambda v: v is None) == [["dev1"], None], waves
    events = fleet.ok("events.query", {"app": "web", "kind": "rollout", "limit": 100})["events"]
    finals = [e for e in events if e["message"].startswith("revision 4: wave 2 of 2")]
    assert sum("gating" in e["message"] for e in finals) == 1, events


def test_anchor_kills_and_a_lost_broker_store_mid_rollout_complete_it_exactly_once(fleet):
    form_group(fleet, NAMES)
    devices = [fleet.devices[n] for n in NAMES]
    deploy(fleet, IMAGE1)
    fleet.wait_rollout("web", 1, set(NAMES))
    fleet.wait_devices("web", IMAGE1, 1, SERVICES, devices)
    since = time.time()
    soak = 8
    seen = []  # (arrival, group document) across the broker's restart

    def wave_docs():
        """{generation: (first arrival, staged nodes or None)} of revision 2's documents."""
        for m in fleet.groups_seen.messages:
            if m.payload and (m.timestamp, m.payload) not in seen:
                seen.append((m.timestamp, m.payload))
        out = {}
        for ts, payload in seen:
            doc = json.loads(payload)
            for app in doc["apps"]:
                if app["name"] == "web" and app["revision"] == 2 and doc["generation"] not in out:
                    out[doc["generation"]] = (ts, app.get("staged", {}).get("nodes"))
        return out

    deploy(fleet, IMAGE2, {"waves": ["dev1", "50%", "100%"],
                           "gate": {"soak": soak, "timeout": "120s"}})
    # Killed during the first gate: dev1 runs the new revision and soaks.
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, [fleet.devices["dev1"]])
    wait_until(lambda: any(n["gate"] == "soaking" for n in staged(fleet).get("gate", [])),
               30, 0.1, what="dev1 soaking")
    kill_and_restart_anchor(fleet)
    assert staged(fleet)["wave"] == 1, fleet.rollout("web")

    # Killed right after the second wave's publish.
    wait_until(lambda: len(wave_docs()) == 2, 60, 0.02, what="the second wave published")
    kill_and_restart_anchor(fleet)
    second = max(wave_docs())
    assert staged(fleet)["wave"] == 2 and staged(fleet)["phase"] == "gating", fleet.rollout("web")

    # The broker loses its retained store during the second gate: the anchor republishes the
    # same generation (not the next wave's) and the retained rollout summary.
    wave_docs()
    before_wipe = len(seen)
    fleet.broker.restart(wipe_store=True)
    fleet.reconnect()
    summary = fleet.ops.subscribe_collect("pharos/v1/apps/web/rollout")
    wait_until(lambda: wave_docs() is not None and len(seen) > before_wipe, 30, 0.05,
               what="the group document republished")
    first_after = json.loads(seen[before_wipe][1])
    assert first_after["generation"] == second, (first_after, second)
    assert summary.wait_for(lambda m: b'"staged"' in m.payload, 30) is not None, \
        "the rollout summary was not republished"

    wait_phase(fleet, "complete", timeout=180)
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, devices)
    fleet.wait_rollout("web", 2, set(NAMES))

    waves = wave_docs()
    assert len(waves) == 3, waves  # each wave one generation, none published twice
    gens = sorted(waves)
    assert waves[gens[0]][1] == ["dev1"] and "dev1" in waves[gens[1]][1], waves
    assert waves[gens[2]][1] is None, waves
    for a, b in zip(gens, gens[1:]):  # no gate cut short by a restart
        assert waves[b][0] - waves[a][0] >= soak, (a, b, waves)
    events = fleet.ok("events.query", {"app": "web", "kind": "rollout", "limit": 100})["events"]
    messages = [e["message"] for e in events if e["message"].startswith("revision 2:")]
    for k in (2, 3):  # the first wave went out with app.deploy (its audit event)
        assert sum(m.startswith(f"revision 2: wave {k} of 3 gating") for m in messages) == 1, \
            messages
    assert sum(" complete" in m for m in messages) == 1, messages
    for d in devices:  # one container per device for the new revision, nothing else created
        assert creates(d, since) == ["2"], (d.name, creates(d, since))


def test_a_node_joining_inside_its_wave_goes_straight_to_the_new_revision(fleet):
    form_group(fleet, ("dev1", "dev2"), others=("dev3",))
    pair = [fleet.devices["dev1"], fleet.devices["dev2"]]
    deploy(fleet, IMAGE1)
    fleet.wait_rollout("web", 1, {"dev1", "dev2"})
    fleet.wait_devices("web", IMAGE1, 1, SERVICES, pair)
    # Wave 2 takes 66 % of the group: both members, and every node whose position is below
    # the cutoff, which dev3's is (the wave's own list names only the members).
    cutoff = 66 * (1 << 32) // 100
    assert position("web", "dev3") < cutoff, "the test's premise: dev3 below the 66 % cutoff"
    since = time.time()
    deploy(fleet, IMAGE2, {"waves": ["dev2", "66%", "100%"],
                           "gate": {"soak": 2, "timeout": "120s"}})
    wait_until(lambda: staged(fleet).get("wave") == 2, 60, 0.1, what="wave 2")
    fleet.ok("rollout.pause", {"name": "web"})
    entry = [a for a in fleet.group_documents("line")[-1]["apps"] if a["name"] == "web"][0]
    assert entry["revision"] == 2 and entry["staged"]["cutoff"] == cutoff, entry
    assert "dev3" not in entry["staged"]["nodes"], entry

    fleet.ok("group.add", {"group": "line", "nodes": ["dev3"]})
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, [fleet.devices["dev3"]])
    fleet.ok("rollout.resume", {"name": "web"})
    wait_phase(fleet, "complete")
    everyone = [fleet.devices[n] for n in NAMES]
    fleet.wait_devices("web", IMAGE2, 2, SERVICES, everyone)
    fleet.wait_rollout("web", 2, set(NAMES))
    assert creates(fleet.devices["dev3"], since) == ["2"], "dev3 ran another revision first"
