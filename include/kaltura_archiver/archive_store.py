"""The S3 archive of Kaltura entries: streamed, verified uploads, cheap inventories, Glacier restores.

Layout (compatible with the old command-line tool, whose archives stay valid):

* ``s3://BUCKET/ENTRY_ID`` holds the content of the entry's original flavor, exactly as the old
  tool wrote it; storage class from the settings (default GLACIER).
* ``s3://BUCKET/{manifest_prefix}ENTRY_ID.json`` (STANDARD class, so it is always readable) is a
  small JSON manifest written by this tool: sha256 and byte size of the content, the Kaltura
  flavor id, S3's composite part checksum (``checksum_algorithm`` CRC32C in ``checksum_crc32c``;
  manifests written before CRC32C have SHA256 in ``checksum_sha256``, and stay valid), part size
  and count, etag / version id, created and verified times, tool version.  Object metadata can
  only be set when an upload starts, before the sha256 and size are known, so the manifest is
  where they live (the flavor id is also put in the object's metadata as ``kaltura-flavor-id``),
  the original's file extension (restores upload with it) and the previous versions of the
  entry's archive.  An object without a manifest is an old-tool archive: nothing is deleted on
  its strength until its content was proved equal to the original by its S3 ETag
  (`kaltura_archiver.s3_etag`); then a manifest with ``source: old-tool`` and the proof is
  written, and verifying it later means the same size and the same ETag.
* ``s3://BUCKET/previous/ENTRY_ID/ETAG`` keeps an earlier archive of the entry when its original
  changed after archival and the bucket has no object versioning (with versioning Enabled, S3
  keeps it as a noncurrent version of ``ENTRY_ID`` and nothing is copied).  The manifest lists
  every previous version (key, version id, ETag, size, its own manifest) under
  ``previous_versions``; ``ENTRY_ID`` always holds the newest version, as the old tool expects.

Upload order, so that a crash at any point leaves a state the next run understands:
  1. multipart upload, every part carrying its CRC32C (S3 refuses a part whose bytes differ);
  2. manifest written with ``verified_at: null`` (the composite checksum is known before
     completing, since it is the CRC32C of the part CRC32Cs);
  3. complete the upload (atomic: the object appears whole or not at all);
  4. HEAD with ChecksumMode=ENABLED: size and composite checksum must equal what was streamed;
  5. manifest rewritten with etag, version id and ``verified_at``.
A crash before 3 leaves no object (an orphaned upload that `abort_orphaned_uploads` removes, and
maybe a stale manifest the next upload overwrites); after 3, object and manifest agree and
`verify_object` proves it.  A lost answer to step 3 (S3 then says NoSuchUpload to the retry) is
accepted when the object in place verifies.  Archives are never deleted by this module.
Parts go up from a small thread pool (`upload_concurrency`, default 4) out of part buffers that
are filled in place and reused once their part is uploaded and hashed, so memory stays within
(upload_concurrency + 1) x part size plus one incoming chunk, whatever the content size, and no
new part-sized buffer is allocated per part (with glibc's mmap threshold pinned for flat memory,
each would cost its pages' faults again).

Every byte is hashed once with SHA-256 (the manifest's proof, compared with restores and Kaltura's
copy) and once with CRC32C (transport integrity, the cheapest checksum S3 offers, hardware
accelerated at about ten times SHA-256's speed). The SHA-256 runs in its own thread, part by part
in order, so it overlaps the download; the CRC32C of a part runs in the thread that uploads it.

Inventory: S3 state of many entries comes from listings, never a HEAD per entry.  A selection of
at most `SMALL_SELECTION` ids is answered by two prefix listings per id (the object, the
manifest); a bigger one lists the bucket once (the top level with Delimiter "/", then the
manifest prefix; 1,000 keys per call) and caches it for later pages, so a 100,000-entry bucket
costs about 2 S3 calls per 1,000 entries for a whole audit and a 5-entry selection costs 10.
Listings do not say whether a Glacier object is restored: inventory leaves `readable` None for
archive classes; `head` tells.

Verification uses S3's composite checksum of the manifest's algorithm (CRC32C, or SHA256 for
older manifests) as HEAD with ChecksumMode=ENABLED reports it (AWS answers ``<base64>-<parts>``;
moto's server leaves out the ``-<parts>`` suffix, which the comparison tolerates); if S3 reports
no checksum, the part count in the multipart ETag is the fallback check.

Every S3 call made here is counted by operation name into the optional `calls` mapping or
callback.  Nothing here logs credentials; the client is built (and its keys held) elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import crc32c
from botocore.exceptions import BotoCoreError, ClientError

from kaltura_archiver import __version__
from kaltura_archiver.config import ArchiverSettings

LogFn = Callable[[str], object]
CallCounter = MutableMapping[str, int] | Callable[[str], object]

SMALL_SELECTION = 20
MANIFEST_FORMAT = 3
CHECKSUM_SHA256 = "SHA256"
CHECKSUM_CRC32C = "CRC32C"
PART_CHECKSUM = CHECKSUM_CRC32C
"""The part checksum of new uploads; manifests name theirs (``checksum_algorithm``)."""
SOURCE_ARCHIVER = "archiver"
SOURCE_OLD_TOOL = "old-tool"
PREVIOUS_PREFIX = "previous/"
COPY_PART_BYTES = 512 * 1024 * 1024
COPY_SINGLE_LIMIT = 5 * 1024**3
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
RESTORE_REQUESTED = "requested"
RESTORE_ONGOING = "ongoing"
RESTORE_DONE = "restored"
RESTORE_NOT_NEEDED = "not-needed"
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_STREAM_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError, ConnectionError, TimeoutError, OSError)


class ArchiveStoreError(RuntimeError):
    """An archive operation failed; the message says which entry and why."""


class ArchiveNotReadable(ArchiveStoreError):
    """The object sits in Glacier and is not restored (or the restore is still under way)."""


class ArchiveVerificationError(ArchiveStoreError):
    """The stored object does not match what was streamed or what its manifest records."""


class StreamSizeMismatch(ArchiveStoreError):
    """The source delivered a different number of bytes than it announced."""


@dataclass(frozen=True)
class ArchivedObject:
    """What S3 holds for one entry.

    `has_manifest` and `readable` are None when the call that built this did not look
    (a HEAD does not see the manifest; a listing does not see restore status).
    """

    key: str
    size_bytes: int
    storage_class: str
    has_manifest: bool | None
    etag: str | None = None
    last_modified: datetime | None = None
    version_id: str | None = None
    checksum_sha256: str | None = None
    checksum_crc32c: str | None = None
    restore_state: str | None = None
    restore_expiry: datetime | None = None
    readable: bool | None = None
    flavor_id: str | None = None
    server_side_encryption: str | None = None
    sse_customer_algorithm: str | None = None

    def checksum(self, algorithm: str) -> str | None:
        """The composite checksum S3 reported for `algorithm` (CRC32C or SHA256), None when absent."""
        return self.checksum_crc32c if algorithm == CHECKSUM_CRC32C else self.checksum_sha256


@dataclass(frozen=True)
class _Part:
    number: int
    etag: str
    checksum: str
    crc: bytes


@dataclass(frozen=True)
class ArchiveManifest:
    """The durable record written beside an archive by this tool."""

    entry_id: str
    key: str
    sha256: str
    size_bytes: int
    flavor_id: str
    checksum_sha256: str
    part_size_bytes: int
    parts: int
    storage_class: str
    created_at: str
    tool_version: str
    etag: str | None = None
    version_id: str | None = None
    verified_at: str | None = None
    file_ext: str = ""
    source: str = SOURCE_ARCHIVER
    proof: str = ""
    previous_versions: tuple[dict[str, Any], ...] = ()
    checksum_algorithm: str = CHECKSUM_SHA256
    checksum_crc32c: str = ""
    format: int = MANIFEST_FORMAT

    @property
    def part_checksum(self) -> str:
        """The composite part checksum recorded for `checksum_algorithm`."""
        return self.checksum_crc32c if self.checksum_algorithm == CHECKSUM_CRC32C else self.checksum_sha256

    def to_json(self) -> str:
        """The manifest as stored (sorted keys, UTF-8 JSON)."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    def as_record(self) -> dict[str, Any]:
        """The manifest as a plain dict without its own previous versions (kept inside a newer one)."""
        data = asdict(self)
        data.pop("previous_versions")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchiveManifest:
        """Build from a parsed manifest; unknown fields from newer versions are ignored."""
        known = set(cls.__dataclass_fields__)
        fields = {k: v for k, v in data.items() if k in known}
        fields["previous_versions"] = tuple(dict(v) for v in fields.get("previous_versions") or ())
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | bytes) -> ArchiveManifest:
        """Parse a stored manifest; unknown fields from newer versions are ignored."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("manifest is not a JSON object")
        return cls.from_dict(data)


def s3_timestamp(value: Any) -> datetime:
    """A timestamp of an S3 answer: ISO 8601 as listings send it (``2026-11-29T14:40:29.000Z``) read
    with `datetime.fromisoformat`, anything else (HTTP dates of headers) by botocore's own parser,
    which goes through dateutil and costs about 30 times as much per listed key."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        from botocore.utils import parse_timestamp

        return parse_timestamp(value)


