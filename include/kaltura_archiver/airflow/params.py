"""DAG Params: the filter's fields plus per-DAG extras, JSON-schema validated by Airflow at trigger time."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from kaltura_archiver.filters import MAX_YEARS, EntryFilter, bounded

MAX_ENTRY_IDS = 10_000
MAX_TAGS = 20
MAX_ENTRIES_DESCRIPTION = (
    "at most this many entries per run; -1 for no limit of its own. An action run never maps more "
    "than Airflow's [core] max_map_length (1,024 by default): its select log and summary say how many "
    "matching entries remain for the next run"
)


def _filter_param_schemas() -> dict[str, dict[str, Any]]:
    schemas = EntryFilter.param_schemas()
    schemas["entry_ids"] = {**schemas["entry_ids"], "maxItems": MAX_ENTRY_IDS}
    schemas["tag"] = {**schemas["tag"], "maxItems": MAX_TAGS}
    schemas["status"] = {**schemas["status"], "minItems": 1, "uniqueItems": True}
    schemas["max_entries"] = {**schemas["max_entries"], "description": MAX_ENTRIES_DESCRIPTION}
    return schemas


def filter_params(**defaults: Any) -> dict[str, Param]:
    """One Param per filter field (defaults overridable per DAG)."""
    params = {}
    for name, schema in _filter_param_schemas().items():
        schema = dict(schema)
        if name in defaults:
            schema["default"] = defaults[name]
        default = schema.pop("default", None)
        params[name] = Param(default, **schema)
    return params


def dry_run_param() -> Param:
    return Param(
        True,
        type="boolean",
        title="Dry run",
        description="Log what would be done (DRYRUN) and change nothing. Switch off to act (EXEC).",
    )


def years_param(default: float, meaning: str) -> Param:
    return Param(
        default,
        type="number",
        **bounded(0, MAX_YEARS),
        title="Default selection: N years",
        description=f"N years (0 to {MAX_YEARS:g}) for the default selection: {meaning}. "
        "Used when no filter field is set.",
    )


def action_params(years: float, meaning: str, **filter_defaults: Any) -> dict[str, Param]:
    """Params of an action DAG (archive, replace, restore, repair)."""
    return {
        "dry_run": dry_run_param(),
        "years": years_param(years, meaning),
        **filter_params(**filter_defaults),
    }


def report_params(**filter_defaults: Any) -> dict[str, Param]:
    """Params of a read-only DAG: the filter, all matches by default."""
    filter_defaults.setdefault("max_entries", -1)
    return filter_params(**filter_defaults)
