"""The Debian packages, end to end on this machine (docs/install.md):

  build    configure build/packaging (PHAROS_PACKAGE_BUILD_DIR) with tests and benchmarks off,
           build pharos-agent, pharos-anchor, pharosctl, then `cpack -G DEB` twice: revision 1
           and revision 2 (the "rebuilt package" of the upgrade). A fresh build takes about
           15 minutes on two busy cores; an up-to-date build dir makes this step ~1 minute.
  static   package fields (runtime library dependencies from dpkg-shlibdeps, never -dev),
           contents, conffiles, maintainer scripts; `systemd-analyze verify` and
           `systemd-analyze security --offline` of every unit.
  install  dpkg -i both packages: user pharos, owners and permissions of every path, the
           broker identities made by postinst, --version of the installed binaries.
  run      the installed broker configuration (/etc/pharos/mosquitto.conf on free ports: a real
           Mosquitto serving the packaged web UI), the installed anchor and agent as user
           pharos with the packaged configs, and this test as their systemd: it owns
           NOTIFY_SOCKET and checks READY=1 comes only once they are connected, STOPPING=1 at
           SIGTERM. PID 1 is not systemd on the test machines, so the units themselves are
           checked statically; the processes run with the units' User=, Group=,
           SupplementaryGroups= and ExecStart=.
  deploy   enrol the agent (pharosctl node add, appended to /etc/pharos/agent.conf as the
           guide says), deploy an app; back the anchor up while a new revision rolls out;
           restore the backup into a fresh data dir and run the anchor from it: same nodes,
           groups, apps and revisions.
  upgrade  dpkg -i revision 2, restart the agent (what postinst's try-restart does under
           systemd): its containers keep their ids and StartedAt; the edited conffile is kept.
  remove   dpkg -r keeps /var/lib/pharos and the configs; dpkg -P removes them and user
           pharos. The machine is left as found (packages purged, containers removed).

Needs root (dpkg), a Docker Engine (docker_engine fixture) and no pharos package installed.
A long suite: `tools/test.sh --all` runs it; the default test command runs its CI-sized
subset, test_packaging_sources.py.
"""
import json
import os
import pathlib
import pwd
import grp
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

from harness.binaries import ROOT
from harness.broker import free_port, wait_until
from harness.packaging import (CONFFILES, PATHS, NotifySocket, check_broker_config,
                               check_maintainer_scripts, check_units, run)

PKG_BUILD = pathlib.Path(os.environ.get("PHAROS_PACKAGE_BUILD_DIR",
                                        ROOT / "build" / "packaging")).resolve()
PACKAGES = ("pharos-agent", "pharos-anchor")
APP = """services:
  sleeper:
    image: pharos-test/busybox:1
    command: ["sleep", "100000"]
    environment:
      REVISION: "${REVISION:-1}"
"""


