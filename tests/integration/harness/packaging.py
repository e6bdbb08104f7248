"""What the Debian packages must hold, shared by the package suite (test_packaging, which
builds and installs the real .debs) and its CI-sized subset (test_packaging_sources, which
installs the build tree's components into a folder)."""
import os
import pathlib
import re
import socket
import stat
import subprocess

CONFFILES = {"pharos-agent": ["/etc/pharos/agent.conf"],
             "pharos-anchor": ["/etc/pharos/anchor.conf", "/etc/pharos/mosquitto.conf",
                               "/etc/pharos/sparkplug.conf"]}

PATHS = {
    "pharos-agent": ("/usr/bin/pharos-agent", "/lib/systemd/system/pharos-agent.service",
                     "/etc/pharos/agent.conf",
                     "/usr/share/doc/pharos-agent/examples/pharos-agent.conf.sample",
                     "/usr/share/doc/pharos-agent/install.md"),
    "pharos-anchor": ("/usr/bin/pharos-anchor", "/usr/bin/pharosctl",
                      "/lib/systemd/system/pharos-anchor.service",
                      "/lib/systemd/system/pharos-broker.service", "/etc/pharos/anchor.conf",
                      "/etc/pharos/mosquitto.conf", "/usr/share/pharos/web-ui/index.html",
                      "/usr/share/pharos/web-ui/js/app.js",
                      "/usr/share/pharos/web-ui/node_modules/mqtt/dist/mqtt.esm.js",
                      "/usr/share/pharos/web-ui/node_modules/uplot/dist/uPlot.esm.js",
                      "/usr/share/pharos/tools/init-credentials.sh",
                      "/usr/share/pharos/tools/dynsec.py",
                      "/usr/share/bash-completion/completions/pharosctl",
                      "/usr/share/doc/pharos-anchor/examples/mosquitto-tls.conf"),
}


def run(*args, check=True, timeout=600, env=None, input=None, cwd=None):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       env=env, input=input, cwd=cwd)
    if check:
        assert r.returncode == 0, f"{args}: rc {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def check_maintainer_scripts(control_dir: pathlib.Path):
    """postinst, prerm and postrm are executable and valid POSIX shell."""
    for script in ("postinst", "prerm", "postrm"):
        path = control_dir / script
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755, script
        run("sh", "-n", path)


def check_broker_config(conf_path: pathlib.Path):
    """The broker configuration is rendered for this architecture and the package layout."""
    conf = conf_path.read_text()
    assert "@PHAROS_" not in conf
    plugin = re.search(r"^plugin (\S+)$", conf, re.M).group(1)
    assert os.path.exists(plugin), plugin
    assert "listener 1883 127.0.0.1" in conf and "http_dir /usr/share/pharos/web-ui" in conf


def check_units(unit_dir: pathlib.Path):
    """Every unit is a hardened Type=notify service (sandbox exposure at most 4.0 by
    `systemd-analyze security --offline`), with the agent's and broker's specifics."""
    units = sorted(unit_dir.glob("pharos-*.service"))
    assert units, unit_dir
    for unit in units:
        text = unit.read_text()
        assert "Type=notify" in text and "Restart=on-failure" in text, unit.name
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text, unit.name
        r = run("systemd-analyze", "security", "--offline=true", unit, check=False)
        score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        assert score and float(score.group(1)) <= 4.0, r.stdout[-2000:]
    agent_unit = (unit_dir / "pharos-agent.service").read_text()
    assert re.search(r"^After=.*docker\.service", agent_unit, re.M)
    assert "SupplementaryGroups=docker" in agent_unit
    assert "ReadWritePaths=/var/lib/pharos/agent" in agent_unit
    assert "ExecReload=/bin/kill -HUP $MAINPID" in (unit_dir / "pharos-broker.service").read_text()


class NotifySocket:
    """What systemd does for a Type=notify unit: a datagram socket named by NOTIFY_SOCKET."""

    def __init__(self, directory: pathlib.Path, name: str):
        self.path = directory / f"{name}.notify"
        self.path.unlink(missing_ok=True)  # a previous run of the same service
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)  # the service runs as user pharos
        self.sock.settimeout(0.2)
        self.messages = []
        self.closed = False

    def poll(self) -> list:
        while not self.closed:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                break
        return self.messages

    def has(self, assignment: str) -> bool:
        return any(assignment in m.split("\n") for m in self.poll())

    def close(self):
        if not self.closed:
            self.sock.close()
            self.closed = True
