"""pharosctl against the real Mosquitto and the real pharos-anchor: output formats (tables,
-o json), and the exit codes scripts rely on — 5 for an unreachable broker (a closed port)
or a silent anchor, 6 for a refused login or a forbidden operation, 3 for not found,
2 for usage errors, 1 for other refusals, 4 for a rollout that does not finish.

Nodes are simulated with plain MQTT clients logged in as agents n1/n2 (status + info), so
these tests need no Docker Engine; tests/integration/test_quickstart.py runs a real agent.
"""
import json
import os
import subprocess
import time

import pytest

from harness.broker import free_port, wait_until
from cli_support import AnchorProcess, node_online


def ctl(pharos_bin, *args, broker=None, user="ops", password=None, env=None, timeout=60,
        input=None):
    """Runs pharosctl; returns CompletedProcess (text)."""
    cmd = [str(pharos_bin("pharosctl"))]
    if broker is not None:
        cmd += ["--broker", broker.url]
    if user is not None:
        cmd += ["--user", user]
    if password is None and broker is not None and user is not None:
        password = broker.credentials(user)[1]
    if password is not None:
        cmd += ["--password", password]
    cmd += list(args)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    full_env["HOME"] = "/nonexistent"  # no user config file
    full_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                          input=input)


@pytest.fixture
def anchor(broker, pharos_bin, tmp_path):
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor")
    proc.start()
    yield proc
    proc.stop()


# ---- without an anchor -------------------------------------------------------------------

def test_unreachable_broker_is_exit_5_with_a_clear_message(pharos_bin):
    port = free_port()  # nothing listens there
    r = ctl(pharos_bin, "--broker", f"tcp://127.0.0.1:{port}", "--password", "x", "nodes", "ls")
    assert r.returncode == 5, r.stderr
    assert f"cannot reach the broker at tcp://127.0.0.1:{port}" in r.stderr
    assert r.stdout == ""


def test_wrong_password_is_exit_6(broker, pharos_bin):
    r = ctl(pharos_bin, "nodes", "ls", broker=broker, password="not-the-password")
    assert r.returncode == 6, r.stderr
    assert "refused the login of user 'ops'" in r.stderr


def test_unknown_user_is_exit_6(broker, pharos_bin):
    r = ctl(pharos_bin, "nodes", "ls", broker=broker, user="nobody", password="x")
    assert r.returncode == 6, r.stderr


def test_silent_anchor_is_exit_5_after_the_request_timeout(broker, pharos_bin):
    t0 = time.monotonic()
    r = ctl(pharos_bin, "--request-timeout", "1s", "groups", "ls", broker=broker)
    assert r.returncode == 5, r.stderr
    assert "the anchor did not answer within 1 s (is pharos-anchor running?)" in r.stderr
    assert time.monotonic() - t0 < 10


