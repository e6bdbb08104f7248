"""The arm64 and armhf builds of pharos-agent and pharosctl, run under qemu-user on this x86-64
machine, against the real Mosquitto, the native pharos-anchor and the real Docker Engine, for
each architecture:
  the agent registers (status Ready, info with arch arm64 or armhf)
  the same architecture's pharosctl deploys an app to it through the anchor (--wait), whose
  containers run on the engine; the node's info as the anchor serves it names the architecture
  the agent killed (SIGKILL, no goodbye): the anchor reports the node NotReady
The binaries come from build/cross-<arch> (PHAROS_CROSS_ARM64_DIR, PHAROS_CROSS_ARMHF_DIR
override it; tools/cross.sh builds them). An architecture is skipped, saying so, only when its
directory has no agent, and never when PHAROS_CROSS_REQUIRED names it (tools/cross.sh sets it
to the architectures it built: "arm64 armhf"). The engine's containers are x86-64 ones: the
agent only talks to the Engine API, which is the same on every architecture. What emulation
does not show (a real board's kernel, cgroups, speed) is listed in docs/install.md.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import uuid

import pytest

from cli_support import AnchorProcess
from harness.binaries import ROOT
from harness.broker import TOPIC_ROOT, wait_until

# Debian architecture: (build directory, qemu-user binary, ELF machine as readelf names it).
# No -L for qemu: libc6:<arch> (multiarch) provides the loader and C library
# (cmake/toolchains/debian-cross.cmake).
TARGETS = {
    "arm64": (pathlib.Path(os.environ.get("PHAROS_CROSS_ARM64_DIR",
                                          ROOT / "build" / "cross-arm64")),
              "qemu-aarch64-static", "AArch64"),
    "armhf": (pathlib.Path(os.environ.get("PHAROS_CROSS_ARMHF_DIR",
                                          ROOT / "build" / "cross-armhf")),
              "qemu-arm-static", "ARM"),
}
REQUIRED = os.environ.get("PHAROS_CROSS_REQUIRED", "").split()


class Target:
    def __init__(self, arch):
        self.arch = arch
        build, qemu, self.machine = TARGETS[arch]
        self.agent = build / "agent" / "pharos-agent"
        self.ctl = build / "cli" / "pharosctl"
        self.qemu = [qemu]


@pytest.fixture(params=sorted(TARGETS))
def target(request):
    t = Target(request.param)
    if not t.agent.exists():
        if t.arch in REQUIRED:
            pytest.fail(f"PHAROS_CROSS_REQUIRED names {t.arch} but {t.agent} is not built")
        pytest.skip(f"no {t.arch} cross build at {t.agent.parent.parent} (tools/cross.sh "
                    f"--arch {t.arch} builds it)")
    return t


def elf_machine(path):
    out = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split(":", 1)[1].strip() for line in out.splitlines()
            if line.strip().startswith("Machine:")][0]


@pytest.fixture
def anchor(broker, pharos_bin):
    data = pathlib.Path(tempfile.mkdtemp(prefix="pharos-cross-anchor-"))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, data)
    proc.start()
    yield proc
    proc.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def arm_agent(broker, docker_engine, target):
    node = f"{target.arch}-{uuid.uuid4().hex[:8]}"
    user, password = broker.add_agent(node)
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-cross-agent-"))
    (work / "password").write_text(password + "\n")
    log_path = work / "agent.log"
    args = target.qemu + [str(target.agent), "--config", "/dev/null", "--node-id", node,
                   "--broker-url", broker.url, "--username", user,
                   "--password-file", str(work / "password"),
                   "--state-file", str(work / "state.json"), "--data-dir", str(work / "data"),
                   "--docker-host", docker_engine.host, "--reconcile-interval", "2",
                   "--pull-jitter", "0", "--log-level", "debug", "--label", f"line={target.arch}"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    state = {"node": node, "proc": proc, "log": log_path}
    yield state
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    docker_engine.cleanup(f"io.pharos.node={node}")
    shutil.rmtree(work, ignore_errors=True)


def ctl(target, broker, *args, timeout=300):
    """The target's pharosctl under qemu, as operator `ops`."""
    cmd = target.qemu + [str(target.ctl), "--broker", broker.url, "--user", "ops",
                  "--password", broker.credentials("ops")[1], *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    env["HOME"] = "/nonexistent"
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def agent_log(state):
    return state["log"].read_text(errors="replace")[-4000:]


def test_binaries_are_of_the_target(target):
    assert elf_machine(target.agent) == target.machine
    assert elf_machine(target.ctl) == target.machine
    r = subprocess.run(target.qemu + [str(target.agent), "--version"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("pharos-agent "), r


def test_agent_registers_applies_an_app_and_turns_not_ready(
        target, broker, anchor, arm_agent, docker_engine, registry, tmp_path):
    node = arm_agent["node"]
    ops = broker.client("ops")
    seen = ops.subscribe_collect(f"{TOPIC_ROOT}/nodes/{node}/#")

    def latest(kind):
        msgs = [m for m in seen.messages
                if m.topic == f"{TOPIC_ROOT}/nodes/{node}/{kind}" and m.payload]
        return json.loads(msgs[-1].payload) if msgs else None

    # Registers: Ready, and its info names the architecture it was built for. Generous time:
    # qemu-user starts threads slowly, very slowly on a busy machine.
    assert wait_until(lambda: (latest("status") or {}).get("state") == "Ready", 600), \
        agent_log(arm_agent)
    assert wait_until(lambda: latest("info") is not None, 30), agent_log(arm_agent)
    info = latest("info")
    assert info["arch"] == target.arch, info
    assert info["labels"] == {"line": target.arch}

    # The anchor knows it (the target's pharosctl asks), and an app deployed to it runs.
    def node_get():
        r = ctl(target, broker, "node", "get", node, "-o", "json", timeout=60)
        return json.loads(r.stdout) if r.returncode == 0 else None
    assert wait_until(lambda: (node_get() or {}).get("health") == "Ready", 60), node_get()
    assert wait_until(lambda: ((node_get() or {}).get("info") or {}).get("arch") == target.arch,
                      30), node_get()
    app = tmp_path / "compose.yml"
    app.write_text(f"services:\n  sleeper:\n    image: {registry.image('1')}\n"
                   f"    command: [\"sleep\", \"3600\"]\n")
    r = ctl(target, broker, "deploy", "-f", str(app), "--node", node, "--name", "armapp", "--wait",
            "--timeout", "4m")
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{agent_log(arm_agent)}"
    assert "is running on 1 of 1 targets" in r.stdout
    running = docker_engine.containers(f"io.pharos.node={node}", all=False)
    assert len(running) == 1, running

    # Killed without a goodbye: the broker sends the will and the anchor turns it NotReady.
    arm_agent["proc"].send_signal(signal.SIGKILL)
    arm_agent["proc"].wait(30)
    assert wait_until(lambda: (node_get() or {}).get("health") == "NotReady", 60), node_get()
    assert wait_until(lambda: (latest("status") or {}).get("state") == "NotReady", 10)
    ops.close()
