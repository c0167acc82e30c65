"""Sampled archive verification: prove that what sits in S3 / Glacier still matches what was archived.

A run picks a random sample of archived entries (`choose_sample`: count, per-entry size, per-run bytes
and a monthly retrieval budget bound it), restores each Glacier object at the cheapest tier for one
day, streams it once and compares it (`verify_entry`):

* with a verified manifest (this tool's archives, and old-tool archives once proved): byte count and
  SHA-256 of the content must equal the manifest's;
* an old-tool archive without a manifest: the content must reproduce the object's own S3 ETag (MD5,
  or MD5 of part MD5s; `kaltura_archiver.s3_etag`), the proof the old tool's archives carry.

Nothing here writes to the bucket or to Kaltura except the restore request (a temporary readable
copy that S3 drops after `VerifyLimits.restore_days`). Results go to the verification history (one
CSV row per entry per run, `history_rows` / `append_history`), from which the stats take "last
proven good".
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kaltura_archiver.archive_store import (
    RESTORE_DONE,
    RESTORE_NOT_NEEDED,
    RESTORE_ONGOING,
    RESTORE_REQUESTED,
    SOURCE_OLD_TOOL,
    ArchivedObject,
    ArchiveManifest,
    ArchiveStore,
    effective_manifest,
)
from kaltura_archiver.restore_tiers import cheapest_tier
from kaltura_archiver.s3_etag import (
    DIFFERENT,
    SAME,
    EtagHasher,
    candidate_part_sizes,
    etag_not_md5_reason,
    fits,
    parse_etag,
    prove_by_etag,
)

MB = 1_000_000
GB = 1_000_000_000

GOOD = "good"
MISMATCH = "mismatch"
UNPROVEN = "unproven"
MISSING = "missing"
SKIPPED = "skipped"
WAITING = "waiting_for_glacier"
HISTORY_NAME = "verification/history.csv"

LogFn = Callable[[str], object]


class VerifyLimitsError(ValueError):
    """A verification setting is invalid; the message names it."""


@dataclass(frozen=True)
class VerifyLimits:
    """How much one run and one month may read: entries per run, MB per entry, GB per run and per month."""

    sample_entries: int = 20
    max_entry_mb: int = 5_000
    max_run_gb: float = 20.0
    monthly_budget_gb: float = 100.0
    restore_days: int = 1

    def __post_init__(self) -> None:
        if self.sample_entries < 1:
            raise VerifyLimitsError(f"verify_sample_entries must be >= 1, got {self.sample_entries}")
        if self.max_entry_mb < 1:
            raise VerifyLimitsError(f"verify_max_entry_mb must be >= 1, got {self.max_entry_mb}")
        if self.max_run_gb <= 0 or self.monthly_budget_gb <= 0:
            raise VerifyLimitsError("verify_max_run_gb and verify_monthly_budget_gb must be above 0")
        if self.restore_days < 1:
            raise VerifyLimitsError(f"verify_restore_days must be >= 1, got {self.restore_days}")


SETTING_NAMES = {
    "sample_entries": "verify_sample_entries",
    "max_entry_mb": "verify_max_entry_mb",
    "max_run_gb": "verify_max_run_gb",
    "monthly_budget_gb": "verify_monthly_budget_gb",
    "restore_days": "verify_restore_days",
}
"""VerifyLimits field -> setting name (an Airflow Variable `kaltura_archiver_<name>`)."""


def limits_from_mapping(values: Mapping[str, str | None]) -> VerifyLimits:
    """Limits from raw setting strings keyed by setting name (missing or None: default)."""
    types = {f.name: f.type for f in fields(VerifyLimits)}
    found: dict[str, Any] = {}
    for field_name, setting in SETTING_NAMES.items():
        raw = values.get(setting)
        if raw is None or not str(raw).strip():
            continue
        try:
            found[field_name] = float(raw) if types[field_name] == "float" else int(str(raw).strip())
        except ValueError:
            raise VerifyLimitsError(f"{setting}={raw!r} is not a number") from None
    return VerifyLimits(**found)


@dataclass(frozen=True)
class Sample:
    """The entries a run verifies (id, size), and why the others were left out."""

    entries: tuple[tuple[str, int], ...]
    archived: int
    too_big: int
    budget_left_bytes: int
    left_for_budget: int

    @property
    def entry_ids(self) -> list[str]:
        """The sampled entry ids, in sample order."""
        return [entry_id for entry_id, _size in self.entries]

    @property
    def bytes(self) -> int:
        """How many bytes the sample reads."""
        return sum(size for _entry_id, size in self.entries)

    def lines(self) -> list[str]:
        """A human summary for the log."""
        return [
            f"{self.archived} archived entries; {self.too_big} over the per-entry size limit",
            f"sampled {len(self.entries)} entries, {self.bytes} bytes to read"
            f" (monthly budget left before this run: {self.budget_left_bytes} bytes)",
            *(
                [f"{self.left_for_budget} eligible entries left out by the byte limits"]
                if self.left_for_budget
                else []
            ),
        ]


def choose_sample(
    archives: Mapping[str, int], limits: VerifyLimits, spent_this_month: int, rng: random.Random
) -> Sample:
    """A random sample of archived entries (id -> size): at most `sample_entries`, each at most
    `max_entry_mb`, together at most `max_run_gb` and what is left of the monthly budget."""
    entry_limit = limits.max_entry_mb * MB
    eligible = sorted(e for e, size in archives.items() if size <= entry_limit)
    rng.shuffle(eligible)
    budget_left = max(0, int(limits.monthly_budget_gb * GB) - spent_this_month)
    allowance = min(int(limits.max_run_gb * GB), budget_left)
    chosen: list[tuple[str, int]] = []
    total = 0
    left_out = 0
    for entry_id in eligible:
        if len(chosen) >= limits.sample_entries:
            break
        size = archives[entry_id]
        if total + size > allowance:
            left_out += 1
            continue
        chosen.append((entry_id, size))
        total += size
    return Sample(tuple(chosen), len(archives), len(archives) - len(eligible), budget_left, left_out)


@dataclass(frozen=True)
class VerifyResult:
    """One entry's verification: status (good, mismatch, unproven, missing, skipped, waiting) and proof."""

    entry_id: str
    status: str
    detail: str
    proof: str = ""
    size_bytes: int = 0
    bytes_read: int = 0
    storage_class: str = ""
    tier: str = ""
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data (XCom, history row)."""
        return asdict(self)


def _compare_manifest(hasher: EtagHasher, manifest: ArchiveManifest) -> tuple[str, str, str]:
    if hasher.size != manifest.size_bytes:
        return MISMATCH, "sha256", f"read {hasher.size} bytes, the manifest records {manifest.size_bytes}"
    if hasher.sha256_hex != manifest.sha256:
        return (
            MISMATCH,
            "sha256",
            f"content sha256 {hasher.sha256_hex} differs from the manifest's {manifest.sha256}",
        )
    origin = "old-tool archive, manifest" if manifest.source == SOURCE_OLD_TOOL else "manifest"
    return GOOD, "sha256", f"sha256 {hasher.sha256_hex} of {hasher.size} bytes equals the {origin}"


def _etag_candidates(store: ArchiveStore, stored: ArchivedObject) -> tuple[tuple[int, ...], int | None]:
    parsed = parse_etag(stored.etag)
    if parsed is None or not parsed.multipart or not parsed.parts:
        return (), None
    exact = store.first_part_size(stored.key) if parsed.parts > 1 else None
    if exact is not None and fits(stored.size_bytes, parsed.parts, exact):
        return (exact,), exact
    return candidate_part_sizes(stored.size_bytes, parsed.parts, (store.settings.part_size_bytes,)), None


def _compare_etag(hasher: EtagHasher, stored: ArchivedObject, exact: int | None) -> tuple[str, str, str]:
    why = etag_not_md5_reason(stored.server_side_encryption, stored.sse_customer_algorithm)
    proof = prove_by_etag(hasher, stored.size_bytes, stored.etag, why, exact)
    status = GOOD if proof.verdict == SAME else MISMATCH if proof.verdict == DIFFERENT else UNPROVEN
    return status, proof.rule, f"old-tool archive without manifest: {proof.detail}"


def verify_entry(
    store: ArchiveStore,
    entry_id: str,
    limits: VerifyLimits,
    log: LogFn | None = None,
    chunks: Callable[[str], Iterable[bytes]] | None = None,
) -> VerifyResult:
    """Verify one archive (module docstring); WAITING after requesting (or finding) a Glacier restore.

    Reads the object once; `chunks` (default `store.open_stream`) yields its bytes. Writes nothing
    but the restore request.
    """
    say = log or (lambda _message: None)
    stored = store.head(entry_id)
    if stored is None:
        return VerifyResult(entry_id, MISSING, f"s3://{store.bucket}/{entry_id} no longer exists")
    base: dict[str, Any] = {"size_bytes": stored.size_bytes, "storage_class": stored.storage_class}
    tier = cheapest_tier(stored.storage_class)
    manifest, interrupted = effective_manifest(stored, store.read_manifest(entry_id))
    if manifest is not None and not manifest.verified_at and not interrupted:
        return VerifyResult(
            entry_id,
            SKIPPED,
            "its manifest is not verified yet (an archive run is under way or was cut)",
            **base,
        )
    if not stored.readable:
        answer = store.request_restore(entry_id, say, tier=tier, days=limits.restore_days)
        if answer in (RESTORE_REQUESTED, RESTORE_ONGOING):
            return VerifyResult(entry_id, WAITING, f"Glacier restore ({tier}) {answer}", tier=tier, **base)
        if answer not in (RESTORE_DONE, RESTORE_NOT_NEEDED):
            return VerifyResult(entry_id, WAITING, f"Glacier restore answered {answer}", tier=tier, **base)
    candidates, exact = ((), None) if manifest is not None else _etag_candidates(store, stored)
    hasher = EtagHasher(candidates)
    say(f"{entry_id}: reading {stored.size_bytes} bytes of s3://{store.bucket}/{entry_id} once")
    for chunk in (chunks or store.open_stream)(entry_id):
        hasher.update(chunk)
    if manifest is not None:
        status, proof, detail = _compare_manifest(hasher, manifest)
    else:
        status, proof, detail = _compare_etag(hasher, stored, exact)
    say(f"{entry_id}: {status.upper()} - {detail}")
    return VerifyResult(
        entry_id,
        status,
        detail,
        proof,
        bytes_read=hasher.size,
        tier=tier if stored.storage_class in ("GLACIER", "DEEP_ARCHIVE") else "",
        sha256=hasher.sha256_hex,
        **base,
    )


HISTORY_COLUMNS = (
    "run_id",
    "verified_at",
    "entry_id",
    "status",
    "proof",
    "size_bytes",
    "bytes_read",
    "storage_class",
    "tier",
    "detail",
)


def history_rows(run_id: str, verified_at: datetime, results: Iterable[VerifyResult]) -> list[dict[str, Any]]:
    """History rows of one run (one per entry)."""
    stamp = verified_at.astimezone(UTC).isoformat(timespec="seconds")
    return [
        {"run_id": run_id, "verified_at": stamp, **{k: r.as_dict()[k] for k in HISTORY_COLUMNS[2:]}}
        for r in results
    ]


def read_history(path: Path) -> list[dict[str, str]]:
    """Every history row of a local CSV copy (none when the file does not exist)."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def append_history(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add rows to the CSV (header written once); rows of the same run and entry are replaced."""
    old = read_history(path)
    keys = {(str(r["run_id"]), str(r["entry_id"])) for r in rows}
    kept = [r for r in old if (r["run_id"], r["entry_id"]) not in keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in [*kept, *rows]:
            writer.writerow(row)


def month_spent(rows: Iterable[Mapping[str, Any]], now: datetime) -> int:
    """Bytes restored for verification in `now`'s calendar month (UTC): the sizes of the entries read."""
    month = now.astimezone(UTC).strftime("%Y-%m")
    total = 0
    for row in rows:
        if str(row.get("verified_at", "")).startswith(month) and row.get("status") in (
            GOOD,
            MISMATCH,
            UNPROVEN,
        ):
            total += int(float(row.get("size_bytes") or 0))
    return total


def run_verdict(results: Iterable[VerifyResult]) -> tuple[list[VerifyResult], list[VerifyResult]]:
    """(mismatches, everything not proved good) of one run's results."""
    done = list(results)
    return [r for r in done if r.status == MISMATCH], [r for r in done if r.status != GOOD]


def lines(results: Iterable[VerifyResult]) -> Iterator[str]:
    """One log line per result, then the totals."""
    done = list(results)
    for r in done:
        yield f"{r.status.upper():9} {r.entry_id} {r.bytes_read} bytes read ({r.proof or '-'}): {r.detail}"
    counts: dict[str, int] = {}
    for r in done:
        counts[r.status] = counts.get(r.status, 0) + 1
    shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing"
    yield f"{len(done)} entries verified, {sum(r.bytes_read for r in done)} bytes read: {shown}"
