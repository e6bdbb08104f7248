"""Fault injection (docs/reliability.md, case 7): the anchor's data folder on a small tmpfs
that fills up, against the real Mosquitto and pharos-anchor. Needs the right to mount a tmpfs
(skipped otherwise).
Run: PHAROS_BUILD_DIR=build/<dir> python3 -m pytest -q tests/integration/test_faults_disk.py
"""
import os
import subprocess

import pytest

from fault_support import compose, fleet_fixture
from test_agent import wait_until


@pytest.fixture
def fleet(pharos_bin, broker, docker_engine, registry):
    yield from fleet_fixture(pharos_bin, broker, docker_engine, registry)


def big_compose(registry, i):
    """A valid compose file of ~200 KiB (an incompressible comment) for filling a store."""
    return compose(registry, marker=f"big{i}") + "# " + os.urandom(100 * 1024).hex() + "\n"


def test_anchor_disk_full(fleet):
    """The anchor's data folder on a small tmpfs filled up: a change fails with an error
    reply naming the full disk, and so does the next one, while reads keep working; nothing
    of a refused change is stored; once space returns, changes work again without restarting
    the anchor; after a restart every acknowledged change (before and after the full disk)
    is there and no refused one."""
    store = fleet.dir / "anchor" / "store"
    store.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(store)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        fleet.anchor.start()
        pid = fleet.anchor.proc.pid
        fleet.ok("group.create", {"name": "disk"})
        filler = store / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k", "count=48"],
                       capture_output=True)  # 3 MiB that can be given back
        acked, refused = [], None
        for i in range(60):
            name = f"d{i}"
            try:
                reply = fleet.ops.request("app.deploy", {
                    "name": name, "target": {"group": "disk"},
                    "compose": big_compose(fleet.registry, i)})
            except TimeoutError:
                raise AssertionError(f"no reply to deploy {i} on a full disk; anchor alive: "
                                     f"{fleet.anchor.proc.poll() is None}\n"
                                     f"{fleet.anchor.log()[-3000:]}")
            if not reply.get("ok"):
                refused = (name, reply["error"])
                break
            acked.append(name)
        print(f"disk full after {len(acked)} deploys: {refused}")
        assert refused, f"no write failed on a full disk ({len(acked)} deploys)"
        assert refused[1]["code"] == "unavailable", refused
        assert "disk full" in refused[1]["message"], refused
        # Still full: the next change is refused too (the anchor does not crash on it), and
        # reads are served.
        again = fleet.ops.request("app.deploy", {"name": "again", "target": {"group": "disk"},
                                                 "compose": big_compose(fleet.registry, 99)})
        assert not again.get("ok") and again["error"]["code"] == "unavailable", again
        assert fleet.anchor.proc.poll() is None, fleet.anchor.log()[-3000:]
        assert {a["name"] for a in fleet.ok("app.list")["apps"]} >= set(acked)
        for name in (refused[0], "again"):
            assert fleet.request("app.get", {"name": name})["error"]["code"] == "not_found"

        filler.unlink()  # space is back
        wait_until(lambda: fleet.ops.request("group.create", {"name": "after"}).get("ok") or
                   fleet.ops.request("group.get", {"name": "after"}).get("ok"), 30, 1,
                   what="writes accepted again once space returned")
        late = fleet.ok("app.deploy", {"name": "late", "target": {"group": "disk"},
                                        "compose": compose(fleet.registry, marker="late")})
        assert fleet.anchor.proc.pid == pid and fleet.anchor.proc.poll() is None, \
            "the anchor restarted"
        assert "reopened after disk full" in fleet.anchor.log()

        fleet.anchor.stop()
        fleet.anchor.start()
        groups = {g["name"] for g in fleet.ok("group.list")["groups"]}
        assert {"disk", "after"} <= groups
        apps = {a["name"]: a for a in fleet.ok("app.list")["apps"]}
        assert set(acked) <= set(apps), f"acknowledged deploys lost: {set(acked) - set(apps)}"
        assert apps["late"]["revision"] == late["revision"]
        assert refused[0] not in apps and "again" not in apps, "a refused deploy was persisted"
    finally:
        fleet.anchor.stop()
        subprocess.run(["umount", "-l", str(store)], capture_output=True)