def test_usage_errors_are_exit_2_and_send_nothing(pharos_bin):
    for args in (["frobnicate"], ["node", "get"], ["group", "create", "Bad Name"],
                 ["deploy", "-f", "/nonexistent.yml", "--node", "n1"], ["nodes", "ls", "--health", "x"]):
        r = ctl(pharos_bin, "--broker", "tcp://127.0.0.1:1", "--password", "x", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("error:") or "Run 'pharosctl" in r.stderr, r.stderr


def test_help_documents_exit_codes(pharos_bin):
    r = ctl(pharos_bin, "--help", user=None)
    assert r.returncode == 0
    for line in ("0  success", "3  not found", "5  broker unreachable", "6  login refused"):
        assert line in r.stdout
    r = ctl(pharos_bin, "deploy", "--help", user=None)
    assert r.returncode == 0 and "Examples:" in r.stdout


def test_settings_come_from_env_and_config_file(broker, pharos_bin, tmp_path):
    user, password = broker.credentials("ops")
    pw_file = tmp_path / "pw"
    pw_file.write_text(password + "\n")
    conf = tmp_path / "pharosctl.conf"
    conf.write_text(f"broker = {broker.url}\nuser = {user}\npassword_file = {pw_file}\n"
                    "request_timeout = 1s\n")
    # The config file alone: login accepted, so the silent anchor gives 5 (not 6).
    r = ctl(pharos_bin, "groups", "ls", user=None, env={"PHAROS_CONFIG": str(conf)})
    assert r.returncode == 5 and "did not answer within 1 s" in r.stderr, r.stderr
    # The environment beats the file: a wrong password from PHAROS_PASSWORD is refused.
    r = ctl(pharos_bin, "groups", "ls", user=None,
            env={"PHAROS_CONFIG": str(conf), "PHAROS_PASSWORD": "wrong"})
    assert r.returncode == 6, r.stderr
    # A flag beats the environment.
    r = ctl(pharos_bin, "--password", password, "groups", "ls", user=None,
            env={"PHAROS_CONFIG": str(conf), "PHAROS_PASSWORD": "wrong"})
    assert r.returncode == 5, r.stderr


# ---- with the anchor ---------------------------------------------------------------------

def test_groups_tables_and_json(broker, anchor, pharos_bin):
    r = ctl(pharos_bin, "group", "create", "site", broker=broker)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok: group site created\n"
    assert ctl(pharos_bin, "group", "create", "line1", "--parent", "site",
               broker=broker).returncode == 0

    r = ctl(pharos_bin, "groups", "ls", broker=broker)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PARENT", "NODES", "GROUPS", "APPS"]
    assert lines[1].split()[:2] == ["line1", "site"]
    assert lines[2].split()[0] == "site"
    # Aligned: every row starts its second column at the header's offset.
    offset = lines[0].index("PARENT")
    assert all(line[offset - 3:offset] == "   " for line in lines[1:])
    assert "\x1b[" not in r.stdout  # not a terminal: no colours

    r = ctl(pharos_bin, "groups", "ls", "-o", "json", broker=broker)
    assert r.returncode == 0
    names = [g["name"] for g in json.loads(r.stdout)["groups"]]
    assert names == ["line1", "site"]

    r = ctl(pharos_bin, "group", "get", "line1", "-o", "json", broker=broker)
    got = json.loads(r.stdout)
    assert got["name"] == "line1" and got["parents"] == ["site"]


def test_group_get_draws_the_tree_and_nesting_is_edited(broker, anchor, pharos_bin):
    node_online(broker, "n1")
    assert wait_until(lambda: ctl(pharos_bin, "node", "get", "n1", broker=broker).returncode == 0,
                      20, 0.3)
    for args in (["group", "create", "plant"], ["group", "create", "line-a"],
                 ["group", "create", "cell", "--parent", "line-a"], ["group", "add", "cell", "n1"],
                 ["group", "add", "plant", "--group", "line-a"]):
        r = ctl(pharos_bin, *args, broker=broker)
        assert r.returncode == 0, (args, r.stderr)
    r = ctl(pharos_bin, "group", "get", "plant", broker=broker)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("plant/\n└── line-a/\n    └── cell/\n        └── n1\n"), r.stdout
    r = ctl(pharos_bin, "group", "get", "cell", broker=broker)
    assert "Ancestors:  plant > line-a > cell\n" in r.stdout, r.stdout
    r = ctl(pharos_bin, "group", "get", "plant", "--depth", "1", broker=broker)
    assert "    └── … (more below: pharosctl group get line-a [--depth N])\n" in r.stdout, r.stdout
    # A cycle is refused (exit 1) naming the path; unnesting empties the tree.
    r = ctl(pharos_bin, "group", "add", "cell", "--group", "plant", broker=broker)
    assert r.returncode == 1 and "plant > line-a > cell > plant" in r.stderr, r.stderr
    r = ctl(pharos_bin, "group", "remove", "plant", "--group", "line-a", broker=broker)
    assert r.returncode == 0, r.stderr
    r = ctl(pharos_bin, "group", "get", "plant", "-o", "json", broker=broker)
    got = json.loads(r.stdout)
    assert got["tree"] == {"name": "plant", "nodes": [], "apps": [], "groups": []}, got
    assert ctl(pharos_bin, "group", "get", "cell", "-o", "json",
               broker=broker).stdout.count("plant") == 0


def test_lists_page_with_limit_and_cursor(broker, anchor, pharos_bin):
    for name in ("a1", "a2", "a3"):
        assert ctl(pharos_bin, "group", "create", name, broker=broker).returncode == 0
    r = ctl(pharos_bin, "groups", "ls", "--limit", "2", broker=broker)
    assert r.returncode == 0
    assert [line.split()[0] for line in r.stdout.splitlines()[1:3]] == ["a1", "a2"]
    assert "(more results: add --cursor a2)" in r.stdout
    r = ctl(pharos_bin, "groups", "ls", "--cursor", "a2", "-o", "json", broker=broker)
    assert [g["name"] for g in json.loads(r.stdout)["groups"]] == ["a3"]
    # Without --limit every page is fetched and merged.
    r = ctl(pharos_bin, "groups", "ls", "-o", "json", broker=broker)
    assert [g["name"] for g in json.loads(r.stdout)["groups"]] == ["a1", "a2", "a3"]


def test_not_found_is_exit_3(broker, anchor, pharos_bin):
    for args in (["group", "get", "nope"], ["app", "get", "nope"], ["node", "get", "nope"],
                 ["app", "history", "nope"]):
        r = ctl(pharos_bin, *args, broker=broker)
        assert r.returncode == 3, (args, r.stderr)
        assert "(not_found)" in r.stderr


def test_other_refusals_are_exit_1(broker, anchor, pharos_bin):
    assert ctl(pharos_bin, "group", "create", "g1", broker=broker).returncode == 0
    r = ctl(pharos_bin, "group", "create", "g1", broker=broker)
    assert r.returncode == 1, r.stderr
    assert "(already_exists)" in r.stderr


def test_bad_compose_names_file_line_and_column(broker, anchor, pharos_bin, tmp_path):
    assert ctl(pharos_bin, "group", "create", "g1", broker=broker).returncode == 0
    app = tmp_path / "bad.yml"
    app.write_text("services:\n  web:\n    image: x\n    ports: 12\n")
    r = ctl(pharos_bin, "deploy", "-f", str(app), "--group", "g1", "--name", "bad",
            broker=broker)
    assert r.returncode == 1, r.stderr
    assert f"{app}:4:" in r.stderr, r.stderr
    assert "services.web.ports" in r.stderr


def test_viewer_cannot_change_anything(broker, anchor, pharos_bin):
    r = ctl(pharos_bin, "groups", "ls", broker=broker, user="viewer")
    assert r.returncode == 0, r.stderr
    r = ctl(pharos_bin, "group", "create", "g2", broker=broker, user="viewer")
    assert r.returncode == 6, r.stderr


def test_nodes_ls_shows_health_and_watch_prints_changes(broker, anchor, pharos_bin):
    agent = node_online(broker, "n1")
    assert wait_until(lambda: "n1" in ctl(pharos_bin, "nodes", "ls", "--health", "Ready",
                                          broker=broker).stdout, 10)
    r = ctl(pharos_bin, "nodes", "ls", broker=broker)
    assert r.stdout.splitlines()[0].split()[:2] == ["NAME", "HEALTH"]
    row = [line for line in r.stdout.splitlines() if line.startswith("n1 ")][0]
    assert row.split()[1] == "Ready"

    user, password = broker.credentials("ops")
    watch = subprocess.Popen(
        [str(pharos_bin("pharosctl")), "--broker", broker.url, "--user", user, "--password",
         password, "nodes", "ls", "--watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={"HOME": "/nonexistent", "PATH": os.environ.get("PATH", "")})
    try:
        # Wait for the initial table, then kill the simulated agent: its will says NotReady.
        first = watch.stdout.readline()
        assert first.split()[:2] == ["NAME", "HEALTH"], first
        time.sleep(1.0)
        agent.kill()
        deadline = time.monotonic() + 15
        seen = ""
        while time.monotonic() < deadline:
            line = watch.stdout.readline()
            seen += line
            if " n1  NotReady" in line:
                break
        assert " n1  NotReady" in seen, seen
    finally:
        watch.terminate()
        watch.wait(10)
    assert watch.returncode == 0


def test_deploy_wait_times_out_with_exit_4(broker, anchor, pharos_bin, tmp_path):
    node_online(broker, "n1")  # Ready, but never applies anything
    assert ctl(pharos_bin, "group", "create", "g1", broker=broker).returncode == 0
    assert ctl(pharos_bin, "group", "add", "g1", "n1", broker=broker).returncode == 0
    app = tmp_path / "app.yml"
    app.write_text("services:\n  web:\n    image: pharos-example/hello-web:1\n")
    r = ctl(pharos_bin, "deploy", "-f", str(app), "--group", "g1", "--name", "web", "--wait",
            "--timeout", "3s", broker=broker)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "timeout: app web revision 1 not rolled out after 3 s" in r.stdout
    assert "n1:" in r.stdout

    r = ctl(pharos_bin, "apps", "ls", broker=broker)
    assert r.returncode == 0
    assert r.stdout.splitlines()[1].split()[:3] == ["web", "group/g1", "1"]
    r = ctl(pharos_bin, "app", "get", "web", "-o", "json", broker=broker)
    got = json.loads(r.stdout)
    assert got["revision"] == 1 and got["target"] == {"group": "g1"}
    r = ctl(pharos_bin, "app", "history", "web", broker=broker)
    assert r.returncode == 0 and r.stdout.splitlines()[1].split()[0] == "1"
    r = ctl(pharos_bin, "app", "rm", "web", broker=broker)
    assert r.returncode == 0 and r.stdout == "ok: app web removed\n"


def test_staged_deploy_and_rollout_commands(broker, anchor, pharos_bin, tmp_path):
    node_online(broker, "n1")  # Ready, but never applies anything: the canary's gate waits
    node_online(broker, "n2")
    assert ctl(pharos_bin, "group", "create", "g1", broker=broker).returncode == 0
    assert ctl(pharos_bin, "group", "add", "g1", "n1", "n2", broker=broker).returncode == 0
    app = tmp_path / "app.yml"
    app.write_text("services:\n  web:\n    image: pharos-example/hello-web:1\n")
    r = ctl(pharos_bin, "deploy", "-f", str(app), "--group", "g1", "--name", "web", "--waves",
            "n1,200%", broker=broker)
    assert r.returncode == 1 and "strategy.waves[1]" in r.stderr, r.stdout + r.stderr
    r = ctl(pharos_bin, "deploy", "-f", str(app), "--group", "g1", "--name", "web", "--waves",
            "n1,100%", "--soak", "1", "--wait", "--timeout", "3s", broker=broker)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "staged rollout: wave 1 of 2, gating" in r.stdout
    assert "wave 1/2: gating" in r.stdout
    r = ctl(pharos_bin, "rollout", "pause", "web", broker=broker)
    assert r.returncode == 0 and r.stdout == \
        "ok: rollout of app web paused (wave 1 of 2, revision 1)\n", r.stdout + r.stderr
    r = ctl(pharos_bin, "app", "get", "web", broker=broker)
    assert "wave 1 of 2, paused" in r.stdout, r.stdout
    r = ctl(pharos_bin, "app", "stop", "web", broker=broker)
    assert r.returncode == 1 and "promote or abort it first" in r.stderr, r.stderr
    r = ctl(pharos_bin, "rollout", "abort", "web", broker=broker)
    assert r.returncode == 0 and "aborted" in r.stdout, r.stdout + r.stderr
    r = ctl(pharos_bin, "rollout", "resume", "web", broker=broker)
    assert r.returncode == 1 and "the rollout is aborted" in r.stderr, r.stderr
    # The history keeps how revision 1 was rolled out (a first deployment, aborted).
    r = ctl(pharos_bin, "app", "history", "web", broker=broker)
    assert r.returncode == 0 and "ROLLOUT" in r.stdout.splitlines()[0], r.stdout
    assert "staged n1,100%: aborted at wave 1 of 2" in r.stdout, r.stdout


def test_events_query_prints_a_table(broker, anchor, pharos_bin):
    assert ctl(pharos_bin, "group", "create", "g1", broker=broker).returncode == 0
    r = ctl(pharos_bin, "events", "--since", "1h", broker=broker)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("TIME") or r.stdout == "No events.\n"
    r = ctl(pharos_bin, "events", "-o", "json", broker=broker)
    assert isinstance(json.loads(r.stdout)["events"], list)