_shared_loader: Any = None
_shared_loader_lock = threading.Lock()


def configure_s3_session(session: Any) -> Any:
    """Tune a boto3 `session` before it builds clients; returns it. Its clients read timestamps with
    `s3_timestamp` (same values, timezone-aware UTC), and it loads botocore's service models through
    one loader per process, so the clients of later sessions in the process (tasks run in-process,
    triggers) do not read and parse the S3 model again."""
    global _shared_loader
    from botocore.loaders import create_loader

    with _shared_loader_lock:
        if _shared_loader is None:
            _shared_loader = create_loader()
    botocore_session = session._session
    botocore_session.register_component("data_loader", _shared_loader)
    factory = botocore_session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=s3_timestamp)
    return session


def composite_sha256(part_digests: Iterable[bytes]) -> str:
    """S3's composite SHA256 of a multipart object: base64 sha256 of the parts' raw sha256s, then -N."""
    digests = list(part_digests)
    combined = hashlib.sha256(b"".join(digests)).digest()
    return f"{base64.b64encode(combined).decode()}-{len(digests)}"


def crc32c_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """The CRC32C of `data` as S3 sends it: 4 bytes, big-endian."""
    return int(crc32c.crc32c(data)).to_bytes(4, "big")


def composite_crc32c(part_crcs: Iterable[bytes]) -> str:
    """S3's composite CRC32C of a multipart object: base64 CRC32C of the parts' raw CRC32Cs, then -N."""
    crcs = list(part_crcs)
    return f"{base64.b64encode(crc32c_bytes(b''.join(crcs))).decode()}-{len(crcs)}"


