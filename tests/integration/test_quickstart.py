"""The quick start, followed literally (README, docs/quickstart.md), against the real
Mosquitto, pharos-anchor, pharos-agent and Docker Engine:

  tools/run.sh                                   (second run: "already running")
  pharosctl group create line1
  pharosctl group add line1 <node>
  pharosctl deploy -f examples/hello/compose.yml --group line1 --wait
  a staged update (--waves <node>,100% --soak 10s --wait), then a broken revision
  (--var INTERVAL=5s ... --on-failure rollback --wait: exit 4, back on the good revision)
  export DOCKER_HOST=...; docker ps              (as printed: the app's containers run)
  docker kill <web container>                    (the agent starts it again: Docker does not)
  stop the agent                                 (nodes ls reports NotReady)
  tools/stop.sh

Differences from a person's run, all through run.sh's documented environment: a private
state directory (PHAROS_RUN_DIR) and free ports (PHAROS_MQTT_PORT, PHAROS_WS_PORT) so it
cannot collide with a running system, a unique node id, the already built binaries
(PHAROS_SKIP_BUILD=1, PHAROS_BUILD_DIR), HELLO_PORT for the example's web port, and the
Docker Engine of the test session (harness docker_engine: DOCKER_HOST).
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import urllib.request
import uuid

import pytest

from harness.binaries import ROOT, build_dir
from harness.broker import free_port, wait_until


def sh(*args, env=None, timeout=600, check=False):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                       timeout=timeout, cwd=ROOT)
    if check:
        assert r.returncode == 0, f"{args}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture
def quickstart(pharos_bin, docker_engine):
    for name in ("pharos-anchor", "pharos-agent", "pharosctl"):
        pharos_bin(name)  # fails clearly when a binary is not built
    host = docker_engine.host
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-quickstart-"))
    os.chmod(run_dir, 0o755)  # the broker drops privileges to user mosquitto
    node = f"qs-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    env.update(DOCKER_HOST=host, PHAROS_RUN_DIR=str(run_dir),
               PHAROS_MQTT_PORT=str(free_port()), PHAROS_WS_PORT=str(free_port()),
               PHAROS_NODE_ID=node, PHAROS_SKIP_BUILD="1", PHAROS_BUILD_DIR=str(build_dir()),
               HOME=str(run_dir))
    state = {"env": env, "run_dir": run_dir, "node": node, "host": host}
    yield state
    sh(ROOT / "tools" / "stop.sh", env=env, timeout=120)
    docker_engine.cleanup(f"io.pharos.node={node}")
    # The app's network and volume (named after the app, not the node) once nothing uses them.
    for net in docker_engine.networks("com.docker.compose.project=hello"):
        docker_engine.run("network", "rm", net, check=False)
    for volume in docker_engine.volumes("com.docker.compose.project=hello"):
        docker_engine.run("volume", "rm", volume, check=False)
    shutil.rmtree(run_dir, ignore_errors=True)


def ctl(state, *args, timeout=300):
    env = dict(state["env"], PHAROS_CONFIG=str(state["run_dir"] / "pharosctl.conf"))
    return sh(build_dir() / "cli" / "pharosctl", *args, env=env, timeout=timeout)


def containers(state):
    """{service: (id, state)} of the hello app's containers on the engine."""
    out = sh("docker", "-H", state["host"], "ps", "-a", "--filter",
             f"label=io.pharos.node={state['node']}", "--filter",
             "label=com.docker.compose.project=hello", "--format",
             '{{.ID}} {{.State}} {{.Label "com.docker.compose.service"}}', check=True).stdout
    result = {}
    for line in out.splitlines():
        cid, st, service = line.split()
        result[service] = (cid, st)
    return result


