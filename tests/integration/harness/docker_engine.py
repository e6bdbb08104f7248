"""The real Docker Engine for integration tests, and a local image registry.

The engine: tools/dockerd.sh uses an engine that already answers (/var/run/docker.sock or
$DOCKER_HOST), else starts dockerd with its state under $PHAROS_DOCKER_STATE (default
/tmp/pharos-dockerd) and leaves it running for later sessions. A session stops the engine
at its end only if it started it and no other live pytest session registered as a user of
it (<state>/users/<pid>). The busybox test images are built locally (tools/test-image.sh):
pharos-test/busybox:1 and :2, which differ by label and image id. No registry outside
loopback is ever contacted.

Fixtures:
  docker_engine  (session) DockerEngine: host ("unix://..."), env (os.environ + DOCKER_HOST),
                 run(*args, check=True, timeout=120) -> CompletedProcess of the `docker` CLI,
                 json(*args) -> parsed JSON output, inspect(id_or_name) -> dict,
                 containers(label=None, all=True) -> [ids], image_id(ref),
                 inspect_all(label) -> [inspect] (the agent's probe containers left out),
                 cleanup(label) removes containers, networks and volumes carrying `label`
                 ("key" or "key=value"), started (True when this session started dockerd)
  registry       (session) Registry on a free loopback port with the test images pushed:
                 address ("127.0.0.1:<port>"), image(tag="1") -> "127.0.0.1:<port>/pharos-test/busybox:1",
                 push(local_ref, repo_tag) -> remote ref
  docker_label   (function) a fresh label "io.pharos.test=<hex>"; everything carrying it is
                 removed after the test
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
TOOLS = ROOT / "tools"
TEST_IMAGES = ("pharos-test/busybox:1", "pharos-test/busybox:2")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class DockerEngine:
    def __init__(self, host: str, state_dir: pathlib.Path, started: bool):
        self.host = host
        self.state_dir = state_dir
        self.started = started
        self.env = dict(os.environ, DOCKER_HOST=host)

    def run(self, *args, check: bool = True, timeout: float = 120, input=None):
        """Runs `docker <args>` against this engine; raises with its output when check fails."""
        proc = subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc

    def json(self, *args):
        return json.loads(self.run(*args).stdout)

    def inspect(self, id_or_name: str) -> dict:
        return self.json("inspect", "--type", "container", id_or_name)[0]

    def inspect_all(self, label: str) -> list:
        """Inspect documents of the containers carrying `label`, without the agent's probe
        containers (`*_pharos_probe`) and those removed meanwhile."""
        out = []
        for cid in self.containers(label):
            proc = self.run("inspect", "--type", "container", cid, check=False)
            if proc.returncode != 0:
                continue
            info = json.loads(proc.stdout)[0]
            if not info["Name"].endswith("_pharos_probe"):
                out.append(info)
        return out

    def image_id(self, ref: str) -> str:
        return self.run("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()

    def containers(self, label: str = None, all: bool = True) -> list:
        args = ["ps", "-q", "--no-trunc"]
        if all:
            args.append("-a")
        if label:
            args += ["--filter", f"label={label}"]
        return self.run(*args).stdout.split()

    def networks(self, label: str = None) -> list:
        args = ["network", "ls", "-q", "--no-trunc"]
        if label:
            args += ["--filter", f"label={label}"]
        return self.run(*args).stdout.split()

    def volumes(self, label: str = None) -> list:
        args = ["volume", "ls", "-q"]
        if label:
            args += ["--filter", f"label={label}"]
        return self.run(*args).stdout.split()

    def cleanup(self, label: str):
        """Removes every container, network and volume carrying `label`."""
        ids = self.containers(label)
        if ids:
            self.run("rm", "-f", "-v", *ids, check=False)
        nets = self.networks(label)
        if nets:
            self.run("network", "rm", *nets, check=False)
        vols = self.volumes(label)
        if vols:
            self.run("volume", "rm", "-f", *vols, check=False)

    def log_tail(self, lines: int = 40) -> str:
        log = self.state_dir / "dockerd.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _dockerd(cmd: str, state_dir: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOOLS / "dockerd.sh"), cmd, str(state_dir)], capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="session")
def docker_engine():
    state_dir = pathlib.Path(os.environ.get("PHAROS_DOCKER_STATE", "/tmp/pharos-dockerd"))
    state_dir.mkdir(parents=True, exist_ok=True)
    was_running = _dockerd("status", state_dir).returncode == 0
    proc = _dockerd("start", state_dir)
    if proc.returncode != 0:
        pytest.fail(f"could not start a Docker Engine:\n{proc.stderr}")
    host = next((line.split("=", 1)[1] for line in proc.stdout.splitlines()
                 if line.startswith("DOCKER_HOST=")), None)
    if not host:
        pytest.fail(f"tools/dockerd.sh printed no DOCKER_HOST:\n{proc.stdout}{proc.stderr}")
    engine = DockerEngine(host, state_dir, started=not was_running)
    users = state_dir / "users"
    users.mkdir(exist_ok=True)
    me = users / str(os.getpid())
    me.touch()
    build = subprocess.run([str(TOOLS / "test-image.sh"), *TEST_IMAGES], env=engine.env,
                           capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        pytest.fail(f"building the test images failed:\n{build.stderr}\n{engine.log_tail()}")
    yield engine
    me.unlink(missing_ok=True)
    others = [p for p in users.iterdir() if p.name.isdigit() and _pid_alive(int(p.name))]
    if engine.started and not others and os.environ.get("PHAROS_KEEP_DOCKERD") != "1":
        _dockerd("stop", state_dir)


class Registry:
    def __init__(self, engine: DockerEngine, state_dir: str, port: int):
        self.engine = engine
        self.state_dir = state_dir
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._tags = []

    def push(self, local_ref: str, repo_tag: str) -> str:
        """Pushes a local image as <address>/<repo_tag>; returns the remote reference."""
        remote = f"{self.address}/{repo_tag}"
        self.engine.run("tag", local_ref, remote)
        self.engine.run("push", "-q", remote, timeout=300)
        self._tags.append(remote)
        return remote

    def image(self, tag: str = "1") -> str:
        return f"{self.address}/pharos-test/busybox:{tag}"

    def _untag_all(self):
        for remote in self._tags:
            self.engine.run("rmi", remote, check=False)


@pytest.fixture(scope="session")
def registry(docker_engine):
    state_dir = tempfile.mkdtemp(prefix="pharos-registry-", dir="/tmp")
    port = _free_port()
    proc = subprocess.run([str(TOOLS / "registry.sh"), "start", state_dir, str(port)],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"could not start docker-registry:\n{proc.stderr}")
    reg = Registry(docker_engine, state_dir, port)
    try:
        for local in TEST_IMAGES:
            reg.push(local, local)
        yield reg
    finally:
        reg._untag_all()
        subprocess.run([str(TOOLS / "registry.sh"), "stop", state_dir, str(port)],
                       capture_output=True, text=True, timeout=60)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture
def docker_label(docker_engine):
    label = f"io.pharos.test={uuid.uuid4().hex[:12]}"
    yield label
    docker_engine.cleanup(label)
