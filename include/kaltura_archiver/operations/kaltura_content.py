"""Moving content in and out of Kaltura: streaming download, chunked upload, flavor deletion, tags.

Every function here is idempotent or safe to repeat after a crash:

* `stream_flavor` downloads a flavor from its `flavorAsset.getUrl` URL as an iterator of chunks,
  resuming with HTTP Range after a dropped connection or a short body, and fetching a fresh URL
  when the old one is refused (the URL embeds a KS, so it is never logged).
* `upload_chunks` sends a byte stream through one upload token, chunk by chunk
  (`uploadToken.upload` with `resume`, `resumeAt`, `finalChunk`). The token is named uniquely for the
  attempt (`kaltura_rules.attempt_file_name`); `uploadToken.add` is not idempotent, so when its answer
  is lost the token of that name is looked up (`uploadToken.list`) before adding another. The client's
  file upload has a
  fixed 10 s timeout, so no single request carries more than `chunk_bytes`. Every chunk names its
  absolute offset, so a repeated chunk overwrites the same bytes. The final chunk of a resumed
  upload may take Kaltura up to 45 s (it closes the token under a lock, `kUploadTokenMgr`): when its
  answer times out it is not sent again; the token is re-read (`uploadToken.get`) until it is
  FULL or CLOSED with every byte, for up to `FINAL_CHUNK_WAIT_SECONDS`.
* `delete_flavor` treats "already gone" as success; `add_content` attaches a finished token.
* `update_tags` adds and removes whole tags (never substrings) against the entry's live tags.
"""

from __future__ import annotations

import hashlib
import io
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from KalturaClient import KalturaClient
from KalturaClient.exceptions import KalturaClientException
from KalturaClient.Plugins.Core import (
    KalturaFilterPager,
    KalturaMediaEntry,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenFilter,
    KalturaUploadTokenOrderBy,
)

from kaltura_archiver.kaltura_api import RETRYABLE_CLIENT_CODES, KalturaApi, KalturaApiError
from kaltura_archiver.kaltura_rules import (
    DEFAULT_THUMB_TAG,
    THUMB_ASSET_READY,
    UPLOAD_TOKEN_PENDING,
    attempt_file_name,
)
from kaltura_archiver.records import as_int, as_str, split_tags

DOWNLOAD_CHUNK_BYTES = 1024 * 1024
FLAVOR_GONE_CODES = frozenset({"FLAVOR_ASSET_ID_NOT_FOUND", "FLAVOR_ASSET_ALREADY_DELETED"})
UPLOAD_TOKEN_FULL = 2
UPLOAD_TOKEN_CLOSED = 3
UPLOAD_TOKEN_OPEN = frozenset({0, 1})
"""PENDING and PARTIAL_UPLOAD (api_v3/lib/types/enums/KalturaUploadTokenStatus.php)."""
UPLOAD_NOT_RETRYABLE = frozenset({"UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD"})
"""The partner's file-type restriction refuses the file (api_v3/services/UploadTokenService.php):
trying again cannot help."""
FINAL_CHUNK_WAIT_SECONDS = 120.0
TOKEN_POLL_SECONDS = 5.0
_NO_ANSWER = frozenset(
    {
        KalturaClientException.ERROR_CONNECTION_FAILED,
        KalturaClientException.ERROR_READ_FAILED,
        KalturaClientException.ERROR_READ_TIMEOUT,
    }
)
_MAYBE_DONE = RETRYABLE_CLIENT_CODES
"""Transport failures after which the server may have acted (answer lost or cut short, a proxy's page)."""
_UNANSWERED = object()
TOKEN_ADD_SENDS = 3
_URL_REFUSED = frozenset({401, 403, 404, 410})


