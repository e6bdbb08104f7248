"""Broker accounts (docs/security.md "One namespace for broker accounts", "Identities follow the
registry") against the real Mosquitto with the shipped configuration and the real
pharos-anchor:

  - one namespace: `node.add` of a name that is already an account of any other kind (the
    anchor's, the admin's, a viewer, another operator, a line bridge) or a reserved name is
    refused with already_exists naming the kind, and changes nothing (the account still logs
    in, the anchor still works and restarts); `node.add` of an existing node is refused too;
  - identities follow the registry: a dynamic-security file from before this release (the
    old ACL set, a stale group right, an orphan role, a node identity that lives on a line
    broker, group rights in a node's own role, a broker group of no registry group) started
    with the new anchor ends with every identity's rights equal to what a fresh enrolment
    (tools/dynsec.py) gives it, and a second start changes nothing;
  - group rights are memberships of the broker groups group-<g>: many joining at once is one
    command, and many joining a group that has members get a broker group of their own
    (group-<g>~<n>) so that the broker disconnects only them; a node that leaves or is removed
    loses the right, and the anchor's restart finds the members across those broker groups.
"""
import json
import pathlib
import shutil
import sys
import tempfile
import time

import pytest

from harness.binaries import ROOT
from harness.broker import TOPIC_ROOT, wait_until
from cli_support import AnchorProcess

sys.path.insert(0, str(ROOT / "tools"))
import dynsec  # noqa: E402


def request(client, op, body, timeout=20):
    return client.request(op, body, timeout=timeout)


@pytest.fixture
def broker(broker_factory):
    b = broker_factory(start=False, operators=("ops", "ops2"), viewers=("viewer",), agents=())
    # The site identity of line broker l1's bridge.
    b._creds.update(dynsec.add(b.data_dir, "bridge", ["l1"]))
    return b.start()


@pytest.fixture
def anchor(broker, pharos_bin):
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-acct-anchor-"))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, work)
    proc.start()
    yield proc
    proc.stop()
    shutil.rmtree(work, ignore_errors=True)


# (name, kind named in the error, credential whose login must survive)
COLLISIONS = [
    ("anchor", "system", "anchor"),
    ("admin", "system", "admin"),
    ("viewer", "viewer", "viewer"),
    ("ops2", "operator", "ops2"),
    ("bridge-l1", "bridge", "bridge-l1"),
]


def test_node_add_never_replaces_another_kind_of_account(broker, anchor):
    ops = broker.client("ops")
    for name, kind, cred in COLLISIONS:
        reply = request(ops, "node.add", {"name": name})
        assert reply["ok"] is False, f"node.add {name}: {reply}"
        error = reply["error"]
        assert error["code"] == "already_exists", (name, error)
        assert f"kind {kind}" in error["message"], (name, error)
        assert error.get("path") == "name", (name, error)
        # Nothing changed: the account still logs in with its own password.
        user, password = broker.credentials(cred)
        client_id = user if kind == "bridge" else None  # a bridge's client id is forced
        assert broker.connect_error(user, password, client_id) == 0, f"{name} lost its login"
        assert request(ops, "node.get", {"name": name})["error"]["code"] == "not_found"
    # A bridge name of a line that does not exist yet is reserved as well.
    reply = request(ops, "node.add", {"name": "bridge-l9"})
    assert reply["error"]["code"] == "already_exists" and "kind bridge" in reply["error"]["message"]
    # An existing node is never re-enrolled over.
    first = request(ops, "node.add", {"name": "press-1"})
    assert first["ok"] is True, first
    again = request(ops, "node.add", {"name": "press-1"})
    assert again["error"]["code"] == "already_exists", again
    assert broker.connect_error("press-1", first["result"]["password"], "press-1") == 0
    # node.remove never deletes another kind of account either (none is a registered node).
    for name, kind, cred in COLLISIONS:
        assert request(ops, "node.remove", {"name": name})["error"]["code"] == "not_found"
        user, password = broker.credentials(cred)
        assert broker.connect_error(user, password, user if kind == "bridge" else None) == 0
    # The anchor kept its own identity: it answers, and a restarted anchor starts.
    assert request(ops, "node.list", {})["ok"] is True
    anchor.stop()
    anchor.start()
    assert request(broker.client("ops"), "node.list", {})["ok"] is True


