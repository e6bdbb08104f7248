"""The Docker Engine harness and the agent's Docker client (HTTP/1.1 over the Unix socket) against the real engine.

The C++ side is tests/itest/docker_client_itest.cpp (built as `docker_client_itest`); this
suite runs it with the fixtures' DOCKER_HOST and local registry, and checks the harness
itself: bridge networking with --iptables=false still publishes ports on loopback, the
loopback registry is usable without daemon configuration, and test images differ by id.
"""
import socket
import subprocess
import time
import urllib.request

import pytest

from harness.binaries import build_dir


def _itest_binary():
    for candidate in (build_dir() / "tests" / "docker_client_itest",
                      build_dir() / "docker_client_itest"):
        if candidate.exists():
            return candidate
    pytest.fail(f"docker_client_itest not built under {build_dir()} "
                "(cmake --build <dir> --target docker_client_itest)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_two_test_images_differ(docker_engine):
    one = docker_engine.image_id("pharos-test/busybox:1")
    two = docker_engine.image_id("pharos-test/busybox:2")
    assert one.startswith("sha256:") and two.startswith("sha256:")
    assert one != two
    labels = docker_engine.json("image", "inspect", "pharos-test/busybox:2")[0]["Config"]["Labels"]
    assert labels["io.pharos.test.version"] == "2"


def test_a_published_port_answers_on_loopback(docker_engine, docker_label):
    port = _free_port()
    cid = docker_engine.run("run", "-d", "--label", docker_label, "-p", f"127.0.0.1:{port}:80",
                            "pharos-test/busybox:1", "httpd", "-f", "-p", "80", "-h",
                            "/www").stdout.strip()
    body = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and body is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                body = resp.read().decode()
        except OSError:
            time.sleep(0.2)
    assert body == "pharos test image\n"
    ip = docker_engine.inspect(cid)["NetworkSettings"]["IPAddress"]
    assert ip, "a container on the default bridge has an address"


def test_the_loopback_registry_serves_pushed_images(docker_engine, registry):
    ref = registry.image("2")
    docker_engine.run("rmi", ref)
    docker_engine.run("pull", "-q", ref)
    assert docker_engine.image_id(ref) == docker_engine.image_id("pharos-test/busybox:2")
    missing = docker_engine.run("pull", registry.image("nope"), check=False)
    assert missing.returncode != 0
    assert "manifest unknown" in missing.stderr


def test_docker_client_against_the_real_engine(docker_engine, registry):
    env = dict(docker_engine.env,
               PHAROS_TEST_REGISTRY=registry.address,
               PHAROS_TEST_IMAGE="pharos-test/busybox:1")
    proc = subprocess.Popen([str(_itest_binary())], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("docker_client_itest timed out:\n" + out)
    assert proc.returncode == 0, out
    assert "Status: SUCCESS" in out
    # It removes what it created (labelled with its pid).
    label = f"io.pharos.itest={proc.pid}"
    assert docker_engine.containers(label) == []
    assert docker_engine.networks(label) == []
    assert docker_engine.volumes(label) == []