class ContentTransferError(Exception):
    """A download or upload could not be completed; `retryable` says whether trying later may help."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class UploadResult:
    """A finished upload token: its id and the bytes Kaltura acknowledged."""

    token_id: str
    size_bytes: int
    sha256: str


def download_url(api: KalturaApi, flavor_id: str) -> str:
    """A download URL of a READY flavor (contains a KS: never log it)."""
    return str(api.call("flavorAsset.getUrl", lambda c: c.flavorAsset.getUrl(flavor_id)))


def stream_flavor(
    api: KalturaApi,
    flavor_id: str,
    expected_size: int | None = None,
    chunk_size: int = DOWNLOAD_CHUNK_BYTES,
    max_resumes: int = 5,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: tuple[float, float] = (10.0, 60.0),
) -> Iterator[bytes]:
    """The flavor's bytes in chunks; resumes with Range after drops; raises ContentTransferError."""
    http = session or requests.Session()
    url = download_url(api, flavor_id)
    offset = 0
    total = expected_size
    failures = 0
    while True:
        problem = ""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with http.get(url, headers=headers, stream=True, timeout=timeout) as response:
                if response.status_code in _URL_REFUSED:
                    problem = f"download URL refused with HTTP {response.status_code}"
                    url = download_url(api, flavor_id)
                elif response.status_code >= 500:
                    problem = f"download failed with HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise ContentTransferError(
                        f"download of flavor {flavor_id} refused with HTTP {response.status_code}", False
                    )
                else:
                    skip = _skip_bytes(response, offset)
                    if total is None:
                        total = _total_size(response, offset)
                    for chunk in response.iter_content(chunk_size):
                        if skip:
                            cut = min(skip, len(chunk))
                            chunk, skip = chunk[cut:], skip - cut
                        if chunk:
                            offset += len(chunk)
                            if total is not None and offset > total:
                                raise ContentTransferError(
                                    f"flavor {flavor_id} is longer than its expected {total} bytes", False
                                )
                            yield chunk
                    if total is None or offset == total:
                        return
                    problem = f"download ended after {offset} of {total} bytes"
        except requests.RequestException as exc:
            problem = f"download interrupted after {offset} bytes ({type(exc).__name__})"
        failures += 1
        if failures > max_resumes:
            raise ContentTransferError(
                f"flavor {flavor_id}: {problem}; gave up after {max_resumes} resumes", True
            )
        sleep(min(30.0, 0.5 * 2 ** (failures - 1)))


def _skip_bytes(response: requests.Response, offset: int) -> int:
    """Bytes to drop from a response that ignored our Range header (200 instead of 206)."""
    if offset and response.status_code == 206:
        start = _content_range(response)[0]
        if start is not None and start != offset:
            raise ContentTransferError(f"server resumed at byte {start}, asked for {offset}", True)
        return 0
    return offset


def _total_size(response: requests.Response, offset: int) -> int | None:
    """The full content size announced by a response (Content-Range total, else Content-Length)."""
    if response.status_code == 206:
        total = _content_range(response)[1]
        if total is not None:
            return total
    length = response.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if response.status_code == 206 else 0)
    return None


def _content_range(response: requests.Response) -> tuple[int | None, int | None]:
    """(start, total) from a `Content-Range: bytes start-end/total` header."""
    value = response.headers.get("Content-Range", "")
    try:
        span, _, total = value.split(" ", 1)[1].partition("/")
        return int(span.split("-")[0]), int(total) if total.isdigit() else None
    except (IndexError, ValueError):
        return None, None


def prefetch(chunks: Iterator[bytes], max_chunks: int) -> Iterator[bytes]:
    """Read `chunks` in a background thread, at most `max_chunks` ahead, so producing overlaps consuming.

    Memory stays bounded by `max_chunks` chunks; an exception of the producer is raised in the
    consumer; closing the returned iterator early stops the producer.
    """
    done = object()
    box: queue.Queue[object] = queue.Queue(maxsize=max(1, max_chunks))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if stop.is_set() and callable(close):
                close()

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def hash_stream(chunks: Iterable[bytes]) -> tuple[str, int]:
    """(sha256 hex, byte count) of a stream, holding one chunk at a time."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def rechunk(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Pieces of `size` bytes (the last may be shorter) with an is-last flag; one piece of lookahead."""
    buffer = bytearray()
    pending: bytes | None = None
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            if pending is not None:
                yield pending, False
            pending = bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        if pending is not None:
            yield pending, False
        pending = bytes(buffer)
    if pending is not None:
        yield pending, True


