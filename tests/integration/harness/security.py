"""Shared set-up of the security suites (test_security*.py): enrolment through pharosctl, the
request helpers, a small compose file, the anchor fixture's process, and a real pharos-agent
run from the config file `pharosctl node add -o` wrote.

An Agent removes what it made on the Docker Engine when it is cleaned up: a stopped agent
leaves its containers running by design (offline autonomy, DESIGN.md section 3), so a test
that only stops it leaves them on the shared engine.
"""
import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import uuid

from cli_support import AnchorProcess
from harness.broker import TOPIC_ROOT


def node_topic(node, kind):
    return f"{TOPIC_ROOT}/nodes/{node}/{kind}"


def group_topic(group):
    return f"{TOPIC_ROOT}/groups/{group}/desired"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ctl(pharos_bin, broker, *args, user="ops", url=None, ca_file=None, timeout=60):
    """pharosctl logged in as `user`; no config file or PHAROS_* variable is used."""
    username, password = broker.credentials(user)
    cmd = [str(pharos_bin("pharosctl")), "--broker", url or broker.url, "--user", username,
           "--password", password]
    if ca_file is not None:
        cmd += ["--ca-file", str(ca_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    env["HOME"] = "/nonexistent"
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          env=env)


def read_agent_config(path):
    """key = value lines of a generated agent config."""
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def enrol(pharos_bin, broker, node, directory):
    """pharosctl node add NODE -o FILE; returns (config dict, path)."""
    path = pathlib.Path(directory) / f"{node}.conf"
    r = ctl(pharos_bin, broker, "node", "add", node, "-o", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    config = read_agent_config(path)
    # The harness learns the identity the way an operator would: from the file.
    broker._creds[f"agent-{node}"] = (config["username"], config["password"])
    return config, path


def request_ok(client, op, body, timeout=20):
    reply = client.request(op, body, timeout=timeout)
    assert reply.get("ok") is True, f"{op}: {reply}"
    return reply["result"]


def request_error(client, op, body, timeout=20):
    reply = client.request(op, body, timeout=timeout)
    assert reply.get("ok") is False, f"{op} unexpectedly succeeded: {reply}"
    return reply["error"]


def sleep_compose(image="busybox:1", env=None):
    lines = ["services:", "  main:", f"    image: {image}", '    command: ["sleep", "3600"]',
             "    stop_grace_period: 1s"]
    if env:
        lines.append("    environment:")
        lines += [f"      {k}: {v}" for k, v in env.items()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_anchor(broker, pharos_bin, prefix="pharos-sec-anchor-"):
    """A pharos-anchor on `broker` with its own data folder, stopped and removed after."""
    work = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, work)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(work, ignore_errors=True)


class Agent:
    """A real pharos-agent from the config `pharosctl node add -o` wrote; its state file and
    key file live in its own folder (the key file beside the state file, the default).
    cleanup() stops it and removes its folder and every container, network and volume it
    made on `engine` (label io.pharos.node=<node>)."""

    def __init__(self, binary, config_path, engine, extra=(), prefix="pharos-sec-agent-"):
        self.binary = binary
        self.config_path = config_path
        self.engine = engine
        self.node = read_agent_config(config_path)["node_id"]
        self.extra = list(extra)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        self.log_path = self.dir / "agent.log"
        self.proc = None

    @property
    def key_file(self):
        return self.dir / "node.key"

    @property
    def state_file(self):
        return self.dir / "state.json"

    def args(self, *extra):
        return [str(self.binary), "--config", str(self.config_path), "--state-file",
                str(self.state_file), "--data-dir", str(self.dir / "data"), "--docker-host",
                self.engine.host, "--reconcile-interval", "2", "--pull-jitter", "0",
                "--log-level", "debug", *self.extra, *extra]

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def run(self, *flags):
        return subprocess.run(self.args(*flags), capture_output=True, text=True, timeout=30)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        self.engine.cleanup(f"io.pharos.node={self.node}")
        shutil.rmtree(self.dir, ignore_errors=True)
