"""The live state of one entry (Kaltura and S3, read fresh) and the matching rules between them.

Matching an original against its archive, strongest available rule first:

1. sizes: the original's exact byte size (`sizeInBytes`) must equal the object's size; when Kaltura
   reports only KB, the old tool's rule applies (the smaller size within `size_tolerance`, 3%, of
   the bigger). A size mismatch is final.
2. content (only when asked, the archive has a manifest and the original can be downloaded): the
   sha256 of the original's bytes, streamed, must equal the manifest's sha256. Old-tool archives
   have no manifest and stop at rule 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaltura_archiver.archive_store import ArchivedObject, ArchiveManifest, ArchiveVerificationError
from kaltura_archiver.entry_state import sizes_match
from kaltura_archiver.kaltura_api import KalturaApiError
from kaltura_archiver.operations.context import OperationContext, PlaceholderVideo
from kaltura_archiver.operations.kaltura_content import ContentTransferError, hash_stream
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.records import EntryRecord, FlavorRecord, pick_original

FLAVOR_DELETED = 3
FLAVOR_ERROR = -1
ENTRY_NO_CONTENT = 7
ENTRY_IN_PROGRESS = frozenset({0, 1, 4})
FLAVOR_IN_PROGRESS = frozenset({0, 1, 5, 6, 7, 8, 9})


@dataclass(frozen=True)
class LiveState:
    """An entry, its live flavors and its S3 archive, as read at one moment."""

    entry_id: str
    entry: EntryRecord | None
    flavors: tuple[FlavorRecord, ...]
    original: FlavorRecord | None
    archive: ArchivedObject | None
    manifest: ArchiveManifest | None
    archived_tag: bool
    replaced_tag: bool

    @property
    def ready_original(self) -> FlavorRecord | None:
        """The original flavor when it is READY, else None."""
        return self.original if self.original is not None and self.original.is_ready else None

    @property
    def converting(self) -> bool:
        """True while Kaltura is still importing or converting the entry's content."""
        if self.entry is not None and self.entry.status in ENTRY_IN_PROGRESS:
            return True
        return self.original is not None and self.original.status in FLAVOR_IN_PROGRESS

    @property
    def without_usable_original(self) -> bool:
        """True when the entry has no original or only a failed one (content gone or conversion failed)."""
        return self.original is None or self.original.status == FLAVOR_ERROR

    def describe(self) -> str:
        """One line for the log: tags, original, archive."""
        entry = self.entry
        if entry is None:
            return "entry not found"
        orig = self.original
        orig_text = (
            f"original {orig.flavor_id} {orig.status_name} {orig.size_kb} KB"
            + (f" ({orig.size_bytes} bytes)" if orig.size_bytes is not None else "")
            if orig
            else "no original flavor"
        )
        if self.archive is None:
            s3_text = "no S3 object"
        else:
            kind = "manifest" if self.manifest is not None else "no manifest (old-tool archive)"
            s3_text = (
                f"S3 object {self.archive.size_bytes} bytes {self.archive.storage_class}"
                f" readable={self.archive.readable} restore={self.archive.restore_state} {kind}"
            )
        return (
            f"status {entry.status_name}; tags archived={self.archived_tag} replaced={self.replaced_tag}; "
            f"{len(self.flavors)} live flavors; {orig_text}; {s3_text}"
        )

    def summary(self) -> dict[str, object]:
        """Secret-free facts for an outcome's details."""
        orig = self.original
        return {
            "entry_status": self.entry.status_name if self.entry else None,
            "archived_tag": self.archived_tag,
            "replaced_tag": self.replaced_tag,
            "original_flavor_id": orig.flavor_id if orig else None,
            "original_status": orig.status_name if orig else None,
            "original_kb": orig.size_kb if orig else None,
            "s3_bytes": self.archive.size_bytes if self.archive else None,
            "s3_storage_class": self.archive.storage_class if self.archive else None,
            "s3_manifest": self.manifest is not None,
        }