def installed(package: str) -> str:
    """dpkg's status of `package` ("install ok installed", "deinstall ok config-files", "")."""
    r = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def dpkg(*args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return run("dpkg", "--force-confold", *args, env=env, timeout=300)


def mode_owner(path) -> tuple:
    st = os.stat(path)
    return (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name,
            grp.getgrgid(st.st_gid).gr_name)


# ---- build --------------------------------------------------------------------------------

def cpack(release: str, out: pathlib.Path) -> dict:
    run("cmake", "-S", ROOT, "-B", PKG_BUILD, f"-DPHAROS_PACKAGE_RELEASE={release}", timeout=600)
    out.mkdir(parents=True, exist_ok=True)
    run("cpack", "-G", "DEB", "-B", out, "--config", PKG_BUILD / "CPackConfig.cmake",
        timeout=1800, cwd=PKG_BUILD)
    debs = {}
    for name in PACKAGES:
        found = sorted(out.glob(f"{name}_*-{release}_*.deb"))
        assert len(found) == 1, f"{name} revision {release}: {list(out.iterdir())}"
        debs[name] = found[0]
    return debs


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("installing packages needs root (dpkg -i); run the suite as root")
    for tool in ("dpkg", "dpkg-deb", "cpack", "systemd-analyze"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (tools/deps.txt lists the packages)")
    for name in PACKAGES:
        if installed(name):
            pytest.fail(f"{name} is already installed here ({installed(name)}); the test would "
                        f"replace it: dpkg -P {name} first")
    t0 = time.monotonic()
    run("cmake", "-S", ROOT, "-B", PKG_BUILD, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        "-DPHAROS_TESTS=OFF", "-DPHAROS_BENCH=OFF", timeout=600)
    run("cmake", "--build", PKG_BUILD, "-j2", "--target", "pharos-agent", "pharos-anchor",
        "pharosctl", timeout=3 * 3600)
    out = tmp_path_factory.mktemp("debs")
    first = cpack("1", out / "r1")
    second = cpack("2", out / "r2")
    print(f"packages built in {time.monotonic() - t0:.0f} s")
    return {"1": first, "2": second}


# ---- static checks ------------------------------------------------------------------------

def deb_field(deb, field) -> str:
    return run("dpkg-deb", "-f", deb, field).stdout.strip()


def deb_files(deb) -> dict:
    """path -> (mode string, owner/group) of every entry of the package's data."""
    files = {}
    for line in run("dpkg-deb", "-c", deb).stdout.splitlines():
        parts = line.split()
        path = parts[5].lstrip(".")
        files[path.rstrip("/") or "/"] = (parts[0], parts[1])
    return files


def test_packages_depend_on_debian_12_runtime_packages(packages):
    agent, anchor = packages["1"]["pharos-agent"], packages["1"]["pharos-anchor"]
    assert deb_field(agent, "Package") == "pharos-agent"
    assert deb_field(agent, "Version") == "0.1.0-1"
    assert deb_field(packages["2"]["pharos-agent"], "Version") == "0.1.0-2"
    agent_deps = deb_field(agent, "Depends")
    anchor_deps = deb_field(anchor, "Depends")
    for lib in ("libpaho-mqttpp3-1", "libpaho-mqtt1.3", "libyaml-cpp0.7",
                "libfmt9", "libspdlog1.10-fmt9", "libstdc++6", "adduser"):
        assert re.search(rf"(^|, ){re.escape(lib)}( |,|$)", agent_deps), (lib, agent_deps)
    # The agent speaks HTTP to the engine's socket itself: no libcurl and its TLS/LDAP tree.
    assert "libcurl" not in agent_deps, agent_deps
    for lib in ("librocksdb7.8", "libpaho-mqttpp3-1", "mosquitto", "python3", "adduser"):
        assert re.search(rf"(^|, ){re.escape(lib)}( |,|$)", anchor_deps), (lib, anchor_deps)
    for deps in (agent_deps, anchor_deps):
        assert "-dev" not in deps, deps
    assert "docker.io" in deb_field(agent, "Recommends")


def test_packages_hold_their_files_owned_by_root(packages):
    agent = deb_files(packages["1"]["pharos-agent"])
    anchor = deb_files(packages["1"]["pharos-anchor"])
    for name, listing in (("pharos-agent", agent), ("pharos-anchor", anchor)):
        for path in PATHS[name]:
            assert path in listing, path
    files_of = lambda listing: {p for p, (mode, _) in listing.items() if not mode.startswith("d")}
    assert not files_of(agent) & files_of(anchor)  # the two packages can be installed together
    for files in (agent, anchor):
        for path, (mode, owner) in files.items():
            assert owner == "root/root", (path, owner)
            assert "w" not in mode[5] + mode[8], (path, mode)  # nothing group/world-writable
    assert agent["/usr/bin/pharos-agent"][0] == "-rwxr-xr-x"
    assert anchor["/usr/share/pharos/tools/init-credentials.sh"][0] == "-rwxr-xr-x"


def test_configs_are_conffiles_and_maintainer_scripts_are_valid_shell(packages, tmp_path):
    for name, deb in packages["1"].items():
        control = tmp_path / name
        run("dpkg-deb", "-e", deb, control)
        assert (control / "conffiles").read_text().split() == CONFFILES[name]
        check_maintainer_scripts(control)
    data = tmp_path / "data"
    run("dpkg-deb", "-x", packages["1"]["pharos-anchor"], data)
    check_broker_config(data / "etc/pharos/mosquitto.conf")


def test_every_unit_passes_systemd_analyze(packages, tmp_path):
    """The units as packaged (test_packaging_sources checks them as installed from the build
    tree, in the default test command)."""
    for name, deb in packages["1"].items():
        run("dpkg-deb", "-x", deb, tmp_path)
    check_units(tmp_path / "lib/systemd/system")


# ---- the installed system ---------------------------------------------------------------

class Service:
    """An installed binary run the way its unit runs it (User=, Group=,
    SupplementaryGroups=, ExecStart=), with a NOTIFY_SOCKET and a log file."""

    def __init__(self, name, args, workdir, groups=()):
        self.name = name
        self.notify = NotifySocket(workdir, name)
        self.log_path = workdir / f"{name}.log"
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": str(self.notify.path),
               "LANG": "C.UTF-8"}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(a) for a in args], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, user="pharos",
                                     group="pharos", extra_groups=list(groups), cwd="/")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n=4000) -> str:
        return self.log_path.read_text(errors="replace")[-n:]

    def wait_ready(self, timeout=60):
        ok = wait_until(lambda: self.notify.has("READY=1") or not self.alive(), timeout, 0.2)
        assert ok and self.alive(), f"{self.name} not ready:\n{self.notify.messages}\n{self.tail()}"

    def stop(self):
        if self.notify.closed:
            return
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.notify.poll()
        self.notify.close()