def parse_restore(header: str | None) -> tuple[str | None, datetime | None]:
    """(`restore_state`, expiry) from S3's ``x-amz-restore`` value; (None, None) when absent."""
    if not header:
        return None, None
    if 'ongoing-request="true"' in header:
        return RESTORE_ONGOING, None
    expiry = None
    marker = 'expiry-date="'
    if marker in header:
        raw = header.split(marker, 1)[1].split('"', 1)[0]
        try:
            expiry = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            expiry = None
    return RESTORE_DONE, expiry


def plain_etag(etag: str | None) -> str:
    """An ETag without its quotes, lower-cased ('' for None)."""
    return (etag or "").strip().strip('"').lower()


def previous_key(entry_id: str, etag: str | None) -> str:
    """Where an earlier archive of the entry is kept in a bucket without versioning."""
    return f"{PREVIOUS_PREFIX}{entry_id}/{plain_etag(etag) or 'unknown'}"


def effective_manifest(
    stored: ArchivedObject | None, manifest: ArchiveManifest | None
) -> tuple[ArchiveManifest | None, bool]:
    """(the manifest of the object in place, True when a version change was interrupted).

    A version change writes the new version's manifest (unverified, listing the old version last
    under ``previous_versions``) before its upload completes; a crash in between leaves the old
    object in place under the new manifest. Then the old version's own manifest (None for an
    old-tool archive) describes the object, and the change is simply done again.
    """
    if stored is None or manifest is None or manifest.verified_at or not manifest.previous_versions:
        return manifest, False
    last = manifest.previous_versions[-1]
    if plain_etag(last.get("etag")) != plain_etag(stored.etag) or last.get("size_bytes") != stored.size_bytes:
        return manifest, False
    previous = last.get("manifest")
    if not previous:
        return None, True
    return replace(
        ArchiveManifest.from_dict(previous), previous_versions=manifest.previous_versions[:-1]
    ), True


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _same_checksum(reported: str, expected: str) -> bool:
    """Compare composite checksums, tolerating a missing ``-N`` suffix on the reported one."""
    value, _, count = reported.partition("-")
    exp_value, _, exp_count = expected.partition("-")
    return value == exp_value and (not count or count == exp_count)