def read_state(ctx: OperationContext, entry_id: str) -> LiveState:
    """Read the entry, its flavors, its S3 object and manifest now."""
    entry = ctx.api.get_entry(entry_id)
    flavors: tuple[FlavorRecord, ...] = ()
    if entry is not None:
        listed = ctx.api.list_flavors([entry_id]).get(entry_id, [])
        flavors = tuple(f for f in listed if f.status != FLAVOR_DELETED)
    archive = ctx.store.head(entry_id)
    manifest = ctx.store.read_manifest(entry_id) if archive is not None else None
    return LiveState(
        entry_id=entry_id,
        entry=entry,
        flavors=flavors,
        original=pick_original(list(flavors)),
        archive=archive,
        manifest=manifest,
        archived_tag=entry is not None and entry.has_tag(ctx.settings.archived_tag),
        replaced_tag=entry is not None and entry.has_tag(ctx.settings.replaced_tag),
    )


def size_matches(flavor: FlavorRecord, size_bytes: int, tolerance: float) -> bool:
    """Exact byte equality when Kaltura reports bytes, else KB within tolerance (the health check's rule)."""
    return sizes_match(flavor, size_bytes, tolerance)


def is_placeholder(flavor: FlavorRecord, placeholder: PlaceholderVideo, tolerance: float) -> bool:
    """True when the flavor has the placeholder video's size (exact bytes, or KB within tolerance)."""
    return size_matches(flavor, placeholder.size_bytes, tolerance)


def within_size_limit(archive: ArchivedObject, size_limit_kb: int) -> bool:
    """True when the S3 copy is small enough to be restored (the old tool's limit)."""
    return archive.size_bytes <= size_limit_kb * 1024


def archive_problem(ctx: OperationContext, state: LiveState) -> str | None:
    """Why the entry's S3 object cannot be trusted as its archive, or None when it can."""
    archive = state.archive
    if archive is None:
        return f"s3://{ctx.settings.bucket}/{state.entry_id} does not exist"
    if archive.size_bytes <= 0:
        return f"s3://{ctx.settings.bucket}/{state.entry_id} is empty"
    if state.manifest is None:
        return None
    try:
        ctx.store.verify_object(state.entry_id, state.manifest)
    except ArchiveVerificationError as err:
        return str(err)
    return None


@dataclass(frozen=True)
class Match:
    """Whether an original matches the archive, by which rule, and why."""

    matches: bool
    rule: str
    detail: str


def match_original(ctx: OperationContext, state: LiveState, log: StepLog, by_content: bool) -> Match:
    """Compare the entry's original with its archive: sizes first, then (if asked and possible) sha256."""
    orig, archive = state.original, state.archive
    if orig is None or archive is None:
        return Match(False, "none", "no original or no S3 object to compare")
    tolerance = ctx.settings.size_tolerance
    if not size_matches(orig, archive.size_bytes, tolerance):
        return Match(
            False,
            "size",
            f"original {orig.flavor_id} is {orig.size_kb} KB"
            + (f" / {orig.size_bytes} bytes" if orig.size_bytes is not None else "")
            + f", S3 copy is {archive.size_bytes} bytes",
        )
    manifest = state.manifest
    if not by_content or manifest is None or not orig.is_ready:
        why = "old-tool archive without manifest" if manifest is None else "content check not requested"
        return Match(True, "size", f"sizes agree ({why})")
    log.check(f"hashing original flavor {orig.flavor_id} to compare with the manifest's sha256")
    try:
        digest, size = hash_stream(ctx.download(orig))
    except (ContentTransferError, KalturaApiError) as err:
        if err.retryable:
            raise
        log.warn(f"original not downloadable ({err}); falling back to the size rule")
        return Match(True, "size", "sizes agree; original bytes not reachable")
    if digest == manifest.sha256 and size == manifest.size_bytes:
        return Match(True, "sha256", f"sha256 {digest} equals the manifest")
    return Match(
        False, "sha256", f"original sha256 {digest} ({size} bytes) differs from manifest {manifest.sha256}"
    )
