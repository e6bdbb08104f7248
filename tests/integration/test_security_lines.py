"""A node's identity lives only on the broker it connects through (docs/levels.md, docs/
security.md): the real Mosquitto site broker with the anchor, two real line brokers bridged to
it (broker-config/mosquitto-line.conf, the levels harness of test_levels.py), one real
pharos-agent.

A node registered on line-a moves to line-b while the anchor is down (its device now logs in
to line-b with the identity made there), and line-a's bridge is cut when the anchor starts, so
the anchor learns the move before it ever sees line-a again. Once line-a's bridge connects, the
anchor reconciles that line broker's identities with the registry through the line's control
topic: the identity the node left on line-a is removed; the one on line-b stays and gets the
node's group rights, although line-a's broker sends its retained copy of the node's old info
again when its bridge connects.
"""
import json
import pathlib
import re
import shutil
import tempfile
import uuid

from harness.broker import Broker, dynsec
from test_agent import wait_until
from test_levels import KEEPALIVE, Agent, BridgedAnchor, LineBroker, Relay, ROOT


def line_identity(line, node):
    """(has client, has role agent-<node>, group names its role may read) in the line broker's
    dynamic-security file (rewritten after every command); None while it is unreadable."""
    try:
        doc = json.loads((line.data_dir / "dynamic-security.json").read_text())
    except (OSError, ValueError):
        return None
    client = any(c.get("username") == node for c in doc.get("clients", []))
    role = next((r for r in doc.get("roles", []) if r.get("rolename") == f"agent-{node}"), None)
    groups = set()
    for acl in (role or {}).get("acls", []):
        topic = acl.get("topic", "")
        if topic.startswith(f"{ROOT}/groups/") and topic.endswith("/desired"):
            groups.add(topic.split("/")[3])
    return client, role is not None, groups


def test_a_node_moved_while_the_anchor_was_down_keeps_its_identity_only_on_its_new_line(
        pharos_bin, docker_engine):
    tag = uuid.uuid4().hex[:6]
    node, group, group2 = f"mv-{tag}", f"hall-{tag}", f"cell-{tag}"
    site = Broker(operators=("ops",), viewers=("viewer",), agents=())
    bridge_creds = dynsec.add(site.data_dir, "bridge", ["line-a", "line-b"])
    site._creds.update(bridge_creds)
    lines, agents, anchor, relays = {}, [], None, {}
    anchor_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-lines-anchor-"))
    try:
        site.start()
        for x in ("a", "b"):
            # The device's identity on both lines: line-b's is the one made for the move.
            relays[x] = Relay(site.port)
            lines[x] = LineBroker(f"line-{x}", relays[x].port,
                                  bridge_creds[f"bridge-line-{x}"][1], [node]).start()
        anchor = BridgedAnchor(pharos_bin("pharos-anchor"), site, anchor_dir,
                               {f"bridge-line-{x}": lines[x].url for x in "ab"})
        anchor.start()
        # Each line's identities are reconciled once its bridge is up; the device registers
        # only after, so that line-b's identity (a node the anchor does not know yet) stays.
        wait_until(lambda: all(re.search(rf"line line-{x} identities: \d+ roles checked",
                                         anchor.log()) for x in "ab"),
                   75, what="both lines' identities reconciled")
        ops = site.client("ops")
        info = ops.subscribe_collect(f"{ROOT}/nodes/{node}/info")

        def reports(url):
            docs = [json.loads(m.payload) for m in info.messages if m.payload]
            return bool(docs) and docs[-1].get("broker") == url

        agents.append(Agent(pharos_bin("pharos-agent"), node, lines["a"], docker_engine))
        wait_until(lambda: reports(lines["a"].url), 60, what="info from line-a")
        for op, body in (("group.create", {"name": group}),
                         ("group.add", {"group": group, "nodes": [node]})):
            reply = ops.request(op, body, timeout=15)
            assert reply["ok"], reply
        wait_until(lambda: line_identity(lines["a"], node) == (True, True, {group}), 30,
                   what="the node's rights on line-a")

        # The anchor stops; the device moves to line-b meanwhile.
        anchor.stop()
        agents.pop().cleanup()
        agents.append(Agent(pharos_bin("pharos-agent"), node, lines["b"], docker_engine))
        try:
            wait_until(lambda: reports(lines["b"].url), 60, what="info from line-b")
        except AssertionError as e:
            raise AssertionError(f"{e}\nagent log:\n{agents[-1].log()}\nline-b identity: "
                                 f"{line_identity(lines['b'], node)}\n"
                                 f"anchor log:\n{anchor.log()[-3000:]}")
        assert line_identity(lines["a"], node) == (True, True, {group})

        watcher = site.client("anchor")  # may read the bridge notifications
        bridge_a = watcher.subscribe_collect("$SYS/broker/connection/bridge-line-a/state")
        relays["a"].cut()
        wait_until(lambda: any(m.payload == b"0" for m in bridge_a.messages), 1.5 * KEEPALIVE + 5,
                   what="line-a's bridge down")

        anchor.start()
        wait_until(lambda: ops.request("node.get", {"name": node}, timeout=15)["result"]["info"]
                   .get("broker") == lines["b"].url, 30, what="the anchor knows the move")
        assert line_identity(lines["a"], node) == (True, True, {group})
        relays["a"].heal()
        try:
            wait_until(lambda: line_identity(lines["a"], node) == (False, False, set()), 60,
                       what="the node's identity gone from line-a")
        except AssertionError as e:
            raise AssertionError(f"{e}\nanchor log:\n{anchor.log()[-3000:]}")
        # line-a's broker sent its retained copy of the node's old info again when its bridge
        # connected: the node stays on line-b. Its identity there is kept, and a new group's
        # rights are granted there.
        wait_until(lambda: any(json.loads(m.payload).get("broker") == lines["a"].url
                               for m in info.messages[-10:] if m.payload), 30,
                   what="line-a's stale copy of the info")
        reply = ops.request("group.create", {"name": group2}, timeout=15)
        assert reply["ok"], reply
        reply = ops.request("group.add", {"group": group2, "nodes": [node]}, timeout=15)
        assert reply["ok"], reply
        try:
            wait_until(lambda: line_identity(lines["b"], node) == (True, True, {group, group2}),
                       30, what="the node's identity and rights on line-b")
        except AssertionError as e:
            raise AssertionError(f"{e}\nanchor log:\n{anchor.log()[-3000:]}")
        assert line_identity(lines["a"], node) == (False, False, set())
        # Each start of the anchor reconciled line-a's identities once its bridge was up.
        try:
            # After a group-rights round the line did not answer while its bridge came back
            # (10 s timeout, then a 30 s pause).
            wait_until(lambda: anchor.log().count("line line-a identities: ") >= 2, 75,
                       what="line-a's identities reconciled by the second anchor")
        except AssertionError as e:
            raise AssertionError(f"{e}\nanchor log:\n{anchor.log()[-3000:]}")
        # The device itself, on its new line, is unaffected.
        health = ops.subscribe_collect(f"{ROOT}/nodes/{node}/health")
        wait_until(lambda: any(b'"Ready"' in m.payload for m in health.messages), 30,
                   what=f"{node} Ready")
        ops.close()
        watcher.close()
    finally:
        for a in agents:
            a.cleanup()
        if anchor is not None:
            anchor.stop()
        for r in relays.values():
            r.close()
        for line in lines.values():
            line.cleanup()
        site.cleanup()
        shutil.rmtree(anchor_dir, ignore_errors=True)
