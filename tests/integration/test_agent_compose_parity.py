"""The agent deploys a compose file exactly as Debian's docker-compose 1.29 does.

Each file of tests/data/compose/parity/ (edge stacks: Node-RED with MQTT, TIG, OPC UA with a
historian, vision inference, a reverse proxy, database-gated apps, a batch job before the
app, a host-network collector, anchors and merge keys, several networks, every kind of
volume, healthchecks, resource limits, profiles, privileges...) is deployed on the one
Docker Engine twice: by pharos-agent (app `p<hex>`) and by `docker-compose -p c<hex>`. The
two are compared field by field in four phases:

  deploy   the agent's app Running, `up -d` done
  update   the image of one service changes (`# parity-update:`): the same services are
           recreated, anonymous volumes are carried over to the new container as compose does
  stop     `state: stopped` / `docker-compose stop`, then `running` / `docker-compose start`:
           containers kept, dependents stopped before what they depend on
  remove   `state: removed, volumes: delete` / `docker-compose down -v`: what is left on the
           engine (containers, networks, named and anonymous volumes)

Compared: the whole container inspect document, every network and volume of the project,
and which containers/volumes exist. Normalised, and only these (docs/agent.md "Parity with
docker-compose 1.29" lists the same):
  * the project name (`p<hex>` / `c<hex>` -> PROJECT), container ids and short ids, the
    anonymous volumes' random names (-> ANON:<service>:<destination>), the published host
    ports and the bind folder (each side has its own);
  * values the engine draws: Created, State timestamps/pid/health log (State keeps Status,
    Running, Paused, Restarting, OOMKilled, Dead, ExitCode), GraphDriver, the addresses,
    MACs, endpoint and sandbox ids of NetworkSettings (Networks keep Aliases, Links,
    IPAMConfig, DriverOpts; Ports kept), a network's Id, Created, its IPAM subnets and
    its members' addresses, a volume's CreatedAt;
  * order where compose 1.29 has none: Env, Binds, Mounts (sorted), aliases;
  * labels: Pharos' own `io.pharos.*`, and compose's `config-hash`,
    `project.config_files`, `project.working_dir` (a hash of a different model and paths of
    a compose file the agent does not have).
Deliberate differences (docs/agent.md): the restart policy of a service that sets none
(Pharos: unless-stopped; every file here sets one).

Files named `refused-*.yml` are refused by compose 1.29; the agent must refuse them too.
`# parity-nostart` files cannot start on the test machines (privileged, high ulimits): both
sides create the containers, fail to start them, and are compared as created, then removed.

By default (ctest) a CI-sized subset runs; `tools/parity.sh` (PHAROS_PARITY=all) runs every
file. A test collects the differences of all its phases and fails with the full list.
"""
import os
import time
import uuid

import pytest

from parity_support import (AgentSide, ComposeSide, anonymous_mounts, diff, fixtures,
                            snapshot)
from test_agent import Node, wait_until

# The test command's share (about two minutes): a healthy-gated app with a named and an
# anonymous volume, Telegraf/InfluxDB/Grafana on two networks with aliases, profiles, and
# both refusals, through all four phases.
CI_SUBSET = {"db-gated", "tig", "profiles", "refused-env-bool", "refused-missing-bind"}
ALL = fixtures()
SELECTED = ALL if os.environ.get("PHAROS_PARITY") == "all" else \
    [f for f in ALL if f.name in CI_SUBSET]


@pytest.fixture
def node(pharos_bin, broker, docker_engine):
    n = Node(pharos_bin, broker, docker_engine)
    yield n
    n.cleanup()


def compare(phase, agent, compose):
    print(f"{time.strftime('%H:%M:%S')} compare after {phase}")  # shown when a test fails
    ours, agent_raw = snapshot(agent)
    theirs, compose_raw = snapshot(compose)
    problems = [f"[{phase}] {line}" for line in diff(ours, theirs)]
    return problems, agent_raw, compose_raw


def check_up(proc, what):
    assert proc.returncode == 0, f"docker-compose {what} failed:\n{proc.stdout}{proc.stderr}"


def stop_order(fixture, side, running, raw):
    """{"a>b": whether a (depends on b) finished no later than b}, for pairs both running."""
    out = {}
    for a, b in fixture.edges(side):
        if a in running and b in running and a in raw and b in raw:
            out[f"{a}>{b}"] = raw[a]["State"]["FinishedAt"] <= raw[b]["State"]["FinishedAt"]
    return out


def running_services(raw):
    return {s for s, info in raw.items() if info["State"]["Running"]}


def test_fixture_set_is_complete():
    """At least 15 stacks besides the refusals; every file names its update or no-start."""
    stacks = [f for f in ALL if not f.refused]
    assert len(stacks) >= 15, [f.name for f in stacks]
    for f in stacks:
        assert f.update or f.nostart, f"{f.name}: no '# parity-update:' header"
    for f in ALL:
        assert not f.refused or f.refusal, f"{f.name}: no '# parity-refusal:' header"


@pytest.mark.parametrize("fixture", SELECTED, ids=[f.name for f in SELECTED])
def test_parity(fixture, node, docker_engine):
    suffix = uuid.uuid4().hex[:8]
    agent = AgentSide(docker_engine, f"p{suffix}", node)
    compose = ComposeSide(docker_engine, f"c{suffix}")
    problems = []
    try:
        node.agent.start()
        if fixture.refused:
            problems += refused(fixture, agent, compose)
        else:
            problems += deploy_update_stop(fixture, agent, compose)
            problems += remove(agent, compose)
    finally:
        compose.cleanup()
        agent.cleanup()
    assert not problems, f"{fixture.name}: {len(problems)} differences\n" + "\n".join(problems)


