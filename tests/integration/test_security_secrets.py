"""Sealed secrets (docs/security.md "Sealed secrets") end to end: the real Mosquitto with the
shipped configuration, the real pharos-anchor, pharosctl and real pharos-agents on the real
Docker Engine.

  - a secret variable and a registry password deployed to a node reach the container's
    environment through the sealed path;
  - a line bridge's identity (the broadest non-anchor identity that may read
    nodes/+/secrets) sees ciphertext only; the ciphertext opens with the device's private
    key and with no other node's key; another node's identity (its stolen password) cannot
    even subscribe to it;
  - the agent's state file and the broker's persistence file (mosquitto.db) hold no secret
    value; neither do the anchor's store and its backups, and a backup holds the anchor's
    secrets key only when asked;
  - rotation: `pharos-agent --rekey` on the device, `pharosctl node rekey --key-id` at the
    anchor; the old key cannot open the new document and the agent keeps its secrets.

The ciphertext is opened here with libsodium through ctypes (crypto_box_seal_open), the
same primitive the agent uses, from the key file the agent created.
"""
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import pathlib
import subprocess
import uuid

import pytest

from harness.broker import wait_until
from harness.security import (Agent, ctl, enrol, node_topic, request_ok, running_anchor,
                              sleep_compose, unique)

import sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))
import dynsec  # noqa: E402

_SODIUM = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _SODIUM.sodium_init() >= 0


def read_key_file(path):
    """(public key, secret key) of an agent key file (one base64 line, 32 bytes)."""
    secret = base64.b64decode(pathlib.Path(path).read_text().strip())
    assert len(secret) == 32
    public = ctypes.create_string_buffer(32)
    assert _SODIUM.crypto_scalarmult_base(public, secret) == 0
    return public.raw, secret


def key_id(public):
    return hashlib.blake2b(public, digest_size=8).hexdigest()


def open_sealed(document, keys):
    """The plaintext JSON of a v2 secrets document opened with `keys`, or None."""
    box = base64.b64decode(document["sealed"])
    public, secret = keys
    out = ctypes.create_string_buffer(len(box) - 48)
    rc = _SODIUM.crypto_box_seal_open(out, box, ctypes.c_ulonglong(len(box)), public, secret)
    return json.loads(out.raw) if rc == 0 else None


@pytest.fixture
def site(broker_factory):
    """The shipped configuration plus line bridge line-a's identity (tools/dynsec.py
    add-bridge), whose role reads every node's secrets document."""
    broker = broker_factory(start=False, operators=("ops",), viewers=("viewer",), agents=())
    broker._creds.update(dynsec.add(broker.data_dir, "bridge", ["line-a"]))
    return broker.start()


@pytest.fixture
def anchor(site, pharos_bin):
    with running_anchor(site, pharos_bin, prefix="pharos-sealed-anchor-") as proc:
        yield proc


def new_agent(pharos_bin, conf, docker_engine):
    return Agent(pharos_bin("pharos-agent"), conf, docker_engine, prefix="pharos-sealed-agent-")


@pytest.fixture
def agents():
    """Agents a test made: stopped, and what they made on the engine removed, after it."""
    made = []
    yield made
    for a in made:
        a.cleanup()


def running(collector, app):
    for m in collector.messages:
        for a in json.loads(m.payload).get("apps", []):
            if a.get("name") == app and a.get("phase") == "Running":
                return True
    return False


def container_env(docker_engine, app):
    ids = docker_engine.containers(label=f"com.docker.compose.project={app}")
    assert ids, f"no container for {app}"
    return docker_engine.inspect(ids[0])["Config"]["Env"]


def has_env(docker_engine, app, entry):
    """Whether a container of the app has `entry` in its environment: none while the agent
    makes it again (the old one removed, the new one not yet created) is a plain no."""
    return any(entry in c["Config"]["Env"]
               for c in docker_engine.inspect_all(f"com.docker.compose.project={app}"))


def latest_secrets(collector, node):
    docs = [json.loads(m.payload) for m in collector.messages
            if m.topic == node_topic(node, "secrets") and m.payload]
    return docs[-1] if docs else None


def files_holding(root, needles):
    """Files under `root` whose bytes contain any of `needles`."""
    hits = []
    for path in pathlib.Path(root).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n.encode() in data for n in needles):
                hits.append(str(path))
    return hits