# ---- identities follow the registry ---------------------------------------------------------


def acl_set(acls):
    return {(a["acltype"], a["topic"], bool(a["allow"]), int(a.get("priority", 0))) for a in acls}


def old_agent_role(node):
    """An agent role as the previous release wrote it: it could answer on any user's
    replies/+/# and had no cmd-replies right."""
    role = dynsec.agent_role(node)
    role["acls"] = [a for a in role["acls"] if "cmd-replies" not in a["topic"]]
    role["acls"].append(dynsec.acl("publishClientSend", f"{TOPIC_ROOT}/replies/+/#"))
    return role


def old_reader_role(role, user):
    """An operator's or viewer's role as earlier releases wrote it: no right to read its own
    cmd answers, and commands published without the user level (nodes/+/cmd/# for an
    operator, nodes/+/cmd/<command> for a viewer), so it could name any user's reply topic."""
    acls = []
    for a in role["acls"]:
        if "cmd-replies" in a["topic"]:
            continue
        if "/cmd/" in a["topic"] and a["topic"].endswith(f"/{user}"):
            a = dict(a, topic=a["topic"][:-len(user) - 1].replace("/cmd/+", "/cmd/#"))
        acls.append(a)
    return dict(role, acls=acls)


def dynsec_list(broker, command, key):
    """data.<key> of a dynamic-security list command (all entries, verbose) through admin."""
    admin = broker.client("admin")
    try:
        answers = admin.subscribe_collect("$CONTROL/dynamic-security/v1/response")
        admin.publish("$CONTROL/dynamic-security/v1",
                      {"commands": [{"command": command, "verbose": True, "count": -1,
                                     "offset": 0}]})
        reply = answers.wait_for(timeout=5)
        assert reply is not None, "no answer from the dynamic-security plugin"
        return json.loads(reply.payload)["responses"][0]["data"][key]
    finally:
        admin.close()


def dynsec_roles(broker):
    """rolename -> ACL set, as the running broker holds them (listRoles through admin)."""
    return {r["rolename"]: acl_set(r.get("acls", []))
            for r in dynsec_list(broker, "listRoles", "roles")}


def dynsec_groups(broker):
    """groupname -> (roles, members), as the running broker holds them."""
    return {g["groupname"]: ({r["rolename"] for r in g.get("roles", [])},
                             {c["username"] for c in g.get("clients", [])})
            for g in dynsec_list(broker, "listGroups", "groups")}


