"""The management API driven from a shell with nothing but mosquitto_pub / mosquitto_sub /
mosquitto_rr (Debian's mosquitto-clients), exactly as docs/cli.md and the README show it:

  MQTT 5:     mosquitto_pub -V mqttv5 ... -D publish response-topic pharos/v1/replies/ops/sh-1
                                       -D publish correlation-data req-1 -m '{"v":1,...}'
  MQTT 3.1.1: mosquitto_pub ... -m '{"v":1,...,"replyTo":"pharos/v1/replies/ops/sh-2",
                                     "correlation":42}'
  one-shot:   mosquitto_rr -V mqttv5 -t pharos/v1/api/ops/node.list
                           -e pharos/v1/replies/ops/rr -m '{"v":1}'

against the real Mosquitto (harness broker) and the real pharos-anchor.
"""
import json
import subprocess
import time

import pytest

from cli_support import AnchorProcess

PUB = "/usr/bin/mosquitto_pub"
SUB = "/usr/bin/mosquitto_sub"
RR = "/usr/bin/mosquitto_rr"


@pytest.fixture
def anchor(broker, pharos_bin, tmp_path):
    proc = AnchorProcess(pharos_bin("pharos-anchor"), broker, tmp_path / "anchor")
    proc.start()
    yield proc
    proc.stop()


def login(broker, user="ops"):
    name, password = broker.credentials(user)
    return ["-h", broker.host, "-p", str(broker.port), "-u", name, "-P", password]


def request(broker, topic, body, reply_topic, mqtt5=True, properties=(), fmt="%p", user="ops"):
    """Starts mosquitto_sub on reply_topic, publishes with mosquitto_pub, returns the
    subscriber's output (one message)."""
    version = ["-V", "mqttv5"] if mqtt5 else ["-V", "mqttv311"]
    sub = subprocess.Popen([SUB, *version, *login(broker, user), "-t", reply_topic, "-C", "1",
                            "-W", "15", "-F", fmt], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)  # let the subscription reach the broker before the request
    pub = subprocess.run([PUB, *version, *login(broker, user), "-q", "1", "-t", topic,
                          *properties, "-m", json.dumps(body)], capture_output=True, text=True,
                         timeout=15)
    assert pub.returncode == 0, pub.stderr
    out, err = sub.communicate(timeout=20)
    assert sub.returncode == 0, f"no reply on {reply_topic}: {err}"
    return out.strip()


def test_mqtt5_response_topic_and_correlation_data(broker, anchor):
    out = request(broker, "pharos/v1/api/ops/group.create", {"v": 1, "name": "line1"},
                  "pharos/v1/replies/ops/sh-1",
                  properties=["-D", "publish", "response-topic", "pharos/v1/replies/ops/sh-1",
                              "-D", "publish", "correlation-data", "req-1"],
                  fmt="%D %p")
    correlation, _, payload = out.partition(" ")
    assert correlation == "req-1"
    reply = json.loads(payload)
    assert reply["v"] == 1 and reply["ok"] is True, reply
    assert reply["result"]["name"] == "line1"


def test_mqtt311_reply_to_and_correlation_in_the_body(broker, anchor):
    request(broker, "pharos/v1/api/ops/group.create", {"v": 1, "name": "line2",
                                                       "replyTo": "pharos/v1/replies/ops/x"},
            "pharos/v1/replies/ops/x", mqtt5=False)
    out = request(broker, "pharos/v1/api/ops/group.list",
                  {"v": 1, "replyTo": "pharos/v1/replies/ops/sh-2", "correlation": 42},
                  "pharos/v1/replies/ops/sh-2", mqtt5=False)
    reply = json.loads(out)
    assert reply["ok"] is True, reply
    assert reply["correlation"] == 42
    assert [g["name"] for g in reply["result"]["groups"]] == ["line2"]


def test_errors_come_back_as_error_objects(broker, anchor):
    out = request(broker, "pharos/v1/api/ops/group.get",
                  {"v": 1, "name": "missing", "replyTo": "pharos/v1/replies/ops/sh-3",
                   "correlation": {"id": "abc"}},
                  "pharos/v1/replies/ops/sh-3", mqtt5=False)
    reply = json.loads(out)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "not_found"
    assert reply["error"]["message"]
    assert reply["correlation"] == {"id": "abc"}

    out = request(broker, "pharos/v1/api/ops/group.create",
                  {"v": 1, "name": "Not Valid", "replyTo": "pharos/v1/replies/ops/sh-4"},
                  "pharos/v1/replies/ops/sh-4", mqtt5=False)
    reply = json.loads(out)
    assert reply["ok"] is False and reply["error"]["code"] == "invalid_argument"


def test_mosquitto_rr_one_liner(broker, anchor):
    r = subprocess.run([RR, "-V", "mqttv5", *login(broker), "-t",
                        "pharos/v1/api/ops/node.list", "-e", "pharos/v1/replies/ops/rr", "-m",
                        '{"v":1}', "-W", "15"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    reply = json.loads(r.stdout)
    assert reply["ok"] is True and reply["result"]["nodes"] == []


def test_viewer_may_read_but_not_change(broker, anchor):
    out = request(broker, "pharos/v1/api/viewer/group.create",
                  {"v": 1, "name": "g9", "replyTo": "pharos/v1/replies/viewer/v1"},
                  "pharos/v1/replies/viewer/v1", mqtt5=False, user="viewer")
    reply = json.loads(out)
    assert reply["ok"] is False and reply["error"]["code"] == "permission_denied"
    out = request(broker, "pharos/v1/api/viewer/group.list",
                  {"v": 1, "replyTo": "pharos/v1/replies/viewer/v2"},
                  "pharos/v1/replies/viewer/v2", mqtt5=False, user="viewer")
    assert json.loads(out)["ok"] is True