def upload_chunks(
    api: KalturaApi,
    chunks: Iterable[bytes],
    file_name: str,
    chunk_bytes: int,
    total_size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    final_wait_seconds: float = FINAL_CHUNK_WAIT_SECONDS,
) -> UploadResult:
    """Upload a byte stream through a new upload token in chunks; returns the finished token.

    `file_name` plus a random suffix names the token and every chunk: its extension becomes the new
    flavor's fileExt.
    """
    file_name = attempt_file_name(file_name, secrets.token_hex(8))
    token_id = add_upload_token(api, file_name, total_size, sleep)
    digest = hashlib.sha256()
    offset = 0
    sent_any = False
    for piece, last in rechunk(chunks, chunk_bytes):
        _upload_piece(api, token_id, file_name, piece, offset, last, sleep, final_wait_seconds)
        digest.update(piece)
        offset += len(piece)
        sent_any = True
    if not sent_any:
        raise ContentTransferError(f"nothing to upload for {file_name}: the source stream was empty", False)
    if total_size is not None and offset != total_size:
        raise ContentTransferError(f"uploaded {offset} bytes of {file_name}, expected {total_size}", True)
    status, uploaded = _token_state(api, token_id)
    if status not in (UPLOAD_TOKEN_FULL, UPLOAD_TOKEN_CLOSED) or uploaded != offset:
        raise ContentTransferError(
            f"upload token holds {uploaded} of {offset} bytes (status {status}); upload incomplete", True
        )
    return UploadResult(token_id=token_id, size_bytes=offset, sha256=digest.hexdigest())


def add_upload_token(
    api: KalturaApi, file_name: str, total_size: int | None, sleep: Callable[[float], None] = time.sleep
) -> str:
    """Create an upload token named `file_name` (unique to this attempt) and return its id.

    uploadToken.add is not idempotent, so never repeated blindly: when its answer is lost, the PENDING
    token of that name is looked up (`uploadToken.list`) and used; only when there is none is it sent again.
    """
    size: float | object = float(total_size) if total_size is not None else NotImplemented
    token = KalturaUploadToken(fileName=file_name, fileSize=size)

    def add(client: KalturaClient) -> Any:
        try:
            return client.uploadToken.add(token)
        except KalturaClientException as exc:
            if exc.code in _MAYBE_DONE:
                return _UNANSWERED
            raise

    for send in range(1, TOKEN_ADD_SENDS + 1):
        created = api.call("uploadToken.add", add)
        if created is not _UNANSWERED:
            return as_str(created.id)
        found = find_pending_token(api, file_name)
        if found:
            return found
        if send < TOKEN_ADD_SENDS:
            sleep(float(2**send))
    raise ContentTransferError(f"uploadToken.add of {file_name} got no answer {TOKEN_ADD_SENDS}x", True)


def find_pending_token(api: KalturaApi, file_name: str) -> str:
    """The id of the oldest PENDING upload token named `file_name`, or '' when there is none."""
    flt = KalturaUploadTokenFilter(
        fileNameEqual=file_name,
        statusEqual=UPLOAD_TOKEN_PENDING,
        orderBy=KalturaUploadTokenOrderBy.CREATED_AT_ASC,
    )
    found = api.call("uploadToken.list", lambda c: c.uploadToken.list(flt, KalturaFilterPager(pageSize=1)))
    return as_str(found.objects[0].id) if found.objects else ""


