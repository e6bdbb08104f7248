"""Staged rollouts on real agents (docs/protocol.md "Staged rollouts"): the real Mosquitto,
three real pharos-agent processes, each on its own private Docker Engine (the same compose
project on each, as on separate machines). The test plays the anchor: it publishes the
group's retained document by hand, one generation per wave, and checks which revision each
agent runs, and that a node outside a wave keeps its very containers.

1. Revision 1 runs on a and b. Wave 1 names a: a runs revision 2, b keeps revision 1 (same
   container ids).
2. c joins the group mid-rollout, after wave 2 widened the cutoff to cover c's rollout
   position but not b's: c runs revision 2 without being named (the position is computed
   here in Python from the written contract, so the agent's C++ and the contract agree);
   b still keeps its containers.
3. b is cut off (its agent killed) while the last wave publishes the whole target as a
   version 1 document; restarted, b runs revision 2 at once.
4. A rollback (revision 1 for everyone, version 1): every node returns to revision 1.

Run: PHAROS_BUILD_DIR=build/<dir> /usr/bin/python3 -m pytest -q tests/integration/test_agent_staged.py
"""
import pathlib
import shutil
import tempfile
import uuid

import pytest

from group_support import Device
from test_agent import AgentProc, wait_until

ROOT = "pharos/v1"
IMAGE1 = "pharos-test/busybox:1"
IMAGE2 = "pharos-test/busybox:2"
GROUP = "line"
POSITIONS = 1 << 32


def rollout_position(app, node):
    """docs/protocol.md: upper 32 bits of splitmix64-finalise(FNV-1a-64(app + "/" + node))."""
    mask = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for byte in f"{app}/{node}".encode():
        h = ((h ^ byte) * 0x100000001b3) & mask
    h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & mask
    h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & mask
    h ^= h >> 31
    return h >> 32


def compose(image):
    return f"services:\n  main:\n    image: {image}\n    stop_grace_period: 1s\n"


def entry(app, revision, image):
    return {"name": app, "revision": revision, "compose": compose(image), "state": "running",
            "variables": {}, "restart": 0, "volumes": "keep"}


def staged_entry(app, nodes, cutoff):
    e = entry(app, 2, IMAGE2)
    previous = entry(app, 1, IMAGE1)
    e["staged"] = {"nodes": nodes, "cutoff": cutoff,
                   "previous": {k: previous[k] for k in
                                ("revision", "compose", "state", "variables", "restart")}}
    return e


class StagedFleet:
    def __init__(self, pharos_bin, broker, private_engines):
        self.pharos_bin = pharos_bin
        self.broker = broker
        self.private_engines = private_engines
        self.dir = tempfile.mkdtemp(prefix="pharos-staged-")
        self.anchor = broker.client("anchor")
        self.epoch = f"st{uuid.uuid4().hex[:8]}"
        self.generation = 0
        self.devices = {}

    def add(self, name):
        engine = self.private_engines()
        self.broker.add_agent(name, groups=(GROUP,))
        workdir = pathlib.Path(self.dir) / name
        workdir.mkdir()
        agent = AgentProc(self.pharos_bin("pharos-agent"), name, self.broker, engine, workdir)
        device = Device(name, engine, agent)
        self.devices[name] = device
        self.anchor.publish(f"{ROOT}/nodes/{name}/desired",
                            {"v": 1, "epoch": self.epoch, "generation": 1, "labels": {},
                             "groups": [GROUP], "apps": []}, retain=True)
        agent.start()
        return device

    def publish_group(self, apps):
        self.generation += 1
        version = 2 if any("staged" in a for a in apps) else 1
        self.anchor.publish(f"{ROOT}/groups/{GROUP}/desired",
                            {"v": version, "epoch": self.epoch, "generation": self.generation,
                             "apps": apps}, retain=True)

    def wait_runs(self, app, image, revision, names, timeout=90):
        for name in names:
            d = self.devices[name]
            try:
                wait_until(lambda: d.running(app, image, revision, ("main",)), timeout,
                           what=f"{name} runs {app} revision {revision}")
            except AssertionError:
                raise AssertionError(f"{name} does not run revision {revision}: "
                                     f"{d.identity(app)}\nagent log:\n{d.agent.log()}")

    def cleanup(self):
        for d in self.devices.values():
            d.agent.kill()
        self.anchor.publish(f"{ROOT}/groups/{GROUP}/desired", b"", retain=True)
        for name in self.devices:
            self.anchor.publish(f"{ROOT}/nodes/{name}/desired", b"", retain=True)
        self.anchor.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def fleet(pharos_bin, broker, private_engines):
    f = StagedFleet(pharos_bin, broker, private_engines)
    yield f
    f.cleanup()


def names_for(app):
    """Three node names where c's rollout position is below b's, so a cutoff between them
    takes c and not b."""
    for i in range(100):
        a, b, c = (f"st-{x}{i}" for x in "abc")
        if rollout_position(app, c) < rollout_position(app, b):
            return a, b, c
    raise AssertionError("no names found")


def test_each_node_runs_the_revision_its_wave_says(fleet):
    app = "staged"
    a, b, c = names_for(app)
    fleet.add(a)
    fleet.add(b)
    fleet.publish_group([entry(app, 1, IMAGE1)])
    fleet.wait_runs(app, IMAGE1, 1, (a, b))
    b_ids = fleet.devices[b].identity(app)

    # Wave 1: the named canary.
    fleet.publish_group([staged_entry(app, [a], 0)])
    fleet.wait_runs(app, IMAGE2, 2, (a,))
    assert fleet.devices[b].identity(app) == b_ids

    # Wave 2: the cutoff covers c's position, not b's; c joins the group now.
    cutoff = rollout_position(app, c) + 1
    assert rollout_position(app, b) >= cutoff
    fleet.publish_group([staged_entry(app, [a], cutoff)])
    fleet.add(c)
    fleet.wait_runs(app, IMAGE2, 2, (c,))
    fleet.wait_runs(app, IMAGE2, 2, (a,))
    assert fleet.devices[b].identity(app) == b_ids

    # The last wave goes out while b is cut off; back, b runs what the document says.
    fleet.devices[b].agent.kill()
    fleet.publish_group([entry(app, 2, IMAGE2)])
    fleet.devices[b].agent.start()
    fleet.wait_runs(app, IMAGE2, 2, (a, b, c))

    # A rollback is the previous revision for everyone, a version 1 document again.
    fleet.publish_group([entry(app, 1, IMAGE1)])
    fleet.wait_runs(app, IMAGE1, 1, (a, b, c))

