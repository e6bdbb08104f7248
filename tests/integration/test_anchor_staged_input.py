"""Hostile rollout strategies against the real pharos-anchor over the real Mosquitto
(docs/rollouts.md "Strategy"): bad wave lists, unknown nodes and nodes outside the target,
0 % / 200 % shares, windows that never open, negative gate times, on app.deploy (group and
node targets) and app.rollback. Each is refused with invalid_argument and an error whose
path and message name the field, and nothing changes: the app, its history, the retained
group and node documents and the rollout summary are the same afterwards. And the site's
time zone (`site_time_zone`): an update window is read in it, and an unknown zone stops the
anchor at start with a message naming the key.

Run: PHAROS_BUILD_DIR=build/<dir> /usr/bin/python3 -m pytest -q tests/integration/test_anchor_staged_input.py
"""
import datetime
import subprocess
import zoneinfo

from test_anchor_api import COMPOSE, COMPOSE2, TOPIC_ROOT, Anchor, agent_online, anchor, ok, \
    retained, wait_health  # noqa: F401 - anchor is a fixture

# (strategy, error path, a piece of the message)
HOSTILE = [
    # wave lists
    ({}, "strategy.waves", "is required"),
    ({"waves": []}, "strategy.waves", "at least one wave"),
    ({"waves": "n1,100%"}, "strategy.waves", "must be an array"),
    ({"waves": [[]]}, "strategy.waves[0]", "an empty wave"),
    ({"waves": [7]}, "strategy.waves[0]", "node id or a share"),
    ({"waves": [None]}, "strategy.waves[0]", "node id or a share"),
    ({"waves": ["n1", "n1"]}, "strategy.waves[1]", "n1"),
    ({"waves": [["n1", "n1"]]}, "strategy.waves[0][1]", "named twice"),
    ({"waves": ["50%", "10%"]}, "strategy.waves[1]", "shares must grow"),
    ({"waves": ["100%", "n1"]}, "strategy.waves[1]", "no wave can follow"),
    ({"waves": [["10%", "20%"]]}, "strategy.waves[0][1]", "at most one share"),
    ({"waves": ["Press 07"]}, "strategy.waves[0]", "neither a node id nor a share"),
    ({"waves": ["n1"] * 101}, "strategy.waves", "100"),
    # unknown nodes, and a known node outside the target
    ({"waves": ["ghost"]}, "strategy.waves[0]", "unknown node 'ghost'"),
    ({"waves": ["n1", ["n2", "ghost"]]}, "strategy.waves[1][1]", "unknown node 'ghost'"),
    ({"waves": ["n9"]}, "strategy.waves[0]", "not in the target"),
    # shares
    ({"waves": ["0%"]}, "strategy.waves[0]", "share 0%"),
    ({"waves": ["200%"]}, "strategy.waves[0]", "share 200%"),
    ({"waves": ["100.01%"]}, "strategy.waves[0]", "share 100.01%"),
    ({"waves": ["-10%"]}, "strategy.waves[0]", "not a share"),
    ({"waves": ["0.001%"]}, "strategy.waves[0]", "not a share"),
    ({"waves": ["%"]}, "strategy.waves[0]", "not a share"),
    # windows that never open, or are not windows
    ({"waves": ["n1"], "window": "daily 10:00-10:00"}, "strategy.window", "never opens"),
    ({"waves": ["n1"], "window": "Mon-Fri 22:00-22:00"}, "strategy.window", "never opens"),
    ({"waves": ["n1"], "window": "Feb 30 10:00-11:00"}, "strategy.window", ""),
    ({"waves": ["n1"], "window": "Mon 25:00-26:00"}, "strategy.window", "25:00-26:00"),
    ({"waves": ["n1"], "window": "whenever"}, "strategy.window", "must be like"),
    ({"waves": ["n1"], "window": ""}, "strategy.window", ""),
    ({"waves": ["n1"], "window": 5}, "strategy.window", ""),
    # gates with negative or impossible times
    ({"waves": ["n1"], "gate": {"soak": -5}}, "strategy.gate.soak", "must not be negative"),
    ({"waves": ["n1"], "gate": {"soak": "-5s"}}, "strategy.gate.soak", "must not be negative"),
    ({"waves": ["n1"], "gate": {"soak": "9000h"}}, "strategy.gate.soak", ""),
    ({"waves": ["n1"], "gate": {"timeout": -60}}, "strategy.gate.timeout", ""),
    ({"waves": ["n1"], "gate": {"timeout": "-1m"}}, "strategy.gate.timeout", ""),
    ({"waves": ["n1"], "gate": {"timeout": 0}}, "strategy.gate.timeout", "above zero"),
    ({"waves": ["n1"], "gate": {"soak": 120, "timeout": 60}}, "strategy.gate.timeout",
     "longer"),
    ({"waves": ["n1"], "gate": {"max_failed": -1}}, "strategy.gate.max_failed", ""),
    ({"waves": ["n1"], "gate": {"soke": 60}}, "strategy.gate.soke", "unknown field"),
    ({"waves": ["n1"], "gate": 60}, "strategy.gate", ""),
    # the rest of the strategy
    ({"waves": ["n1"], "on_failure": "explode"}, "strategy.on_failure", ""),
    ({"waves": ["n1"], "windows": "daily 01:00-02:00"}, "strategy.windows", "unknown field"),
]