class ArchiveStore:
    """Archives of Kaltura entries in one S3 bucket, through a boto3 S3 client."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        settings: ArchiverSettings,
        calls: CallCounter | None = None,
        max_stream_resumes: int = 5,
        upload_concurrency: int = 4,
    ):
        self.client = client
        self.bucket = bucket
        self.settings = settings
        self.calls = calls
        self.max_stream_resumes = max_stream_resumes
        if upload_concurrency < 1:
            raise ValueError("upload_concurrency must be >= 1")
        self.upload_concurrency = upload_concurrency
        self._count_lock = threading.Lock()
        self._listing_lock = threading.Lock()
        self._listing: dict[str, tuple[int, str, str | None]] | None = None
        self._manifests: set[str] | None = None
        self._versioning: bool | None = None
        self.copy_single_limit = COPY_SINGLE_LIMIT
        self.copy_part_bytes = COPY_PART_BYTES
        self.last_restore_tier: str | None = None

    def _count(self, operation: str) -> None:
        if self.calls is None:
            return
        with self._count_lock:
            if callable(self.calls):
                self.calls(operation)
            else:
                self.calls[operation] = self.calls.get(operation, 0) + 1

    def manifest_key(self, entry_id: str) -> str:
        """Where the manifest of an entry lives."""
        return f"{self.settings.manifest_prefix}{entry_id}.json"

    # -- inventory ---------------------------------------------------------------------------

    def inventory(self, entry_ids: Iterable[str]) -> dict[str, ArchivedObject | None]:
        """S3 state of many entries from listings (no HEAD per entry); None where no object exists."""
        ids = list(dict.fromkeys(entry_ids))
        if self._listing is None and len(ids) <= SMALL_SELECTION:
            return {entry_id: self._inventory_one(entry_id) for entry_id in ids}
        listing, manifests = self._full_listing()
        result: dict[str, ArchivedObject | None] = {}
        for entry_id in ids:
            found = listing.get(entry_id)
            result[entry_id] = (
                None
                if found is None
                else self._listed(entry_id, found[0], found[1], found[2], entry_id in manifests)
            )
        return result

    def list_bucket(self) -> None:
        """List the bucket now for the inventories to come (a bulk audit does it while Kaltura is read)."""
        self._full_listing()

    def refresh(self) -> None:
        """Forget the cached bucket listing (the next big inventory lists again)."""
        self._listing = None
        self._manifests = None

    def archive_sizes(self) -> dict[str, int]:
        """Every entry archive in the bucket (key = entry id) with its size, from one bucket listing."""
        listing, _manifests = self._full_listing()
        return {key: size for key, (size, _cls, _etag) in listing.items() if "/" not in key}

    def _listed(
        self, key: str, size: int, storage_class: str, etag: str | None, has_manifest: bool
    ) -> ArchivedObject:
        return ArchivedObject(
            key=key,
            size_bytes=size,
            storage_class=storage_class,
            has_manifest=has_manifest,
            etag=etag,
            readable=None if storage_class in ARCHIVE_CLASSES else True,
        )

    def _inventory_one(self, entry_id: str) -> ArchivedObject | None:
        # a key sorts before every longer key it prefixes, so one listed key answers "does it exist"
        found = next(
            (i for i in self._list_page(prefix=entry_id, max_keys=1)["Contents"] if i["Key"] == entry_id),
            None,
        )
        if found is None:
            return None
        manifest_key = self.manifest_key(entry_id)
        manifests = self._list_page(prefix=manifest_key, max_keys=1)["Contents"]
        has_manifest = any(item["Key"] == manifest_key for item in manifests)
        return self._listed(
            entry_id,
            int(found["Size"]),
            found.get("StorageClass", "STANDARD"),
            found.get("ETag"),
            has_manifest,
        )

    def _list_page(
        self, prefix: str = "", delimiter: str = "", token: str | None = None, max_keys: int = 1000
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": max_keys}
        if prefix:
            kwargs["Prefix"] = prefix
        if delimiter:
            kwargs["Delimiter"] = delimiter
        if token:
            kwargs["ContinuationToken"] = token
        self._count("ListObjectsV2")
        try:
            page = self.client.list_objects_v2(**kwargs)
        except ClientError as exc:
            raise ArchiveStoreError(f"listing s3://{self.bucket}/{prefix} failed: {exc}") from exc
        page.setdefault("Contents", [])
        return page

    def _list_all(self, prefix: str = "", delimiter: str = "") -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._list_page(prefix=prefix, delimiter=delimiter, token=token)
            yield from page["Contents"]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def _full_listing(self) -> tuple[dict[str, tuple[int, str, str | None]], set[str]]:
        with self._listing_lock:  # pages enriched side by side list the bucket once
            return self._list_bucket()

    def _list_bucket(self) -> tuple[dict[str, tuple[int, str, str | None]], set[str]]:
        if self._listing is None or self._manifests is None:
            prefix = self.settings.manifest_prefix
            nested = "/" in prefix
            listing: dict[str, tuple[int, str, str | None]] = {}
            manifests: set[str] = set()
            for item in self._list_all(delimiter="/" if nested else ""):
                key = item["Key"]
                if key.startswith(prefix) and key.endswith(".json"):
                    manifests.add(key[len(prefix) : -len(".json")])
                else:
                    listing[key] = (int(item["Size"]), item.get("StorageClass", "STANDARD"), item.get("ETag"))
            if nested:
                for item in self._list_all(prefix=prefix):
                    key = item["Key"]
                    if key.endswith(".json"):
                        manifests.add(key[len(prefix) : -len(".json")])
            self._listing, self._manifests = listing, manifests
        return self._listing, self._manifests

    # -- single objects ----------------------------------------------------------------------

    def head(self, entry_id: str) -> ArchivedObject | None:
        """Live state of one entry's object (one HEAD), with restore status; None if absent."""
        self._count("HeadObject")
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=entry_id, ChecksumMode="ENABLED")
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise ArchiveStoreError(f"HEAD s3://{self.bucket}/{entry_id} failed: {exc}") from exc
        storage_class = response.get("StorageClass", "STANDARD")
        restore_state, expiry = parse_restore(response.get("Restore"))
        readable = storage_class not in ARCHIVE_CLASSES or restore_state == RESTORE_DONE
        if response.get("ArchiveStatus"):
            readable = restore_state == RESTORE_DONE
        version = response.get("VersionId")
        return ArchivedObject(
            key=entry_id,
            size_bytes=int(response["ContentLength"]),
            storage_class=storage_class,
            has_manifest=None,
            etag=response.get("ETag"),
            last_modified=response.get("LastModified"),
            version_id=None if version in (None, "null") else version,
            checksum_sha256=response.get("ChecksumSHA256"),
            checksum_crc32c=response.get("ChecksumCRC32C"),
            restore_state=restore_state,
            restore_expiry=expiry,
            readable=readable,
            flavor_id=(response.get("Metadata") or {}).get("kaltura-flavor-id"),
            server_side_encryption=response.get("ServerSideEncryption"),
            sse_customer_algorithm=response.get("SSECustomerAlgorithm"),
        )

    def first_part_size(self, entry_id: str) -> int | None:
        """Size of part 1 of a multipart object (``HEAD ?partNumber=1``); None when single-part or unknown."""
        self._count("HeadObject")
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=entry_id, PartNumber=1)
        except (ClientError, BotoCoreError):
            return None
        if int(response.get("PartsCount") or 0) < 2:
            return None
        return int(response["ContentLength"])

    def read_manifest(self, entry_id: str) -> ArchiveManifest | None:
        """The manifest written beside the entry's archive, or None (old-tool archive or none)."""
        self._count("GetObject")
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.manifest_key(entry_id))
            raw = response["Body"].read()
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise ArchiveStoreError(f"reading the manifest of {entry_id} failed: {exc}") from exc
        try:
            return ArchiveManifest.from_json(raw)
        except (ValueError, TypeError) as exc:
            raise ArchiveStoreError(f"the manifest of {entry_id} is not valid: {exc}") from exc

    def save_manifest(self, manifest: ArchiveManifest) -> None:
        """Write (or overwrite) the manifest of `manifest.entry_id` (STANDARD class)."""
        try:
            self._write_manifest(manifest)
        except ClientError as exc:
            raise ArchiveStoreError(f"writing the manifest of {manifest.entry_id} failed: {exc}") from exc

    def _write_manifest(self, manifest: ArchiveManifest) -> None:
        body = manifest.to_json().encode()
        self._count("PutObject")
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.manifest_key(manifest.entry_id),
            Body=body,
            ContentType="application/json",
            StorageClass="STANDARD",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
        )

    # -- upload ------------------------------------------------------------------------------

    def upload_stream(
        self,
        entry_id: str,
        chunks: Iterable[bytes],
        flavor_id: str,
        expected_size: int | None,
        log: LogFn | None = None,
        file_ext: str = "",
        previous_versions: tuple[dict[str, Any], ...] = (),
    ) -> ArchiveManifest:
        """Stream chunks into ``s3://BUCKET/ENTRY_ID`` (multipart, CRC32C per part), verify, write manifest.

        `file_ext` (the original's extension) and `previous_versions` (earlier archives of the entry,
        see `keep_previous_version`) go into the manifest as they are.

        Memory holds the part buffer being filled and at most `upload_concurrency` parts in flight
        (each settings.part_size_bytes, reused) and one incoming chunk.  On any failure the multipart
        upload is aborted and the error raised; a completed object that fails verification is
        left in place (archives are never deleted) and ArchiveVerificationError is raised.
        """
        say = log or (lambda _message: None)
        part_size = self.settings.part_size_bytes
        storage_class = self.settings.storage_class
        self._count("CreateMultipartUpload")
        try:
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=entry_id,
                StorageClass=storage_class,
                ChecksumAlgorithm=PART_CHECKSUM,
                ContentType="application/octet-stream",
                Metadata={"kaltura-flavor-id": flavor_id, "archiver-version": __version__},
            )["UploadId"]
        except ClientError as exc:
            raise ArchiveStoreError(f"starting the upload of {entry_id} failed: {exc}") from exc
        say(f"upload of {entry_id} started (storage class {storage_class}, parts of {part_size} bytes)")
        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=self.upload_concurrency, thread_name_prefix="s3-part")
        hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        in_flight: deque[tuple[Future[_Part], Future[None], bytearray | None]] = deque()
        parts: list[_Part] = []
        free: list[bytearray] = []
        try:
            whole = hashlib.sha256()
            total = 0
            submitted = 0

            def settle_oldest() -> None:
                uploaded, hashed, buffer = in_flight.popleft()
                parts.append(uploaded.result())
                hashed.result()
                if buffer is not None:
                    free.append(buffer)

            def submit(buffer: bytearray, size: int) -> None:
                nonlocal submitted
                submitted += 1
                while len(in_flight) >= self.upload_concurrency:
                    settle_oldest()
                # a full part goes out as its buffer; the last, shorter one as a copy of its bytes
                data: bytes | bytearray = buffer if size == len(buffer) else bytes(memoryview(buffer)[:size])
                hashed = hasher.submit(whole.update, data)  # one thread: the parts in order
                uploaded = pool.submit(self._upload_part, entry_id, upload_id, submitted, data)
                in_flight.append((uploaded, hashed, buffer if data is buffer else None))
                if data is not buffer:
                    free.append(buffer)
                if submitted % 16 == 0:
                    elapsed = max(time.monotonic() - started, 1e-6)
                    say(f"{entry_id}: {submitted} parts, {total} bytes, {total / elapsed / 1e6:.1f} MB/s")

            def take() -> bytearray:
                return free.pop() if free else bytearray(part_size)

            current, filled = take(), 0
            target = memoryview(current)  # filled through a view: bytearray slice assignment allocates
            for chunk in chunks:
                if not chunk:
                    continue
                total += len(chunk)
                if expected_size is not None and total > expected_size:
                    raise StreamSizeMismatch(
                        f"{entry_id}: the source sent more than the expected {expected_size} bytes"
                    )
                view = memoryview(chunk)
                while len(view):
                    n = min(part_size - filled, len(view))
                    target[filled : filled + n] = view[:n]
                    filled, view = filled + n, view[n:]
                    if filled == part_size:
                        submit(current, filled)
                        current, filled = take(), 0
                        target = memoryview(current)
            if expected_size is not None and total != expected_size:
                raise StreamSizeMismatch(
                    f"{entry_id}: the source ended after {total} bytes, {expected_size} were expected"
                )
            if filled or not submitted:
                submit(current, filled)
            while in_flight:
                settle_oldest()
            parts.sort(key=lambda p: p.number)
            manifest = ArchiveManifest(
                entry_id=entry_id,
                key=entry_id,
                sha256=whole.hexdigest(),
                size_bytes=total,
                flavor_id=flavor_id,
                checksum_sha256="",
                checksum_algorithm=PART_CHECKSUM,
                checksum_crc32c=composite_crc32c(p.crc for p in parts),
                part_size_bytes=part_size,
                parts=len(parts),
                storage_class=storage_class,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                tool_version=__version__,
                file_ext=file_ext,
                previous_versions=tuple(previous_versions),
            )
            self._write_manifest(manifest)
            done = self._complete(entry_id, upload_id, parts, manifest)
        except BaseException as exc:
            for uploading, _hashing, _buffer in in_flight:
                uploading.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            hasher.shutdown(wait=True, cancel_futures=True)
            self._abort(entry_id, upload_id, say)
            if isinstance(exc, ArchiveStoreError):
                raise
            if isinstance(exc, ClientError | BotoCoreError | OSError):
                raise ArchiveStoreError(f"upload of {entry_id} failed and was aborted: {exc}") from exc
            raise
        pool.shutdown(wait=True)
        hasher.shutdown(wait=True)
        elapsed = max(time.monotonic() - started, 1e-6)
        say(f"{entry_id}: {total} bytes in {len(parts)} parts uploaded in {elapsed:.1f} s; verifying")
        stored = self.verify_object(entry_id, manifest)
        version = done.get("VersionId")
        manifest = replace(
            manifest,
            etag=stored.etag or done.get("ETag"),
            version_id=stored.version_id or (None if version in (None, "null") else version),
            verified_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._write_manifest(manifest)
        if self._listing is not None and self._manifests is not None:
            self._listing[entry_id] = (total, storage_class, manifest.etag)
            self._manifests.add(entry_id)
        say(f"{entry_id}: verified (sha256 {manifest.sha256}, {total} bytes) and manifest written")
        return manifest

    def _complete(
        self, entry_id: str, upload_id: str, parts: list[_Part], manifest: ArchiveManifest
    ) -> dict[str, Any]:
        """Complete the upload; a NoSuchUpload answer to a retried complete whose first answer was
        lost counts as done if the object now in place matches what was streamed."""
        self._count("CompleteMultipartUpload")
        try:
            response: dict[str, Any] = self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=entry_id,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": p.number, "ETag": p.etag, "ChecksumCRC32C": p.checksum} for p in parts
                    ]
                },
            )
            return response
        except ClientError as exc:
            if _error_code(exc) != "NoSuchUpload":
                raise
            stored = self.verify_object(entry_id, manifest)
            return {"ETag": stored.etag, "VersionId": stored.version_id}

    def _upload_part(self, entry_id: str, upload_id: str, number: int, data: bytes | bytearray) -> _Part:
        crc = crc32c_bytes(data)
        checksum = base64.b64encode(crc).decode()
        self._count("UploadPart")
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=entry_id,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm=PART_CHECKSUM,
            ChecksumCRC32C=checksum,
        )
        return _Part(number=number, etag=response["ETag"], checksum=checksum, crc=crc)

    def _abort(self, entry_id: str, upload_id: str, say: LogFn) -> None:
        self._count("AbortMultipartUpload")
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=entry_id, UploadId=upload_id)
            say(f"{entry_id}: multipart upload aborted")
        except (ClientError, BotoCoreError) as exc:
            say(
                f"{entry_id}: aborting the multipart upload failed ({exc}); abort_orphaned_uploads will retry"
            )

    def abort_orphaned_uploads(
        self, entry_id: str | None = None, older_than_seconds: float | None = None
    ) -> int:
        """Abort unfinished multipart uploads of one entry (any age by default) or of the whole bucket
        (older than a day by default); returns how many were aborted."""
        if older_than_seconds is None:
            older_than_seconds = 0.0 if entry_id is not None else 86400.0
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        aborted = 0
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if entry_id is not None:
            kwargs["Prefix"] = entry_id
        while True:
            self._count("ListMultipartUploads")
            page = self.client.list_multipart_uploads(**kwargs)
            for upload in page.get("Uploads", []):
                key = upload["Key"]
                if entry_id is not None and key != entry_id:
                    continue
                if entry_id is None and (key.startswith(self.settings.manifest_prefix) or "/" in key):
                    continue
                initiated = upload.get("Initiated")
                if older_than_seconds > 0 and initiated is not None and initiated > cutoff:
                    continue
                self._count("AbortMultipartUpload")
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                    )
                except ClientError as exc:
                    if _error_code(exc) not in _NOT_FOUND:
                        raise ArchiveStoreError(f"aborting an upload of {key} failed: {exc}") from exc
                    continue
                aborted += 1
            if not page.get("IsTruncated"):
                return aborted
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker")

    # -- verification --------------------------------------------------------------------------

    def verify_object(
        self, entry_id: str, manifest: ArchiveManifest, read_content: bool = False
    ) -> ArchivedObject:
        """Check the stored object against its manifest (size, composite checksum; with `read_content`
        also the sha256 of every byte, which needs a readable object); returns its live state."""
        stored = self.head(entry_id)
        if stored is None:
            raise ArchiveVerificationError(f"s3://{self.bucket}/{entry_id} does not exist")
        if stored.size_bytes != manifest.size_bytes:
            raise ArchiveVerificationError(
                f"s3://{self.bucket}/{entry_id} holds {stored.size_bytes} bytes, "
                f"the manifest records {manifest.size_bytes}"
            )
        if manifest.source == SOURCE_OLD_TOOL:
            if plain_etag(stored.etag) != plain_etag(manifest.etag):
                raise ArchiveVerificationError(
                    f"s3://{self.bucket}/{entry_id} has ETag {stored.etag}, the manifest of the old-tool"
                    f" archive records {manifest.etag} (the object changed after its content was proved)"
                )
        elif stored.checksum(manifest.checksum_algorithm):
            reported = stored.checksum(manifest.checksum_algorithm) or ""
            if not _same_checksum(reported, manifest.part_checksum):
                raise ArchiveVerificationError(
                    f"s3://{self.bucket}/{entry_id} has {manifest.checksum_algorithm} checksum {reported}, "
                    f"the manifest records {manifest.part_checksum}"
                )
        elif stored.etag and "-" in stored.etag.strip('"'):
            parts = stored.etag.strip('"').rsplit("-", 1)[1]
            if parts != str(manifest.parts):
                raise ArchiveVerificationError(
                    f"s3://{self.bucket}/{entry_id} has {parts} parts, the manifest records {manifest.parts}"
                )
        else:
            raise ArchiveVerificationError(
                f"s3://{self.bucket}/{entry_id} reports no {manifest.checksum_algorithm} checksum"
                " to compare with its manifest"
            )
        if read_content:
            digest = hashlib.sha256()
            for chunk in self.open_stream(entry_id):
                digest.update(chunk)
            if digest.hexdigest() != manifest.sha256:
                raise ArchiveVerificationError(
                    f"s3://{self.bucket}/{entry_id} content has sha256 {digest.hexdigest()}, "
                    f"the manifest records {manifest.sha256}"
                )
        return stored

    # -- previous versions --------------------------------------------------------------------

    def versioning_enabled(self) -> bool:
        """True when the bucket's object versioning is Enabled (one call, remembered); False if unknown."""
        if self._versioning is None:
            self._count("GetBucketVersioning")
            try:
                status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            except (ClientError, BotoCoreError):
                status = None
            self._versioning = status == "Enabled"
        return self._versioning

    def keep_previous_version(
        self,
        entry_id: str,
        stored: ArchivedObject,
        manifest: ArchiveManifest | None,
        reason: str,
        log: LogFn | None = None,
    ) -> dict[str, Any]:
        """Keep the object now at ENTRY_ID before a newer version overwrites it; returns its record.

        With versioning Enabled S3 keeps it as a noncurrent version (nothing is copied). Otherwise it
        is copied to `previous_key` (same storage class, only if it is still the object described by
        `stored`), which needs a readable object: ArchiveNotReadable for an unrestored Glacier one.
        Idempotent: a copy already made of the same object is reused.
        """
        say = log or (lambda _message: None)
        record: dict[str, Any] = {
            "etag": stored.etag,
            "size_bytes": stored.size_bytes,
            "storage_class": stored.storage_class,
            "superseded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
            "manifest": manifest.as_record() if manifest is not None else None,
        }
        if self.versioning_enabled():
            version = stored.version_id or "null"
            say(f"{entry_id}: bucket versioning keeps the previous archive as version {version}")
            return {**record, "key": entry_id, "version_id": version, "kept_by": "bucket versioning"}
        key = previous_key(entry_id, stored.etag)
        existing = self._head_key(key)
        if existing is not None and existing.get("source-etag") == plain_etag(stored.etag):
            say(f"{entry_id}: the previous archive is already kept at s3://{self.bucket}/{key}")
            return {**record, "key": key, "version_id": None, "kept_by": "copy"}
        if not stored.readable:
            raise ArchiveNotReadable(
                f"s3://{self.bucket}/{entry_id} is in {stored.storage_class} and not restored; it must be"
                " restored before it can be kept as the previous version"
            )
        self._copy(entry_id, key, stored)
        say(f"{entry_id}: previous archive ({stored.size_bytes} bytes) kept at s3://{self.bucket}/{key}")
        return {**record, "key": key, "version_id": None, "kept_by": "copy"}

    def _head_key(self, key: str) -> dict[str, str] | None:
        """The metadata of any key, or None when it does not exist."""
        self._count("HeadObject")
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return None
            raise ArchiveStoreError(f"HEAD s3://{self.bucket}/{key} failed: {exc}") from exc
        return dict(response.get("Metadata") or {})

    def _copy(self, entry_id: str, key: str, stored: ArchivedObject) -> None:
        """Server-side copy of the entry's object to `key`, refused by S3 if the object changed meanwhile."""
        metadata = {"source-etag": plain_etag(stored.etag), "archive-of": entry_id}
        if stored.flavor_id:
            metadata["kaltura-flavor-id"] = stored.flavor_id
        source = {"Bucket": self.bucket, "Key": entry_id}
        try:
            if stored.size_bytes <= self.copy_single_limit:
                self._count("CopyObject")
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource=source,
                    CopySourceIfMatch=stored.etag or "",
                    StorageClass=stored.storage_class,
                    MetadataDirective="REPLACE",
                    Metadata=metadata,
                    ChecksumAlgorithm="SHA256",
                )
            else:
                self._copy_in_parts(entry_id, key, stored, metadata)
        except ClientError as exc:
            raise ArchiveStoreError(f"keeping s3://{self.bucket}/{entry_id} at {key} failed: {exc}") from exc
        copied = self._head_key(key)
        if copied is None or copied.get("source-etag") != plain_etag(stored.etag):
            raise ArchiveVerificationError(f"the copy of {entry_id} at {key} is missing after copying")

    def _copy_in_parts(
        self, entry_id: str, key: str, stored: ArchivedObject, metadata: dict[str, str]
    ) -> None:
        """Copy an object over 5 GiB with UploadPartCopy (S3's limit for one CopyObject)."""
        self._count("CreateMultipartUpload")
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, StorageClass=stored.storage_class, Metadata=metadata
        )["UploadId"]
        try:
            parts = []
            step = self.copy_part_bytes
            for number, start in enumerate(range(0, stored.size_bytes, step), start=1):
                end = min(start + step, stored.size_bytes) - 1
                self._count("UploadPartCopy")
                answer = self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": entry_id},
                    CopySourceIfMatch=stored.etag or "",
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
            self._count("CompleteMultipartUpload")
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._abort(key, upload_id, lambda _message: None)
            raise

    # -- Glacier -------------------------------------------------------------------------------

    def request_restore(
        self, entry_id: str, log: LogFn | None = None, tier: str | None = None, days: int | None = None
    ) -> str:
        """Ask S3 to restore the entry's Glacier object (tier and days from the settings unless given).

        Idempotent; returns RESTORE_REQUESTED, RESTORE_ONGOING (one already under way),
        RESTORE_DONE (already readable) or RESTORE_NOT_NEEDED (not an archive storage class).
        A tier given explicitly that is faster than Bulk is sent even while a restore is under way:
        S3 upgrades the speed of an in-progress restore and answers RestoreAlreadyInProgress when
        the tier is not faster. An Expedited request refused for capacity
        (GlacierExpeditedRetrievalNotAvailable) is made again with the next slower tier
        (`kaltura_archiver.restore_tiers`); the log says so.
        """
        from kaltura_archiver.restore_tiers import EXPEDITED_NOT_AVAILABLE, available_tiers, fallback_tier

        say = log or (lambda _message: None)
        wanted = tier or self.settings.restore_tier
        keep_days = days or self.settings.restore_days
        stored = self.head(entry_id)
        if stored is None:
            raise ArchiveStoreError(
                f"cannot restore {entry_id}: s3://{self.bucket}/{entry_id} does not exist"
            )
        if stored.storage_class not in ARCHIVE_CLASSES:
            say(f"{entry_id}: storage class {stored.storage_class} is readable, no restore needed")
            return RESTORE_NOT_NEEDED
        upgrade = tier is not None and tier != "Bulk"
        if stored.restore_state == RESTORE_ONGOING and not upgrade:
            say(f"{entry_id}: a Glacier restore is already under way")
            return RESTORE_ONGOING
        if stored.restore_state == RESTORE_DONE:
            say(f"{entry_id}: already restored (readable until {stored.restore_expiry})")
            return RESTORE_DONE
        offered = available_tiers(stored.storage_class)
        if offered and wanted not in offered:
            say(f"{entry_id}: {stored.storage_class} offers no {wanted} restore; asking for {offered[0]}")
            wanted = offered[0]
        while True:
            self._count("RestoreObject")
            try:
                self.client.restore_object(
                    Bucket=self.bucket,
                    Key=entry_id,
                    RestoreRequest={"Days": keep_days, "GlacierJobParameters": {"Tier": wanted}},
                )
            except ClientError as exc:
                code = _error_code(exc)
                if code == "RestoreAlreadyInProgress":
                    say(f"{entry_id}: a Glacier restore is already under way")
                    return RESTORE_ONGOING
                slower = fallback_tier(wanted) if code == EXPEDITED_NOT_AVAILABLE else None
                if slower is not None:
                    say(f"{entry_id}: S3 has no {wanted} capacity now ({code}); asking for {slower} instead")
                    wanted = slower
                    continue
                raise ArchiveStoreError(f"requesting a restore of {entry_id} failed: {exc}") from exc
            break
        verb = "upgraded to" if stored.restore_state == RESTORE_ONGOING else "requested"
        say(f"{entry_id}: Glacier restore {verb} (tier {wanted}, kept {keep_days} days)")
        self.last_restore_tier = wanted
        return RESTORE_REQUESTED

    # -- download ------------------------------------------------------------------------------

    def open_stream(self, entry_id: str, chunk_size: int | None = None) -> Iterator[bytes]:
        """The object's bytes in chunks; a dropped connection resumes with a Range GET from the
        last byte received (up to `max_stream_resumes` times, and only if the object is unchanged)."""
        size = chunk_size or self.settings.upload_chunk_bytes
        body, total, etag = self._get(entry_id, None, None)
        offset = 0
        resumes = 0
        while True:
            try:
                chunk = body.read(size)
            except _STREAM_ERRORS as exc:
                body.close()
                resumes += 1
                if resumes > self.max_stream_resumes:
                    raise ArchiveStoreError(
                        f"reading {entry_id} failed at byte {offset} of {total} "
                        f"after {resumes - 1} resumes: {exc}"
                    ) from exc
                time.sleep(min(0.2 * 2**resumes, 5.0))
                body, _, _ = self._get(entry_id, offset, etag)
                continue
            if not chunk:
                break
            offset += len(chunk)
            yield chunk
        body.close()
        if offset != total:
            raise ArchiveStoreError(f"reading {entry_id} ended at byte {offset} of {total}")

    def _get(self, entry_id: str, offset: int | None, etag: str | None) -> tuple[Any, int, str | None]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": entry_id}
        if offset:
            kwargs["Range"] = f"bytes={offset}-"
        if etag:
            kwargs["IfMatch"] = etag
        self._count("GetObject")
        try:
            response = self.client.get_object(**kwargs)
        except ClientError as exc:
            code = _error_code(exc)
            if code == "InvalidObjectState":
                raise ArchiveNotReadable(
                    f"s3://{self.bucket}/{entry_id} is in Glacier and not restored yet; "
                    "request a restore and wait"
                ) from exc
            if code in _NOT_FOUND:
                raise ArchiveStoreError(f"s3://{self.bucket}/{entry_id} does not exist") from exc
            if code in ("PreconditionFailed", "412"):
                raise ArchiveStoreError(
                    f"s3://{self.bucket}/{entry_id} changed while it was being read"
                ) from exc
            raise ArchiveStoreError(f"GET s3://{self.bucket}/{entry_id} failed: {exc}") from exc
        total = int(response["ContentLength"]) + (offset or 0)
        return response["Body"], total, response.get("ETag")
