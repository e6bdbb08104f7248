#!/usr/bin/python3
"""Writes the Mosquitto 2.0.11 dynamic-security file for Pharos, without a running broker.

The file format is the one `mosquitto_ctrl dynsec init` writes: clients with PBKDF2-SHA512
salted password hashes (base64 hash of 64 bytes, base64 salt of 12 bytes, iterations),
roles with ACLs, groups, and defaultACLAccess. ACL types (2.0.11): publishClientSend,
publishClientReceive, subscribeLiteral, subscribePattern, unsubscribeLiteral,
unsubscribePattern. Within a role the ACL with the highest priority that matches decides.
2.0.11 has no %u/%c substitution, so every user and every node gets its own role.

Identities (broker-config/README.md has the full ACL table):
  admin              role `admin`: only $CONTROL/dynamic-security (for mosquitto_ctrl)
  anchor             role `anchor`: pharos/v1/# and the dynamic-security control topic
  <user> (operator)  role `operator-<user>`, group `operators`
  <user> (viewer)    role `viewer-<user>`, group `viewers`
  <node> (agent)     role `agent-<node>`, group `agents`, client id forced to <node>
  bridge-<line>      role `bridge-<line>`, client id forced to bridge-<line>: the bridge of
                     line broker <line> into the site broker (broker-config/mosquitto-line.conf)

Generated passwords go to <data-dir>/credentials/<kind>-<name>.env (mode 0600), e.g.
credentials/anchor.env, credentials/operator-ops.env, credentials/agent-press-1.env, as
PHAROS_MQTT_USERNAME / PHAROS_MQTT_PASSWORD / PHAROS_MQTT_CLIENT_ID lines.

Usable as a library (tests import it) and as a CLI:
  dynsec.py init <data-dir> [--operator NAME]... [--viewer NAME]... [--agent NODE]... [--force]
  dynsec.py add-agent <data-dir> NODE... [--group G]...  (edits the file: broker stopped)
  dynsec.py add-operator|add-viewer <data-dir> NAME...
  dynsec.py add-bridge <data-dir> LINE...               (site broker: bridge-<LINE> identity)
  dynsec.py add-sparkplug <data-dir> [--user U] [--group-id G] [--edge-node-id E]
            [--command-user C]                        (pharos-sparkplug; docs/scada.md)
  dynsec.py add-scada <data-dir> NAME... [--commands]  (Sparkplug host applications)
"""
import argparse
import base64
import hashlib
import json
import os
import pathlib
import re
import secrets
import sys
import tempfile

ROOT = "pharos/v1"
ITERATIONS = 101  # what mosquitto_ctrl and the plugin itself use in 2.0.11
FILE_NAME = "dynamic-security.json"
CREDENTIALS_DIR = "credentials"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
RESERVED_USERS = {"admin", "anchor"}
BRIDGE_PREFIX = "bridge-"  # bridge-<line> is a line bridge's name, never a user's or a node's


def check_reserved(name: str, what: str):
    """Broker accounts share one namespace: admin/anchor are system accounts, bridge-<line>
    names are the bridges' (the anchor refuses the same names at run time)."""
    if name in RESERVED_USERS or name.startswith(BRIDGE_PREFIX):
        raise ValueError(f"{what} '{name}' is reserved")


def check_id(name: str, what: str) -> str:
    if not ID_RE.match(name):
        raise ValueError(f"{what} '{name}' must match [a-z0-9][a-z0-9_.-]{{0,62}}")
    return name


def new_password() -> str:
    return secrets.token_urlsafe(24)


