"""The package contents as the build tree installs them, without building packages: the
CI-sized subset of test_packaging.py (a long suite, which builds a release tree, makes the
.debs and installs them). Each component is installed from PHAROS_BUILD_DIR into a folder
(`cmake --install --component`, DESTDIR), then checked: every path the packages promise,
conffiles equal to the files under /etc/pharos, maintainer scripts, the rendered broker
configuration, the hardened units; and the anchor's Type=notify readiness."""
import os
import pathlib
import signal
import subprocess
import time

import pytest

from harness.binaries import ROOT, build_dir
from harness.broker import free_port, wait_until
from harness.packaging import (CONFFILES, PATHS, NotifySocket, check_broker_config,
                               check_maintainer_scripts, check_units, run)

COMPONENTS = {"pharos-agent": "agent", "pharos-anchor": "anchor"}


@pytest.fixture(scope="module")
def installed_tree(tmp_path_factory):
    """package name -> the folder its component was installed into."""
    trees = {}
    for package, component in COMPONENTS.items():
        dest = tmp_path_factory.mktemp(component)
        run("cmake", "--install", build_dir(), "--component", component, "--prefix", "/usr",
            env=dict(os.environ, DESTDIR=str(dest)))
        trees[package] = dest
    return trees


def files_under(tree: pathlib.Path) -> set:
    return {"/" + str(p.relative_to(tree)) for p in tree.rglob("*") if not p.is_dir()}


def test_every_promised_path_is_installed_and_configs_are_the_conffiles(installed_tree):
    for package, tree in installed_tree.items():
        files = files_under(tree)
        for path in PATHS[package]:
            assert path in files, (package, path)
        assert sorted(f for f in files if f.startswith("/etc/")) == CONFFILES[package]
        conffiles = ROOT / "packaging/debian" / COMPONENTS[package] / "conffiles"
        assert conffiles.read_text().split() == CONFFILES[package]
    assert not files_under(installed_tree["pharos-agent"]) & files_under(
        installed_tree["pharos-anchor"])  # the two packages can be installed together


def test_maintainer_scripts_broker_config_and_units(installed_tree):
    for component in COMPONENTS.values():
        check_maintainer_scripts(ROOT / "packaging/debian" / component)
    check_broker_config(installed_tree["pharos-anchor"] / "etc/pharos/mosquitto.conf")
    units = installed_tree["pharos-anchor"] / "lib/systemd/system"
    for unit in (installed_tree["pharos-agent"] / "lib/systemd/system").iterdir():
        (units / unit.name).write_bytes(unit.read_bytes())
    check_units(units)


def test_the_anchor_is_not_ready_until_the_broker_accepts_it(pharos_bin, tmp_path):
    """Type=notify: no READY=1 while the broker is unreachable (a STATUS= line says why);
    STOPPING=1 on SIGTERM. The built binary, run without systemd."""
    os.chmod(tmp_path, 0o755)
    notify = NotifySocket(tmp_path, "anchor")
    port = free_port()  # nothing listens there
    proc = subprocess.Popen([str(pharos_bin("pharos-anchor")), "--broker-url",
                             f"tcp://127.0.0.1:{port}", "--password", "x", "--data-dir",
                             str(tmp_path / "store")],
                            env=dict(os.environ, NOTIFY_SOCKET=str(notify.path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: any(m.startswith("STATUS=") and "retrying" in m
                                      for m in notify.poll()), 20, 0.2), notify.messages
        time.sleep(2)
        assert not notify.has("READY=1"), notify.messages
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert notify.has("STOPPING=1"), notify.messages
    notify.close()
