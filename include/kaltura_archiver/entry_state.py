"""Entry states of SPEC section 2 (initial / archived / placeholder / inconsistent) and exemptions.

One more state is told apart from "inconsistent": `CHANGED_SINCE_ARCHIVAL`, an archived (not
replaced) entry whose READY original no longer matches its S3 copy - a new version uploaded after
archival, or an old-tool copy that is not the original. Archive, replace and repair handle it by
keeping the old copy as a previous version and archiving the current original
(`kaltura_archiver.operations.versions`); their outcome's ``details["changed_since_archival"]``
and the manifest's ``previous_versions`` say what was done.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.records import EntryRecord, FlavorRecord


class S3ObjectLike(Protocol):
    """What classification needs of an S3 archive object (`archive_store.ArchivedObject` fits)."""

    @property
    def size_bytes(self) -> int: ...


class EntryState(enum.StrEnum):
    """Where an entry stands in the archive lifecycle."""

    INITIAL = "initial"
    ARCHIVED = "archived"
    PLACEHOLDER = "placeholder"
    CHANGED_SINCE_ARCHIVAL = "changed_since_archival"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class Classification:
    """The state of an entry and a one-line reason (why it is inconsistent, or what was seen)."""

    state: EntryState
    reason: str


def sizes_match(flavor: FlavorRecord | None, s3_size_bytes: int | None, tolerance: float) -> bool:
    """True when the flavor and the S3 object have the same size.

    Exact when Kaltura reports ``sizeInBytes``; otherwise Kaltura's KB (rounded by Kaltura) must be
    within ``tolerance`` (relative) of the S3 size in KB plus one KB of slack for rounding (Kaltura's
    KB is inexact and rounded up, so a 1,020-byte file can report 2 KB). A
    ``sizeInBytes`` of 0 (flavors made before 2020-08 report only KB) is not a size.
    """
    if flavor is None or s3_size_bytes is None:
        return False
    if flavor.size_bytes:
        return flavor.size_bytes == s3_size_bytes
    s3_kb = s3_size_bytes / 1024
    return abs(flavor.size_kb - s3_kb) <= tolerance * s3_kb + 1.0


def exemption(entry: EntryRecord, settings: ArchiverSettings) -> str:
    """Why the entry is exempt from archive and replace (exempt tag or category); empty if it is not."""
    if settings.exempt_tag and entry.has_tag(settings.exempt_tag):
        return f"tagged {settings.exempt_tag}"
    for category_id in entry.category_ids:
        if category_id in settings.exempt_category_ids:
            return f"in exempt category {category_id}"
    return ""


def classify_entry(
    entry: EntryRecord,
    original_flavor: FlavorRecord | None,
    s3_object: S3ObjectLike | None,
    settings: ArchiverSettings,
) -> Classification:
    """Classify an entry from its tags, its original flavor and its S3 object (see SPEC section 2).

    initial: no S3 object, neither tag. archived: S3 object, tagged archived only, original matches S3.
    placeholder: S3 object, both tags, an original that does not match S3. changed_since_archival:
    S3 object, tagged archived only, a READY original that does not match S3. Anything else is
    inconsistent.
    """
    archived = entry.has_tag(settings.archived_tag)
    replaced = entry.has_tag(settings.replaced_tag)
    in_s3 = s3_object is not None
    if replaced and not archived:
        return Classification(
            EntryState.INCONSISTENT, f"tagged {settings.replaced_tag} but not {settings.archived_tag}"
        )
    if not in_s3:
        if archived:
            return Classification(EntryState.INCONSISTENT, f"tagged {settings.archived_tag} but no S3 object")
        return Classification(EntryState.INITIAL, "not archived")
    if not archived:
        return Classification(
            EntryState.INCONSISTENT, f"S3 object exists but not tagged {settings.archived_tag}"
        )
    assert s3_object is not None
    if original_flavor is None:
        return Classification(EntryState.INCONSISTENT, "archived but the entry has no original flavor")
    match = sizes_match(original_flavor, s3_object.size_bytes, settings.size_tolerance)
    if replaced:
        if match:
            return Classification(
                EntryState.INCONSISTENT,
                f"tagged {settings.replaced_tag} but the original still matches the S3 copy",
            )
        return Classification(EntryState.PLACEHOLDER, "original is the placeholder; real video in S3")
    if not match:
        if original_flavor.is_ready:
            return Classification(
                EntryState.CHANGED_SINCE_ARCHIVAL,
                "archived but the READY original does not match the S3 copy (a new version since"
                " archival?): replace or repair keeps the old copy and archives the new version",
            )
        return Classification(EntryState.INCONSISTENT, "archived but the original does not match the S3 copy")
    return Classification(EntryState.ARCHIVED, "original matches the S3 copy")