def hash_password(password: str, salt: bytes = None, iterations: int = ITERATIONS) -> dict:
    """The password fields of a dynsec client: PBKDF2-HMAC-SHA512 over the raw salt."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": iterations,
    }


def verify_password(client: dict, password: str) -> bool:
    salt = base64.b64decode(client["salt"])
    expected = hash_password(password, salt, client["iterations"])["password"]
    return secrets.compare_digest(expected, client["password"])


def acl(acltype: str, topic: str, allow: bool = True, priority: int = 0) -> dict:
    return {"acltype": acltype, "topic": topic, "priority": priority, "allow": allow}


def read_write(topic: str, priority: int = 0) -> list:
    """Publish, receive, subscribe and unsubscribe on a filter."""
    return [
        acl("publishClientSend", topic, True, priority),
        acl("publishClientReceive", topic, True, priority),
        acl("subscribePattern", topic, True, priority),
        acl("unsubscribePattern", topic, True, priority),
    ]


def read_only(topic: str, allow: bool = True, priority: int = 0) -> list:
    return [
        acl("publishClientReceive", topic, allow, priority),
        acl("subscribePattern", topic, allow, priority),
        acl("unsubscribePattern", topic, True, priority),
    ]


def admin_role() -> dict:
    control = "$CONTROL/dynamic-security/#"
    return {
        "rolename": "admin",
        "textname": "mosquitto_ctrl: dynamic-security administration only",
        "acls": [
            acl("publishClientSend", control),
            acl("publishClientReceive", control),
            acl("subscribePattern", control),
            acl("unsubscribePattern", control),
        ],
    }


def anchor_role() -> dict:
    return {
        "rolename": "anchor",
        "textname": "the Pharos anchor: the whole tree and device enrolment",
        # $SYS/broker/connection/<bridge>/state: Mosquitto's bridge notifications, from
        # which the anchor marks nodes behind a down line broker Unreachable.
        "acls": read_write(f"{ROOT}/#") + read_write("$CONTROL/dynamic-security/#")
        + read_only("$SYS/broker/connection/#"),
    }


def _reader_acls(user: str) -> list:
    """What operators and viewers read: everything but secrets, other users' replies (the
    anchor's on replies/<u>/#, agents' on nodes/+/cmd-replies/<u>/#), API
    requests (only the anchor reads api/#: app.deploy and registry.set carry secrets) and the
    line brokers' dynamic-security control topics (lines/#, docs/levels.md)."""
    return (
        read_only(f"{ROOT}/replies/{user}/#", True, 30)
        + read_only(f"{ROOT}/nodes/+/cmd-replies/{user}/#", True, 30)
        + read_only(f"{ROOT}/replies/#", False, 20)
        + read_only(f"{ROOT}/nodes/+/cmd-replies/#", False, 20)
        + read_only(f"{ROOT}/nodes/+/secrets", False, 20)
        + read_only(f"{ROOT}/api/#", False, 20)
        + read_only(f"{ROOT}/lines/#", False, 20)
        + read_only(f"{ROOT}/#", True, 0)
    )


def operator_role(user: str) -> dict:
    check_id(user, "operator name")
    return {
        "rolename": f"operator-{user}",
        "textname": f"operator {user}: api/{user}/#, node commands, reads",
        "acls": [
            acl("publishClientSend", f"{ROOT}/api/{user}/#"),
            # Commands only under its own name: the agent answers the topic's user level.
            acl("publishClientSend", f"{ROOT}/nodes/+/cmd/+/{user}"),
        ]
        + _reader_acls(user),
    }


VIEWER_COMMANDS = ("logs", "inspect")


def viewer_role(user: str) -> dict:
    check_id(user, "viewer name")
    return {
        "rolename": f"viewer-{user}",
        "textname": f"viewer {user}: api/{user}/# (read operations), read-only commands, reads",
        "acls": [acl("publishClientSend", f"{ROOT}/api/{user}/#")]
        + [acl("publishClientSend", f"{ROOT}/nodes/+/cmd/{c}/{user}") for c in VIEWER_COMMANDS]
        + _reader_acls(user),
    }


AGENT_PUBLISHES = ("status", "info", "state", "events", "metrics", "heartbeat")
AGENT_READS = ("desired", "secrets")


def agent_role(node: str) -> dict:
    """An agent writes only inside its own subtree: its reports and its answers to cmd
    requests (nodes/<node>/cmd-replies/<user>/..., readable by <user> only). It reads only its
    own documents and commands. It reads groups/<g>/desired as a member of the broker group
    group-<g> (group_rights_role); on a line broker the anchor adds group_desired_acls(g) to
    this role instead."""
    check_id(node, "node id")
    base = f"{ROOT}/nodes/{node}"
    acls = [acl("publishClientSend", f"{base}/{t}") for t in AGENT_PUBLISHES]
    acls.append(acl("publishClientSend", f"{base}/cmd-replies/#"))
    for t in AGENT_READS:
        acls += [
            acl("subscribeLiteral", f"{base}/{t}"),
            acl("publishClientReceive", f"{base}/{t}"),
            acl("unsubscribeLiteral", f"{base}/{t}"),
        ]
    acls += read_only(f"{base}/cmd/#")
    acls += [
        acl("subscribeLiteral", f"{ROOT}/anchor/status"),
        acl("publishClientReceive", f"{ROOT}/anchor/status"),
        acl("unsubscribeLiteral", f"{ROOT}/anchor/status"),
    ]
    return {"rolename": f"agent-{node}", "textname": f"agent of node {node}", "acls": acls}


def group_desired_acls(group: str) -> list:
    """The read ACLs of groups/<group>/desired: the role group-<group> at the site, added to
    agent-<node> on a line broker."""
    check_id(group, "group name")
    topic = f"{ROOT}/groups/{group}/desired"
    return [
        acl("subscribeLiteral", topic),
        acl("publishClientReceive", topic),
        acl("unsubscribeLiteral", topic),
    ]


def group_rights_role(group: str) -> dict:
    """The role group-<group>, held by the broker group group-<group> whose members are the
    nodes of <group> (anchor/include/anchor/group_rights.h)."""
    return {"rolename": f"group-{group}", "textname": f"reads the desired document of group {group}",
            "acls": group_desired_acls(group)}


BRIDGE_IN = ("nodes/+/desired", "nodes/+/secrets", "nodes/+/cmd/#", "groups/+/desired",
             "anchor/status")


def bridge_role(line: str) -> dict:
    """The site-broker identity of line broker <line>'s bridge (mosquitto-line.conf): it
    publishes what agents report (`out` topics), answers to cmd requests and its own
    notification ($SYS/broker/connection/bridge-<line>/state, also its will), and reads what
    agents read (`in` topics) for every node: 2.0.11 cannot limit it to the line's nodes. It
    never publishes the anchor's answers (replies/#) nor API requests. It also reads its
    line's dynamic-security control topic and answers on .../response."""
    check_id(line, "line name")
    acls = [acl("publishClientSend", f"{ROOT}/nodes/+/{t}") for t in AGENT_PUBLISHES]
    acls.append(acl("publishClientSend", f"{ROOT}/nodes/+/cmd-replies/#"))
    acls.append(acl("publishClientSend", f"$SYS/broker/connection/bridge-{line}/state"))
    for t in BRIDGE_IN:
        acls += read_only(f"{ROOT}/{t}")
    # The line's own dynamic-security control topic (imported as the line broker's $CONTROL)
    # and its answers: only this line's, so no line can read or answer another's commands.
    control = f"{ROOT}/lines/{line}/control/dynamic-security/v1"
    acls += read_only(control)
    acls.append(acl("publishClientSend", f"{control}/response"))
    # The line broker's heartbeat ($SYS/broker/uptime, exported by the bridge).
    acls.append(acl("publishClientSend", f"{ROOT}/lines/{line}/sys/broker/uptime"))
    return {"rolename": f"bridge-{line}", "textname": f"bridge of line broker {line}",
            "acls": acls}


class Dynsec:
    """An in-memory dynamic-security document."""

    def __init__(self, doc: dict = None):
        self.doc = doc or {
            "clients": [],
            "groups": [
                {"groupname": "operators", "textname": "Pharos operators", "roles": []},
                {"groupname": "viewers", "textname": "Pharos viewers", "roles": []},
                {"groupname": "agents", "textname": "Pharos agents (one per node)", "roles": []},
            ],
            "roles": [],
            "defaultACLAccess": {
                "publishClientSend": False,
                "publishClientReceive": False,
                "subscribe": False,
                "unsubscribe": True,
            },
        }

    @classmethod
    def load(cls, path) -> "Dynsec":
        with open(path) as f:
            return cls(json.load(f))

    def client(self, username: str):
        return next((c for c in self.doc["clients"] if c["username"] == username), None)

    def role(self, rolename: str):
        return next((r for r in self.doc["roles"] if r["rolename"] == rolename), None)

    def _put_role(self, role: dict):
        self.doc["roles"] = [r for r in self.doc["roles"] if r["rolename"] != role["rolename"]]
        self.doc["roles"].append(role)

    def _put_client(self, username, password, textname, roles, groups=(), clientid=None):
        if self.client(username) is not None:
            raise ValueError(f"client '{username}' already exists")
        client = {"username": username, "textname": textname}
        if clientid is not None:
            client["clientid"] = clientid
        client.update(hash_password(password))
        client["roles"] = [{"rolename": r} for r in roles]
        client["groups"] = [{"groupname": g} for g in groups]
        self.doc["clients"].append(client)
        # Mosquitto reads a group's members from the group's own "clients" list.
        for g in self.doc["groups"]:
            if g["groupname"] in groups:
                g.setdefault("clients", []).append({"username": username})

    def add_admin(self, password: str, username: str = "admin"):
        self._put_role(admin_role())
        self._put_client(username, password, "dynamic-security administrator", ["admin"])

    def add_anchor(self, password: str, username: str = "anchor"):
        self._put_role(anchor_role())
        self._put_client(username, password, "Pharos anchor", ["anchor"])

    def add_operator(self, user: str, password: str):
        check_reserved(user, "operator name")
        role = operator_role(user)
        self._put_role(role)
        self._put_client(user, password, f"operator {user}", [role["rolename"]], ["operators"])

    def add_viewer(self, user: str, password: str):
        check_reserved(user, "viewer name")
        role = viewer_role(user)
        self._put_role(role)
        self._put_client(user, password, f"viewer {user}", [role["rolename"]], ["viewers"])

    def _put_group_rights(self, group: str):
        role = group_rights_role(group)
        if self.role(role["rolename"]) is None:
            self.doc["roles"].append(role)
        name = role["rolename"]
        if not any(g["groupname"] == name for g in self.doc["groups"]):
            self.doc["groups"].append({"groupname": name, "textname": f"nodes of group {group}",
                                       "roles": [{"rolename": name}]})
        return name

    def add_agent(self, node: str, password: str, groups: tuple = ()):
        check_reserved(node, "node id")
        role = agent_role(node)
        self._put_role(role)
        member_of = ["agents"] + [self._put_group_rights(g) for g in groups]
        self._put_client(node, password, f"agent of node {node}", [role["rolename"]], member_of,
                         clientid=node)

    def add_bridge(self, line: str, password: str):
        role = bridge_role(line)
        name = f"bridge-{line}"
        self._put_role(role)
        self._put_client(name, password, f"bridge of line broker {line}", [role["rolename"]],
                         clientid=name)

    def write(self, path):
        path = pathlib.Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dynsec-")
        with os.fdopen(fd, "w") as f:
            json.dump(self.doc, f, indent="\t")
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def write_env(data_dir, name: str, username: str, password: str, client_id: str = None):
    """Writes <data-dir>/credentials/<name>.env with mode 0600; returns its path."""
    cred_dir = pathlib.Path(data_dir) / CREDENTIALS_DIR
    cred_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(cred_dir, 0o700)
    path = cred_dir / f"{name}.env"
    lines = [f"PHAROS_MQTT_USERNAME={username}", f"PHAROS_MQTT_PASSWORD={password}"]
    if client_id:
        lines.append(f"PHAROS_MQTT_CLIENT_ID={client_id}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def read_env(path) -> dict:
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key] = value
    return out


def _chown_for_broker(path):
    """mosquitto rewrites the file after dropping privileges to user mosquitto."""
    if os.geteuid() != 0:
        return
    user = os.environ.get("PHAROS_BROKER_USER", "mosquitto")
    if user == "root":
        return
    try:
        import pwd

        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    except KeyError:
        pass


def _save(data_dir, dyn: Dynsec):
    path = pathlib.Path(data_dir) / FILE_NAME
    dyn.write(path)
    _chown_for_broker(path)
    return path


def init(data_dir, operators=("ops",), viewers=("viewer",), agents=(), force=False) -> dict:
    """Creates <data-dir>/dynamic-security.json and credentials/*.env.
    Returns {credential name: (username, password)}; names are admin, anchor,
    operator-<u>, viewer-<u>, agent-<node>."""
    names = [(u, "operator name") for u in operators] + [(u, "viewer name") for u in viewers]
    names += [(n, "node id") for n in agents]
    for name, what in names:
        check_id(name, what)
        check_reserved(name, what)
    users = [n for n, _ in names]
    if len(set(users)) != len(users):
        raise ValueError("user names and node ids must be distinct")
    data_dir = pathlib.Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists (use --force to replace it and every password)")
    dyn = Dynsec()
    creds = {}

    def issue(name, username, add, client_id=None):
        password = new_password()
        add(password)
        write_env(data_dir, name, username, password, client_id)
        creds[name] = (username, password)

    issue("admin", "admin", dyn.add_admin)
    issue("anchor", "anchor", dyn.add_anchor)
    for user in operators:
        issue(f"operator-{user}", user, lambda p, u=user: dyn.add_operator(u, p))
    for user in viewers:
        issue(f"viewer-{user}", user, lambda p, u=user: dyn.add_viewer(u, p))
    for node in agents:
        issue(f"agent-{node}", node, lambda p, n=node: dyn.add_agent(n, p), client_id=node)
    _save(data_dir, dyn)
    return creds


def add(data_dir, kind: str, names, groups=()) -> dict:
    """Adds identities to an existing file (the broker must be stopped: it rewrites the file
    from memory on every change). kind: agent, operator or viewer; groups (agents only):
    groups whose desired document the agents may read. kind bridge: names are line names;
    the identity is bridge-<line> (user and client id), credentials/bridge-<line>.env."""
    path = pathlib.Path(data_dir) / FILE_NAME
    dyn = Dynsec.load(path)
    creds = {}
    for name in names:
        password = new_password()
        if kind == "bridge":
            dyn.add_bridge(name, password)
            write_env(data_dir, f"bridge-{name}", f"bridge-{name}", password, f"bridge-{name}")
            creds[f"bridge-{name}"] = (f"bridge-{name}", password)
            continue
        if kind == "agent":
            dyn.add_agent(name, password, tuple(groups))
        else:
            getattr(dyn, f"add_{kind}")(name, password)
        write_env(data_dir, f"{kind}-{name}", name, password, name if kind == "agent" else None)
        creds[f"{kind}-{name}"] = (name, password)
    _save(data_dir, dyn)
    return creds


# ---- Sparkplug B (pharos-sparkplug and SCADA hosts; docs/scada.md) --------------------------
# Kept apart from the identities above: these roles only add to the tree, never change them.
SPARKPLUG_NS = "spBv1.0"
SPARKPLUG_READS = ("nodes/+/health", "nodes/+/info", "nodes/+/state", "nodes/+/metrics",
                   "anchor/status", "apps/+/rollout")
SPARKPLUG_COMMANDS = ("app.restart", "app.stop", "app.start")


def sparkplug_role(user: str, group: str = "pharos", edge: str = "site") -> dict:
    """pharos-sparkplug's edge node: reads the Pharos topics it turns into metrics (nothing
    else of pharos/v1), publishes its own edge node's and devices' births, deaths and data,
    and reads its commands and every host's STATE."""
    check_id(user, "sparkplug user")
    node = f"{SPARKPLUG_NS}/{group}"
    acls = []
    for t in SPARKPLUG_READS:
        acls += read_only(f"{ROOT}/{t}")
    acls += [acl("publishClientSend", f"{node}/{kind}/{edge}") for kind in ("NBIRTH", "NDEATH", "NDATA")]
    acls += [acl("publishClientSend", f"{node}/{kind}/{edge}/+")
             for kind in ("DBIRTH", "DDEATH", "DDATA")]
    acls += read_only(f"{node}/NCMD/{edge}") + read_only(f"{node}/DCMD/{edge}/+")
    acls += read_only(f"{SPARKPLUG_NS}/STATE/+")
    return {"rolename": f"sparkplug-{user}",
            "textname": f"Sparkplug edge node {group}/{edge}: reads Pharos topics", "acls": acls}


def sparkplug_command_role(user: str) -> dict:
    """The identity pharos-sparkplug sends DCMD app control to the management API as: only
    app.restart, app.stop and app.start requests, and its own replies."""
    check_id(user, "sparkplug command user")
    acls = [acl("publishClientSend", f"{ROOT}/api/{user}/{op}") for op in SPARKPLUG_COMMANDS]
    acls += read_only(f"{ROOT}/replies/{user}/#")
    return {"rolename": f"sparkplug-command-{user}",
            "textname": f"Sparkplug DCMD as {user}: app.restart|stop|start", "acls": acls}


def scada_role(user: str, commands: bool = False) -> dict:
    """A Sparkplug host application (SCADA): reads spBv1.0/#, publishes its STATE and NCMD
    (Rebirth); with commands also DCMD (app control through pharos-sparkplug)."""
    check_id(user, "scada user")
    acls = read_only(f"{SPARKPLUG_NS}/#")
    acls.append(acl("publishClientSend", f"{SPARKPLUG_NS}/STATE/#"))
    acls.append(acl("publishClientSend", f"{SPARKPLUG_NS}/+/NCMD/#"))
    if commands:
        acls.append(acl("publishClientSend", f"{SPARKPLUG_NS}/+/DCMD/#"))
    what = "reads, STATE, NCMD" + (", DCMD" if commands else "")
    return {"rolename": f"scada-{user}", "textname": f"Sparkplug host {user}: {what}",
            "acls": acls}


def add_sparkplug(data_dir, user="sparkplug", group="pharos", edge="site",
                  command_user=None) -> dict:
    """Adds the edge node identity (credentials/sparkplug-<user>.env) and, with command_user,
    the DCMD identity (credentials/sparkplug-command-<user>.env). Broker stopped."""
    path = pathlib.Path(data_dir) / FILE_NAME
    dyn = Dynsec.load(path)
    creds = {}
    wanted = [(f"sparkplug-{user}", user, sparkplug_role(user, group, edge))]
    if command_user:
        wanted.append((f"sparkplug-command-{command_user}", command_user,
                       sparkplug_command_role(command_user)))
    for name, username, role in wanted:
        password = new_password()
        dyn._put_role(role)
        dyn._put_client(username, password, role["textname"], [role["rolename"]])
        write_env(data_dir, name, username, password)
        creds[name] = (username, password)
    _save(data_dir, dyn)
    return creds


def add_scada(data_dir, users, commands=False) -> dict:
    """Adds Sparkplug host identities (credentials/scada-<user>.env). Broker stopped."""
    path = pathlib.Path(data_dir) / FILE_NAME
    dyn = Dynsec.load(path)
    creds = {}
    for user in users:
        role = scada_role(user, commands)
        password = new_password()
        dyn._put_role(role)
        dyn._put_client(user, password, role["textname"], [role["rolename"]])
        write_env(data_dir, f"scada-{user}", user, password)
        creds[f"scada-{user}"] = (user, password)
    _save(data_dir, dyn)
    return creds


def _sparkplug_main(args) -> dict:
    if args.cmd == "add-sparkplug":
        return add_sparkplug(args.data_dir, args.user, args.group_id, args.edge_node_id,
                             args.command_user)
    return add_scada(args.data_dir, args.names, args.commands)


def _sparkplug_parsers(sub):
    p = sub.add_parser("add-sparkplug", help="add pharos-sparkplug identities (broker stopped)")
    p.add_argument("data_dir")
    p.add_argument("--user", default="sparkplug", help="edge node identity (default sparkplug)")
    p.add_argument("--group-id", default="pharos", help="Sparkplug group id (default pharos)")
    p.add_argument("--edge-node-id", default="site", help="Sparkplug edge node id (default site)")
    p.add_argument("--command-user", help="also add this DCMD identity (app control)")
    p = sub.add_parser("add-scada", help="add Sparkplug host identities (broker stopped)")
    p.add_argument("data_dir")
    p.add_argument("names", nargs="+")
    p.add_argument("--commands", action="store_true", help="may also publish DCMD")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_init = sub.add_parser("init", help="create dynamic-security.json and credentials")
    p_init.add_argument("data_dir")
    p_init.add_argument("--operator", action="append", help="operator user (default: ops)")
    p_init.add_argument("--viewer", action="append", help="viewer user (default: viewer)")
    p_init.add_argument("--agent", action="append", default=[], help="node id of an agent")
    p_init.add_argument("--force", action="store_true", help="replace an existing file")
    for kind in ("agent", "operator", "viewer", "bridge"):
        p = sub.add_parser(f"add-{kind}", help=f"add {kind} identities (broker stopped)")
        p.add_argument("data_dir")
        p.add_argument("names", nargs="+")
        if kind == "agent":
            p.add_argument("--group", action="append", default=[],
                           help="a group whose desired document the agents may read")
    _sparkplug_parsers(sub)
    args = parser.parse_args(argv)
    try:
        if args.cmd in ("add-sparkplug", "add-scada"):
            creds = _sparkplug_main(args)
        elif args.cmd == "init":
            creds = init(args.data_dir, args.operator or ["ops"], args.viewer or ["viewer"],
                         args.agent, args.force)
        else:
            creds = add(args.data_dir, args.cmd.split("-", 1)[1], args.names,
                        getattr(args, "group", ()))
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        print(f"dynsec.py: {e}", file=sys.stderr)
        return 1
    cred_dir = pathlib.Path(args.data_dir).resolve() / CREDENTIALS_DIR
    for name, (username, _) in creds.items():
        print(f"{name}: user '{username}', password in {cred_dir / (name + '.env')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