def snapshot(broker, ops):
    return (ok(ops, "app.get", {"name": "web"}), ok(ops, "app.history", {"name": "web"}),
            ok(ops, "app.get", {"name": "solo"}), ok(ops, "app.history", {"name": "solo"}),
            retained(broker, f"{TOPIC_ROOT}/groups/g/desired"),
            retained(broker, f"{TOPIC_ROOT}/nodes/n1/desired"),
            retained(broker, f"{TOPIC_ROOT}/apps/web/rollout"))


def refused(ops, op, body, path, fragment):
    reply = ops.request(op, body)
    what = f"{op} {body.get('strategy')}: {reply}"
    assert reply["ok"] is False, what
    assert reply["error"]["code"] == "invalid_argument", what
    assert reply["error"].get("path") == path, what
    assert reply["error"]["message"].startswith(path + ":"), what
    assert fragment in reply["error"]["message"], what


def test_hostile_strategies_are_refused_naming_the_field_and_change_nothing(broker, anchor):
    ops = broker.client("ops")
    broker.add_agent("n9")
    for node in ("n1", "n2", "n9"):
        agent_online(broker, node)
    for node in ("n1", "n2", "n9"):
        assert wait_health(ops, node, "Ready")
    ok(ops, "group.create", {"name": "g"})
    ok(ops, "group.add", {"group": "g", "nodes": ["n1", "n2"]})
    ok(ops, "app.deploy", {"name": "web", "target": {"group": "g"}, "compose": COMPOSE})
    ok(ops, "app.deploy", {"name": "web", "target": {"group": "g"}, "compose": COMPOSE2})
    ok(ops, "app.deploy", {"name": "solo", "target": {"node": "n1"}, "compose": COMPOSE})
    before = snapshot(broker, ops)

    for strategy, path, fragment in HOSTILE:
        refused(ops, "app.deploy", {"name": "web", "target": {"group": "g"}, "compose": COMPOSE,
                                    "strategy": strategy}, path, fragment)
        refused(ops, "app.rollback", {"name": "web", "revision": 1, "strategy": strategy}, path,
                fragment)
    # A node target: the only node of the wave is the node itself.
    refused(ops, "app.deploy", {"name": "solo", "target": {"node": "n1"}, "compose": COMPOSE2,
                                "strategy": {"waves": ["n2"]}}, "strategy.waves[0]",
            "not in the target")
    refused(ops, "app.deploy", {"name": "solo", "target": {"node": "n1"}, "compose": COMPOSE2,
                                "strategy": {"waves": ["200%"]}}, "strategy.waves[0]",
            "share 200%")
    # The wrong type altogether.
    reply = ops.request("app.deploy", {"name": "web", "target": {"group": "g"},
                                       "compose": COMPOSE, "strategy": "canary"})
    assert reply["error"]["code"] == "invalid_argument" and \
        reply["error"]["path"] == "strategy", reply

    assert snapshot(broker, ops) == before
    # No rollout command applies: none was started.
    reply = ops.request("rollout.pause", {"name": "web"})
    assert reply["error"]["code"] == "conflict", reply


def window_around_now(zone):
    """A two-hour window around the time of day in `zone`: open there now."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
    minute = now.hour * 60 + now.minute
    start, end = (minute - 60) % 1440, (minute + 60) % 1440
    return f"daily {start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}"


def test_the_window_is_read_in_the_site_time_zone(broker, pharos_bin, tmp_path):
    r = subprocess.run([pharos_bin("pharos-anchor"), "--data-dir", str(tmp_path / "bad"),
                        "--site-time-zone", "Mars/Olympus_Mons"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    assert "--site-time-zone: unknown time zone 'Mars/Olympus_Mons'" in r.stderr, r.stderr

    # Tokyo is 9 h ahead of UTC: a window open there now is shut in UTC, and the reverse.
    a = Anchor(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor",
               extra=["--site-time-zone", "Asia/Tokyo"]).start()
    try:
        assert "read in time zone Asia/Tokyo" in a.log()
        ops = broker.client("ops")
        for node in ("n1", "n2"):
            agent_online(broker, node)
        for node in ("n1", "n2"):
            assert wait_health(ops, node, "Ready")
        ok(ops, "group.create", {"name": "g"})
        ok(ops, "group.add", {"group": "g", "nodes": ["n1", "n2"]})
        phases = {}
        for app, zone in (("tokyo", "Asia/Tokyo"), ("utc", "UTC")):
            ok(ops, "app.deploy", {"name": app, "target": {"group": "g"}, "compose": COMPOSE})
            window = window_around_now(zone)
            reply = ok(ops, "app.deploy", {
                "name": app, "target": {"group": "g"}, "compose": COMPOSE2,
                "strategy": {"waves": ["n1", "100%"], "window": window}})
            phases[app] = reply["rollout"]["phase"]
            staged = ok(ops, "app.get", {"name": app})["rollout"]["staged"]
            assert staged["time_zone"] == "Asia/Tokyo", staged
            assert staged["window"] == window, staged
        assert phases == {"tokyo": "gating", "utc": "waiting"}, phases
        doc = retained(broker, f"{TOPIC_ROOT}/groups/g/desired")
        staged_nodes = {e["name"]: e["staged"]["nodes"] for e in doc["apps"]}
        assert staged_nodes == {"tokyo": ["n1"], "utc": []}, doc
    finally:
        assert a.stop() in (None, 0), a.log()