def test_an_old_dynamic_security_file_ends_with_fresh_enrolment_rights(broker_factory,
                                                                        pharos_bin):
    b = broker_factory(start=False, operators=("ops",), viewers=("viewer",), agents=())
    # The store: nodes enrolled and registered with the new anchor, then the file is made to
    # look like the old release's (stopped broker, edited offline).
    b.start()
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-acct-upgrade-"))
    anchor = AnchorProcess(pharos_bin("pharos-anchor"), b, work)
    try:
        anchor.start()
        ops = b.client("ops")
        for node in ("old-1", "old-2"):
            assert request(ops, "node.add", {"name": node})["ok"] is True
        assert request(ops, "group.create", {"name": "hall"})["ok"] is True
        assert request(ops, "group.add", {"group": "hall", "nodes": ["old-1"]})["ok"] is True
        time.sleep(0.5)  # the batched group ACL change
        anchor.stop()
        b.stop()

        path = b.data_dir / dynsec.FILE_NAME
        doc = json.loads(path.read_text())
        # The release that ran had the group rights in the node's own role: no broker group.
        assert "group-hall" in {g["groupname"] for g in doc["groups"]}
        doc["groups"] = [g for g in doc["groups"] if g["groupname"] != "group-hall"]
        doc["roles"] = [r for r in doc["roles"] if r["rolename"] != "group-hall"]
        for c in doc["clients"]:
            c["groups"] = [g for g in c.get("groups", []) if g["groupname"] != "group-hall"]
        roles = {r["rolename"]: r for r in doc["roles"]}
        # Old ACL sets: agents answer on replies/+/#, readers may read everyone's cmd answers,
        # the bridge publishes replies/+/#.
        for node in ("old-1", "old-2"):
            roles[f"agent-{node}"]["acls"] = old_agent_role(node)["acls"]
        roles["agent-old-1"]["acls"] += dynsec.group_desired_acls("hall")
        # old-2 keeps a group right it no longer has (it was never in hall-2).
        roles["agent-old-2"]["acls"] += dynsec.group_desired_acls("hall-2")
        # A broker group of a group the registry does not know.
        doc["roles"].append(dynsec.group_rights_role("gone-group"))
        doc["groups"].append({"groupname": "group-gone-group", "roles": [
            {"rolename": "group-gone-group"}]})
        for user, maker in (("ops", dynsec.operator_role), ("viewer", dynsec.viewer_role)):
            role = old_reader_role(maker(user), user)
            roles[role["rolename"]]["acls"] = role["acls"]
        # An orphan role (its client was deleted by hand).
        doc["roles"].append({"rolename": "agent-gone", "acls": old_agent_role("gone")["acls"]})
        path.write_text(json.dumps(doc, indent="\t"))

        b.start()
        first = len(anchor.log())  # the log file is appended to by every start
        anchor.start()
        assert wait_until(lambda: "roles checked" in anchor.log()[first:], 20), \
            anchor.log()[-3000:]
        held = dynsec_roles(b)
        want = {
            "agent-old-1": acl_set(dynsec.agent_role("old-1")["acls"]),
            "agent-old-2": acl_set(dynsec.agent_role("old-2")["acls"]),
            "operator-ops": acl_set(dynsec.operator_role("ops")["acls"]),
            "viewer-viewer": acl_set(dynsec.viewer_role("viewer")["acls"]),
        }
        for role, acls in want.items():
            assert held.get(role) == acls, (role, held.get(role, set()) ^ acls,
                                            anchor.log()[-3000:])
        assert "agent-gone" not in held
        # The group right moved from old-1's role to a membership of the broker group.
        assert held.get("group-hall") == acl_set(dynsec.group_desired_acls("hall"))
        groups = dynsec_groups(b)
        assert groups.get("group-hall") == ({"group-hall"}, {"old-1"}), groups
        assert "group-gone-group" not in groups and "group-gone-group" not in held
        # Every change was logged, one line per identity.
        log = anchor.log()[first:]
        for role in ("agent-old-1", "agent-old-2", "operator-ops", "viewer-viewer"):
            assert f"role {role} corrected" in log, log[-3000:]
        assert "role agent-gone: removed" in log
        assert "group hall: broker group group-hall created with 1 members" in log, log[-3000:]
        assert "broker group group-gone-group: removed" in log

        # A second start finds nothing to change.
        anchor.stop()
        mark = len(anchor.log())
        anchor.start()
        assert wait_until(lambda: "roles checked" in anchor.log()[mark:], 20)
        assert ": role " not in anchor.log()[mark:], anchor.log()[mark:]
        assert "; 0 corrected" in anchor.log()[mark:]
        assert "0 broker groups created, 0 corrected, 0 removed" in anchor.log()[mark:]
    finally:
        anchor.stop()
        shutil.rmtree(work, ignore_errors=True)


def enrol(broker, ops, name):
    """node.add through the anchor; the broker harness learns the new agent's password."""
    reply = request(ops, "node.add", {"name": name})
    assert reply["ok"] is True, reply
    broker._creds[f"agent-{name}"] = (name, reply["result"]["password"])


