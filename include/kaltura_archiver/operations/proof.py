"""Proving an entry's original equal to its S3 archive by content, before anything is deleted.

* An archive with a manifest: the original, downloaded, has the manifest's byte count and sha256.
* An old-tool archive (no manifest): the original, downloaded, has the object's exact byte count and
  reproduces the object's S3 ETag (its MD5, or its multipart ETag with the part size it implies; see
  `kaltura_archiver.s3_etag`). A proof yields the manifest to write (``source: old-tool``), so later
  runs verify the object by size and ETag instead of proving again.

Every comparison ends SAME, DIFFERENT (proved different: a byte count, a digest) or UNPROVEN (no
proof possible: an ETag that is not an MD5 under SSE-KMS, a part size no candidate reproduces, an
original that cannot be downloaded). Only SAME lets an original be deleted. Byte counts always come
from the download, never from Kaltura's ``sizeInBytes`` (0 on flavors made before 2020-08).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kaltura_archiver import __version__
from kaltura_archiver.archive_store import SOURCE_OLD_TOOL, ArchivedObject, ArchiveManifest
from kaltura_archiver.kaltura_api import KalturaApiError
from kaltura_archiver.operations.context import OperationContext
from kaltura_archiver.operations.kaltura_content import ContentTransferError
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.records import FlavorRecord
from kaltura_archiver.s3_etag import (
    DIFFERENT,
    SAME,
    UNPROVEN,
    EtagHasher,
    candidate_part_sizes,
    etag_not_md5_reason,
    fits,
    parse_etag,
    prove_by_etag,
)

__all__ = ["DIFFERENT", "INTERRUPTED", "SAME", "UNPROVEN", "Match", "prove_by_manifest", "prove_old_tool"]


@dataclass(frozen=True)
class Match:
    """How an original compares with its archive: verdict, the rule that decided, and why.

    `manifest` is set when an old-tool archive was just proved equal: the manifest to write for it.
    """

    verdict: str
    rule: str
    detail: str
    manifest: ArchiveManifest | None = None

    @property
    def matches(self) -> bool:
        """True only when equality is established (SAME)."""
        return self.verdict == SAME

    @property
    def differs(self) -> bool:
        """True when the original is proved different from the archive."""
        return self.verdict == DIFFERENT


INTERRUPTED = Match(DIFFERENT, "interrupted", "a new version's upload was interrupted before it completed")
"""The verdict for `LiveState.version_change_interrupted`: the object in place is the old version."""


def _download_into(ctx: OperationContext, original: FlavorRecord, hasher: EtagHasher) -> str:
    """Stream the original into `hasher`; '' when done, else why it could not be downloaded.

    A retryable failure is raised (the operation fails retryably and is tried again later).
    """
    try:
        for chunk in ctx.download(original):
            hasher.update(chunk)
    except (ContentTransferError, KalturaApiError) as err:
        if err.retryable:
            raise
        return str(err)
    return ""


def prove_by_manifest(
    ctx: OperationContext, original: FlavorRecord, manifest: ArchiveManifest, log: StepLog
) -> Match:
    """Compare the downloaded original's byte count and sha256 with the archive's manifest."""
    log.check(f"hashing original flavor {original.flavor_id} to compare with the manifest's sha256")
    hasher = EtagHasher()
    problem = _download_into(ctx, original, hasher)
    if problem:
        return Match(UNPROVEN, "sha256", f"the original cannot be downloaded to compare it ({problem})")
    if hasher.size != manifest.size_bytes:
        return Match(
            DIFFERENT,
            "sha256",
            f"the original has {hasher.size} bytes, the archive {manifest.size_bytes} (manifest)",
        )
    if hasher.sha256_hex == manifest.sha256:
        return Match(SAME, "sha256", f"sha256 {hasher.sha256_hex} equals the manifest")
    return Match(
        DIFFERENT,
        "sha256",
        f"original sha256 {hasher.sha256_hex} ({hasher.size} bytes) differs from manifest {manifest.sha256}",
    )


def prove_old_tool(
    ctx: OperationContext,
    entry_id: str,
    original: FlavorRecord,
    archive: ArchivedObject,
    log: StepLog,
    ext: str,
) -> Match:
    """Prove an old-tool archive (no manifest) equal to the original by its S3 ETag (module docstring)."""
    not_md5 = etag_not_md5_reason(archive.server_side_encryption, archive.sse_customer_algorithm)
    parsed = parse_etag(archive.etag)
    if not_md5 or parsed is None:
        why = not_md5 or f"its ETag {archive.etag!r} has no MD5 form"
        return Match(
            UNPROVEN, "etag", f"old-tool archive: its content cannot be proved equal to the original ({why})"
        )
    exact: int | None = None
    candidates: tuple[int, ...] = ()
    if parsed.parts is not None:
        exact = ctx.store.first_part_size(entry_id) if parsed.parts > 1 else None
        if exact is not None and fits(archive.size_bytes, parsed.parts, exact):
            candidates = (exact,)
        else:
            exact = None
            candidates = candidate_part_sizes(
                archive.size_bytes, parsed.parts, (ctx.settings.part_size_bytes,)
            )
        if not candidates:
            return Match(
                UNPROVEN,
                "multipart-etag",
                f"old-tool archive: no part size gives {parsed.parts} parts for {archive.size_bytes} bytes,"
                " so its multipart ETag cannot be reproduced",
            )
    log.check(
        f"old-tool archive without manifest: hashing original flavor {original.flavor_id} to reproduce"
        f" the S3 ETag {archive.etag}"
        + (f" (part sizes tried: {', '.join(str(c) for c in candidates)})" if parsed.parts else "")
    )
    hasher = EtagHasher(candidates)
    problem = _download_into(ctx, original, hasher)
    if problem:
        return Match(
            UNPROVEN, "etag", f"the original cannot be downloaded to prove the old-tool archive ({problem})"
        )
    proof = prove_by_etag(hasher, archive.size_bytes, archive.etag, "", exact)
    if proof.verdict != SAME:
        return Match(proof.verdict, proof.rule, f"old-tool archive: {proof.detail}")
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = ArchiveManifest(
        entry_id=entry_id,
        key=entry_id,
        sha256=hasher.sha256_hex,
        size_bytes=hasher.size,
        flavor_id=original.flavor_id,
        checksum_sha256=archive.checksum_sha256 or "",
        part_size_bytes=proof.part_size or hasher.size,
        parts=proof.parts or 1,
        storage_class=archive.storage_class,
        created_at=stamp,
        tool_version=__version__,
        etag=archive.etag,
        version_id=archive.version_id,
        verified_at=stamp,
        file_ext=ext,
        source=SOURCE_OLD_TOOL,
        proof=proof.detail,
    )
    return Match(SAME, proof.rule, f"old-tool archive: {proof.detail}", manifest)
