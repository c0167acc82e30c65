"""State-changing operations on one entry each: archive, replace, restore, repair (plain Python).

Each takes an `OperationContext` (Kaltura API, S3 archive store, settings, live flag, reference
time) and an entry id, re-reads the entry's live state, logs every step as DRYRUN or EXEC and
returns an `EntryOutcome`. See each module's docstring for its steps and crash behaviour.
"""

from collections.abc import Callable

from kaltura_archiver.operations.archive import archive_entry
from kaltura_archiver.operations.context import OperationContext, PlaceholderError, PlaceholderVideo
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.repair import repair_entry
from kaltura_archiver.operations.replace import replace_entry
from kaltura_archiver.operations.restore import restore_entry

Operation = Callable[..., EntryOutcome]

OPERATIONS: dict[str, Operation] = {
    "archive": archive_entry,
    "replace": replace_entry,
    "restore": restore_entry,
    "repair": repair_entry,
}

__all__ = [
    "OPERATIONS",
    "Operation",
    "EntryOutcome",
    "OperationContext",
    "Outcome",
    "PlaceholderError",
    "PlaceholderVideo",
    "archive_entry",
    "repair_entry",
    "replace_entry",
    "restore_entry",
]