def test_a_sealed_secret_reaches_the_container_and_only_ciphertext_leaves_the_anchor(
        site, anchor, pharos_bin, docker_engine, registry, agents, tmp_path):
    node, other = unique("sealed"), unique("sealed")
    _, conf = enrol(pharos_bin, site, node, tmp_path)
    _, other_conf = enrol(pharos_bin, site, other, tmp_path)
    ops = site.client("ops")
    bridge = site.client("bridge-line-a", client_id="bridge-line-a")
    bridge_view = bridge.subscribe_collect(node_topic("+", "secrets"))
    assert bridge_view.granted

    agent = new_agent(pharos_bin, conf, docker_engine).start()
    agents.append(agent)
    # Another enrolled device with its own key pair (its agent only makes the key).
    other_agent = new_agent(pharos_bin, other_conf, docker_engine)
    agents.append(other_agent)
    assert other_agent.run("--print-public-key").returncode == 0
    other_keys = read_key_file(other_agent.key_file)

    assert wait_until(lambda: agent.key_file.exists(), 20), agent.log()
    assert oct(os.stat(agent.key_file).st_mode & 0o777) == "0o600"
    keys = read_key_file(agent.key_file)
    assert wait_until(lambda: request_ok(ops, "node.get", {"name": node}).get("key_id")
                      == key_id(keys[0]), 30), agent.log()[-3000:] + anchor.log()[-2000:]

    secret = "s3cr3t-" + uuid.uuid4().hex
    reg_password = "regpw-" + uuid.uuid4().hex
    app = unique("sealed")
    state = ops.subscribe_collect(node_topic(node, "state"))
    request_ok(ops, "registry.set", {"host": registry.address, "username": "puller",
                                     "password": reg_password, "target": {"node": node}})
    request_ok(ops, "app.deploy", {
        "name": app, "target": {"node": node},
        "compose": sleep_compose(registry.image("1"), {"DB_PASSWORD": "${DB_PASSWORD}"}),
        "secrets": {"DB_PASSWORD": secret}})
    assert wait_until(lambda: running(state, app), 120), agent.log()[-4000:]
    # Through the sealed path into the container's environment.
    assert f"DB_PASSWORD={secret}" in container_env(docker_engine, app)

    # The bridge identity sees the document, as ciphertext only.
    assert bridge_view.wait_for(lambda m: m.topic == node_topic(node, "secrets")
                                and b'"sealed"' in m.payload, 10)
    leaks = [m.topic for m in bridge_view.messages
             if secret.encode() in m.payload or reg_password.encode() in m.payload]
    assert not leaks, leaks
    doc = latest_secrets(bridge_view, node)
    assert doc["v"] == 2 and doc["key_id"] == key_id(keys[0])
    # It opens with the device's key (so it is what the agent used) and with no other.
    content = open_sealed(doc, keys)
    assert content["node"] == node and content["variables"]["DB_PASSWORD"] == secret
    assert content["registries"][0]["password"] == reg_password
    assert open_sealed(doc, other_keys) is None
    # Another node's identity (a stolen device password) cannot even subscribe to it.
    thief = site.client(other, client_id=other)
    assert thief.subscribe(node_topic(node, "secrets"))[0] >= 0x80
    thief.close()

    # The agent keeps the sealed form only.
    assert secret not in agent.state_file.read_text()
    assert b'sealed' in agent.state_file.read_bytes()

    # The anchor's store, and a backup of it, hold no secret; the key only when asked.
    assert not files_holding(anchor.data_dir / "store", [secret, reg_password])
    backup = tmp_path / "backup"
    r = subprocess.run([str(pharos_bin("pharos-anchor")), "backup", str(backup), "--data-dir",
                        str(anchor.data_dir / "store")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "does not include the secrets key" in r.stdout + r.stderr
    assert not (backup / "secrets.key").exists()
    assert not files_holding(backup, [secret, reg_password])
    # RocksDB compresses its tables, so a byte search alone proves little there: restored
    # without the key, the backup's secret record does not open (an anchor with another key
    # refuses to start and names it), which a record in the clear would.
    anchor_bin = str(pharos_bin("pharos-anchor"))
    restored = tmp_path / "restored"
    r = subprocess.run([anchor_bin, "restore", str(backup), "--data-dir", str(restored)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no secrets key in the backup" in r.stdout + r.stderr
    r = subprocess.run([anchor_bin, "--data-dir", str(restored), "--broker-url", site.url,
                        "--username", "nobody", "--password", "x"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"secret/{app} cannot be decrypted" in r.stdout + r.stderr, r.stdout + r.stderr
    assert secret not in r.stdout + r.stderr
    with_key = tmp_path / "backup-with-key"
    r = subprocess.run([anchor_bin, "backup", str(with_key), "--include-secrets-key",
                        "--data-dir", str(anchor.data_dir / "store")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "backup includes the secrets key" in r.stdout + r.stderr
    assert oct(os.stat(with_key / "secrets.key").st_mode & 0o777) == "0o600"
    key_bytes = (anchor.data_dir / "store" / "secrets.key").read_bytes()
    assert (with_key / "secrets.key").read_bytes() == key_bytes
    restored_with_key = tmp_path / "restored-with-key"
    r = subprocess.run([anchor_bin, "restore", str(with_key), "--data-dir",
                        str(restored_with_key)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (restored_with_key / "secrets.key").read_bytes() == key_bytes

    # The broker's persistence file: a clean stop writes it; the retained secrets document
    # is in it, sealed, and no secret value is.
    ops.close()
    bridge.close()
    anchor.stop()
    agent.stop()
    site.stop()
    db = (site.data_dir / "mosquitto.db").read_bytes()
    assert node_topic(node, "secrets").encode() in db and b'"sealed"' in db
    assert secret.encode() not in db and reg_password.encode() not in db


def test_rekey_replaces_the_device_key_and_the_old_key_opens_nothing_new(
        site, anchor, pharos_bin, docker_engine, registry, agents, tmp_path):
    node = unique("rekey")
    _, conf = enrol(pharos_bin, site, node, tmp_path)
    ops = site.client("ops")
    bridge = site.client("bridge-line-a", client_id="bridge-line-a")
    seen = bridge.subscribe_collect(node_topic(node, "secrets"))
    agent = new_agent(pharos_bin, conf, docker_engine).start()
    agents.append(agent)
    assert wait_until(lambda: agent.key_file.exists(), 20), agent.log()
    old_keys = read_key_file(agent.key_file)

    app = unique("rekey")
    first = "first-" + uuid.uuid4().hex
    state = ops.subscribe_collect(node_topic(node, "state"))
    compose = sleep_compose(registry.image("1"), {"TOKEN": "${TOKEN}"})
    request_ok(ops, "app.deploy", {"name": app, "target": {"node": node}, "compose": compose,
                                   "secrets": {"TOKEN": first}})
    assert wait_until(lambda: running(state, app), 120), agent.log()[-4000:]
    assert f"TOKEN={first}" in container_env(docker_engine, app)

    # On the device: stop, make a new key pair (the old one is discarded), start again.
    agent.stop()
    r = agent.run("--rekey")
    assert r.returncode == 0, r.stdout + r.stderr
    new_keys = read_key_file(agent.key_file)
    assert new_keys != old_keys and r.stdout.strip() == base64.b64encode(new_keys[0]).decode()
    agent.start()
    # The anchor does not take a changed key from info alone: it waits, and says so.
    assert wait_until(lambda: request_ok(ops, "node.get", {"name": node}).get("pending_key_id")
                      == key_id(new_keys[0]), 30), anchor.log()[-3000:]
    assert latest_secrets(seen, node)["key_id"] == key_id(old_keys[0])
    # The operator accepts the id the device printed; the anchor re-seals to it.
    r = ctl(pharos_bin, site, "node", "rekey", node, "--key-id", key_id(new_keys[0]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert seen.wait_for(lambda m: json.loads(m.payload).get("key_id") == key_id(new_keys[0]),
                         10)
    doc = latest_secrets(seen, node)
    assert open_sealed(doc, old_keys) is None
    assert open_sealed(doc, new_keys)["variables"]["TOKEN"] == first

    # A new secret after the rotation reaches the container through the new key.
    second = "second-" + uuid.uuid4().hex
    request_ok(ops, "app.deploy", {"name": app, "target": {"node": node}, "compose": compose,
                                   "secrets": {"TOKEN": second}})
    assert wait_until(lambda: has_env(docker_engine, app, f"TOKEN={second}"), 120), \
        agent.log()[-4000:]
    assert open_sealed(latest_secrets(seen, node), old_keys) is None
    for name, text in (("anchor", anchor.log()), ("agent", agent.log()),
                       ("broker", site.log())):
        assert first not in text and second not in text, f"secret in the {name} log"
    ops.close()
    bridge.close()
