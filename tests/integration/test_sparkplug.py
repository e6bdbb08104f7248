"""pharos-sparkplug against the real Mosquitto, the real anchor, real agents and the real
Docker Engine, checked by a Sparkplug implementation written by others: every birth, data
and death message must decode with the Eclipse Tahu JavaScript codec (npm sparkplug-payload,
pinned in tests/sparkplug-host/package.json). docs/scada.md describes what is checked."""
import json
import time
import uuid

import pytest

from sparkplug_support import EDGE, GROUP, SparkplugSite, check_seq, metric
from test_agent import wait_until

NODE_TOPIC = f"spBv1.0/{GROUP}/{{}}/{EDGE}"


def device_topic(kind, device):
    return f"spBv1.0/{GROUP}/{kind}/{EDGE}/{device}"


@pytest.fixture
def site_factory(pharos_bin, broker_factory, docker_engine):
    sites = []

    def make(**kwargs):
        s = SparkplugSite(pharos_bin, broker_factory, docker_engine, **kwargs)
        sites.append(s)
        return s.start()

    yield make
    for s in sites:
        s.cleanup()


def compose(registry, command='["sleep", "3600"]'):
    return f"""
services:
  main:
    image: {registry.image("1")}
    command: {command}
    restart: always
    stop_grace_period: 1s
"""


def deploy(site, registry, node, command='["sleep", "3600"]'):
    app = f"a{uuid.uuid4().hex[:8]}"
    site.ok("app.deploy", {"name": app, "target": {"node": node},
                           "compose": compose(registry, command)})
    return app


def bdseq(payload):
    return metric(payload, "bdSeq")["value"]


def wait_births(site, devices, after=0, timeout=30):
    """Waits for an NBIRTH and a DBIRTH of every device after message mark `after`."""
    def born():
        seen = {topic for _, topic, _ in site.host.since(after)}
        return NODE_TOPIC.format("NBIRTH") in seen and \
            all(device_topic("DBIRTH", d) in seen for d in devices)
    try:
        wait_until(born, timeout, 0.05, what=f"births of {devices}")
    except AssertionError:
        raise AssertionError(f"no births of {devices}\n{site.logs()}")


def started_at(engine, app):
    ids = engine.containers(f"com.docker.compose.project={app}")
    for cid in ids:
        # A restart may remove the container between the listing and the inspection.
        found = engine.run("inspect", "--type", "container", cid, check=False)
        if found.returncode != 0:
            continue
        info = json.loads(found.stdout)[0]
        if info["Config"]["Labels"].get("com.docker.compose.service") == "main":
            return info["State"]["StartedAt"], cid
    return None, None


def test_every_message_decodes_with_tahu_seq_counts_and_devices_follow_health(
        site_factory, registry, docker_engine):
    site = site_factory(count=2)
    n0, n1 = site.nodes
    # The app's container crashes by itself after 6 s; Docker restarts it (restart: always).
    app = deploy(site, registry, n0, '["sh", "-c", "sleep 6; exit 3"]')
    wait_births(site, site.nodes)
    nbirth = site.host.of("NBIRTH")[-1]
    assert nbirth["seq"] == 0
    assert metric(nbirth, "Node Control/Rebirth")["value"] is False
    assert metric(nbirth, "Fleet/Nodes Ready")["type"] == "Int32"

    # The app shows up in n0's tree (a new DBIRTH when its metric set grows), running.
    def app_running():
        for p in site.host.of("DBIRTH", n0) + site.host.of("DDATA", n0):
            m = metric(p, f"Apps/{app}/Phase")
            if m and m["value"] == "Running":
                return p
        return None
    site.host.wait(app_running, 90, "app Running in the device's metrics")
    dbirth = site.host.of("DBIRTH", n0)[-1]
    for name, kind in [("Health/State", "String"), ("Properties/Agent Version", "String"),
                       ("Properties/OS", "String"), ("Properties/Architecture", "String"),
                       ("Metrics/CPU Percent", "Double"), ("Metrics/Memory Used", "UInt64"),
                       ("Metrics/Disk Used", "UInt64"), (f"Apps/{app}/Revision", "Int64"),
                       (f"Apps/{app}/Restart Count", "Int32"),
                       (f"Apps/{app}/Services Running", "Int32"),
                       (f"Apps/{app}/Services Desired", "Int32")]:
        assert metric(dbirth, name) is not None, f"{name} missing from DBIRTH"
        assert metric(dbirth, name)["type"] == kind, name
    assert metric(dbirth, f"Apps/{app}/Control/Restart") is None  # commands are off

    # The crash: DDATA with the restart count Docker reports.
    def restart_counted():
        for p in site.host.of("DDATA", n0):
            m = metric(p, f"Apps/{app}/Restart Count")
            if m and m["value"] >= 1:
                return p
        return None
    try:
        ddata = site.host.wait(restart_counted, 60, "DDATA with the restart count")
    except AssertionError:
        seen = [p for p in site.host.of("DDATA", n0)]
        raise AssertionError(f"no restart count in the DDATA {seen}\n{site.logs()}")
    assert all("timestamp" in m for m in ddata["metrics"])
    assert len(ddata["metrics"]) < len(dbirth["metrics"])  # only what changed

    # kill -9 of an agent: DDEATH within 1 s of the kill.
    mark = site.host.mark()
    killed = time.monotonic()
    site.agents[n1].kill()
    site.host.wait(lambda: any(t == device_topic("DDEATH", n1) for _, t, _ in
                               site.host.since(mark)), 10, "DDEATH of the killed agent")
    arrival = next(a for a, t, _ in site.host.since(mark) if t == device_topic("DDEATH", n1))
    assert arrival - killed < 1.0, f"DDEATH {arrival - killed:.3f} s after the kill"
    # It comes back: DBIRTH.
    site.agents[n1].start()
    site.host.wait(lambda: any(t == device_topic("DBIRTH", n1) for _, t, _ in
                               site.host.since(mark)), 30, "DBIRTH of the restarted agent")

    assert site.host.errors == [], site.host.errors
    problems = check_seq(site.host.sparkplug_messages())
    assert problems == [], problems
    kinds = {t.split("/")[2] for _, t, _ in site.host.sparkplug_messages()}
    assert {"NBIRTH", "DBIRTH", "DDATA", "DDEATH", "NDATA"} <= kinds, kinds


