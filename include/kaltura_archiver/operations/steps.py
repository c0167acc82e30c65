"""Content-changing steps shared by replace, restore and repair; each one announced on the step log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from kaltura_archiver.operations.context import OperationContext, PlaceholderError
from kaltura_archiver.operations.kaltura_content import (
    add_content,
    delete_flavor,
    regenerate_thumbnail,
    set_thumbnail_image,
    update_tags,
    upload_chunks,
)
from kaltura_archiver.operations.proof import Match
from kaltura_archiver.operations.state import (
    DEFAULT_EXTENSION,
    LiveState,
    extension_of,
    is_placeholder,
    read_state,
)
from kaltura_archiver.operations.steplog import StepLog

PLACEHOLDER_EXTENSION = "mp4"


def delete_all_flavors(ctx: OperationContext, log: StepLog, state: LiveState) -> None:
    """Delete every live flavor, derived ones first and the original last (each one idempotent)."""
    for flavor in sorted(state.flavors, key=lambda f: f.is_original):
        kind = "original" if flavor.is_original else "derived"
        if log.step(f"delete {kind} flavor {flavor.flavor_id} ({flavor.status_name}, {flavor.size_kb} KB)"):
            delete_flavor(ctx.api, flavor.flavor_id)


@dataclass(frozen=True)
class PendingUpload:
    """Content uploaded to a finished upload token, not yet attached to the entry ('' in a dry run)."""

    what: str
    token_id: str


def upload_content(
    ctx: OperationContext,
    log: StepLog,
    what: str,
    file_name: str,
    size_bytes: int,
    chunks: Callable[[], Iterator[bytes]],
) -> PendingUpload:
    """Upload a byte stream through a chunked upload token (nothing of the entry changes yet)."""
    chunk_bytes = ctx.settings.upload_chunk_bytes
    token_id = ""
    if log.step(
        f"upload {what} ({size_bytes} bytes) as {file_name} to Kaltura in chunks of {chunk_bytes} bytes"
    ):
        result = upload_chunks(ctx.api, chunks(), file_name, chunk_bytes, size_bytes, sleep=ctx.sleep)
        token_id = result.token_id
        log.check(f"upload token {token_id} holds {result.size_bytes} bytes, sha256 {result.sha256}")
    return PendingUpload(what, token_id)


def swap_content(ctx: OperationContext, log: StepLog, state: LiveState, upload: PendingUpload) -> None:
    """Delete every live flavor, then attach the uploaded content with media.addContent.

    The upload is finished first, so a refused upload (e.g. the partner's file-type restriction)
    leaves the entry's content as it was.
    """
    delete_all_flavors(ctx, log, state)
    if log.step(f"add the uploaded {upload.what} as the entry's new content (media.addContent)"):
        add_content(ctx.api, log.entry_id, upload.token_id)


def upload_placeholder(ctx: OperationContext, log: StepLog) -> PendingUpload:
    """Upload the placeholder video, always named ``.mp4`` (Kaltura takes the flavor's extension from it)."""
    placeholder = ctx.placeholder
    placeholder.check()
    return upload_content(
        ctx,
        log,
        f"placeholder video {placeholder.file_name}",
        f"{PurePath(placeholder.file_name).stem or 'placeholder'}.{PLACEHOLDER_EXTENSION}",
        placeholder.size_bytes,
        lambda: placeholder.chunks(ctx.settings.upload_chunk_bytes),
    )


def archived_file_name(ctx: OperationContext, state: LiveState) -> str:
    """The upload's file name for the archived video: ENTRY_ID plus the original's real extension.

    Kaltura gives the new source flavor the extension of the upload token's file name. The manifest
    keeps it since this version; older manifests and old-tool archives fall back to the extension of
    the entry's current original unless that is the placeholder, else to mp4.
    """
    ext = state.manifest.file_ext if state.manifest is not None else ""
    current = state.original
    if not ext and current is not None:
        try:
            placeholder = is_placeholder(current, ctx.placeholder, ctx.settings.size_tolerance)
        except PlaceholderError:
            placeholder = True
        ext = "" if placeholder else extension_of(current)
    return f"{state.entry_id}.{ext or DEFAULT_EXTENSION}"


def upload_archived_video(ctx: OperationContext, log: StepLog, state: LiveState) -> PendingUpload:
    """Stream the entry's S3 object into an upload token named with the original's real extension."""
    assert state.archive is not None
    return upload_content(
        ctx,
        log,
        f"archived video s3://{ctx.settings.bucket}/{state.entry_id}",
        archived_file_name(ctx, state),
        state.archive.size_bytes,
        lambda: ctx.store.open_stream(state.entry_id, ctx.settings.upload_chunk_bytes),
    )


def save_proved_manifest(ctx: OperationContext, log: StepLog, match: Match) -> None:
    """Write the manifest of an old-tool archive whose content `match` just proved (no-op otherwise)."""
    if match.manifest is None:
        return
    key = ctx.store.manifest_key(match.manifest.entry_id)
    if log.step(
        f"write the manifest of the old-tool archive to s3://{ctx.settings.bucket}/{key} ({match.detail})"
    ):
        ctx.store.save_manifest(match.manifest)


def set_tag(ctx: OperationContext, log: StepLog, tag: str, present: bool) -> None:
    """Add (present=True) or remove a whole tag."""
    verb = "add" if present else "remove"
    if log.step(f"{verb} tag {tag}"):
        if present:
            update_tags(ctx.api, log.entry_id, add=[tag])
        else:
            update_tags(ctx.api, log.entry_id, remove=[tag])


def new_thumbnail(ctx: OperationContext, log: StepLog) -> None:
    """Regenerate the entry's default thumbnail from its (new) source flavor (the restored video)."""
    if log.step("regenerate the thumbnail from the restored video"):
        regenerate_thumbnail(ctx.api, log.entry_id)


def placeholder_thumbnail(ctx: OperationContext, log: StepLog) -> None:
    """Show the placeholder's image as the entry's thumbnail (reused if an earlier attempt added it)."""
    image = ctx.placeholder_thumbnail
    if log.step(f"set the thumbnail to the placeholder image {PurePath(image.path).name}"):
        set_thumbnail_image(ctx.api, log.entry_id, image.path, image.size_bytes)


def reread(ctx: OperationContext, log: StepLog, state: LiveState) -> LiveState:
    """The entry's state after a change (live run); in a dry run the unchanged state."""
    if not log.live:
        return state
    fresh = read_state(ctx, state.entry_id)
    log.check(f"now: {fresh.describe()}")
    return fresh
