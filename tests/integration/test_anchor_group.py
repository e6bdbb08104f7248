"""The anchor end to end with a group of real devices: the real
Mosquitto with the shipped dynamic-security config, the real pharos-anchor and real
pharos-agent processes, each agent on its own private Docker Engine (group_support.py).

1. A group of three converges on a two-service app (one depends_on the other) deployed with
   one API call and one group-document publish; a fourth device added to the group gets the
   app; a device removed from the group loses it while the others keep the very same
   containers; an update (image :2) reaches every member, a rollback to revision 1 brings
   image :1 back as a new revision; moved to another group, a device in both keeps its
   containers and the old group's tombstone goes once the others dropped the app.
2. kill -9 of an agent: the anchor's health verdict is NotReady well within 1 s of the kill
   and the transition is recorded; restarted, the agent is Ready and adopts its containers
   (same ids, StartedAt, restart counts). SIGSTOP of an agent with keep-alive 2 s: NotReady
   within 4 s (1.5 x keep-alive + 1 s; the anchor times the agent's heartbeats, measured to
   the transition time it publishes); SIGCONT: Ready again, containers untouched.
3. Restart safety with the group: kill -9 of the anchor in the middle of a group update,
   restart: the store holds the update whole or not at all and the rollout completes on
   every member; the broker restarted with its retained store deleted: the anchor
   republishes and every member keeps its containers.
4. app.stop / app.start / app.restart reach every member; app.remove while one member is
   down: the others drop the app at once, the tombstone stays until the missing member is
   back and reports the app gone, then the app is forgotten.

Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q -s tests/integration/test_anchor_group.py
"""
import datetime
import os
import random
import signal
import time
import uuid

import pytest

from group_support import ROOT, GroupFleet, wait_until

IMAGE1 = "pharos-test/busybox:1"
IMAGE2 = "pharos-test/busybox:2"
SERVICES = ("db", "web")
FROZEN_KEEP_ALIVE = 2
# A frozen agent with keep-alive 2 s is NotReady within 4 s. The anchor times the
# agent's heartbeats (every K / 2, deadline 1.5 x K after the last): Mosquitto 2.0.x (Debian's
# 2.0.11) alone drops a silent client only in a keep-alive scan every 6 s (keepalive.c:
# `last_keepalive_check + 5 < now`), 2.8-9 s after a freeze; its will still follows.
FREEZE_BOUND = 1.5 * FROZEN_KEEP_ALIVE + 1
LOAD_SLACK = 2.0  # ASan/UBSan builds on a machine shared by several builds


def compose(image=IMAGE1):
    return f"""services:
  db:
    image: {image}
    stop_grace_period: 1s
  web:
    image: {image}
    depends_on: [db]
    stop_grace_period: 1s
    environment:
      ROLE: web
"""


def started_ns(inspect):
    """StartedAt as integer nanoseconds (Docker trims trailing zeros of the fraction, so the
    strings do not compare)."""
    text = inspect["State"]["StartedAt"].rstrip("Z")
    whole, _, fraction = text.partition(".")
    seconds = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc)
    return int(seconds.timestamp()) * 10**9 + int((fraction + "000000000")[:9])


@pytest.fixture
def fleet(pharos_bin, broker, private_engines, tmp_path):
    f = GroupFleet(pharos_bin, broker, private_engines, tmp_path)
    yield f
    f.cleanup()


def deploy_group(fleet, app, group, image):
    return fleet.ok("app.deploy", {"name": app, "target": {"group": group},
                                   "compose": compose(image)})


def form_group(fleet, names, group="line", keep_alive=None):
    """Starts the anchor and one device per name, waits until all are Ready, creates the
    group with them as members."""
    fleet.start()
    for name in names:
        fleet.add_device(name, keep_alive=(keep_alive or {}).get(name, 10))
    for name in names:
        fleet.wait_health(name, "Ready")
    fleet.ok("group.create", {"name": group})
    fleet.ok("group.add", {"group": group, "nodes": list(names)})
    return [fleet.devices[n] for n in names]