def test_bdseq_pairs_across_kill9_rebirth_and_clean_stop(site_factory):
    site = site_factory(count=1)
    wait_births(site, site.nodes)
    first = bdseq(site.host.of("NBIRTH")[-1])

    # kill -9: the broker publishes the will, an NDEATH with the session's bdSeq.
    mark = site.host.mark()
    site.edge.kill()
    site.host.wait(lambda: site.host.of("NDEATH"), 10, "NDEATH will")
    assert bdseq(site.host.of("NDEATH")[-1]) == first
    # Sparkplug: the NDEATH is not retained, so a host that subscribes later sees none.
    late = site.broker.client("scada").subscribe_collect(NODE_TOPIC.format("NDEATH"))
    time.sleep(1)
    assert late.messages == []
    site.edge.start()
    wait_births(site, site.nodes, mark)
    second = bdseq(site.host.of("NBIRTH")[-1])
    assert second == (first + 1) % 256

    # Rebirth: NBIRTH again (seq 0, same bdSeq: same MQTT session), then every DBIRTH.
    mark = site.host.mark()
    site.host.command(NODE_TOPIC.format("NCMD"),
                      [{"name": "Node Control/Rebirth", "type": "Boolean", "value": True}])
    wait_births(site, site.nodes, mark, timeout=10)
    rebirth = [p for _, t, p in site.host.since(mark) if t == NODE_TOPIC.format("NBIRTH")][0]
    assert rebirth["seq"] == 0 and bdseq(rebirth) == second

    # A clean stop publishes the NDEATH itself, with the same bdSeq.
    mark = site.host.mark()
    site.edge.stop()
    site.host.wait(lambda: any(t == NODE_TOPIC.format("NDEATH") for _, t, _ in
                               site.host.since(mark)), 10, "NDEATH on stop")
    death = [p for _, t, p in site.host.since(mark) if t == NODE_TOPIC.format("NDEATH")][0]
    assert bdseq(death) == second
    assert site.host.errors == []
    assert check_seq(site.host.sparkplug_messages()) == []