def _upload_piece(
    api: KalturaApi,
    token_id: str,
    file_name: str,
    piece: bytes,
    offset: int,
    last: bool,
    sleep: Callable[[float], None] = time.sleep,
    final_wait_seconds: float = FINAL_CHUNK_WAIT_SECONDS,
) -> None:
    """Send one chunk at its absolute offset; a chunk Kaltura already holds counts as sent.

    A final chunk whose answer never came is not sent again (`_await_final_chunk`).
    """

    def send(client: KalturaClient) -> Any:
        data = io.BytesIO(piece)
        data.name = file_name
        try:
            if offset == 0:
                return client.uploadToken.upload(token_id, data, False, last)
            return client.uploadToken.upload(token_id, data, True, last, float(offset))
        except KalturaClientException as exc:
            if last and exc.code in _NO_ANSWER:
                return _UNANSWERED
            raise

    try:
        answer = api.call("uploadToken.upload", send)
    except KalturaApiError as err:
        try:
            status, uploaded = _token_state(api, token_id)
        except KalturaApiError:
            status, uploaded = None, -1
        done = (UPLOAD_TOKEN_FULL, UPLOAD_TOKEN_CLOSED)
        if uploaded >= offset + len(piece) and (not last or status in done):
            return
        raise ContentTransferError(
            f"chunk at byte {offset} of {file_name} failed: {err}",
            err.code not in UPLOAD_NOT_RETRYABLE and (err.retryable or err.code.startswith("UPLOAD")),
        ) from err
    if answer is _UNANSWERED:
        _await_final_chunk(api, token_id, file_name, offset + len(piece), sleep, final_wait_seconds)


def _await_final_chunk(
    api: KalturaApi,
    token_id: str,
    file_name: str,
    expected: int,
    sleep: Callable[[float], None],
    wait_seconds: float,
) -> None:
    """Re-read the token after a final chunk's answer was lost until it is closed with `expected` bytes."""
    deadline = time.monotonic() + wait_seconds
    waited = 0.0
    while True:
        status, uploaded = _token_state(api, token_id)
        if status in (UPLOAD_TOKEN_FULL, UPLOAD_TOKEN_CLOSED):
            if uploaded == expected:
                return
            raise ContentTransferError(
                f"upload token of {file_name} closed with {uploaded} bytes, {expected} were sent", True
            )
        if status not in UPLOAD_TOKEN_OPEN:
            raise ContentTransferError(
                f"upload token of {file_name} is in status {status} after the final chunk", True
            )
        if time.monotonic() >= deadline or waited >= wait_seconds:
            raise ContentTransferError(
                f"the final chunk of {file_name} got no answer and the token still holds {uploaded} of"
                f" {expected} bytes after {wait_seconds:.0f} s",
                True,
            )
        sleep(TOKEN_POLL_SECONDS)
        waited += TOKEN_POLL_SECONDS


def _token_state(api: KalturaApi, token_id: str) -> tuple[int | None, int]:
    """(status, uploadedFileSize) of an upload token."""
    token = api.call("uploadToken.get", lambda c: c.uploadToken.get(token_id))
    return as_int(token.status), as_int(token.uploadedFileSize, 0) or 0


def delete_flavor(api: KalturaApi, flavor_id: str) -> bool:
    """Delete one flavor; True when this call deleted it, False when it was already gone."""
    try:
        api.call("flavorAsset.delete", lambda c: c.flavorAsset.delete(flavor_id))
    except KalturaApiError as err:
        if err.code in FLAVOR_GONE_CODES:
            return False
        raise
    return True


ADD_CONTENT_SENDS = 3


def add_content(api: KalturaApi, entry_id: str, token_id: str) -> None:
    """Attach a finished upload token as the entry's new content (entry must be NO_CONTENT).

    Not idempotent, so never repeated blindly: when its answer is lost, or a repeat is refused with
    ENTRY_ALREADY_WITH_CONTENT, the token is re-read first. Kaltura closes the token it attaches
    (`KalturaUploadedFileTokenResource::validateEntry` → `kUploadTokenMgr::closeUploadTokenById`),
    so CLOSED means done; only a token still FULL is sent again.
    """
    resource = KalturaUploadedFileTokenResource(token=token_id)

    def attach(client: KalturaClient) -> Any:
        try:
            return client.media.addContent(entry_id, resource)
        except KalturaClientException as exc:
            if exc.code in _NO_ANSWER:
                return _UNANSWERED
            raise

    for _ in range(ADD_CONTENT_SENDS):
        try:
            if api.call("media.addContent", attach) is not _UNANSWERED:
                return
        except KalturaApiError as err:
            already = err.code == "ENTRY_ALREADY_WITH_CONTENT"
            if not already or _token_state(api, token_id)[0] != UPLOAD_TOKEN_CLOSED:
                raise
            return
        status = _token_state(api, token_id)[0]
        if status == UPLOAD_TOKEN_CLOSED:
            return
        if status != UPLOAD_TOKEN_FULL:
            raise ContentTransferError(
                f"media.addContent of {entry_id} got no answer; its upload token is in status {status}", True
            )
    raise ContentTransferError(f"media.addContent of {entry_id} got no answer {ADD_CONTENT_SENDS}x", True)


