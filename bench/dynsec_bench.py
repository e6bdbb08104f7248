#!/usr/bin/env python3
"""What giving M nodes one group's read right costs the real Mosquitto 2.0.11 (dynamic
security) holding N device identities: the baseline (the group's 3 read ACLs added to each
node's own role, addRoleACL) against the anchor's way (docs/security.md "Group rights are
broker-group memberships": one addGroupClient per node for a few, one modifyGroup with the
whole member list for many). Mosquitto rewrites its whole file after every command, so the
cost per command grows with N.

  bench/dynsec_bench.py [--nodes 1000 10000] [--sample 100] [--json FILE]

For each N: a broker started on a file with N agent identities (bench/scale_env.py, loopback
only), then, timed from the publish to the plugin's answer:
  - addRoleACL x sample (baseline, per command), extrapolated to 3 x N commands;
  - addGroupClient x sample (per command), extrapolated to N;
  - one modifyGroup with all N as members (measured, not extrapolated).
No agent is connected (the kicks that follow each change are not part of the figure).
"""
import argparse
import json
import pathlib
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from scale_env import Env, node_name, TOPIC_ROOT  # noqa: E402

import paho.mqtt.client as mqtt  # noqa: E402

CONTROL = "$CONTROL/dynamic-security/v1"


class Plugin:
    """The dynamic-security control topic, one command message at a time."""

    def __init__(self, env):
        self.answer = None
        self.got = threading.Event()
        self.c = mqtt.Client(client_id="anchor", protocol=mqtt.MQTTv5)
        self.c.username_pw_set("anchor", env.anchor_password)
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", env.port)
        self.c.loop_start()
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.subscribe(CONTROL + "/response", qos=1)
        if not subscribed.wait(10):
            raise RuntimeError("no SUBACK from the broker")

    def _on_message(self, client, userdata, message):
        self.answer = json.loads(message.payload)
        self.got.set()

    def send(self, commands, timeout=3600):
        self.got.clear()
        t0 = time.monotonic()
        self.c.publish(CONTROL, json.dumps({"commands": commands}), qos=1)
        if not self.got.wait(timeout):
            raise RuntimeError(f"no answer within {timeout} s")
        seconds = time.monotonic() - t0
        errors = [r["error"] for r in self.answer["responses"] if r.get("error")]
        if errors:
            raise RuntimeError(f"dynamic-security errors: {errors[:3]}")
        return seconds

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def acl(acltype, topic):
    return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}


def measure(n, sample):
    env = Env(n)
    try:
        env.start_broker()
        file_mb = (env.data / "dynamic-security.json").stat().st_size / 1e6
        plugin = Plugin(env)
        nodes = [node_name("sim", k) for k in range(n)]
        k = min(sample, n)
        topic = f"{TOPIC_ROOT}/groups/bench/desired"
        base = plugin.send([dict(command="addRoleACL", rolename=f"agent-{node}",
                                 **acl("subscribeLiteral", topic)) for node in nodes[:k]])
        rights = [acl(t, topic) for t in ("subscribeLiteral", "publishClientReceive",
                                          "unsubscribeLiteral")]
        plugin.send([{"command": "createRole", "rolename": "group-bench", "acls": rights},
                     {"command": "createGroup", "groupname": "group-bench",
                      "roles": [{"rolename": "group-bench"}]}])
        member = plugin.send([{"command": "addGroupClient", "groupname": "group-bench",
                               "username": node} for node in nodes[k:2 * k]])
        bulk = plugin.send([{"command": "modifyGroup", "groupname": "group-bench",
                             "clients": [{"username": node} for node in nodes]}])
        plugin.close()
        per_acl = base / k
        per_member = member / k
        return {
            "nodes": n, "file_mb": round(file_mb, 1), "sample": k,
            "add_role_acl_ms": round(per_acl * 1000, 1),
            "add_group_client_ms": round(per_member * 1000, 1),
            "baseline_all_s": round(per_acl * 3 * n, 1),
            "per_member_all_s": round(per_member * n, 1),
            "modify_group_s": round(bulk, 3),
            "ratio": round(per_acl * 3 * n / bulk, 1),
        }
    finally:
        env.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--sample", type=int, default=20,
                    help="commands timed per kind (each one a rewrite of the whole file)")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    for n in args.nodes:
        row = measure(n, args.sample)
        rows.append(row)
        print(f"N={n} ({row['file_mb']} MB file): addRoleACL {row['add_role_acl_ms']} ms each "
              f"-> 3 x N = {row['baseline_all_s']} s; addGroupClient {row['add_group_client_ms']}"
              f" ms each -> N = {row['per_member_all_s']} s; one modifyGroup with N members "
              f"{row['modify_group_s']} s; baseline / modifyGroup = {row['ratio']} x", flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