def test_group_converges_follows_membership_updates_and_rolls_back(fleet):
    devices = form_group(fleet, ["dev1", "dev2", "dev3"])
    for d in devices:  # membership reached each node document (and so each agent)
        wait_until(lambda d=d: (fleet.desired(d.name) or {}).get("groups") == ["line"], 30,
                   what=f"{d.name} document lists the group")
    # Each agent's own labels reached the registry.
    assert [n["name"] for n in fleet.ok("node.list", {"label": "device=dev2"})["nodes"]] == \
        ["dev2"]
    node_generations = {d.name: fleet.desired(d.name)["generation"] for d in devices}
    group_docs_before = len(fleet.group_documents("line"))

    t0 = time.monotonic()
    r = deploy_group(fleet, "shop", "line", IMAGE1)
    assert r["revision"] == 1
    summary = fleet.wait_rollout("shop", 1, {"dev1", "dev2", "dev3"})
    fleet.wait_devices("shop", IMAGE1, 1, SERVICES, devices)
    print(f"\ngroup of 3 converged {time.monotonic() - t0:.1f} s after app.deploy")
    assert summary == {**summary, "total": 3, "running": 3, "pending": 0, "applied": 0,
                       "failed": 0, "notready": 0, "target_kind": "group", "target": "line"}
    # One publish: a single new group document, no node document touched.
    docs = fleet.group_documents("line")[group_docs_before:]
    assert len(docs) == 1 and [a["name"] for a in docs[0]["apps"]] == ["shop"], docs
    assert {d.name: fleet.desired(d.name)["generation"] for d in devices} == node_generations
    # depends_on honoured on every device: db started before web.
    for d in devices:
        c = d.containers("shop")
        assert started_ns(c["db"]) <= started_ns(c["web"]), d.name
    # The retained rollout topic says the same.
    watcher = fleet.broker.client("ops")
    rollout = watcher.subscribe_collect(f"{ROOT}/apps/shop/rollout").wait_for(
        lambda m: b'"running":3' in m.payload.replace(b" ", b""), 10)
    assert rollout is not None, "apps/shop/rollout does not show 3 running"
    watcher.close()

    # A fourth device joins the group and gets the app.
    dev4 = fleet.add_device("dev4")
    fleet.wait_health("dev4", "Ready")
    before = {d.name: d.identity("shop") for d in devices}
    fleet.ok("group.add", {"group": "line", "nodes": ["dev4"]})
    fleet.wait_rollout("shop", 1, {"dev1", "dev2", "dev3", "dev4"})
    fleet.wait_devices("shop", IMAGE1, 1, SERVICES, [dev4])
    # Leaving the group: dev2's containers go, the others keep theirs untouched.
    fleet.ok("group.remove", {"group": "line", "nodes": ["dev2"]})
    stay = [fleet.devices[n] for n in ("dev1", "dev3", "dev4")]
    fleet.wait_rollout("shop", 1, {"dev1", "dev3", "dev4"})
    wait_until(lambda: fleet.devices["dev2"].containers("shop") == {}, 60,
               what="dev2's containers removed")
    assert {d.name: d.identity("shop") for d in devices if d.name != "dev2"} == \
        {n: c for n, c in before.items() if n != "dev2"}, "a staying member was disturbed"
    fourth = dev4.identity("shop")

    # Update: every member recreates on image :2 (revision 2); dev2 gets nothing.
    assert deploy_group(fleet, "shop", "line", IMAGE2)["revision"] == 2
    fleet.wait_rollout("shop", 2, {"dev1", "dev3", "dev4"})
    fleet.wait_devices("shop", IMAGE2, 2, SERVICES, stay)
    assert dev4.identity("shop")["db"][0] != fourth["db"][0], "db was not recreated"
    # Rollback to revision 1: image :1 again, as revision 3.
    assert fleet.ok("app.rollback", {"name": "shop", "revision": 1})["revision"] == 3
    fleet.wait_rollout("shop", 3, {"dev1", "dev3", "dev4"})
    fleet.wait_devices("shop", IMAGE1, 3, SERVICES, stay)
    history = fleet.ok("app.history", {"name": "shop"})["revisions"]
    assert [h["revision"] for h in history] == [3, 2, 1]
    assert fleet.devices["dev2"].containers("shop") == {}
    assert fleet.health("dev2") == "Ready"

    # Moved to group "zone" (dev1, dev2): dev1, in both groups, keeps its very containers
    # although the old group's tombstone sorts first; dev2 gets the app, dev3 and dev4 drop
    # it, and the tombstone goes once they did.
    fleet.ok("group.create", {"name": "zone"})
    fleet.ok("group.add", {"group": "zone", "nodes": ["dev1", "dev2"]})
    for n in ("dev1", "dev2"):
        wait_until(lambda n=n: "group:zone" in fleet.applied_sources(n), 30, 0.1,
                   what=f"{n} holds the zone document")
        # The anchor granted the read right before it published the node document, so the
        # agent's first subscription to the new group was accepted.
        assert "subscribe to group zone" not in fleet.devices[n].agent.log_path.read_text(), n
    kept = fleet.devices["dev1"].identity("shop")
    assert fleet.ok("app.deploy", {"name": "shop", "target": {"group": "zone"},
                                   "compose": compose(IMAGE1)})["revision"] == 4
    fleet.wait_rollout("shop", 4, {"dev1", "dev2"})
    fleet.wait_devices("shop", IMAGE1, 4, SERVICES, [fleet.devices["dev2"]])
    wait_until(lambda: all(fleet.devices[n].containers("shop") == {} for n in ("dev3", "dev4")),
               60, 0.3, what="the app gone from dev3 and dev4")
    wait_until(lambda: fleet.group_documents("line")[-1]["apps"] == [], 30, 0.3,
               what="the old group's tombstone dropped")
    assert fleet.devices["dev1"].identity("shop") == kept, \
        f"dev1 restarted the moved app\n{fleet.devices['dev1'].agent.log()}"
    events = fleet.ok("events.query", {"node": "dev1", "app": "shop", "limit": 100})["events"]
    # (A "conflict" may show for the moment both groups hold the app live: the new target is
    # published first so that no device ever lacks it.)
    assert not [e for e in events if e["kind"] in ("app_removed", "container_removed")], events


