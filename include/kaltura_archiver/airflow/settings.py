"""Build `ArchiverSettings` from Airflow Variables (prefix `kaltura_archiver_`).

Reading them costs one execution-API request per field, so a run reads them once, in its `select`
task, which hands them to its mapped entry tasks as the XCom `archiver_settings` (one request per
task; the settings hold no secret). The run then works with one consistent set of settings.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from airflow.sdk import Variable

from kaltura_archiver.config import ArchiverSettings, SettingsError

VARIABLE_PREFIX = "kaltura_archiver_"
UNATTENDED_VARIABLE = f"{VARIABLE_PREFIX}unattended"
APPROVAL_TIMEOUT_VARIABLE = f"{VARIABLE_PREFIX}approval_timeout_hours"
APPROVE_RESTORES_VARIABLE = f"{VARIABLE_PREFIX}approve_restores"
DEFAULT_APPROVAL_TIMEOUT_HOURS = 24.0
REPORTS_LOCATION_VARIABLE = f"{VARIABLE_PREFIX}reports_location"
DEFAULT_REPORTS_LOCATION = "file:///tmp/kaltura_archiver/reports"

SETTINGS_XCOM_KEY = "archiver_settings"

_FIELDS = {f.name: f for f in dataclasses.fields(ArchiverSettings) if f.name != "extra"}


def _coerce(name: str, raw: str) -> Any:
    default = _FIELDS[name].default
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            values = json.loads(raw) if raw.strip().startswith("[") else raw.split(",")
            return tuple(int(v) for v in values if str(v).strip())
    except (TypeError, ValueError):
        raise SettingsError(
            f"Variable {VARIABLE_PREFIX}{name}={raw!r} is not a valid {type(default).__name__}"
        ) from None
    return raw


def settings_from_mapping(values: dict[str, str]) -> ArchiverSettings:
    """Settings from raw variable strings keyed by field name; unknown keys are ignored."""
    changes = {
        name: _coerce(name, raw) for name, raw in values.items() if name in _FIELDS and raw is not None
    }
    return ArchiverSettings(**changes)


def load_archiver_settings() -> ArchiverSettings:
    """Read every `kaltura_archiver_<field>` Variable that is set; defaults for the rest."""
    found: dict[str, str] = {}
    for name in _FIELDS:
        value = Variable.get(f"{VARIABLE_PREFIX}{name}", default=None)
        if value is not None:
            found[name] = str(value)
    return settings_from_mapping(found)


def settings_to_xcom(settings: ArchiverSettings) -> dict[str, Any]:
    """The settings as a JSON-able mapping for the XCom `archiver_settings` (no secret is among them)."""
    return {name: getattr(settings, name) for name in _FIELDS}


def settings_from_xcom(value: Any) -> ArchiverSettings | None:
    """Settings handed over by `settings_to_xcom`; None when `value` is not such a mapping."""
    if not isinstance(value, dict):
        return None
    changes = {name: value[name] for name in _FIELDS if name in value}
    if isinstance(changes.get("exempt_category_ids"), list):
        changes["exempt_category_ids"] = tuple(changes["exempt_category_ids"])
    return ArchiverSettings(**changes)


def _flag(name: str) -> bool:
    return str(Variable.get(name, default="false")).strip().lower() in {"1", "true", "yes", "on"}


def is_unattended() -> bool:
    """True when live runs may skip the human approval step."""
    return _flag(UNATTENDED_VARIABLE)


def restores_need_approval() -> bool:
    """True when live restore runs wait for an approval too (restore destroys nothing: off by default)."""
    return _flag(APPROVE_RESTORES_VARIABLE)


def approval_timeout() -> timedelta:
    """How long an approval request waits for an answer before it counts as rejected (default 24 h)."""
    raw = Variable.get(APPROVAL_TIMEOUT_VARIABLE, default=None)
    if raw is None or not str(raw).strip():
        return timedelta(hours=DEFAULT_APPROVAL_TIMEOUT_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 24 * 365:
        raise SettingsError(
            f"Variable {APPROVAL_TIMEOUT_VARIABLE}={raw!r} must be a number of hours above 0 (at most a year)"
        )
    return timedelta(hours=hours)


def reports_location() -> str:
    """Where reports and stats are written: a local path / file:// URL or an s3:// prefix."""
    return str(Variable.get(REPORTS_LOCATION_VARIABLE, default=DEFAULT_REPORTS_LOCATION))
