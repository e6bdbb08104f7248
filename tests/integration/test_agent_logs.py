"""Live log streams (cmd/logs with follow, docs/protocol.md "Log streams") of a real agent on
the real Docker Engine: `pharosctl logs -f` follows a service printing a line every 100 ms
and stops cleanly on Ctrl-C (the agent ends the stream as stopped); a stream ends at its
line limit, and when its caller stops renewing its lease (the caller went away).

The test plays the anchor as test_agent.py does (retained desired documents), so no
pharos-anchor is needed: log streams are answered by the agent itself.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest

from test_agent import ROOT, app_name, node, spec, wait_until  # noqa: F401 (node: fixture)

TICKER = """
services:
  tick:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while :; do i=$$((i+1)); echo tick-$$i; sleep 0.1; done"]
"""


def start_ticker(node, registry):
    node.agent.start()
    app = app_name()
    node.publish_desired([spec(app, TICKER.format(image=registry.image("1")))])
    node.wait_phase(app, "Running")
    return app


def ticks(text):
    return [int(n) for n in re.findall(r"tick-(\d+)", text)]


def stream_answers(node, body, lease_renew=False):
    """Starts a stream as `ops`; returns (collector, reply topic)."""
    reply_topic = f"{ROOT}/nodes/{node.id}/cmd-replies/ops/follow-{uuid.uuid4().hex[:6]}"
    replies = node.ops.subscribe_collect(reply_topic)
    node.ops.publish(f"{ROOT}/nodes/{node.id}/cmd/logs/ops", {"v": 1, **body},
                     response_topic=reply_topic, correlation=b"follow-1")
    return replies


def answers(replies):
    """The stream's answers, once each by `seq` (the observer's nodes/{node}/# subscription
    overlaps the reply topic's, so the broker delivers each message twice)."""
    out, seen = [], set()
    for m in replies.messages:
        a = json.loads(m.payload)
        key = a["result"].get("seq") if a.get("ok") else m.payload
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out


def done_answer(replies):
    for a in answers(replies):
        if a.get("ok") and a["result"].get("done"):
            return a["result"]
    return None


def test_pharosctl_logs_follow_a_service_printing_every_100_ms_and_stop_on_ctrl_c(
        node, registry, broker, pharos_bin):
    app = start_ticker(node, registry)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHAROS_")}
    env["HOME"] = "/nonexistent"
    proc = subprocess.Popen(
        [str(pharos_bin("pharosctl")), "--broker", broker.url, "--user", "ops", "--password",
         broker.credentials("ops")[1], "logs", "-f", "-t", "--tail", "5", node.id, app, "tick"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    got = []
    reader = threading.Thread(target=lambda: got.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        # Follow for a while: the lines keep coming, in order, none twice, none lost.
        time.sleep(4)
        out = "".join(got)
        seen = ticks(out)
        if len(seen) < 15:
            proc.kill()
            pytest.fail(f"only {len(seen)} lines in 4 s:\n{out}\nstderr: {proc.stderr.read()}")
        assert seen == list(range(seen[0], seen[0] + len(seen))), f"lines lost or repeated: {seen}"
        # Every line carries its time (-t).
        first = out.splitlines()[0]
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z tick-\d+$", first), first
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        reader.join(timeout=5)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "log stream ended: stopped" in err, err
    # The agent ended the stream because the caller stopped it.
    wait_until(lambda: re.search(r"log stream s\d+ of .*: ended \(stopped\)", node.agent.log()),
               10, what="the agent's stream end")


def test_a_stream_ends_at_its_line_limit(node, registry):
    app = start_ticker(node, registry)
    replies = stream_answers(node, {"app": app, "service": "tick", "tail": 1, "follow": True,
                                    "max_lines": 12})
    end = wait_until(lambda: done_answer(replies), 30, what="the stream's last answer")
    assert end["end"] == "max_lines"
    lines = [l["text"] for a in answers(replies) if a.get("ok") for l in a["result"]["lines"]]
    assert len(lines) == 12, lines
    assert all(l.startswith("tick-") for l in lines)
    stamps = [l["ts"] for a in answers(replies) if a.get("ok") for l in a["result"]["lines"]]
    assert stamps == sorted(stamps) and stamps[0] > 1_600_000_000_000


def test_a_stream_is_cut_when_its_caller_stops_renewing(node, registry):
    app = start_ticker(node, registry)
    started = time.monotonic()
    replies = stream_answers(node, {"app": app, "service": "tick", "follow": True, "lease": 2})
    first = wait_until(lambda: next((a for a in answers(replies) if a.get("ok")), None), 20,
                       what="the first answer")
    stream = first["result"]["stream"]
    end = wait_until(lambda: done_answer(replies), 20, what="the stream's end")
    assert end["end"] == "lease_expired", end
    assert time.monotonic() - started < 15
    # A renew of an ended stream is refused, naming it.
    reply_topic = f"{ROOT}/nodes/{node.id}/cmd-replies/ops/ctl-{uuid.uuid4().hex[:6]}"
    ctl = node.ops.subscribe_collect(reply_topic)
    node.ops.publish(f"{ROOT}/nodes/{node.id}/cmd/logs/ops",
                     {"v": 1, "stream": stream, "action": "renew"}, response_topic=reply_topic)
    m = ctl.wait_for(timeout=10)
    assert m is not None
    body = json.loads(m.payload)
    assert body["ok"] is False and body["error"]["code"] == "not_found"
    assert stream in body["error"]["message"]
