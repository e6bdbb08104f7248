"""Helpers shared by the pharosctl / shell-API / quick-start integration suites: a real
pharos-anchor process against a harness Broker, and a simulated node (an MQTT client logged
in as an agent that publishes its status with a NotReady will, and info)."""
import json
import os
import pathlib
import signal
import subprocess
import time

from harness.broker import wait_until

TOPIC_ROOT = "pharos/v1"


class AnchorProcess:
    """pharos-anchor logged in as the broker's `anchor` identity, state under `data_dir`."""

    def __init__(self, binary, broker, data_dir):
        self.binary = pathlib.Path(binary)
        self.broker = broker
        self.data_dir = pathlib.Path(data_dir)
        self.proc = None
        self.log_path = self.data_dir / "anchor.log"

    def command(self):
        user, password = self.broker.credentials("anchor")
        pw_file = self.data_dir / "anchor.password"
        pw_file.write_text(password + "\n")
        os.chmod(pw_file, 0o600)
        return [str(self.binary), "--broker-url", self.broker.url, "--username", user,
                "--password-file", str(pw_file), "--data-dir", str(self.data_dir / "store"),
                "--viewer", "viewer", "--log-level", "info"]

    def start(self, timeout=20):
        if not self.broker.running:
            self.broker.start()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        # Ready when anchor/status says online (retained).
        watcher = self.broker.client("ops")
        online = watcher.subscribe_collect(f"{TOPIC_ROOT}/anchor/status")
        ok = online.wait_for(lambda m: b'"online"' in m.payload, timeout) is not None
        watcher.close()
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"pharos-anchor did not come online:\n{self.log()}")
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def node_online(broker, node):
    """Logs in as agent `node` (client id = node) with a retained NotReady will and publishes
    status Ready and info, like pharos-agent does; returns the client (kill() = crash)."""
    now = int(time.time() * 1000)
    status = f"{TOPIC_ROOT}/nodes/{node}/status"
    will = json.dumps({"v": 1, "state": "NotReady", "session": now, "reason": "connection lost",
                       "ts": now})
    client = broker.client(node, client_id=node, will=(status, will))
    client.publish(status, {"v": 1, "state": "Ready", "session": now, "reason": "connected",
                            "ts": now}, retain=True)
    client.publish(f"{TOPIC_ROOT}/nodes/{node}/info",
                   {"v": 1, "agent_version": "test", "hostname": node, "os": "linux",
                    "arch": "x86_64", "kernel": "6", "docker_version": "", "docker_api": "",
                    "cpus": 1, "memory_bytes": 1, "disk_bytes": 1, "addresses": [],
                    "broker": broker.url, "labels": {}, "ts": now}, retain=True)
    return client


__all__ = ["AnchorProcess", "node_online", "wait_until"]
