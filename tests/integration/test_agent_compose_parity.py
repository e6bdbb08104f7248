"""The agent creates containers exactly as Debian's docker-compose 1.29 does.

One compose file using the keys edge deployments use is deployed twice on the real engine:
by pharos-agent (app `p<hex>`) and by `docker-compose -p c<hex> up -d`. The engine's
inspect documents of both are compared field by field, with the project names normalised.
Only differences Pharos makes on purpose are excluded: its own labels, compose's
config-hash/config_files/working_dir labels, and the restart policy when the file sets none
(Pharos: unless-stopped; a file here always sets one). The project's networks and named
volume are compared too (driver, attachable, IPAM, options, labels).
"""
import json
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from test_agent import Node, spec, wait_until

COMPOSE = """
services:
  web:
    image: {image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    entrypoint: ["/bin/sh", "-c", "exec \\"$$@\\"", "--"]
    environment:
      MODE: edge
      LEVEL: "3"
    ports: ["127.0.0.1:{port}:8080", "9000/udp"]
    expose: ["7000"]
    volumes:
      - data:/data
      - {bind}:/host:ro
    tmpfs: [/run]
    networks:
      default: {{}}
      back: {{aliases: [www, front]}}
    restart: always
    healthcheck:
      test: ["CMD-SHELL", "true"]
      interval: 2s
      timeout: 1s
      retries: 4
      start_period: 1s
    labels: {{team: ops, tier: web}}
    hostname: webhost
    user: "0:0"
    working_dir: /www
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 100
    cpu_shares: 512
    stop_grace_period: 5s
    stop_signal: SIGINT
    extra_hosts: ["plc.local:127.0.0.2"]
    dns: [127.0.0.1]
    dns_search: [factory.local]
    ulimits:
      nofile: {{soft: 1024, hard: 2048}}
    sysctls: {{net.core.somaxconn: "1024"}}
    read_only: true
    tty: true
    stdin_open: true
    shm_size: 32m
    security_opt: ["no-new-privileges:true"]
    logging:
      driver: json-file
      options: {{max-size: 1m, max-file: "2"}}
    devices: ["/dev/null:/dev/pharos-null:r"]
  limited:
    image: {image}
    deploy:
      resources:
        limits: {{cpus: "0.25", memory: 32m}}
        reservations: {{memory: 16m}}
      restart_policy: {{condition: on-failure, max_attempts: 3}}
    networks: [back]
volumes:
  data: {{}}
networks:
  back: {{}}
"""

CONFIG_KEYS = ["Cmd", "Entrypoint", "Env", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce",
               "User", "WorkingDir", "Hostname", "Domainname", "Healthcheck", "StopSignal",
               "StopTimeout", "Volumes", "Image", "AttachStdin", "AttachStdout", "AttachStderr"]
HOST_KEYS = ["Binds", "PortBindings", "RestartPolicy", "Memory", "MemoryReservation",
             "MemorySwap", "NanoCpus", "PidsLimit", "CpuShares", "ExtraHosts", "Dns", "DnsSearch",
             "DnsOptions", "Ulimits", "Sysctls", "ReadonlyRootfs", "Init", "ShmSize",
             "SecurityOpt", "CapAdd", "CapDrop", "Devices", "LogConfig", "NetworkMode", "Tmpfs",
             "Privileged", "Mounts", "PidMode", "IpcMode", "OomScoreAdj", "GroupAdd",
             "CpusetCpus"]
NETWORK_KEYS = ["Driver", "Attachable", "Internal", "EnableIPv6", "IPAM", "Options", "Scope",
                "Ingress", "ConfigOnly"]
VOLUME_KEYS = ["Driver", "Options", "Scope"]
IGNORED_LABELS = {"com.docker.compose.config-hash", "com.docker.compose.project.config_files",
                  "com.docker.compose.project.working_dir", "com.docker.compose.project",
                  "io.pharos.node", "io.pharos.app", "io.pharos.revision",
                  "io.pharos.config-hash", "io.pharos.restart"}