def may_read(broker, node, group):
    """Whether the node's identity may subscribe to the group's desired document."""
    c = broker.client(f"agent-{node}", client_id=node)
    try:
        return c.subscribe(f"{TOPIC_ROOT}/groups/{group}/desired")[0] < 0x80
    finally:
        c.close()


def test_group_rights_are_broker_group_memberships_many_at_once(broker, anchor):
    """Joining a group is a membership of the broker group group-<g>, not a change of the
    node's role; 40 nodes joining at once (more than the per-member limit, 32) become members
    in one modifyGroup, and a few leaving lose their right one by one."""
    ops = broker.client("ops")
    nodes = [f"bulk-{i:02d}" for i in range(40)]
    for n in nodes + ["outsider"]:
        enrol(broker, ops, n)
    assert request(ops, "group.create", {"name": "press"})["ok"] is True
    assert request(ops, "group.add", {"group": "press", "nodes": nodes})["ok"] is True
    assert wait_until(lambda: dynsec_groups(broker).get("group-press", (set(), set()))[1] ==
                      set(nodes), 10), dynsec_groups(broker).get("group-press")
    roles = dynsec_roles(broker)
    assert roles["group-press"] == acl_set(dynsec.group_desired_acls("press"))
    # The nodes' own roles hold no group right.
    for n in (nodes[0], nodes[-1]):
        assert roles[f"agent-{n}"] == acl_set(dynsec.agent_role(n)["acls"])
    assert may_read(broker, nodes[0], "press")
    assert may_read(broker, nodes[39], "press")
    assert not may_read(broker, "outsider", "press")

    assert request(ops, "group.remove", {"group": "press", "nodes": nodes[:2]})["ok"] is True
    assert wait_until(lambda: dynsec_groups(broker)["group-press"][1] == set(nodes[2:]), 10)
    assert not may_read(broker, nodes[0], "press")
    assert may_read(broker, nodes[2], "press")

    # node.remove drops the identity and with it the membership.
    assert request(ops, "node.remove", {"name": nodes[5]})["ok"] is True
    assert wait_until(lambda: nodes[5] not in dynsec_groups(broker)["group-press"][1], 10)

    # 40 more join: a shard of their own; a member connected meanwhile is not disconnected.
    more = [f"more-{i:02d}" for i in range(40)]
    for n in more:
        enrol(broker, ops, n)
    member = broker.client(f"agent-{nodes[3]}", client_id=nodes[3])
    try:
        assert member.subscribe(f"{TOPIC_ROOT}/groups/press/desired")[0] < 0x80
        assert request(ops, "group.add", {"group": "press", "nodes": more})["ok"] is True
        assert wait_until(lambda: dynsec_groups(broker).get("group-press~1", (set(), set()))[1]
                          == set(more), 10), sorted(dynsec_groups(broker))
        assert dynsec_groups(broker)["group-press~1"][0] == {"group-press"}
        assert may_read(broker, more[0], "press")
        time.sleep(0.5)
        assert member.disconnect_reasons == []
    finally:
        member.close()

    # Restarted, the anchor reads the members of both broker groups and changes nothing.
    before = len(anchor.log())
    anchor.stop()
    anchor.start()
    assert wait_until(lambda: "group rights:" in anchor.log()[before:], 20), anchor.log()[before:]
    assert "group rights: 0 broker groups created, 0 corrected, 0 removed" in \
        anchor.log()[before:], anchor.log()[before:]
    groups = dynsec_groups(broker)
    assert groups["group-press"][1] == set(nodes[2:]) - {nodes[5]}
    assert groups["group-press~1"][1] == set(more)
    assert request(ops, "group.remove", {"group": "press", "nodes": more})["ok"] is True
    assert wait_until(lambda: "group-press~1" not in dynsec_groups(broker), 10)
    assert not may_read(broker, more[0], "press")