@pytest.fixture
def site(packages, docker_engine, tmp_path):
    """Installs revision 1 and yields the state of the run; purges everything at the end."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-pkg-"))
    os.chmod(workdir, 0o755)
    state = {"workdir": workdir, "services": {}, "node": f"pkg-{uuid.uuid4().hex[:8]}",
             "engine": docker_engine}
    yield state
    # Every step runs even when an earlier one fails: leave the machine as found.
    steps = [svc.stop for svc in state["services"].values()]
    if "broker" in state:
        steps.append(state["broker"].terminate)
        steps.append(lambda: state["broker"].wait(30))
    steps.append(lambda: docker_engine.cleanup(f"io.pharos.node={state['node']}"))
    steps += [lambda name=name: installed(name) and run("dpkg", "-P", name, check=False)
              for name in PACKAGES]
    for step in steps:
        try:
            step()
        except Exception as e:  # noqa: BLE001 — report, then keep cleaning up
            print(f"cleanup: {e!r}")
    shutil.rmtree(workdir, ignore_errors=True)


def start_broker(state) -> tuple:
    """The packaged /etc/pharos/mosquitto.conf, moved to free loopback ports."""
    port, ws_port = free_port(), free_port()
    while ws_port == port:
        ws_port = free_port()
    conf = (pathlib.Path("/etc/pharos/mosquitto.conf").read_text()
            .replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
            .replace("listener 9001 127.0.0.1", f"listener {ws_port} 127.0.0.1"))
    path = state["workdir"] / "mosquitto.conf"
    path.write_text(conf)
    log = open(state["workdir"] / "broker.log", "ab")
    # As pharos-broker.service runs it: User=mosquitto, Group=mosquitto, UMask=0027.
    state["broker"] = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(path)], stdout=log,
                                       stderr=subprocess.STDOUT, user="mosquitto",
                                       group="mosquitto", extra_groups=[], umask=0o027)
    def listening(p):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", p)) == 0

    ok = wait_until(lambda: listening(port) and listening(ws_port), 15, 0.1)
    assert ok, (state["workdir"] / "broker.log").read_text()
    return port, ws_port


def ctl(state, *args, timeout=300, check=True):
    return run("/usr/bin/pharosctl", "--config", state["workdir"] / "pharosctl.conf", *args,
               timeout=timeout, check=check)


def ctl_json(state, *args):
    return json.loads(ctl(state, *args, "-o", "json").stdout)


def start_anchor(state, data_dir="/var/lib/pharos/anchor", name="anchor"):
    svc = Service(name, ["/usr/bin/pharos-anchor", "--config", "/etc/pharos/anchor.conf",
                         "--broker-url", state["broker_url"], "--data-dir", data_dir],
                  state["workdir"])
    state["services"][name] = svc
    svc.wait_ready()
    assert wait_until(lambda: ctl(state, "--request-timeout", "2s", "nodes", "ls",
                                  check=False).returncode == 0, 30, 0.5), svc.tail()
    return svc


def start_agent(state):
    svc = Service("agent", ["/usr/bin/pharos-agent", "--config", "/etc/pharos/agent.conf"],
                  state["workdir"], groups=("docker",))
    state["services"]["agent"] = svc
    svc.wait_ready()
    return svc


def node_health(state) -> dict:
    r = ctl(state, "nodes", "ls", "-o", "json", check=False)
    if r.returncode != 0:
        return {}
    return {n["name"]: n.get("health") for n in json.loads(r.stdout)["nodes"]}


def app_containers(state) -> dict:
    """container id -> StartedAt of the app's containers."""
    engine = state["engine"]
    ids = engine.containers(label=f"io.pharos.node={state['node']}")
    return {i: engine.inspect(i)["State"]["StartedAt"] for i in ids}