def test_bad_host_input_is_logged_and_changes_nothing(site_factory):
    site = site_factory(count=1)
    wait_births(site, site.nodes)
    mark = site.host.mark()
    ncmd = NODE_TOPIC.format("NCMD")
    site.host.client.publish(ncmd, b"\xff\xff\xff\x01", qos=1).wait_for_publish(5)
    site.host.client.publish(ncmd, b"\x00" * 70000, qos=1).wait_for_publish(5)
    site.host.command(ncmd, [{"name": "Node Control/Reboot", "type": "Boolean", "value": True}])
    site.host.command(ncmd, [{"name": "Node Control/Rebirth", "type": "String", "value": "yes"}])
    replayed = site.codec.encode({"timestamp": 12345, "seq": 1, "metrics": [
        {"name": "Node Control/Rebirth", "type": "Boolean", "value": True}]})
    site.host.client.publish(ncmd, replayed, qos=1).wait_for_publish(5)
    wait_births(site, site.nodes, mark, timeout=10)  # the first copy is a real Rebirth
    mark = site.host.mark()
    site.host.client.publish(ncmd, replayed, qos=1).wait_for_publish(5)
    site.host.command(device_topic("DCMD", site.nodes[0]),
                      [{"name": "Apps/x/Control/Restart", "type": "Boolean", "value": True}])
    time.sleep(1.5)
    assert not [t for _, t, _ in site.host.since(mark) if "BIRTH" in t or "DEATH" in t]
    assert site.edge.alive()
    log = site.edge.log()
    for line in ["NCMD refused: not a Sparkplug B payload", "NCMD refused: payload of 70000",
                 "NCMD refused: unknown metric 'Node Control/Reboot'",
                 "NCMD refused: Node Control/Rebirth must be Boolean true",
                 "NCMD refused: replayed", "refused: commands are off"]:
        assert line in log, f"{line!r} not logged\n{log}"


def test_primary_host_state_and_restarts_in_any_order(site_factory):
    site = site_factory(count=2, primary_host="scada")
    wait_births(site, site.nodes)
    # The host goes offline: the edge node ends its session (NDEATH) and waits.
    mark = site.host.mark()
    site.host.online(False)
    site.host.wait(lambda: any(t == NODE_TOPIC.format("NDEATH") for _, t, _ in
                               site.host.since(mark)), 10, "NDEATH when the host is offline")
    time.sleep(1)
    assert not [t for _, t, _ in site.host.since(mark) if t.endswith("BIRTH/" + EDGE)]
    mark = site.host.mark()
    site.host.online(True)
    wait_births(site, site.nodes, mark)

    # The component, then the anchor (both down at once), and the other way round: the host
    # sees every device born again each time.
    for order in (("edge", "anchor"), ("anchor", "edge")):
        for what in order:
            (site.edge if what == "edge" else site.anchor).stop()
        mark = site.host.mark()
        for what in order:
            if what == "edge":
                site.edge.start()
            else:
                site.anchor.start()
        wait_births(site, site.nodes, mark)
        def anchor_online():
            for _, t, p in site.host.since(mark):
                m = metric(p, "Anchor/Status") if isinstance(p, dict) else None
                if m and m["value"] == "online":
                    return True
            return False
        site.host.wait(anchor_online, 20, "Anchor/Status online")
    assert site.host.errors == []
    assert check_seq(site.host.sparkplug_messages()) == []


def test_dcmd_restart_goes_through_the_api_and_restarts_the_containers(
        site_factory, registry, docker_engine):
    site = site_factory(count=1, commands=True)
    node = site.nodes[0]
    app = deploy(site, registry, node)
    control = f"Apps/{app}/Control/Restart"

    def controllable():
        return any(metric(p, control) for p in site.host.of("DBIRTH", node))
    site.host.wait(controllable, 90, "the app's control metrics in a DBIRTH")

    def running():
        for p in site.host.of("DBIRTH", node) + site.host.of("DDATA", node):
            m = metric(p, f"Apps/{app}/Phase")
            if m and m["value"] == "Running":
                return True
        return False
    site.host.wait(running, 90, "the app Running")

    def settled():  # the same container start seen twice, 1 s apart
        first = started_at(docker_engine, app)[0]
        time.sleep(1)
        return first is not None and started_at(docker_engine, app)[0] == first
    wait_until(settled, 60, what="container running")
    before, _ = started_at(docker_engine, app)

    # A host whose broker identity has no DCMD right: the broker drops it, nothing happens.
    from sparkplug_support import Host
    watcher = Host(site.broker, "watcher", site.codec)
    watcher.command(device_topic("DCMD", node),
                    [{"name": control, "type": "Boolean", "value": True}])
    time.sleep(3)
    assert started_at(docker_engine, app)[0] == before
    watcher.close()

    site.host.command(device_topic("DCMD", node),
                      [{"name": control, "type": "Boolean", "value": True}])
    wait_until(lambda: started_at(docker_engine, app)[0] not in (None, before), 60,
               what="the app's container restarted")
    assert f"DCMD app.restart {app} on {node}: accepted by the anchor as user spcmd" in \
        site.edge.log()
    # The anchor audited it as the command identity.
    events = site.ok("events.query", {"app": app, "limit": 100})
    assert "spcmd" in json.dumps(events), events
