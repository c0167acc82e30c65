"""The provider entry point registers the kaltura and ldap connection types with their form fields."""

from __future__ import annotations

import json

import pytest
from airflow.providers_manager import ProvidersManager
from airflow.sdk import Connection

from kaltura_archiver.airflow.hooks.kaltura import KalturaConnectionError, settings_from_connection


def test_connection_types_and_fields_are_registered() -> None:
    manager = ProvidersManager()
    kaltura, ldap = manager.hooks["kaltura"], manager.hooks["ldap"]
    assert kaltura is not None and ldap is not None
    assert kaltura.hook_class_name == "kaltura_archiver.airflow.hooks.kaltura.KalturaHook"
    assert ldap.package_name == "kaltura-archiver"
    widgets = manager.connection_form_widgets
    assert widgets["extra__kaltura__partner_id"].field["schema"]["title"] == "Partner ID"
    assert widgets["extra__kaltura__privileges"].field["value"] == "disableentitlement"
    behaviour = manager.field_behaviours["kaltura"]
    assert behaviour["relabeling"]["password"] == "Admin secret"
    assert "port" in behaviour["hidden_fields"]


def _conn(**fields: object) -> Connection:
    extra = fields.pop("extra", {"partner_id": 1234})
    return Connection(conn_id="kaltura_test", conn_type="kaltura", extra=json.dumps(extra), **fields)  # type: ignore[arg-type]


def test_settings_from_connection_defaults_and_prefixed_extras() -> None:
    settings = settings_from_connection(_conn(password="secret-value", login="archiver"))
    assert settings.service_url == "https://www.kaltura.com"
    assert settings.partner_id == 1234 and settings.privileges == "disableentitlement"
    prefixed = settings_from_connection(
        _conn(host="kaltura.example.edu", password="s3cret", extra={"extra__kaltura__partner_id": "77"})
    )
    assert prefixed.partner_id == 77 and prefixed.service_url == "https://kaltura.example.edu"
    assert "s3cret" not in repr(prefixed)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "x", "extra": {}}, "partner_id is required"),
        ({"password": "x", "extra": {"partner_id": "abc"}}, "must be an integer"),
        ({"extra": {"partner_id": 5}}, "admin secret"),
        ({"password": "x", "extra": {"partner_id": 5, "session_expiry": 10}}, "at least 60"),
    ],
)
def test_bad_connection_fields_are_named(fields: dict[str, object], message: str) -> None:
    with pytest.raises(KalturaConnectionError, match=message):
        settings_from_connection(_conn(**fields))