def regenerate_thumbnail(api: KalturaApi, entry_id: str, time_offset: int = 0) -> None:
    """Make a new default thumbnail from the entry's current source flavor."""
    api.call("media.updateThumbnail", lambda c: c.media.updateThumbnail(entry_id, time_offset))


def _image_thumbnail(api: KalturaApi, entry_id: str, size_bytes: int) -> Any | None:
    """The entry's READY thumbnail asset of exactly `size_bytes` (the image added before), or None."""
    thumbs = api.call("thumbAsset.getByEntryId", lambda c: c.thumbAsset.getByEntryId(entry_id))
    for thumb in thumbs or []:
        status = getattr(thumb.status, "value", thumb.status)
        if int(thumb.sizeInBytes or 0) == size_bytes and int(status) == THUMB_ASSET_READY:
            return thumb
    return None


def set_thumbnail_image(api: KalturaApi, entry_id: str, path: str, size_bytes: int) -> bool:
    """Make the image at `path` the entry's default thumbnail; False when it already was.

    `thumbAsset.addFromImage` is not idempotent, so the entry's thumbnails are read first and one of
    the image's exact size is reused (after a crash, or an add whose answer was lost); then
    `thumbAsset.setAsDefault`, which Kaltura needs because an image added to a READY entry does not
    become its thumbnail on its own (`kaltura_rules.DEFAULT_THUMB_TAG`).
    """
    thumb = _image_thumbnail(api, entry_id, size_bytes)
    if thumb is not None and DEFAULT_THUMB_TAG in split_tags(thumb.tags):
        return False
    if thumb is None:

        def add(client: KalturaClient) -> Any:
            try:
                with open(path, "rb") as image:
                    return client.thumbAsset.addFromImage(entry_id, image)
            except KalturaClientException as exc:
                if exc.code in _NO_ANSWER:
                    return _UNANSWERED
                raise

        added = api.call("thumbAsset.addFromImage", add)
        thumb = added if added is not _UNANSWERED else _image_thumbnail(api, entry_id, size_bytes)
        if thumb is None:
            raise ContentTransferError(
                f"thumbAsset.addFromImage for {entry_id} got no answer and added nothing", True
            )
    thumb_id = thumb.id
    api.call("thumbAsset.setAsDefault", lambda c: c.thumbAsset.setAsDefault(thumb_id))
    return True


def merge_tags(tags: Iterable[str], add: Iterable[str] = (), remove: Iterable[str] = ()) -> tuple[str, ...]:
    """Whole-tag edit, case-insensitive like Kaltura: drop tags found in `remove`, append missing `add`s."""
    drop = {t.strip().lower() for t in remove}
    result: list[str] = []
    for tag in (t.strip() for t in tags):
        if tag and tag.lower() not in drop and tag.lower() not in {r.lower() for r in result}:
            result.append(tag)
    for tag in (t.strip() for t in add):
        if tag and tag.lower() not in {r.lower() for r in result}:
            result.append(tag)
    return tuple(result)


def update_tags(
    api: KalturaApi, entry_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> tuple[str, ...]:
    """Apply a whole-tag edit to the entry's live tags (re-read first); no call when nothing changes."""
    current = api.call("media.get", lambda c: c.media.get(entry_id))
    tags = split_tags(current.tags)
    wanted = merge_tags(tags, add, remove)
    if wanted != tags:
        update = KalturaMediaEntry(tags=",".join(wanted))
        api.call("media.update", lambda c: c.media.update(entry_id, update))
    return wanted
