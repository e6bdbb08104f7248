"""Browser tests of the web UI in headless Chromium, against the real broker serving the UI
from its WebSocket listener (http_dir), and the real anchor and agent when they are built.

The tests themselves are tests/browser/run_tests.mjs (playwright-core driving Debian's
/usr/bin/chromium); this suite starts what they talk to, installs their npm packages
(`npm ci`, pinned in tests/browser/package-lock.json) when missing, runs them and fails when
any of them fails. Screenshots of every view go to build/artifacts/web-ui/.
"""
import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

from cli_support import AnchorProcess
from harness import binaries

ROOT = pathlib.Path(__file__).resolve().parents[2]
BROWSER_DIR = ROOT / "tests" / "browser"
WEB_UI_DIR = ROOT / "web-ui"
ARTIFACTS = ROOT / "build" / "artifacts" / "web-ui"
CHROMIUM = "/usr/bin/chromium"


def npm_ci(directory: pathlib.Path):
    """Installs a package's pinned dependencies unless node_modules is newer than the lock."""
    modules = directory / "node_modules"
    lock = directory / "package-lock.json"
    if modules.is_dir() and modules.stat().st_mtime >= lock.stat().st_mtime:
        return
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: run tools/setup.sh")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=directory, check=True,
                   capture_output=True, timeout=600)
    modules.touch()