def normalised(info, project):
    """The comparable part of an inspect document, with `project` replaced by PROJECT."""
    out = {"Config": {k: info["Config"].get(k) for k in CONFIG_KEYS},
           "HostConfig": {k: info["HostConfig"].get(k) for k in HOST_KEYS},
           "Labels": {k: v for k, v in (info["Config"].get("Labels") or {}).items()
                      if k not in IGNORED_LABELS},
           "Name": info["Name"]}
    networks = {}
    for name, net in (info["NetworkSettings"].get("Networks") or {}).items():
        aliases = [a for a in (net.get("Aliases") or [])
                   if not re.fullmatch(r"[0-9a-f]{12}", a)]  # compose's short-id alias
        networks[name] = sorted(aliases)
    out["Networks"] = networks
    if out["Config"]["Hostname"] == info["Id"][:12]:  # the engine's default: the short id
        out["Config"]["Hostname"] = "SHORT-ID"
    if out["Config"]["Env"]:
        out["Config"]["Env"] = sorted(out["Config"]["Env"])
    if out["HostConfig"]["Binds"]:  # compose 1.29 builds them from a set: no stable order
        out["HostConfig"]["Binds"] = sorted(out["HostConfig"]["Binds"])
    text = json.dumps(out, sort_keys=True)
    return json.loads(text.replace(project, "PROJECT"))


@pytest.fixture
def node(pharos_bin, broker, docker_engine, registry):
    n = Node(pharos_bin, broker, docker_engine)
    yield n
    n.cleanup()


def test_containers_match_docker_compose_1_29(node, registry, docker_engine):
    suffix = uuid.uuid4().hex[:8]
    agent_project, compose_project = f"p{suffix}", f"c{suffix}"
    bind = tempfile.mkdtemp(prefix="pharos-parity-bind-")
    workdir = tempfile.mkdtemp(prefix="pharos-parity-compose-")
    try:
        text = COMPOSE.format(image=registry.image("1"), port=0, bind=bind)
        # Port 0 would clash on start for neither; a fixed free port for each project.
        import socket
        ports = []
        for _ in range(2):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports.append(s.getsockname()[1])
        agent_text = text.replace("127.0.0.1:0:8080", f"127.0.0.1:{ports[0]}:8080")
        compose_text = text.replace("127.0.0.1:0:8080", f"127.0.0.1:{ports[1]}:8080")

        node.agent.start()
        node.publish_desired([spec(agent_project, agent_text)])
        wait_until(lambda: node.container(agent_project, "web") and
                   node.container(agent_project, "limited"), 120, what="agent containers")

        with open(f"{workdir}/docker-compose.yml", "w") as f:
            f.write(compose_text)
        up = subprocess.run(["docker-compose", "-p", compose_project, "up", "-d"],
                            cwd=workdir, env=docker_engine.env, capture_output=True, text=True,
                            timeout=180)
        assert up.returncode == 0, up.stdout + up.stderr

        for service in ("web", "limited"):
            ours = normalised(node.container(agent_project, service), agent_project)
            theirs = normalised(docker_engine.inspect(f"{compose_project}_{service}_1"),
                                compose_project)
            # The published host port differs on purpose (two projects, one engine).
            for doc, port in ((ours, ports[0]), (theirs, ports[1])):
                text_doc = json.dumps(doc).replace(f'"{port}"', '"HOSTPORT"')
                doc.clear()
                doc.update(json.loads(text_doc))
            for section in ("Config", "HostConfig", "Labels", "Networks", "Name"):
                assert ours[section] == theirs[section], (
                    f"{service}.{section} differs:\nagent:   {json.dumps(ours[section], sort_keys=True)}"
                    f"\ncompose: {json.dumps(theirs[section], sort_keys=True)}")
        # The networks and the named volume: the fields compose 1.29 sets on create.
        for kind, key, fields in (("network", "default", NETWORK_KEYS),
                                  ("network", "back", NETWORK_KEYS),
                                  ("volume", "data", VOLUME_KEYS)):
            docs = []
            for project in (agent_project, compose_project):
                info = docker_engine.json(kind, "inspect", f"{project}_{key}")[0]
                doc = {k: info.get(k) for k in fields}
                if "IPAM" in doc:  # the pools the engine picked differ between two networks
                    doc["IPAM"] = {k: (doc["IPAM"] or {}).get(k) for k in ("Driver", "Options")}
                doc["Labels"] = {k: v for k, v in (info.get("Labels") or {}).items()
                                 if k not in IGNORED_LABELS}
                docs.append(json.loads(json.dumps(doc).replace(project, "PROJECT")))
            assert docs[0] == docs[1], (
                f"{kind} {key} differs:\nagent:   {docs[0]}\ncompose: {docs[1]}")
    finally:
        subprocess.run(["docker-compose", "-p", compose_project, "down", "-v"], cwd=workdir,
                       env=docker_engine.env, capture_output=True, text=True, timeout=180)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(bind, ignore_errors=True)
