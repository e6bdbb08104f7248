"""Helpers of the docker-compose parity suite (test_agent_compose_parity.py).

A fixture of tests/data/compose/parity/ is deployed on one Docker Engine twice: by a real
pharos-agent (`AgentSide`, project `p<hex>`) and by Debian's docker-compose 1.29
(`ComposeSide`, project `c<hex>`). `snapshot()` reads what each side has on the engine and
`normalise_*` turn inspect documents into comparable ones; `diff()` lists the differing
paths. What is normalised, and why, is written in the test module's docstring and in
docs/agent.md ("Parity with docker-compose 1.29"); keep the three in step.
"""
import json
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile

import yaml

from test_agent import spec, wait_until

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "data" / "compose" / "parity"
IMAGE_1, IMAGE_2 = "pharos-test/busybox:1", "pharos-test/busybox:2"
# Labels only one side writes, or whose value is not comparable (hashes, paths).
IGNORED_LABELS = {"com.docker.compose.config-hash", "com.docker.compose.project.config_files",
                  "com.docker.compose.project.working_dir"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fixture:
    """One compose file of the parity folder and the header comments the suite reads."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.name = path.stem
        self.template = path.read_text()
        head = [line for line in self.template.splitlines() if line.startswith("#")]
        self.update = next((line.split(":", 1)[1].strip() for line in head
                            if line.startswith("# parity-update:")), None)
        self.nostart = any(line.strip() == "# parity-nostart" for line in head)
        self.refused = self.name.startswith("refused-")
        self.refusal = next((line.split(":", 1)[1].strip() for line in head
                             if line.startswith("# parity-refusal:")), None)

    def render(self, side, updated=False) -> str:
        text = self.template.replace("@IMAGE@", IMAGE_1)
        text = text.replace("@UPDATE@", IMAGE_2 if updated else IMAGE_1)
        text = text.replace("@BIND@", side.bind).replace("@MISSING@", side.missing)
        text = text.replace("@SIDE@", side.project)
        for i, port in enumerate(side.ports):
            text = text.replace(f"@PORT{i}@", str(port))
        return text

    def model(self, side) -> dict:
        return yaml.safe_load(self.render(side))

    def edges(self, side):
        """(dependent, dependency) pairs of depends_on."""
        out = []
        for name, svc in (self.model(side).get("services") or {}).items():
            deps = svc.get("depends_on") or []
            for dep in (deps if isinstance(deps, list) else deps.keys()):
                out.append((name, dep))
        return out

    def active_services(self, side):
        return sorted(n for n, s in self.model(side)["services"].items() if not s.get("profiles"))


def fixtures():
    return [Fixture(p) for p in sorted(FIXTURES.glob("*.yml"))]


class Side:
    """What both sides share: a project name, a bind folder, free ports, the engine."""

    def __init__(self, engine, project):
        self.engine = engine
        self.project = project
        self.bind = tempfile.mkdtemp(prefix=f"pharos-parity-{project}-")
        self.missing = f"/tmp/pharos-parity-missing-{project}"
        self.ports = [free_port() for _ in range(4)]
        self.anonymous = {}  # volume name -> "ANON:<service>:<destination>", ever seen

    def containers(self) -> dict:
        """{service: inspect} of the project's containers (the agent's probe excluded)."""
        out = {}
        for info in self.engine.inspect_all(f"com.docker.compose.project={self.project}"):
            out[info["Config"]["Labels"].get("com.docker.compose.service", "?")] = info
        for service, info in out.items():
            for m in info.get("Mounts") or []:
                if m.get("Type") == "volume" and HEX64.match(m.get("Name", "")):
                    self.anonymous[m["Name"]] = f"ANON:{service}:{m['Destination']}"
        return out

    def networks(self) -> list:
        ids = set(self.engine.networks(f"com.docker.compose.project={self.project}"))
        out = self.engine.run("network", "ls", "-q", "--no-trunc", "--filter",
                              f"name={self.project}_").stdout.split()
        ids.update(out)
        docs = [self.engine.json("network", "inspect", i)[0] for i in ids]
        return [d for d in docs if d["Name"].startswith(self.project + "_") or
                (d.get("Labels") or {}).get("com.docker.compose.project") == self.project]

    def volumes(self) -> list:
        names = set(self.engine.volumes(f"com.docker.compose.project={self.project}"))
        existing = set(self.engine.volumes())
        names.update(n for n in self.anonymous if n in existing)
        return [self.engine.json("volume", "inspect", n)[0] for n in sorted(names)]

    def cleanup_host(self):
        shutil.rmtree(self.bind, ignore_errors=True)
        shutil.rmtree(self.missing, ignore_errors=True)
        existing = set(self.engine.volumes())
        for name in self.anonymous:
            if name in existing:
                self.engine.run("volume", "rm", "-f", name, check=False)


class ComposeSide(Side):
    def __init__(self, engine, project):
        super().__init__(engine, project)
        self.workdir = tempfile.mkdtemp(prefix=f"pharos-parity-compose-{project}-")

    def compose(self, *args, timeout=300):
        return subprocess.run(["docker-compose", "-p", self.project, *args], cwd=self.workdir,
                              env=self.engine.env, capture_output=True, text=True,
                              timeout=timeout)

    def write(self, text):
        pathlib.Path(self.workdir, "docker-compose.yml").write_text(text)

    def up(self, text):
        self.write(text)
        return self.compose("up", "-d")

    def cleanup(self):
        self.compose("down", "-v", "--remove-orphans")
        self.cleanup_host()
        shutil.rmtree(self.workdir, ignore_errors=True)


class AgentSide(Side):
    def __init__(self, engine, project, node):
        super().__init__(engine, project)
        self.node = node
        self.revision = 0
        self.text = None

    def publish(self, text=None, state="running", revision=None, volumes="keep"):
        """Publishes the app (the last text when None) in `state`."""
        if revision is not None:
            self.revision = revision
        self.text = text or self.text
        self.node.publish_desired([spec(self.project, self.text, revision=self.revision,
                                        state=state, volumes=volumes)])

    def settle(self, phases, timeout=120):
        """Waits until the app reports one of `phases` at the current revision."""
        def check():
            a = self.node.app_state(self.project)
            return a if a and a["revision"] == self.revision and a["phase"] in phases else None
        try:
            return wait_until(check, timeout, what=f"{self.project} in {phases}")
        except AssertionError:
            raise AssertionError(f"{self.project} never reached {phases}: "
                                 f"{self.node.app_state(self.project)}\n"
                                 f"agent log:\n{self.node.agent.log()}")

    def removed(self, timeout=120):
        wait_until(lambda: self.node.app_state(self.project) is None and not self.containers(),
                   timeout, what=f"{self.project} removed")

    def cleanup(self):
        self.node.cleanup()
        self.cleanup_host()


# ---- normalisation ------------------------------------------------------------------------

def _replace_all(doc, replacements):
    text = json.dumps(doc, sort_keys=True)
    for old, new in replacements:
        text = text.replace(old, new)
    return json.loads(text)


def _replacements(side, containers):
    out = []
    for service, info in containers.items():
        out += [(info["Id"], f"<ID:{service}>"), (info["Id"][:12], f"<SID:{service}>")]
    out += sorted(side.anonymous.items())
    out += [(f'"{port}"', f'"HOSTPORT{i}"') for i, port in enumerate(side.ports)]
    out += [(side.bind, "BIND"), (side.missing, "MISSING"), (side.project, "PROJECT")]
    return out


def normalise_container(info, replacements):
    doc = dict(info)
    for key in ("Created", "GraphDriver", "SizeRw", "SizeRootFs", "ExecIDs"):
        doc.pop(key, None)
    state = doc.get("State") or {}
    doc["State"] = {k: state.get(k) for k in ("Status", "Running", "Paused", "Restarting",
                                               "OOMKilled", "Dead", "ExitCode")}
    config = dict(doc["Config"])
    config["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items()
                        if k not in IGNORED_LABELS and not k.startswith("io.pharos.")}
    # compose 1.29 adds a classic-Swarm scheduling hint when it recreates a container whose
    # anonymous volumes it carries over; a single engine ignores it.
    config["Env"] = sorted(e for e in config.get("Env") or [] if not e.startswith("affinity:"))
    doc["Config"] = config
    host = dict(doc["HostConfig"])
    anonymous = {m["Name"] for m in doc.get("Mounts") or []
                 if m.get("Type") == "volume" and HEX64.match(m.get("Name", ""))}
    if host.get("Binds"):
        # compose 1.29 builds them from a set; on a recreate it passes the anonymous volumes it
        # carries over as binds (whether they are carried over is checked on its own).
        host["Binds"] = sorted(b for b in host["Binds"] if b.split(":")[0] not in anonymous)
    if host.get("Ulimits"):
        host["Ulimits"] = sorted(host["Ulimits"], key=lambda u: u.get("Name", ""))
    doc["HostConfig"] = host
    mounts = []
    for m in sorted(doc.get("Mounts") or [], key=lambda m: m.get("Destination", "")):
        if m.get("Name") in anonymous:
            m = {k: v for k, v in m.items() if k != "Mode"}  # "rw" when passed as a bind
        mounts.append(m)
    doc["Mounts"] = mounts
    settings = doc.get("NetworkSettings") or {}
    networks = {}
    for name, net in (settings.get("Networks") or {}).items():
        networks[name] = {"Aliases": net.get("Aliases") or [],
                          "Links": net.get("Links"), "IPAMConfig": net.get("IPAMConfig"),
                          "DriverOpts": net.get("DriverOpts")}
    doc["NetworkSettings"] = {"Networks": networks, "Ports": settings.get("Ports")}
    doc = _replace_all(doc, replacements)
    for net in doc["NetworkSettings"]["Networks"].values():
        net["Aliases"] = sorted(net["Aliases"])  # after the short id became <SID:...>
    for bindings in (doc["NetworkSettings"]["Ports"] or {}).values():
        for b in bindings or []:  # a port published without a host port: the engine's pick
            if not b.get("HostPort", "").startswith("HOSTPORT"):
                b["HostPort"] = "EPHEMERAL"
    return doc


def normalise_network(net, replacements):
    doc = {k: net.get(k) for k in ("Name", "Driver", "Scope", "EnableIPv6", "Internal",
                                    "Attachable", "Ingress", "ConfigOnly", "ConfigFrom",
                                    "Options")}
    doc["Labels"] = {k: v for k, v in (net.get("Labels") or {}).items()
                     if not k.startswith("io.pharos.")}
    ipam = net.get("IPAM") or {}
    doc["IPAM"] = {"Driver": ipam.get("Driver"), "Options": ipam.get("Options"),
                   "Configs": len(ipam.get("Config") or [])}  # subnets: allocated by the engine
    doc["Containers"] = sorted(c.get("Name", "") for c in (net.get("Containers") or {}).values())
    return _replace_all(doc, replacements)


def normalise_volume(vol, replacements):
    doc = {k: vol.get(k) for k in ("Name", "Driver", "Options", "Scope", "Mountpoint")}
    doc["Labels"] = {k: v for k, v in (vol.get("Labels") or {}).items()
                     if not k.startswith("io.pharos.")}
    return _replace_all(doc, replacements)


def _by_name(docs):
    """{name: doc}; a name seen twice (two anonymous volumes of one mount) gets '#2'."""
    out = {}
    for doc in sorted(docs, key=lambda d: json.dumps(d, sort_keys=True)):
        key, n = doc["Name"], 1
        while key in out:
            n += 1
            key = f"{doc['Name']}#{n}"
        out[key] = doc
    return out


def anonymous_mounts(containers) -> dict:
    """{"<service>:<destination>": volume name} of the anonymous volumes in use."""
    return {f"{s}:{m['Destination']}": m["Name"] for s, info in containers.items()
            for m in info.get("Mounts") or []
            if m.get("Type") == "volume" and HEX64.match(m.get("Name", ""))}


def snapshot(side):
    """The normalised state of one side: containers by service, networks, volumes."""
    containers = side.containers()
    repl = _replacements(side, containers)
    return {
        "containers": {s: normalise_container(i, repl) for s, i in containers.items()},
        "networks": {n["Name"].replace(side.project, "PROJECT"): normalise_network(n, repl)
                     for n in side.networks()},
        "volumes": _by_name(normalise_volume(v, repl) for v in side.volumes()),
    }, containers


def diff(ours, theirs, path=""):
    """Paths where two JSON documents differ, as 'path: agent=... compose=...' lines."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs)):
            out += diff(ours.get(key, "<absent>"), theirs.get(key, "<absent>"), f"{path}.{key}")
        return out
    if ours == theirs:
        return []
    return [f"{path.lstrip('.')}: agent={json.dumps(ours)} compose={json.dumps(theirs)}"]