def build_bundle():
    """Builds web-ui/dist/ (one script, one stylesheet) with the pinned esbuild, as
    tools/setup.sh and tools/run.sh do, so the suite tests the page operators get."""
    subprocess.run(["npm", "run", "--silent", "build"], cwd=WEB_UI_DIR, check=True,
                   capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def browser_env():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install the chromium package (tools/deps.txt)")
    npm_ci(WEB_UI_DIR)
    npm_ci(BROWSER_DIR)
    build_bundle()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def run_browser_tests(env_extra: dict, timeout: int = 600) -> str:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in env_extra.items()})
    env["PHAROS_ARTIFACTS"] = str(ARTIFACTS)
    proc = subprocess.run(["node", "run_tests.mjs"], cwd=BROWSER_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    print(output)
    assert proc.returncode == 0, f"browser tests failed:\n{output}"
    return output


def ui_env(broker) -> dict:
    operator = broker.credentials("ops")
    viewer = broker.credentials("viewer")
    anchor = broker.credentials("anchor")
    return {
        "PHAROS_UI_URL": f"http://{broker.host}:{broker.ws_port}/",
        "PHAROS_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
        "PHAROS_OPERATOR": ":".join(operator),
        "PHAROS_VIEWER": ":".join(viewer),
        "PHAROS_PUBLISHER": ":".join(anchor),
    }


def find_binary(name: str):
    try:
        return binaries.binary(name)
    except (FileNotFoundError, RuntimeError):
        return None


class Processes:
    """Pharos processes started for one test; killed (and reaped) at the end."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None):
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
        log.close()
        self.procs.append((name, proc))
        return proc

    def logs(self) -> str:
        out = []
        for name, _ in self.procs:
            path = self.workdir / f"{name}.log"
            if path.exists():
                out.append(f"--- {name} ---\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def stop(self):
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes(tmp_path):
    p = Processes(tmp_path)
    yield p
    p.stop()


def start_agent(processes, broker, node, host, workdir: pathlib.Path):
    user, password = broker.add_agent(node)
    state = workdir / node
    state.mkdir(parents=True, exist_ok=True)
    return processes.start(f"agent-{node}", [
        str(binaries.binary("pharos-agent")), "--node-id", node,
        "--broker-url", f"tcp://{broker.host}:{broker.port}", "--username", user,
        "--password", password, "--docker-host", host, "--state-file", str(state / "state.json"),
        "--data-dir", str(state), "--metrics-interval", "2", "--pull-jitter", "0",
        "--label", "site=test", "--label", f"role={node}"])


def test_ui_modules_unit_tests():
    """The UI's pure modules (store, topics) under node's test runner: hermetic, no browser."""
    proc = subprocess.run(["node", "--import", "./unit/register.mjs", "--test",
                           "unit/store_test.mjs", "unit/console_test.mjs",
                           "unit/staged_test.mjs"], cwd=BROWSER_DIR,
                          capture_output=True,
                          text=True, timeout=120)
    print(proc.stdout[-3000:] + proc.stderr[-3000:])
    assert proc.returncode == 0
    assert "# fail 0" in proc.stdout


def test_ui_is_served_by_the_broker_websocket_listener(broker, browser_env):
    import urllib.request
    with urllib.request.urlopen(f"http://{broker.host}:{broker.ws_port}/index.html",
                                timeout=5) as r:
        assert b"js/boot.js" in r.read()
    with urllib.request.urlopen(
            f"http://{broker.host}:{broker.ws_port}/node_modules/mqtt/dist/mqtt.esm.js",
            timeout=5) as r:
        assert len(r.read()) > 100_000


def test_login_and_viewer_against_the_broker(broker, browser_env):
    """Against the broker alone: the page loads, a wrong password is refused, an operator
    logs in, a viewer finds every change control disabled and the broker refuses a change
    made with the viewer's identity."""
    output = run_browser_tests({
        **ui_env(broker),
        "PHAROS_ONLY": ",".join([
            "login_page_loads_modules_from_broker",
            "operator_logs_in_and_sees_fleet",
            "viewer_sees_controls_disabled_and_broker_refuses_changes",
        ]),
    })
    assert "3 passed, 0 failed" in output


def test_staged_rollout_view(broker, browser_env):
    """A staged rollout summary (published retained with the anchor's identity) on the app
    page: waves, the gate per node, soak time left, the commands its phase allows; redrawn
    live when the rollout is rolled back."""
    output = run_browser_tests({**ui_env(broker),
                                "PHAROS_ONLY": "staged_rollout_view_shows_waves_gate_and_commands"})
    assert "1 passed, 0 failed" in output


def test_fleet_view_with_2000_nodes(broker, browser_env):
    """2,000 simulated nodes' retained info/status/health/desired/state and a round of
    metrics (published with the anchor's identity): the fleet view renders them all, stays
    virtualised, and shows a health change within 1 s (measured in the page). Needs the
    broker to pass the burst of retained messages to a WebSocket client
    (max_queued_messages above ~5 per node)."""
    output = run_browser_tests({
        **ui_env(broker),
        "PHAROS_ONLY": "fleet_view_handles_2000_nodes_and_shows_health_change_within_1s",
    })
    assert "1 passed, 0 failed" in output


def test_fleet_with_real_agents_anchor_and_deploy(broker, browser_env, processes, tmp_path,
                                                  docker_engine, registry):
    """Against the real agents and Docker Engine (and the anchor when built): a node turns
    NotReady in the UI when its agent is killed; with the anchor: a group created and filled
    from the fleet table, nested in another group (the tree shows it, a cycle is refused,
    taken out again), a compose file deployed to it (its image pulled from the loopback
    registry) watched until the rollout runs, then updated, rolled back from its history,
    stopped, started and removed; a broken compose file refused with the error at its line."""
    if find_binary("pharos-agent") is None:
        pytest.skip("pharos-agent is not built")
    suffix = uuid.uuid4().hex[:6]
    deploy_node, kill_node = f"webui-a{suffix}", f"webui-b{suffix}"
    anchor_bin = find_binary("pharos-anchor")
    env = ui_env(broker)
    anchor = None
    if anchor_bin is not None:
        anchor = AnchorProcess(anchor_bin, broker, tmp_path / "anchor").start()
        env["PHAROS_ANCHOR"] = "1"
        env["PHAROS_TEST_IMAGE"] = registry.image("1")
        env["PHAROS_TEST_IMAGE2"] = registry.image("2")
    start_agent(processes, broker, deploy_node, docker_engine.host, tmp_path)
    victim = start_agent(processes, broker, kill_node, docker_engine.host, tmp_path)
    env.update({"PHAROS_DEPLOY_NODE": deploy_node, "PHAROS_KILL_NODE": kill_node,
                "PHAROS_KILL_PID": victim.pid})
    try:
        output = run_browser_tests({
            **env,
            "PHAROS_ONLY": ",".join([
                "operator_logs_in_and_sees_fleet",
                "node_turns_notready_when_its_agent_is_killed",
                "operator_creates_group_and_adds_node",
                "operator_nests_groups_and_sees_the_tree",
                "operator_deploys_to_group_and_watches_rollout_reach_running",
                "operator_updates_rolls_back_stops_starts_and_removes_the_app",
                "broken_compose_error_is_shown_at_its_line",
                "viewer_sees_controls_disabled_and_broker_refuses_changes",
            ]),
        }, timeout=800)
    except AssertionError:
        print(processes.logs())
        if anchor is not None:
            print(f"--- anchor ---\n{anchor.log()[-6000:]}")
        raise
    finally:
        processes.stop()
        if anchor is not None:
            anchor.stop()
        for node in (deploy_node, kill_node):
            docker_engine.cleanup(f"io.pharos.node={node}")
    expected = "8 passed, 0 failed" if anchor_bin is not None else "3 passed, 0 failed"
    assert expected in output
