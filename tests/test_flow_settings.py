"""Prefect settings the flows run with."""

from __future__ import annotations

from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

from flows.run import local_server_settings


def _heartbeat() -> int | None:
    return get_current_settings().flows.heartbeat_frequency


def test_runs_on_the_temporary_server_send_no_heartbeats() -> None:
    """Prefect's heartbeat thread made every run wait up to a second for it at the end; against
    the temporary in-process server (no API URL) nothing reads heartbeats, so they are off."""
    with temporary_settings(updates={PREFECT_API_URL: None}):
        before = _heartbeat()
        with local_server_settings():
            assert _heartbeat() is None
        assert _heartbeat() == before is not None  # only for the run


def test_runs_against_a_server_keep_their_heartbeats() -> None:
    """A lasting server detects crashed runs by their missing heartbeats."""
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        before = _heartbeat()
        with local_server_settings():
            assert _heartbeat() == before is not None