def registry_view(state) -> dict:
    """What a restore must reproduce: nodes, groups with members, apps with target and
    revision, and each app's revision history."""
    nodes = sorted(n["name"] for n in ctl_json(state, "nodes", "ls")["nodes"])
    groups = {}
    for g in ctl_json(state, "groups", "ls")["groups"]:
        detail = ctl_json(state, "group", "get", g["name"])
        groups[g["name"]] = sorted(detail.get("nodes", []))
    apps = {}
    for a in ctl_json(state, "apps", "ls")["apps"]:
        history = ctl_json(state, "app", "history", a["name"])
        revisions = sorted(r["revision"] for r in history.get("revisions", history.get("items", [])))
        apps[a["name"]] = {"revision": a.get("revision"), "target": a.get("target"),
                           "history": revisions}
    return {"nodes": nodes, "groups": groups, "apps": apps}


def test_install_run_backup_restore_upgrade_remove_purge(site, packages):
    state = site
    workdir = state["workdir"]
    r1, r2 = packages["1"], packages["2"]

    # ---- install ------------------------------------------------------------------------
    dpkg("-i", r1["pharos-agent"], r1["pharos-anchor"])
    for name in PACKAGES:
        assert installed(name) == "install ok installed"
    user = pwd.getpwnam("pharos")
    assert user.pw_uid < 1000 and user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    assert grp.getgrgid(user.pw_gid).gr_name == "pharos"
    expected = {
        "/usr/bin/pharos-agent": (0o755, "root", "root"),
        "/usr/bin/pharos-anchor": (0o755, "root", "root"),
        "/usr/bin/pharosctl": (0o755, "root", "root"),
        "/etc/pharos/agent.conf": (0o640, "root", "pharos"),
        "/etc/pharos/anchor.conf": (0o640, "root", "pharos"),
        "/etc/pharos/mosquitto.conf": (0o644, "root", "root"),
        "/etc/pharos/credentials": (0o750, "root", "pharos"),
        "/etc/pharos/credentials/anchor.password": (0o640, "root", "pharos"),
        "/etc/pharos/credentials/ops.password": (0o600, "root", "root"),
        "/var/lib/pharos": (0o755, "root", "root"),
        "/var/lib/pharos/agent": (0o750, "pharos", "pharos"),
        "/var/lib/pharos/anchor": (0o750, "pharos", "pharos"),
        "/var/lib/pharos/broker": (0o750, "mosquitto", "mosquitto"),
        "/var/lib/pharos/broker/dynamic-security.json": (0o640, "mosquitto", "mosquitto"),
        "/var/lib/pharos/broker/credentials": (0o700, "root", "root"),
        "/lib/systemd/system/pharos-agent.service": (0o644, "root", "root"),
    }
    for path, want in expected.items():
        assert mode_owner(path) == want, path
    for unit in ("pharos-agent", "pharos-anchor", "pharos-broker"):
        assert os.path.islink(f"/etc/systemd/system/multi-user.target.wants/{unit}.service"), unit

    # --version everywhere.
    for binary in ("pharos-agent", "pharos-anchor", "pharosctl"):
        out = run(f"/usr/bin/{binary}", "--version").stdout
        assert "0.1.0" in out, (binary, out)

    # systemd-analyze verify, where the units are installed.
    units = [f"/lib/systemd/system/{u}.service" for u in
             ("pharos-agent", "pharos-anchor", "pharos-broker")]
    r = run("systemd-analyze", "verify", *units, check=False)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    if pathlib.Path("/proc/1/comm").read_text().strip() != "systemd":
        print("PID 1 is not systemd: units verified statically; services run as their units "
              "would run them (User=, SupplementaryGroups=, NOTIFY_SOCKET)")

    # ---- run: packaged broker config, anchor, pharosctl -----------------------------------
    port, ws_port = start_broker(state)
    state["broker_url"] = f"tcp://127.0.0.1:{port}"
    (workdir / "pharosctl.conf").write_text(
        f"broker = {state['broker_url']}\nuser = ops\n"
        "password_file = /etc/pharos/credentials/ops.password\n")
    with urllib.request.urlopen(f"http://127.0.0.1:{ws_port}/", timeout=10) as page:
        assert b"Pharos" in page.read()
    with urllib.request.urlopen(
            f"http://127.0.0.1:{ws_port}/node_modules/mqtt/dist/mqtt.esm.js", timeout=10) as lib:
        assert lib.status == 200
    anchor = start_anchor(state)
    assert any(m.startswith("READY=1") for m in anchor.notify.messages)

    # ---- enrol the device as the install guide says ---------------------------------------
    node = state["node"]
    enrol = workdir / f"{node}.conf"
    ctl(state, "node", "add", node, "-o", enrol)
    with open("/etc/pharos/agent.conf", "a") as conf:
        conf.write("\n" + enrol.read_text())
        conf.write(f"docker_host = {state['engine'].host}\nreconcile_interval = 2\n")
    # The broker rewrote its identities (node add): still not world-readable.
    assert mode_owner("/var/lib/pharos/broker/dynamic-security.json")[0] & 0o007 == 0
    agent = start_agent(state)
    assert wait_until(lambda: node_health(state).get(node) == "Ready", 60, 0.5), \
        (node_health(state), agent.tail())
    # READY=1 only together with (or after) the connection: never while still connecting.
    assert wait_until(lambda: any("STATUS=connected to tcp://127.0.0.1:" in m
                                  for m in agent.notify.poll()), 10, 0.2), agent.notify.messages
    first_ready = next(m for m in agent.notify.messages if "READY=1" in m)
    assert "STATUS=connected to" in first_ready, agent.notify.messages
    assert os.path.exists("/var/lib/pharos/agent/state.json")
    assert mode_owner("/var/lib/pharos/agent/state.json")[1] == "pharos"

    ctl(state, "group", "create", "line1")
    ctl(state, "group", "add", "line1", node)
    compose = workdir / "compose.yml"
    compose.write_text(APP)
    ctl(state, "deploy", "-f", compose, "--name", "sleeper", "--group", "line1", "--wait",
        "--timeout", "3m")
    assert wait_until(lambda: len(app_containers(state)) == 1, 60, 0.5), agent.tail()

    # ---- backup during a deploy, restore into a fresh anchor -------------------------------
    ctl(state, "deploy", "-f", compose, "--name", "sleeper", "--group", "line1",
        "--var", "REVISION=2")
    backup = workdir / "backup"
    r = run("/usr/bin/pharos-anchor", "--config", "/etc/pharos/anchor.conf", "backup", backup)
    assert (backup / "store" / "CURRENT").exists() and (backup / "dynamic-security.json").exists()
    assert anchor.alive()
    before = registry_view(state)
    assert before["nodes"] == [node] and before["groups"] == {"line1": [node]}
    assert before["apps"]["sleeper"]["revision"] == 2
    assert before["apps"]["sleeper"]["history"] == [1, 2]

    anchor.stop()
    del state["services"]["anchor"]
    fresh = workdir / "restored-anchor"
    run("/usr/bin/pharos-anchor", "--config", "/etc/pharos/anchor.conf", "--data-dir", fresh,
        "--dynsec-file", workdir / "restored-dynsec.json", "restore", backup)
    run("chown", "-R", "pharos:pharos", fresh)
    start_anchor(state, data_dir=str(fresh), name="restored")
    assert registry_view(state) == before
    assert wait_until(lambda: node_health(state).get(node) == "Ready", 60, 0.5)

    # Let revision 2 settle, then remember the running containers.
    assert wait_until(lambda: any(
        "REVISION=2" in state["engine"].inspect(i)["Config"]["Env"]
        and state["engine"].inspect(i)["State"]["Running"] for i in app_containers(state)),
        120, 1), agent.tail()
    time.sleep(3)
    running = app_containers(state)
    assert len(running) == 1, running

    # ---- upgrade ------------------------------------------------------------------------
    conf_before = pathlib.Path("/etc/pharos/agent.conf").read_text()
    dpkg("-i", r2["pharos-agent"], r2["pharos-anchor"])
    assert run("dpkg-query", "-W", "-f=${Version}", "pharos-agent").stdout == "0.1.0-2"
    assert pathlib.Path("/etc/pharos/agent.conf").read_text() == conf_before
    assert mode_owner("/etc/pharos/agent.conf") == (0o640, "root", "pharos")
    # postinst's try-restart, as systemd would run it.
    agent.stop()
    assert agent.notify.has("STOPPING=1")
    agent = start_agent(state)
    assert wait_until(lambda: node_health(state).get(node) == "Ready", 60, 0.5)
    time.sleep(8)  # several reconcile passes (reconcile_interval = 2)
    assert app_containers(state) == running, agent.tail()

    # ---- remove keeps state and configs; purge removes them -----------------------------------
    for svc in list(state["services"].values()):
        svc.stop()
    state["services"].clear()
    state["broker"].terminate()
    state["broker"].wait(30)
    del state["broker"]
    dpkg("-r", "pharos-agent", "pharos-anchor")
    assert not os.path.exists("/usr/bin/pharos-agent")
    for path in ("/var/lib/pharos/agent/state.json", "/var/lib/pharos/anchor/CURRENT",
                 "/var/lib/pharos/broker/dynamic-security.json", "/etc/pharos/agent.conf",
                 "/etc/pharos/anchor.conf"):
        assert os.path.exists(path), path
    assert app_containers(state) == running  # removing the agent leaves the apps alone
    dpkg("-P", "pharos-agent", "pharos-anchor")
    for path in ("/var/lib/pharos", "/etc/pharos",
                 "/etc/systemd/system/multi-user.target.wants/pharos-agent.service"):
        assert not os.path.lexists(path), path
    with pytest.raises(KeyError):
        pwd.getpwnam("pharos")
    for name in PACKAGES:
        assert installed(name) == ""
