"""People report: add the owner's status, name and org unit from the directory to a list report.

Rows are keyed by `creator_id` with any `@domain` suffix stripped. All distinct creators are
looked up first (batched and cached by the directory); only then is the report built, so a
directory failure yields no partial report. Written as TSV through a temporary file.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kaltura_archiver.directory import PeopleDirectory, Person, uid_key

CREATOR_COLUMN = "creator_id"
PEOPLE_COLUMNS = ("status", "name", "org_unit")
COLLISION_PREFIX = "owner_"
ReportSource = str | os.PathLike[str] | pd.DataFrame


class ReportError(ValueError):
    """The input report cannot be enriched (missing column, unreadable file)."""


def uid_from_creator_id(creator_id: object) -> str:
    """The directory uid for a Kaltura creator id: trimmed, `@domain` suffix removed ('' for none)."""
    if (
        creator_id is None
        or creator_id is pd.NA
        or (isinstance(creator_id, float) and math.isnan(creator_id))
    ):
        return ""
    return str(creator_id).strip().split("@", 1)[0].strip()


def people_column_names(existing: Sequence[str]) -> tuple[str, str, str]:
    """status/name/org_unit, or all three prefixed `owner_` if the report already has one of them."""
    if any(column in existing for column in PEOPLE_COLUMNS):
        prefixed = tuple(COLLISION_PREFIX + column for column in PEOPLE_COLUMNS)
        clash = [column for column in prefixed if column in existing]
        if clash:
            raise ReportError(f"report already has people columns {clash}; was it enriched already?")
        return prefixed[0], prefixed[1], prefixed[2]
    return PEOPLE_COLUMNS[0], PEOPLE_COLUMNS[1], PEOPLE_COLUMNS[2]


def read_report(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A TSV report read with every column as text (ids keep leading zeros, empty stays '')."""
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportError(f"cannot read report {os.fspath(path)!r}: {exc}") from exc


def enrich_report(
    report: ReportSource,
    directory: PeopleDirectory,
    *,
    creator_column: str = CREATOR_COLUMN,
) -> pd.DataFrame:
    """A copy of `report` (DataFrame or TSV path) with the owner's status, name and org_unit columns."""
    frame = read_report(report) if not isinstance(report, pd.DataFrame) else report.copy()
    if creator_column not in frame.columns:
        raise ReportError(f"report has no {creator_column!r} column (columns: {list(frame.columns)})")
    status_col, name_col, org_col = people_column_names([str(c) for c in frame.columns])
    uids = frame[creator_column].map(uid_from_creator_id)
    people = directory.lookup(uid for uid in uids.unique() if uid)
    keys = uids.map(uid_key)

    def field(key: str, attribute: str) -> str:
        person = people.get(key) or Person(uid=key)
        return str(getattr(person, attribute))

    frame[status_col] = [field(k, "status") for k in keys]
    frame[name_col] = [field(k, "name") for k in keys]
    frame[org_col] = [field(k, "org_unit") for k in keys]
    return frame


def write_report(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write `frame` as TSV atomically (temp file + rename) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, sep="\t", index=False, lineterminator="\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def enrich_report_file(
    source: ReportSource,
    target: str | os.PathLike[str],
    directory: PeopleDirectory,
    *,
    creator_column: str = CREATOR_COLUMN,
) -> pd.DataFrame:
    """Enrich a report and write it as TSV to `target`; nothing is written if a look-up fails."""
    frame = enrich_report(source, directory, creator_column=creator_column)
    write_report(frame, target)
    return frame