def refused(fixture, agent, compose):
    up = compose.up(fixture.render(compose))
    assert up.returncode != 0, f"docker-compose 1.29 accepted {fixture.name}:\n{up.stdout}"
    assert fixture.refusal in up.stdout + up.stderr, \
        f"docker-compose 1.29 failed for another reason than {fixture.refusal!r}:\n{up.stderr}"
    agent.publish(fixture.render(agent), revision=1)
    state = agent.settle({"Failed", "Running", "Degraded", "CrashLoop"})
    problems = []
    if state["phase"] != "Failed":
        problems.append(f"[refused] agent phase {state['phase']}, compose refused: "
                        f"{up.stderr.strip().splitlines()[-1:]}")
    running = sorted(s for s, i in agent.containers().items() if i["State"]["Running"])
    if running:
        problems.append(f"[refused] agent runs {running}")
    if os.path.exists(agent.missing):
        problems.append(f"[refused] the agent created the missing bind source {agent.missing}")
    return problems


def deploy_update_stop(fixture, agent, compose):
    problems = []
    # ---- deploy
    agent.publish(fixture.render(agent), revision=1)
    up = compose.up(fixture.render(compose))
    if fixture.nostart:
        assert up.returncode != 0, "a no-start file started under docker-compose"
        agent.settle({"Failed"})
        wanted = set(fixture.active_services(agent))
        wait_until(lambda: set(agent.containers()) >= wanted, 60, what="agent containers")
        found, _, _ = compare("deploy", agent, compose)
        return problems + found
    check_up(up, "up")
    agent.settle({"Running"})
    found, agent_raw, compose_raw = compare("deploy", agent, compose)
    problems += found

    # ---- update one service
    if fixture.update:
        agent.publish(fixture.render(agent, updated=True), revision=2)
        check_up(compose.up(fixture.render(compose, updated=True)), "up (update)")
        agent.settle({"Running"})
        found, agent_new, compose_new = compare("update", agent, compose)
        problems += found
        recreated = {}
        for side, old, new in (("agent", agent_raw, agent_new),
                               ("compose", compose_raw, compose_new)):
            recreated[side] = sorted(s for s in new if s in old and new[s]["Id"] != old[s]["Id"])
        if recreated["agent"] != recreated["compose"]:
            problems.append(f"[update] recreated: agent={recreated['agent']} "
                            f"compose={recreated['compose']}")
        for mount, before in anonymous_mounts(compose_raw).items():
            kept_compose = anonymous_mounts(compose_new).get(mount) == before
            agent_before = anonymous_mounts(agent_raw).get(mount)
            kept_agent = agent_before is not None and \
                anonymous_mounts(agent_new).get(mount) == agent_before
            if kept_agent != kept_compose:
                problems.append(f"[update] anonymous volume {mount} carried over: "
                                f"agent={kept_agent} compose={kept_compose}")
        agent_raw, compose_raw = agent_new, compose_new

    # ---- stop, then start
    text = fixture.render(agent, updated=bool(fixture.update))
    running = {"agent": running_services(agent_raw), "compose": running_services(compose_raw)}
    agent.publish(text, state="stopped")
    check_up(compose.compose("stop"), "stop")
    agent.settle({"Stopped"})
    found, agent_stopped, compose_stopped = compare("stop", agent, compose)
    problems += found
    order_agent = stop_order(fixture, agent, running["agent"], agent_stopped)
    order_compose = stop_order(fixture, compose, running["compose"], compose_stopped)
    for edge in sorted(set(order_agent) | set(order_compose)):
        if order_agent.get(edge) != order_compose.get(edge):
            a, b = edge.split(">")
            problems.append(f"[stop] {a} (depends on {b}) stopped before {b}: "
                            f"agent={order_agent.get(edge)} compose={order_compose.get(edge)}")
    agent.publish(text, state="running")
    check_up(compose.compose("start"), "start")
    agent.settle({"Running"})
    found, agent_started, compose_started = compare("start", agent, compose)
    problems += found
    for side, before, after in (("agent", agent_raw, agent_started),
                                ("compose", compose_raw, compose_started)):
        changed = sorted(s for s in after if s in before and after[s]["Id"] != before[s]["Id"])
        if changed:
            problems.append(f"[start] {side} recreated {changed} instead of starting them")
    return problems


def remove(agent, compose):
    agent.publish(state="removed", volumes="delete")
    check_up(compose.compose("down", "-v"), "down -v")
    # Deliberate difference (docs/agent.md): compose 1.29's `down -v` leaves behind an
    # anonymous volume it carried over on a recreate (it passed it by name, so the engine no
    # longer counts it as the container's own); `volumes: delete` removes it. Compose's
    # dangling ones are removed here so that what is compared is everything else: the
    # agent must leave no volume of the app at all.
    existing = set(compose.engine.volumes())
    for name in list(compose.anonymous):
        if name in existing:
            compose.engine.run("volume", "rm", name, check=False)
    agent.removed()
    found, _, _ = compare("remove", agent, compose)
    return found

