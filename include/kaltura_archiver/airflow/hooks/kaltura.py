"""KalturaHook: owns the `kaltura` connection and hands out a `KalturaApi` client."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.provider_info import KALTURA_SAAS_URL


class KalturaConnectionError(ValueError):
    """The Kaltura connection is incomplete or malformed."""


def _extra_value(extra: dict[str, Any], name: str) -> Any:
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__kaltura__{name}")
    return None if value == "" else value


def _as_int(value: Any, field: str, conn_id: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise KalturaConnectionError(
            f"Connection {conn_id!r}: {field} must be an integer, got {value!r}"
        ) from None


def settings_from_connection(conn: Any) -> KalturaConnectionSettings:
    """Translate an Airflow connection into Kaltura settings, with clear errors for bad fields."""
    conn_id = conn.conn_id
    extra = conn.extra_dejson or {}
    partner_id = _as_int(_extra_value(extra, "partner_id"), "partner_id", conn_id)
    if partner_id is None or partner_id < 1:
        raise KalturaConnectionError(f"Connection {conn_id!r}: partner_id is required (a positive integer)")
    if not conn.password:
        raise KalturaConnectionError(f"Connection {conn_id!r}: the admin secret (password) is required")
    host = (conn.host or KALTURA_SAAS_URL).rstrip("/")
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else "https"
        host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host}:{conn.port}"
    expiry = _as_int(_extra_value(extra, "session_expiry"), "session_expiry", conn_id) or 86400
    if expiry < 60:
        raise KalturaConnectionError(f"Connection {conn_id!r}: session_expiry must be at least 60 seconds")
    privileges = _extra_value(extra, "privileges") or "disableentitlement"
    return KalturaConnectionSettings(
        service_url=host,
        partner_id=partner_id,
        user_id=conn.login or "",
        admin_secret=conn.password,
        session_expiry=expiry,
        privileges=str(privileges),
    )


class KalturaHook(BaseHook):
    """Interact with the Kaltura API v3 through an admin session of the `kaltura` connection."""

    conn_name_attr = "kaltura_conn_id"
    default_conn_name = "kaltura_default"
    conn_type = "kaltura"
    hook_name = "Kaltura"

    def __init__(self, kaltura_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kaltura_conn_id = kaltura_conn_id
        self._api: KalturaApi | None = None

    def get_settings(self) -> KalturaConnectionSettings:
        """Read and validate the connection; the secret is registered with the secrets masker."""
        conn = self.get_connection(self.kaltura_conn_id)
        if conn.password:
            mask_secret(conn.password)
        return settings_from_connection(conn)

    def get_api(self, counter: CallCounter | None = None) -> KalturaApi:
        """A `KalturaApi` bound to this connection (one per hook; the session is started lazily)."""
        if self._api is None or counter is not None:
            self._api = KalturaApi(self.get_settings(), counter=counter, secret_sink=mask_secret)
        return self._api

    def get_conn(self) -> KalturaApi:
        """Alias of `get_api()`, the conventional hook entry point."""
        return self.get_api()

    def test_connection(self) -> tuple[bool, str]:
        """Start a session and report partner and user (the UI's Test button)."""
        try:
            info = self.get_api().session_info()
        except Exception as exc:
            return False, f"Kaltura session could not be started: {exc}"
        return True, f"Connected to partner {info['partner_id']} as user {info['user_id'] or '(none)'}"