def watch_transition(fleet, node, state, since_mono, timeout):
    """Waits for the anchor's retained health verdict `state` on `node` published after
    `since_mono`; returns (arrival monotonic time, health document)."""
    def check():
        for ts, doc in fleet.health_messages(node):
            if ts >= since_mono and doc["state"] == state:
                return ts, doc
        return None
    try:
        return wait_until(check, timeout, 0.01, what=f"{node} health {state}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{fleet.logs()}") from None


def test_killed_and_frozen_agents_turn_notready_and_come_back(fleet):
    devices = form_group(fleet, ["dev1", "dev2", "dev3"],
                         keep_alive={"dev3": FROZEN_KEEP_ALIVE})
    deploy_group(fleet, "shop", "line", IMAGE1)
    fleet.wait_rollout("shop", 1, {"dev1", "dev2", "dev3"})
    fleet.wait_devices("shop", IMAGE1, 1, SERVICES, devices)
    before = {d.name: d.identity("shop") for d in devices}
    dev1, dev2, dev3 = devices

    # kill -9: the kernel closes the socket, the broker sends the will at once.
    kill_wall_ms, kill_mono = time.time() * 1000, time.monotonic()
    os.kill(dev1.agent.proc.pid, signal.SIGKILL)
    arrived, verdict = watch_transition(fleet, "dev1", "NotReady", kill_mono, 10)
    took = arrived - kill_mono
    decided = (verdict["since"] - kill_wall_ms) / 1000
    print(f"\nkill -9 -> NotReady published {took * 1000:.0f} ms after the kill "
          f"(anchor's transition time {decided * 1000:.0f} ms after it)")
    assert took < 1.0 + LOAD_SLACK, f"NotReady {took:.2f} s after kill -9"
    dev1.agent.proc.wait(10)
    record = fleet.ok("node.get", {"name": "dev1"})
    assert record["health"] == "NotReady"
    assert [h["state"] for h in record["history"]][-2:] == ["Ready", "NotReady"]
    assert record["history"][-1]["ts"] == verdict["since"]
    r = fleet.rollout("shop")
    assert (r["notready"], r["running"], r["failed"]) == (1, 2, 0), r
    assert fleet.health("dev2") == "Ready" and fleet.health("dev3") == "Ready"

    # Restarted: Ready again, and its containers adopted, not restarted.
    restart_mono = time.monotonic()
    dev1.agent.start()
    watch_transition(fleet, "dev1", "Ready", restart_mono, 60)
    fleet.wait_rollout("shop", 1, {"dev1", "dev2", "dev3"})
    time.sleep(2 * 2)  # two periodic reconciles of the restarted agent
    assert dev1.identity("shop") == before["dev1"], "the restarted agent replaced containers"

    # SIGSTOP: the agent's heartbeats stop; the anchor turns it NotReady 1.5 x keep-alive after
    # the last one. Measured from the SIGSTOP to the transition time the anchor publishes
    # (`since`), so a slow test process does not count; waited for with room to spare so that
    # a miss shows the number.
    stop_wall_ms, stop_mono = time.time() * 1000, time.monotonic()
    os.kill(dev3.agent.proc.pid, signal.SIGSTOP)
    try:
        arrived, verdict = watch_transition(fleet, "dev3", "NotReady", stop_mono,
                                            FREEZE_BOUND + LOAD_SLACK + 10)
        decided = (verdict["since"] - stop_wall_ms) / 1000
        print(f"SIGSTOP (keep-alive {FROZEN_KEEP_ALIVE} s) -> NotReady decided {decided:.2f} s, "
              f"published {arrived - stop_mono:.2f} s after it: {verdict['reason']}")
        assert decided <= FREEZE_BOUND, f"NotReady {decided:.2f} s after SIGSTOP"
        assert fleet.health("dev1") == "Ready" and fleet.health("dev2") == "Ready"
        assert dev3.containers("shop")["web"]["State"]["Running"]
    finally:
        os.kill(dev3.agent.proc.pid, signal.SIGCONT)
    cont_mono = time.monotonic()
    arrived, _ = watch_transition(fleet, "dev3", "Ready", cont_mono, 60)
    print(f"SIGCONT -> Ready {arrived - cont_mono:.2f} s")
    fleet.wait_rollout("shop", 1, {"dev1", "dev2", "dev3"})
    time.sleep(2 * 2)
    assert {d.name: d.identity("shop") for d in devices} == before
    history = fleet.ok("node.get", {"name": "dev3"})["history"]
    assert [h["state"] for h in history][-3:] == ["Ready", "NotReady", "Ready"]


