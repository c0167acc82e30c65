"""State-changing operations on one entry each: archive, replace, restore, repair (plain Python).

Each takes an `OperationContext` (Kaltura API, S3 archive store, settings, live flag, reference
time) and an entry id, re-reads the entry's live state, logs every step as DRYRUN or EXEC and
returns an `EntryOutcome`. See each module's docstring for its steps and crash behaviour.

The names below are imported on first use (PEP 562), so importing a light submodule such as
`operations.outcome` (as DAG files do through the Airflow layer) loads neither KalturaClient,
requests nor boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaltura_archiver.operations.archive import archive_entry
    from kaltura_archiver.operations.context import OperationContext, PlaceholderError, PlaceholderFile
    from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
    from kaltura_archiver.operations.repair import repair_entry
    from kaltura_archiver.operations.replace import replace_entry
    from kaltura_archiver.operations.restore import restore_entry

    Operation = Callable[..., EntryOutcome]
    OPERATIONS: dict[str, Operation]

_HOMES = {
    "archive_entry": "archive",
    "OperationContext": "context",
    "PlaceholderError": "context",
    "PlaceholderFile": "context",
    "EntryOutcome": "outcome",
    "Outcome": "outcome",
    "repair_entry": "repair",
    "replace_entry": "replace",
    "restore_entry": "restore",
}


def __getattr__(name: str) -> Any:
    """Import an exported name from its submodule when first asked for."""
    if name in _HOMES:
        value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    elif name == "OPERATIONS":
        value = {op: __getattr__(f"{op}_entry") for op in ("archive", "replace", "restore", "repair")}
    elif name == "Operation":
        value = Callable[..., __getattr__("EntryOutcome")]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "OPERATIONS",
    "Operation",
    "EntryOutcome",
    "OperationContext",
    "Outcome",
    "PlaceholderError",
    "PlaceholderFile",
    "archive_entry",
    "repair_entry",
    "replace_entry",
    "restore_entry",
]
