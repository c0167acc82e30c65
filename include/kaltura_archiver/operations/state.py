"""The live state of one entry (Kaltura and S3, read fresh) and the matching rules between them.

Matching an original against its archive, strongest available rule first:

1. sizes: the original's exact byte size (`sizeInBytes`) must equal the object's size; when Kaltura
   reports only KB (flavors made before 2020-08 report ``sizeInBytes`` 0), the old tool's rule
   applies (KB within `size_tolerance`, 3%). A size mismatch is final (DIFFERENT); a size match is
   only ever enough for steps that delete nothing.
2. content (asked for before anything is deleted; see `operations.proof`): with a manifest, the
   downloaded original's byte count and sha256 equal the manifest's; for an old-tool archive, its
   byte count equals the object's and it reproduces the object's S3 ETag. No proof (UNPROVEN) means
   nothing is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kaltura_archiver.archive_store import (
    ArchivedObject,
    ArchiveManifest,
    ArchiveVerificationError,
    effective_manifest,
)
from kaltura_archiver.entry_state import sizes_match
from kaltura_archiver.kaltura_rules import ENTRY_STATUS_NAMES
from kaltura_archiver.operations.context import OperationContext, PlaceholderFile
from kaltura_archiver.operations.proof import (
    DIFFERENT,
    SAME,
    UNPROVEN,
    Match,
    prove_by_manifest,
    prove_old_tool,
)
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.records import EntryRecord, FlavorRecord, pick_original

FLAVOR_DELETED = 3
FLAVOR_ERROR = -1
ENTRY_NO_CONTENT = 7
ENTRY_IN_PROGRESS = frozenset({0, 1, 4})
FLAVOR_IN_PROGRESS = frozenset({0, 1, 5, 6, 7, 8, 9})
DEFAULT_EXTENSION = "mp4"
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


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
    version_change_interrupted: bool = False

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
            if self.manifest is not None and self.manifest.source != "archiver":
                kind = f"manifest ({self.manifest.source} archive, proved)"
            if self.manifest is not None and self.manifest.previous_versions:
                kind += f", {len(self.manifest.previous_versions)} previous version(s)"
            if self.version_change_interrupted:
                kind += ", interrupted version change"
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
            "s3_previous_versions": len(self.manifest.previous_versions) if self.manifest else 0,
        }


def read_state(ctx: OperationContext, entry_id: str) -> LiveState:
    """Read the entry, its flavors, its S3 object and manifest now."""
    entry = ctx.api.get_entry(entry_id)
    flavors: tuple[FlavorRecord, ...] = ()
    if entry is not None:
        listed = ctx.api.list_flavors([entry_id]).get(entry_id, [])
        flavors = tuple(f for f in listed if f.status != FLAVOR_DELETED)
    archive = ctx.store.head(entry_id)
    stored_manifest = ctx.store.read_manifest(entry_id) if archive is not None else None
    manifest, interrupted = effective_manifest(archive, stored_manifest)
    return LiveState(
        entry_id=entry_id,
        entry=entry,
        flavors=flavors,
        original=pick_original(list(flavors)),
        archive=archive,
        manifest=manifest,
        archived_tag=entry is not None and entry.has_tag(ctx.settings.archived_tag),
        replaced_tag=entry is not None and entry.has_tag(ctx.settings.replaced_tag),
        version_change_interrupted=interrupted,
    )


def status_refusal(ctx: OperationContext, state: LiveState, operation: str) -> str | None:
    """Why `operation` must not start on the entry because of its status (not among ctx.entry_statuses)."""
    entry = state.entry
    if entry is None or entry.status in ctx.entry_statuses:
        return None
    allowed = ", ".join(ENTRY_STATUS_NAMES.get(s, str(s)) for s in ctx.entry_statuses)
    return (
        f"entry status is {entry.status_name}; {operation} starts only on entries in {allowed}"
        " (name other statuses in the run's `status` parameter to allow them)"
    )


def extension_of(flavor: FlavorRecord | None) -> str:
    """The flavor's file extension as kept in a manifest (lower-case letters and digits), or ''."""
    ext = (flavor.file_ext if flavor is not None else "").strip().lstrip(".").lower()
    return ext if _EXTENSION.match(ext) else ""


def size_matches(flavor: FlavorRecord, size_bytes: int, tolerance: float) -> bool:
    """Exact byte equality when Kaltura reports bytes, else KB within tolerance (the health check's rule)."""
    return sizes_match(flavor, size_bytes, tolerance)


def is_placeholder(flavor: FlavorRecord, placeholder: PlaceholderFile, tolerance: float) -> bool:
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


def match_original(ctx: OperationContext, state: LiveState, log: StepLog, by_content: bool) -> Match:
    """Compare the entry's original with its archive: sizes, then (`by_content`) a content proof.

    Without `by_content` a size match counts as SAME (for steps that delete nothing); with it, only
    a content proof does (see the module docstring).
    """
    orig, archive = state.original, state.archive
    if orig is None or archive is None:
        return Match(DIFFERENT, "none", "no original or no S3 object to compare")
    tolerance = ctx.settings.size_tolerance
    if not size_matches(orig, archive.size_bytes, tolerance):
        return Match(
            DIFFERENT,
            "size",
            f"original {orig.flavor_id} is {orig.size_kb} KB"
            + (
                f" / {orig.size_bytes} bytes"
                if orig.size_bytes is not None
                else " (Kaltura reports no bytes)"
            )
            + f", S3 copy is {archive.size_bytes} bytes",
        )
    if not by_content or not orig.is_ready:
        why = "old-tool archive without manifest" if state.manifest is None else "content check not requested"
        return Match(SAME, "size", f"sizes agree ({why})")
    if state.manifest is not None:
        return prove_by_manifest(ctx, orig, state.manifest, log)
    return prove_old_tool(ctx, state.entry_id, orig, archive, log, extension_of(orig))


def restored_match(ctx: OperationContext, state: LiveState, log: StepLog) -> Match:
    """Is the READY original the archived video? Exact bytes when Kaltura reports them, else by content.

    A flavor reporting only KB (``sizeInBytes`` 0) is downloaded and compared with the manifest (or
    the old-tool archive's ETag); when no proof is possible the KB match is accepted with a warning,
    since nothing is deleted on the strength of it (only `flavors_deleted` is removed).
    """
    orig = state.ready_original
    if orig is None or orig.size_bytes is not None:
        return match_original(ctx, state, log, by_content=False)
    match = match_original(ctx, state, log, by_content=True)
    if match.verdict == UNPROVEN:
        log.warn(f"Kaltura reports only KB and the content is not proved ({match.detail}); sizes agree in KB")
        return Match(SAME, "size", f"sizes agree in KB; {match.detail}")
    return match
