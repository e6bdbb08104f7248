"""Browser tests of the operator console in headless Chromium (tests/browser/console_tests.mjs,
run by tests/browser/run_tests.mjs): the bundled page, a reload that keeps the session, the
fleet table's sorting, in-place rows and figures aged past their reporting period, the layout
at 1280x800 and phone width and the offline banner, against the broker alone; then, with the
anchor started with --require-approval and a real agent: the Pending node approved from the UI,
labels, a node added (its configuration shown once) and removed, a deploy with a secret and
registry credentials never shown back (and its containers' CPU and memory charted on the app
page), a chart that opens with the anchor's stored history (and its 7-day range) and the node's
health history, the app page's container chart opening with the anchor's stored container
history, the registry credentials listed without their password and removed from the node
page, the logs of a service printing every 100 ms followed (search, download), that
app removed from its page (only its history and "Deploy again" left enabled; its agent's
app_removed event live in the Events view), the node killed while its page is open (apps "last
reported", the time printed, the rollout still complete, the health change live in the Events
view), audit entries live in the Events view, paging past 500 events from a start time, the
Events view's time range (From and To), and the
banner when the anchor stops (the time printed). Screenshots go to build/artifacts/web-ui/.
"""
import uuid

import pytest

from cli_support import AnchorProcess
from test_web_ui import (browser_env, find_binary, processes, run_browser_tests,  # noqa: F401
                         start_agent, ui_env)

BROKER_ONLY = [
    "bundled_page_loads_in_four_requests",
    "reload_keeps_the_operator_signed_in_without_the_password_in_clear",
    "fleet_table_sorts_and_updates_rows_in_place",
    "layout_fits_1280x800_and_phone_width",
    "offline_banner_from_the_retained_anchor_status",
]
WITH_ANCHOR = [
    "pending_node_is_approved_from_the_ui",
    "operator_labels_adds_and_removes_nodes",
    "deploy_with_a_secret_that_is_never_shown_back",
    "chart_shows_history_right_after_sign_in",
    "app_chart_shows_container_history_right_after_sign_in",
    "registry_credentials_are_listed_without_the_password_and_removed",
    "logs_follow_a_service_printing_every_100_ms",
    "removed_app_keeps_only_its_history_and_deploy_again",
    "node_killed_shows_last_reported_apps_and_its_rollout_stays_complete",
    "events_view_shows_audit_entries_live_with_filters",
    "events_view_pages_past_500_from_a_start_time",
    "events_view_shows_a_time_range_from_and_to",
    "offline_banner_when_the_anchor_stops",
]


class ApprovalAnchor(AnchorProcess):
    """The anchor with new nodes Pending until node.approve, and a 1-s fine metrics step so
    that the agent's first seconds of reports already make a chart (docs/metrics.md)."""

    def command(self):
        return super().command() + ["--require-approval", "--metrics-fine-step", "1"]


def test_console_against_the_broker(broker, browser_env):  # noqa: F811
    output = run_browser_tests({**ui_env(broker), "PHAROS_ONLY": ",".join(BROKER_ONLY)})
    assert f"{len(BROKER_ONLY)} passed, 0 failed" in output


def test_console_with_anchor_and_agent(broker, browser_env, processes, tmp_path,  # noqa: F811
                                       docker_engine, registry):
    anchor_bin = find_binary("pharos-anchor")
    if anchor_bin is None or find_binary("pharos-agent") is None:
        pytest.fail("pharos-anchor and pharos-agent must be built (PHAROS_BUILD_DIR)")
    node = f"webcon-{uuid.uuid4().hex[:6]}"
    anchor = ApprovalAnchor(anchor_bin, broker, tmp_path / "anchor").start()
    agent = start_agent(processes, broker, node, docker_engine.host, tmp_path)
    env = {**ui_env(broker), "PHAROS_ANCHOR": "1", "PHAROS_TEST_IMAGE": registry.image("1"),
           "PHAROS_CONSOLE_NODE": node, "PHAROS_CONSOLE_PID": agent.pid,
           "PHAROS_ANCHOR_PID": anchor.proc.pid, "PHAROS_ONLY": ",".join(WITH_ANCHOR)}
    try:
        output = run_browser_tests(env, timeout=800)
    except AssertionError:
        print(processes.logs())
        print(f"--- anchor ---\n{anchor.log()[-6000:]}")
        raise
    finally:
        processes.stop()
        anchor.stop()
        docker_engine.cleanup(f"io.pharos.node={node}")
    assert f"{len(WITH_ANCHOR)} passed, 0 failed" in output
