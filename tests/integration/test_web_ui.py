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

import pytest

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


@pytest.fixture(scope="module")
def browser_env():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install the chromium package (tools/deps.txt)")
    npm_ci(WEB_UI_DIR)
    npm_ci(BROWSER_DIR)
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


def test_ui_is_served_by_the_broker_websocket_listener(broker, browser_env):
    import urllib.request
    with urllib.request.urlopen(f"http://{broker.host}:{broker.ws_port}/index.html",
                                timeout=5) as r:
        assert b"js/boot.js" in r.read()
    with urllib.request.urlopen(
            f"http://{broker.host}:{broker.ws_port}/node_modules/mqtt/dist/mqtt.esm.js",
            timeout=5) as r:
        assert len(r.read()) > 100_000


def test_login_viewer_and_2000_node_fleet(broker, browser_env):
    """Against the broker alone: login (and a refused one), the viewer's disabled controls
    and refused change, and 2,000 simulated nodes with a health change shown within 1 s."""
    output = run_browser_tests({
        **ui_env(broker),
        "PHAROS_ONLY": ",".join([
            "login_page_loads_modules_from_broker",
            "operator_logs_in_and_sees_fleet",
            "viewer_sees_controls_disabled_and_broker_refuses_changes",
            "fleet_view_handles_2000_nodes_and_shows_health_change_within_1s",
        ]),
    })
    assert "4 passed, 0 failed" in output
