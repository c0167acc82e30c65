"""Health invariants of SPEC section 4, one report row per entry with a machine-readable verdict.

1. the entry has an original flavor in status READY;
2. an S3 object exists for the entry if and only if it is tagged archived_to_s3;
3. tagged flavors_deleted implies tagged archived_to_s3;
4. archived, not replaced: original and S3 object match (size within tolerance, exact with sizeInBytes);
5. tagged flavors_deleted: original and S3 object do not match (the original is the placeholder);
6. warning only: archived and the original is over the size limit.
Invariant 4 broken by a READY original is a warning, "changed since archival": the owner uploaded a
new version, and the next replace (or repair) keeps the old copy as a previous version and archives
the new one before it deletes anything.
Exempt entries (exempt tag / category) get the verdict ``exempt`` unless they are unhealthy.

The archiver answers for the entries it touched: tagged by it, or with an object in S3. An entry it
never touched that breaks invariant 1 (a draft, an abandoned upload, a failed conversion: no usable
original) gets the verdict ``observed``: it is reported and counted but does not fail the run, so a
real account's daily health run is not red over uploads nobody finished.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.entry_state import EntryState, S3ObjectLike, classify_entry, exemption, sizes_match
from kaltura_archiver.records import EntryRecord, FlavorRecord, fmt_time

HEALTH_COLUMNS: tuple[str, ...] = (
    "entry_id",
    "status-ok",
    "original",
    "orig_status",
    "archived_to_s3",
    "flavors_deleted",
    "created_date",
    "s3-size (KB)",
    "orig_KB",
    "size_match",
    "explanation",
    "verdict",
    "state",
)


class Verdict(enum.StrEnum):
    """Outcome of a health check; only ``unhealthy`` fails a run."""

    HEALTHY = "healthy"
    WARNING = "warning"
    UNHEALTHY = "unhealthy"
    EXEMPT = "exempt"
    OBSERVED = "observed"


@dataclass(frozen=True)
class HealthRow:
    """One row of the health report (the old tool's columns plus verdict and state)."""

    entry_id: str
    status_ok: bool
    original: str
    orig_status: str
    archived_to_s3: bool
    flavors_deleted: bool
    created_date: str
    s3_size_kb: int | None
    orig_kb: int | None
    size_match: bool | None
    explanation: str
    verdict: Verdict
    state: str

    def as_report_dict(self) -> dict[str, object]:
        """The row keyed by the report's column names."""
        return {
            "entry_id": self.entry_id,
            "status-ok": self.status_ok,
            "original": self.original,
            "orig_status": self.orig_status,
            "archived_to_s3": self.archived_to_s3,
            "flavors_deleted": self.flavors_deleted,
            "created_date": self.created_date,
            "s3-size (KB)": "" if self.s3_size_kb is None else self.s3_size_kb,
            "orig_KB": "" if self.orig_kb is None else self.orig_kb,
            "size_match": "" if self.size_match is None else self.size_match,
            "explanation": self.explanation,
            "verdict": self.verdict.value,
            "state": self.state,
        }


def check_health(
    entry: EntryRecord,
    original: FlavorRecord | None,
    s3_object: S3ObjectLike | None,
    settings: ArchiverSettings,
) -> HealthRow:
    """Check one entry against the six invariants and explain every violation."""
    archived = entry.has_tag(settings.archived_tag)
    replaced = entry.has_tag(settings.replaced_tag)
    responsible = archived or replaced or s3_object is not None
    s3_size = s3_object.size_bytes if s3_object is not None else None
    problems: list[str] = []
    warnings: list[str] = []
    status_ok = original is not None and original.is_ready
    if original is None:
        problems.append("no original flavor")
    elif not original.is_ready:
        problems.append(f"original flavor {original.flavor_id} is {original.status_name}, not READY")
    if s3_object is not None and not archived:
        problems.append(f"S3 object exists but entry is not tagged {settings.archived_tag}")
    if s3_object is None and archived:
        problems.append(f"tagged {settings.archived_tag} but no S3 object")
    if replaced and not archived:
        problems.append(f"tagged {settings.replaced_tag} but not {settings.archived_tag}")
    match: bool | None = None
    if original is not None and s3_size is not None:
        match = sizes_match(original, s3_size, settings.size_tolerance)
        if archived and not replaced and not match:
            sizes = f"original ({_kb(original)} KB) does not match S3 copy ({s3_size // 1024} KB)"
            if original.is_ready:
                # a new version since archival: replace keeps the old copy and archives this one
                warnings.append(f"changed since archival: {sizes}; the next replace keeps both versions")
            else:
                problems.append(sizes)
        if replaced and match:
            problems.append(f"tagged {settings.replaced_tag} but the original still matches the S3 copy")
    if archived and original is not None and settings.over_size_limit(original.size_kb):
        warnings.append(f"original over the size limit ({original.size_kb} > {settings.size_limit_kb} KB)")
    context = [f"entry status {entry.status_name}"] if not entry.is_ready else []
    if entry.hidden_reason:
        context.append(f"hidden from Kaltura's default lists: {entry.hidden_reason}")
    exempt = exemption(entry, settings)
    if problems and not responsible:
        verdict = Verdict.OBSERVED
    elif problems:
        verdict = Verdict.UNHEALTHY
    elif exempt:
        verdict = Verdict.EXEMPT
    elif warnings:
        verdict = Verdict.WARNING
    else:
        verdict = Verdict.HEALTHY
    if verdict is Verdict.OBSERVED:
        context.append("never touched by the archiver: reported, not failing the run")
    notes = problems + warnings + ([f"exempt: {exempt}"] if exempt else [])
    notes += context
    return HealthRow(
        entry_id=entry.entry_id,
        status_ok=status_ok,
        original=original.flavor_id if original else "",
        orig_status=original.status_name if original else "",
        archived_to_s3=archived,
        flavors_deleted=replaced,
        created_date=fmt_time(entry.created_at),
        s3_size_kb=None if s3_size is None else round(s3_size / 1024),
        orig_kb=_kb(original) if original else None,
        size_match=match,
        explanation="; ".join(notes) or "ok",
        verdict=verdict,
        state=classify_entry(entry, original, s3_object, settings).state.value,
    )


def needs_repair(row: HealthRow) -> bool:
    """True when repair has work: the entry is unhealthy, or changed since archival (a warning that
    repair resolves by keeping the old copy and archiving the new version)."""
    return row.verdict is Verdict.UNHEALTHY or row.state == EntryState.CHANGED_SINCE_ARCHIVAL.value


def _kb(flavor: FlavorRecord) -> int:
    return flavor.size_kb if flavor.size_bytes is None else round(flavor.size_bytes / 1024)


def verdict_counts(rows: Iterable[HealthRow]) -> dict[str, int]:
    """Number of rows per verdict (every verdict present, zero when none)."""
    counts = Counter(row.verdict.value for row in rows)
    return {v.value: counts.get(v.value, 0) for v in Verdict}
