"""The three-level example (examples/levels, docs/levels.md) works as printed.

`tools/run.sh --levels` starts a site broker with the anchor, two bridged line brokers and one
agent per line, each agent with its own private Docker Engine (its "device"), into which the
example images are built. The test runs what it prints, literally: `pharosctl ... nodes`,
`pharosctl ... deploy -f examples/hello/compose.yml --group plant --wait`, the `docker ps`
of press-a1's engine and the `curl` of its web server, then `examples/levels/stop.sh`.

It does so after the plain quick start's leftovers: a running `hello` app (containers
`hello_web_1`, `hello_worker_1`, web port 8080) on the engine DOCKER_HOST names, which blocked
the example when both line agents shared that engine. That engine is a private one of the
test (so a concurrent quick start on the shared engine is not disturbed). Differences from a
person's run, through the documented environment: a private state directory
(PHAROS_LEVELS_DIR), free broker ports (SITE_PORT, ...), the already built binaries.
"""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

from harness.binaries import ROOT, build_dir
from harness.broker import free_port
from test_agent import wait_until


def sh(args, env, timeout=600, shell=False):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT, shell=shell, executable="/bin/bash" if shell else None)


def quick_start_leftovers(engine, env):
    """A running `hello` app as the plain quick start leaves it after tools/stop.sh."""
    images = sh([str(ROOT / "tools" / "example-images.sh")], env)
    assert images.returncode == 0, images.stderr
    up = sh(["docker-compose", "-p", "hello", "-f", str(ROOT / "examples/hello/compose.yml"),
             "up", "-d"], dict(env, PHAROS_NODE_ID="local"))
    assert up.returncode == 0, up.stdout + up.stderr
    assert engine.inspect("hello_web_1")["State"]["Running"]


def test_levels_example_runs_as_printed_after_the_quick_start(pharos_bin, private_engines):
    for name in ("pharos-anchor", "pharos-agent", "pharosctl"):
        pharos_bin(name)
    machine = private_engines()  # stands for this machine's own engine
    base = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    quick_start_leftovers(machine, dict(base, DOCKER_HOST=machine.host))

    levels_dir = pathlib.Path(tempfile.mkdtemp(prefix="pharos-lv-", dir="/tmp"))
    os.chmod(levels_dir, 0o755)  # the brokers drop privileges to user mosquitto
    env = dict(base, DOCKER_HOST=machine.host, PHAROS_LEVELS_DIR=str(levels_dir),
               PHAROS_SKIP_SETUP="1", PHAROS_SKIP_BUILD="1", PHAROS_BUILD_DIR=str(build_dir()),
               SITE_PORT=str(free_port()), SITE_WS_PORT=str(free_port()),
               LINE_A_PORT=str(free_port()), LINE_B_PORT=str(free_port()),
               LINE_A_WS_PORT=str(free_port()), LINE_B_WS_PORT=str(free_port()))
    stop = ROOT / "examples" / "levels" / "stop.sh"
    try:
        r = sh([str(ROOT / "tools" / "run.sh"), "--levels"], env, timeout=600)
        logs = "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                       for p in (levels_dir / "logs").glob("*.log"))
        assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{logs}"
        printed = r.stdout.splitlines()
        tries = [line.strip() for line in printed[printed.index("Try:") + 1:]
                 if line.startswith("  ")]
        ctl_nodes = next(t for t in tries if " nodes" in t).split(";")[0]
        deploy = next(t for t in tries if "deploy -f" in t)
        assert deploy.endswith("deploy -f " + str(ROOT / "examples/hello/compose.yml") +
                               " --group plant --wait"), deploy

        nodes = sh(ctl_nodes, env, shell=True, timeout=60)
        assert nodes.returncode == 0 and "press-a1" in nodes.stdout and \
            "press-b1" in nodes.stdout, nodes.stdout + nodes.stderr
        rolled = sh(deploy, env, shell=True, timeout=400)
        agent_logs = "".join(
            (levels_dir / "logs" / f"agent-{x}.log").read_text(errors="replace")[-3000:]
            for x in "ab")
        assert rolled.returncode == 0, f"{rolled.stdout}\n{rolled.stderr}\n{agent_logs}"
        assert "is running on 2 of 2 targets" in rolled.stdout, rolled.stdout

        ps = next(t for t in tries if "docker ps" in t)
        curl = next(t for t in tries if " curl " in t)
        listed = sh(ps, env, shell=True, timeout=60)
        assert listed.returncode == 0 and "hello_web_1" in listed.stdout, \
            listed.stdout + listed.stderr
        greeting = wait_until(lambda: sh(curl, env, shell=True, timeout=30).stdout.strip(), 30,
                              what="press-a1's web server")
        assert "press-a1" in greeting, greeting
        # The quick start's app on the machine's engine was never touched.
        assert machine.inspect("hello_web_1")["State"]["Running"]

        engines = re.findall(r"engine (unix://\S+)", r.stdout)
        assert len(engines) == 2 and machine.host not in engines, engines
        down = sh([str(stop)], env, timeout=300)
        assert down.returncode == 0, down.stderr
        assert "stopped the engine of line-a" in down.stdout, down.stdout
        for host in engines:
            assert not os.path.exists(host[len("unix://"):]) or \
                sh(["docker", "-H", host, "info"], env, timeout=30).returncode != 0
        assert not list((levels_dir / "pids").iterdir())
    finally:
        sh([str(stop)], env, timeout=300)
        for x in "ab":  # the engines' overlay mounts must go before their folders can
            for line in pathlib.Path("/proc/mounts").read_text().splitlines():
                mount = line.split()[1]
                if mount.startswith(str(levels_dir / f"engine-{x}")):
                    subprocess.run(["umount", "-l", mount], capture_output=True)
        shutil.rmtree(levels_dir, ignore_errors=True)