def test_quickstart(quickstart):
    env, run_dir, node = quickstart["env"], quickstart["run_dir"], quickstart["node"]

    # tools/run.sh: everything in the background, a summary with how to log in.
    r = sh(ROOT / "tools" / "run.sh", env=env, timeout=900)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n" + "".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
        for p in (run_dir / "logs").glob("*.log"))
    assert "Pharos is running" in r.stdout
    assert f"http://127.0.0.1:{env['PHAROS_WS_PORT']}/" in r.stdout
    assert "ops.password" in r.stdout
    assert "pharosctl deploy -f examples/hello/compose.yml --group line1 --wait" in r.stdout
    # The summary says which engine to point `docker` at (run.sh may have started its own).
    exports = [line.split("#")[0].strip() for line in r.stdout.splitlines()
               if line.strip().startswith("export DOCKER_HOST=")]
    assert exports == [f"export DOCKER_HOST={quickstart['host']}"], r.stdout
    for name in ("broker", "anchor", "agent"):
        assert (run_dir / "pids" / name).exists()
    assert (run_dir / "credentials" / "ops.password").stat().st_mode & 0o077 == 0

    again = sh(ROOT / "tools" / "run.sh", env=env, timeout=120)
    assert again.returncode == 0 and "already running" in again.stdout

    # The web UI is served by the broker's WebSocket listener.
    with urllib.request.urlopen(f"http://127.0.0.1:{env['PHAROS_WS_PORT']}/", timeout=10) as page:
        assert page.status == 200

    # The three commands of the quick start.
    r = ctl(quickstart, "group", "create", "line1")
    assert r.returncode == 0, r.stderr
    r = ctl(quickstart, "group", "add", "line1", node)
    assert r.returncode == 0, r.stderr
    web_port = free_port()
    r = ctl(quickstart, "deploy", "-f", "examples/hello/compose.yml", "--group", "line1",
            "--var", f"HELLO_PORT={web_port}", "--wait", "--timeout", "4m")
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n" + \
        (run_dir / "logs" / "agent.log").read_text(errors="replace")[-4000:]
    assert "rolled out: app hello revision 1 is running on 1 of 1 targets" in r.stdout

    # docker ps shows both services running, and the web server greets with the node id.
    shell = f"{exports[0]}; docker ps --filter label=com.docker.compose.project=hello"
    ps = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60,
                        env={k: v for k, v in env.items() if k != "DOCKER_HOST"})
    assert ps.returncode == 0 and "hello_web_1" in ps.stdout, ps.stdout + ps.stderr
    running = containers(quickstart)
    assert set(running) == {"web", "worker"}, running
    assert all(st == "running" for _, st in running.values()), running
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/hello.txt", timeout=10) as page:
        assert page.read().decode().strip() == f"Hello from {node}"

    r = ctl(quickstart, "apps", "ls")
    assert r.stdout.splitlines()[1].split()[:4] == ["hello", "group/line1", "1", "running"]

    # A staged update (docs/quickstart.md): the canary, a soak, then the whole group; then a
    # deliberately broken revision (INTERVAL=5s: the worker exits 1) that rolls itself back.
    staged = ["--waves", f"{node},100%", "--soak", "10s", "--timeout", "4m"]
    hello = ["deploy", "-f", "examples/hello/compose.yml", "--group", "line1",
             "--var", f"HELLO_PORT={web_port}", "--var", "GREETING=Hi"]
    r = ctl(quickstart, *hello, *staged, "--wait")
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert "wave 2/2: complete" in r.stdout, r.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/hello.txt", timeout=10) as page:
        assert page.read().decode().strip() == f"Hi from {node}"
    good = containers(quickstart)
    r = ctl(quickstart, *hello, "--var", "INTERVAL=5s", *staged, "--on-failure", "rollback",
            "--wait")
    assert r.returncode == 4, f"{r.stdout}\n{r.stderr}"
    assert "rolled_back" in r.stdout, r.stdout
    app = json.loads(ctl(quickstart, "app", "get", "hello", "-o", "json").stdout)
    assert app["revision"] == 2 and app["rollout"]["staged"]["phase"] == "rolled_back", app
    assert wait_until(lambda: all(st == "running" for _, st in containers(quickstart).values()),
                      60), containers(quickstart)
    assert containers(quickstart)["web"] == good["web"], "the rollback touched the web server"
    r = ctl(quickstart, "app", "history", "hello")
    assert r.returncode == 0 and r.stdout.count("\n") >= 4, r.stdout
    running = containers(quickstart)

    # A rollout that cannot succeed (an image no registry has: the pull goes to a closed
    # loopback port) ends --wait with exit 4 and the node's message.
    broken = run_dir / "broken.yml"
    broken.write_text("services:\n  app:\n    image: 127.0.0.1:9/pharos-missing/app:1\n")
    r = ctl(quickstart, "deploy", "-f", str(broken), "--node", node, "--name", "broken",
            "--wait", "--timeout", "2m")
    assert r.returncode == 4, f"{r.stdout}\n{r.stderr}"
    assert "rollout failed: app broken revision 1 failed on 1 of 1 targets" in r.stdout
    assert f"  {node}: " in r.stdout
    assert ctl(quickstart, "app", "rm", "broken").returncode == 0

    # A killed container comes back: `docker kill` counts as a manual stop, so Docker does not
    # restart it (restart: unless-stopped); the agent starts the same container again.
    web_id, _ = running["web"]
    sh("docker", "-H", quickstart["host"], "kill", web_id, check=True)
    assert wait_until(lambda: containers(quickstart).get("web", ("", ""))[1] == "running", 60), \
        containers(quickstart)
    assert containers(quickstart)["web"][0] == web_id

    def restarted_by_agent():
        out = ctl(quickstart, "events", "--app", "hello", "--kind", "container_restarted",
                  "-o", "json").stdout
        return "Docker stopped restarting it" in out and '"web"' in out
    assert wait_until(restarted_by_agent, 20), ctl(quickstart, "events", "--app", "hello").stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/hello.txt", timeout=10) as page:
        assert page.status == 200

    # Stopping the agent: the node turns NotReady; its apps keep running.
    agent_pid = int((run_dir / "pids" / "agent").read_text())
    os.kill(agent_pid, signal.SIGTERM)
    assert wait_until(lambda: not os.path.exists(f"/proc/{agent_pid}"), 30)

    def health():
        out = ctl(quickstart, "nodes", "ls", "-o", "json").stdout
        return {n["name"]: n["health"] for n in json.loads(out)["nodes"]} if out else {}

    assert wait_until(lambda: health().get(node) == "NotReady", 20), health()
    r = ctl(quickstart, "nodes", "ls")
    row = [line for line in r.stdout.splitlines() if line.startswith(node)][0]
    assert row.split()[1] == "NotReady"
    assert containers(quickstart)["worker"][1] == "running"

    # tools/stop.sh stops the rest.
    r = sh(ROOT / "tools" / "stop.sh", env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    for name in ("anchor", "broker"):
        assert not (run_dir / "pids" / name).exists()
    assert ctl(quickstart, "--request-timeout", "1s", "nodes", "ls").returncode == 5
