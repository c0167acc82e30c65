"""KalturaHook against the emulator: the Test button starts a session; secrets are masked."""

from __future__ import annotations

import json

import pytest

from kaltura_archiver.airflow.hooks.kaltura import KalturaHook


def _set_conn(monkeypatch: pytest.MonkeyPatch, url: str, partner_id: int, secret: str) -> None:
    conn = {
        "conn_type": "kaltura",
        "host": url,
        "login": "archiver",
        "password": secret,
        "extra": {"partner_id": partner_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KALTURA_DEFAULT", json.dumps(conn))


def test_test_connection_reports_partner_and_user(emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_conn(monkeypatch, emulator.url, emulator.partner_id, emulator.admin_secret)
    ok, message = KalturaHook().test_connection()
    assert ok, message
    assert str(emulator.partner_id) in message and "archiver" in message
    assert emulator.admin_secret not in message


def test_test_connection_with_a_wrong_secret_fails_without_leaking(emulator, monkeypatch) -> None:
    wrong = "definitely-not-the-secret-42"
    _set_conn(monkeypatch, emulator.url, emulator.partner_id, wrong)
    ok, message = KalturaHook().test_connection()
    assert not ok
    assert "START_SESSION_ERROR" in message
    assert wrong not in message
