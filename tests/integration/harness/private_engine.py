"""Private Docker Engines for tests that stop, restart or multiply engines.

The shared `docker_engine` is used by every suite, so no test may restart it. A private
engine is a separate dockerd (tools/dockerd.sh with PHAROS_DOCKERD_PRIVATE=1: its own data
root, exec root, socket and managed containerd, --iptables=false, its own network namespace)
that one test owns: it can be restarted or killed, and several of them stand for several
devices (each "device" has its own engine, so two agents can run the same app without their
containers' names clashing). The busybox test images are copied in from the shared engine
(`docker save | docker load`), so no registry is needed. Published ports of a private
engine's containers are reachable only inside its namespace.

Fixtures:
  private_engines (function) factory: private_engines() -> PrivateEngine, started, with the
                  test images loaded. Every engine it made is stopped, its containers removed
                  and its state deleted at the end of the test (the engines side by side).
PrivateEngine extends DockerEngine with stop(), start() and restart() (a clean daemon
restart: containers with a restart policy come back, others stay exited) and kill()
(SIGKILL of dockerd: its containers keep running under their shims until it returns).
"""
import concurrent.futures
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from harness.docker_engine import TEST_IMAGES, TOOLS, DockerEngine


class PrivateEngine(DockerEngine):
    def __init__(self, state_dir: pathlib.Path):
        super().__init__(f"unix://{state_dir}/docker.sock", state_dir, started=True)
        self._env_private = dict(os.environ, PHAROS_DOCKERD_PRIVATE="1")
        shared_driver = pathlib.Path(
            os.environ.get("PHAROS_DOCKER_STATE", "/tmp/pharos-dockerd")) / "storage-driver"
        if shared_driver.exists():  # the shared engine needed vfs: so will this one
            self._env_private["PHAROS_DOCKERD_STORAGE_DRIVER"] = shared_driver.read_text().strip()

    def _script(self, cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(TOOLS / "dockerd.sh"), cmd, str(self.state_dir)],
                              env=self._env_private, capture_output=True, text=True,
                              timeout=180)

    def start(self):
        proc = self._script("start")
        if proc.returncode != 0:
            raise AssertionError(f"private dockerd did not start:\n{proc.stderr}\n"
                                 f"{self.log_tail()}")

    def stop(self):
        self._script("stop")

    def restart(self):
        self.stop()
        self.start()

    def pid(self) -> int:
        return int((self.state_dir / "dockerd.pid").read_text().strip())

    def kill(self):
        """SIGKILLs dockerd (its containerd and containers survive, as after a crash)."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        (self.state_dir / "dockerd.pid").unlink(missing_ok=True)
        (self.state_dir / "started-by-dockerd-sh").unlink(missing_ok=True)

    def load_images(self, source: DockerEngine, refs=TEST_IMAGES):
        save = subprocess.run(["docker", "save", *refs], env=source.env, capture_output=True,
                              timeout=300)
        if save.returncode != 0:
            raise AssertionError(f"docker save failed: {save.stderr.decode(errors='replace')}")
        load = subprocess.run(["docker", "load", "-q"], env=self.env, input=save.stdout,
                              capture_output=True, timeout=300)
        if load.returncode != 0:
            raise AssertionError(f"docker load failed: {load.stderr.decode(errors='replace')}")

    def destroy(self):
        """Removes every container, stops the engine and deletes its state."""
        if (self.state_dir / "docker.sock").exists():
            ids = self.run("ps", "-aq", check=False, timeout=60).stdout.split()
            if ids:
                self.run("rm", "-f", "-v", *ids, check=False, timeout=120)
        self.stop()
        # A killed engine leaves its containerd behind; stop it and whatever it still runs.
        subprocess.run(["pkill", "-TERM", "-f", f"containerd.*{self.state_dir}"],
                       capture_output=True)
        time.sleep(0.5)
        subprocess.run(["pkill", "-KILL", "-f", f"containerd.*{self.state_dir}"],
                       capture_output=True)
        # Overlay mounts under the data root must go before the folder can.
        mounts = [line.split()[1] for line in pathlib.Path("/proc/mounts").read_text().splitlines()
                  if len(line.split()) > 1 and line.split()[1].startswith(str(self.state_dir))]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)


@pytest.fixture
def private_engines(docker_engine):
    made = []

    def make() -> PrivateEngine:
        # Short path: the socket path must stay under the unix socket limit.
        engine = PrivateEngine(pathlib.Path(tempfile.mkdtemp(prefix="pe-", dir="/tmp")))
        made.append(engine)
        engine.start()
        engine.load_images(docker_engine)
        return engine

    yield make
    # Side by side: each engine's stop waits mostly on its own daemon's shutdown.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(made))) as pool:
        for done in [pool.submit(engine.destroy) for engine in made]:
            done.result()
