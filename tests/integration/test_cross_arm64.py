"""The arm64 build of pharos-agent and pharosctl, run under qemu-user on this x86-64 machine,
against the real Mosquitto, the native pharos-anchor and the real Docker Engine:
  the arm64 agent registers (status Ready, info with arch arm64)
  the arm64 pharosctl deploys an app to it through the anchor (--wait), whose containers run
  on the engine; the node's info as the anchor serves it says arch arm64
  the agent killed (SIGKILL, no goodbye): the anchor reports the node NotReady
The arm64 binaries come from PHAROS_CROSS_BUILD_DIR (default build/cross-arm64: tools/cross.sh
builds it); the suite is skipped, saying so, only when that directory has no agent, and
never under tools/cross.sh (PHAROS_CROSS_REQUIRED=1 turns the skip into a failure). The
engine's containers are x86-64 ones: the agent only talks to the Engine API, which is the
same on every architecture. What emulation does not show (a real board's kernel, cgroups,
speed) is listed in docs/install.md.
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

CROSS_DIR = pathlib.Path(os.environ.get("PHAROS_CROSS_BUILD_DIR", ROOT / "build" / "cross-arm64"))
AGENT = CROSS_DIR / "agent" / "pharos-agent"
CTL = CROSS_DIR / "cli" / "pharosctl"
# No -L: libc6:arm64 (multiarch) provides the loader and C library (cmake/toolchains/).
QEMU = ["qemu-aarch64-static"]

if not AGENT.exists() and os.environ.get("PHAROS_CROSS_REQUIRED"):
    raise RuntimeError(f"PHAROS_CROSS_REQUIRED is set but {AGENT} is not built")
pytestmark = pytest.mark.skipif(
    not AGENT.exists(),
    reason=f"no arm64 cross build at {CROSS_DIR} (tools/cross.sh or tools/cross.sh --smoke "
           "builds it)")


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
def arm_agent(broker, docker_engine):
    node = f"arm64-{uuid.uuid4().hex[:8]}"
    user, password = broker.add_agent(node)
    work = pathlib.Path(tempfile.mkdtemp(prefix="pharos-cross-agent-"))
    (work / "password").write_text(password + "\n")
    log_path = work / "agent.log"
    args = QEMU + [str(AGENT), "--config", "/dev/null", "--node-id", node,
                   "--broker-url", broker.url, "--username", user,
                   "--password-file", str(work / "password"),
                   "--state-file", str(work / "state.json"), "--data-dir", str(work / "data"),
                   "--docker-host", docker_engine.host, "--reconcile-interval", "2",
                   "--pull-jitter", "0", "--log-level", "debug", "--label", "line=arm64"]
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


def ctl(broker, *args, timeout=300):
    """The arm64 pharosctl under qemu, as operator `ops`."""
    cmd = QEMU + [str(CTL), "--broker", broker.url, "--user", "ops",
                  "--password", broker.credentials("ops")[1], *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    env["HOME"] = "/nonexistent"
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def agent_log(state):
    return state["log"].read_text(errors="replace")[-4000:]


def test_binaries_are_arm64():
    assert elf_machine(AGENT) == "AArch64"
    assert elf_machine(CTL) == "AArch64"
    r = subprocess.run(QEMU + [str(AGENT), "--version"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("pharos-agent "), r


def test_arm64_agent_registers_applies_an_app_and_turns_not_ready(
        broker, anchor, arm_agent, docker_engine, registry, tmp_path):
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
    assert info["arch"] == "arm64", info
    assert info["labels"] == {"line": "arm64"}

    # The anchor knows it (pharosctl arm64 asks), and an app deployed to it runs.
    def node_get():
        r = ctl(broker, "node", "get", node, "-o", "json", timeout=60)
        return json.loads(r.stdout) if r.returncode == 0 else None
    assert wait_until(lambda: (node_get() or {}).get("health") == "Ready", 60), node_get()
    assert wait_until(lambda: ((node_get() or {}).get("info") or {}).get("arch") == "arm64",
                      30), node_get()
    app = tmp_path / "compose.yml"
    app.write_text(f"services:\n  sleeper:\n    image: {registry.image('1')}\n"
                   f"    command: [\"sleep\", \"3600\"]\n")
    r = ctl(broker, "deploy", "-f", str(app), "--node", node, "--name", "armapp", "--wait",
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