def test_anchor_kill9_mid_group_update_and_broker_store_loss(fleet):
    devices = form_group(fleet, ["dev1", "dev2", "dev3"])
    names = {d.name for d in devices}
    deploy_group(fleet, "shop", "line", IMAGE1)
    fleet.wait_rollout("shop", 1, names)

    histories = {n: fleet.ok("node.get", {"name": n})["history"] for n in names}
    # kill -9 of the anchor 0-30 ms after the update request left: whole or absent.
    replies = fleet.ops.subscribe_collect(f"{ROOT}/replies/ops/#")
    topic = f"{ROOT}/replies/ops/{uuid.uuid4().hex}"
    fleet.ops.publish(f"{ROOT}/api/ops/app.deploy",
                      {"v": 1, "name": "shop", "target": {"group": "line"},
                       "compose": compose(IMAGE2)},
                      response_topic=topic, correlation=b"k")
    time.sleep(random.uniform(0, 0.03))
    fleet.anchor.proc.send_signal(signal.SIGKILL)
    fleet.anchor.proc.wait(10)
    acked = any(m.topic == topic for m in replies.messages)
    fleet.anchor.start()
    app = fleet.ok("app.get", {"name": "shop"})
    assert app["revision"] in (1, 2) and (app["revision"] == 2 or not acked), (acked, app)
    assert (IMAGE2 in app["compose"]) == (app["revision"] == 2), "half-written revision"
    history = fleet.ok("app.history", {"name": "shop"})["revisions"]
    assert [h["revision"] for h in history] == list(range(app["revision"], 0, -1)), history
    for n in names:  # health transitions survived the kill
        got = fleet.ok("node.get", {"name": n})["history"]
        assert got[:len(histories[n])] == histories[n], (n, got, histories[n])
    print(f"\nanchor killed {'after' if acked else 'before'} the reply; store at "
          f"revision {app['revision']}")
    fleet.wait_rollout("shop", app["revision"], names)
    # The operator retries: the same spec is a no-op when it was stored.
    r = deploy_group(fleet, "shop", "line", IMAGE2)
    assert r["revision"] == 2 and r["changed"] == (app["revision"] == 1)
    fleet.wait_rollout("shop", 2, names)
    fleet.wait_devices("shop", IMAGE2, 2, SERVICES, devices)
    before = {d.name: d.identity("shop") for d in devices}

    # The broker restarts with its retained store deleted: the anchor republishes every
    # document, agents reconnect and keep their containers.
    fleet.broker.restart(wipe_store=True)
    fleet.reconnect()
    for name in names:
        fleet.wait_health(name, "Ready")
    wait_until(lambda: len(fleet.group_documents("line")) >= 1, 30,
               what="the group document republished")
    assert fleet.group_documents("line")[-1]["apps"][0]["revision"] == 2
    fleet.wait_rollout("shop", 2, names)
    time.sleep(2 * 2)  # two periodic reconciles with the republished documents
    assert {d.name: d.identity("shop") for d in devices} == before


def test_group_app_stop_restart_and_remove_wait_for_an_offline_member(fleet):
    devices = form_group(fleet, ["dev1", "dev2", "dev3"])
    names = {d.name for d in devices}
    dev1, dev2, dev3 = devices
    deploy_group(fleet, "shop", "line", IMAGE1)
    fleet.wait_rollout("shop", 1, names)

    def all_stopped():
        return all(c and not any(i["State"]["Running"] for i in c.values())
                   for c in (d.containers("shop") for d in devices))
    fleet.ok("app.stop", {"name": "shop"})
    wait_until(all_stopped, 60, 0.3, what="containers stopped on every member")
    wait_until(lambda: fleet.rollout("shop")["applied"] == 3, 30, 0.3,
               what="summary: stopped app applied on 3")
    fleet.ok("app.start", {"name": "shop"})
    fleet.wait_rollout("shop", 1, names)
    fleet.wait_devices("shop", IMAGE1, 1, SERVICES, devices)
    started = {d.name: {s: started_ns(i) for s, i in d.containers("shop").items()}
               for d in devices}
    assert fleet.ok("app.restart", {"name": "shop"})["restart"] == 1

    def restarted():
        for d in devices:
            now = d.containers("shop")
            if set(now) != set(SERVICES) or any(
                    not i["State"]["Running"] or started_ns(i) <= started[d.name][s]
                    for s, i in now.items()):
                return False
        return True
    wait_until(restarted, 60, 0.3, what="every container restarted on every member")
    fleet.wait_rollout("shop", 1, names)

    # Removed while dev3 is down: dev1 and dev2 drop the app at once; the tombstone stays
    # until dev3 is back and reports the app gone, then the app is forgotten.
    dev3.agent.kill()
    fleet.wait_health("dev3", "NotReady")
    fleet.ok("app.remove", {"name": "shop"})
    wait_until(lambda: dev1.containers("shop") == {} and dev2.containers("shop") == {}, 60,
               0.3, what="the app removed from the Ready members")
    time.sleep(3)  # three removal sweeps
    app = fleet.ok("app.get", {"name": "shop"})
    assert app["state"] == "removed" and app["rollout"]["notready"] == 1, app
    assert dev3.containers("shop")["web"]["State"]["Running"], "dev3 changed while down"
    dev3.agent.start()
    wait_until(lambda: dev3.containers("shop") == {}, 60, 0.3, what="dev3 removed the app")
    wait_until(lambda: fleet.request("app.get", {"name": "shop"}).get("error", {}).get("code")
               == "not_found", 30, 0.3, what="the removed app forgotten")
    assert fleet.ok("app.list")["apps"] == []
    assert fleet.ok("group.get", {"name": "line"})["apps"] == []
    assert all(a["apps"] == [] for a in fleet.group_documents("line")[-1:])
