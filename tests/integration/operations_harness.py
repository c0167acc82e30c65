"""Test harness for the operations: the emulator and the dev S3 server, wired into an OperationContext.

`Harness.lost_video` is the independent checker: it reads the emulator's control API and the S3
object's bytes through boto3 directly (not through the project's code).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from kaltura_archiver.archive_store import ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings, RetryPolicy
from kaltura_archiver.operations import OperationContext, archive_entry, replace_entry
from kaltura_archiver.operations.kaltura_content import stream_flavor, update_tags
from kaltura_archiver.operations.outcome import Outcome
from kaltura_archiver.operations.steplog import StepHook

YEAR = 365 * 86400
FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42"


def video_bytes(size: int, seed: int = 0) -> bytes:
    """`size` bytes that Kaltura's upload file-type check sniffs as video/mp4 (an ISO `ftyp` box first)."""
    body = bytes(((i * 31 + 7 + seed) * (seed + 1)) % 256 for i in range(max(0, size - len(FTYP))))
    return (FTYP + body)[:size]


PLACEHOLDER_BYTES = video_bytes(40_000)
ORIGINAL_SIZE = 300_000


class SimulatedCrash(BaseException):
    """Stands for the worker process dying: not an Exception, so no operation code catches it."""


def crash_at(step: int) -> StepHook:
    """A step hook that 'kills the process' just before step number `step` (0-based)."""

    def hook(index: int, description: str) -> None:
        if index == step:
            raise SimulatedCrash(f"crash before step {index}: {description}")

    return hook


@dataclass
class Harness:
    """One test's view of the local stack."""

    emulator: Any
    s3: Any
    bucket: str
    settings: ArchiverSettings
    api: KalturaApi
    store: ArchiveStore
    real_sha: dict[str, str] = field(default_factory=dict)

    def ctx(
        self,
        live: bool = True,
        on_step: StepHook | None = None,
        sleep: Callable[[float], None] | None = None,
        entry_statuses: tuple[int | str, ...] | None = None,
        **changes: Any,
    ) -> OperationContext:
        """A fresh context (new ArchiveStore so no cached listing), optionally with changed settings.

        Waits inside an operation take no time unless `sleep` is given; `entry_statuses` stands for
        a trigger that names statuses besides READY.
        """
        settings = self.settings.with_changes(**changes) if changes else self.settings
        store = ArchiveStore(self.s3, self.bucket, settings)
        ctx = OperationContext(
            self.api,
            store,
            settings,
            live=live,
            on_step=on_step,
            sleep=sleep or (lambda _s: None),
            download_chunk_bytes=1 << 16,
        )
        if entry_statuses is not None:
            ctx.entry_statuses = entry_statuses
        return ctx

    def create(
        self,
        size: int = ORIGINAL_SIZE,
        years_old: float = 5,
        tags: tuple[str, ...] = (),
        **fields: Any,
    ) -> str:
        """A new READY video entry with a generated original; remembers the original's sha256."""
        entry_id = f"0_{uuid.uuid4().hex[:8]}"
        item = {
            "id": entry_id,
            "tags": list(tags),
            "created_at": int(time.time() - years_old * YEAR),
            "original_size": size,
            **fields,
        }
        self.emulator.control.create_entries([item])
        self.real_sha[entry_id] = self.state(entry_id)["original_sha256"]
        return entry_id

    def state(self, entry_id: str) -> dict[str, Any]:
        """The emulator's full view of an entry (with the original's sha256)."""
        return dict(self.emulator.control.entry(entry_id))

    def tags(self, entry_id: str) -> set[str]:
        """The entry's tags."""
        return set(self.state(entry_id)["tags"])

    def s3_sha(self, entry_id: str) -> str | None:
        """sha256 of the S3 object's bytes, read with boto3 (a Glacier object is restored first)."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=entry_id)
        except self.s3.exceptions.ClientError:
            return None
        if head.get("StorageClass") in ("GLACIER", "DEEP_ARCHIVE") and 'ongoing-request="false"' not in (
            head.get("Restore") or ""
        ):
            return None
        body = self.s3.get_object(Bucket=self.bucket, Key=entry_id)["Body"]
        digest = hashlib.sha256()
        for chunk in iter(lambda: body.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()

    def original_sha(self, entry_id: str) -> str | None:
        """sha256 of the entry's current original when it is READY, else None."""
        state = self.state(entry_id)
        flavors = {f["id"]: f for f in state["flavors"]}
        original = flavors.get(state.get("original_flavor_id") or "")
        if original is None or original["status"] != 2:
            return None
        return state["original_sha256"]

    def lost_video(self, entry_id: str) -> bool:
        """True when the entry's real video is neither its READY original nor the S3 object's content."""
        real = self.real_sha[entry_id]
        return self.original_sha(entry_id) != real and self.s3_sha(entry_id) != real

    def snapshot(self, entry_id: str) -> tuple[Any, ...]:
        """Everything a dry run must leave unchanged: tags, status, flavors, S3 keys of the entry."""
        state = self.state(entry_id)
        flavors = sorted((f["id"], f["status"]) for f in state["flavors"])
        keys = sorted(
            item["Key"]
            for item in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
            if entry_id in item["Key"]
        )
        manifests = [
            self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read() for k in keys if k.endswith(".json")
        ]
        return (sorted(state["tags"]), state["status"], flavors, keys, manifests)

    def original_bytes(self, entry_id: str) -> bytes:
        """The entry's current original, downloaded from Kaltura with the plain client calls."""
        return b"".join(stream_flavor(self.api, self.state(entry_id)["original_flavor_id"]))

    def old_tool_archive(self, entry_id: str, body: bytes, part_size: int | None = None, **put: Any) -> None:
        """Write `body` as the old tool did (boto3, no manifest; parts of `part_size`) and tag the entry."""
        if part_size is None:
            self.s3.put_object(Bucket=self.bucket, Key=entry_id, Body=body, **put)
        else:
            config = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size)
            self.s3.upload_fileobj(
                io.BytesIO(body), self.bucket, entry_id, Config=config, ExtraArgs=put or None
            )
        update_tags(self.api, entry_id, add=[self.settings.archived_tag])

    def keys(self, entry_id: str) -> list[str]:
        """Every S3 key that names the entry (its object, manifest, previous versions), sorted."""
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(item["Key"] for item in listed if entry_id in item["Key"])

    def make(self, state: str, **create: Any) -> str:
        """An entry in `initial`, `archived`, `placeholder` or `inconsistent` (both tags, no S3 copy)."""
        if state == "inconsistent":
            return self.create(tags=(self.settings.archived_tag, self.settings.replaced_tag), **create)
        entry_id = self.create(**create)
        if state in ("archived", "placeholder"):
            assert archive_entry(self.ctx(), entry_id).outcome is Outcome.DONE
        if state == "placeholder":
            assert replace_entry(self.ctx(), entry_id).outcome is Outcome.DONE
        return entry_id


def build_harness(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """Emulator (conversion at once) + a fresh bucket + a placeholder file + settings for small transfers."""
    emulator.control.set_conversion_seconds(0)
    placeholder = tmp_path / "placeholder.mp4"
    placeholder.write_bytes(PLACEHOLDER_BYTES)
    client, bucket = s3_bucket
    settings = ArchiverSettings(
        bucket=bucket,
        placeholder_video=str(placeholder),
        storage_class="STANDARD",
        part_size_bytes=5 * 1024 * 1024,
        upload_chunk_bytes=64 * 1024,
    )
    api = emulator_api(emulator)
    return Harness(emulator, client, bucket, settings, api, ArchiveStore(client, bucket, settings))


def emulator_api(emulator: Any, request_timeout: int | None = None) -> KalturaApi:
    """The archiver's API client on the emulator, retrying at once; `request_timeout=1` makes it give up
    on an answer the fault layer delays past a second (a lost answer, after the server acted)."""
    settings = KalturaConnectionSettings(
        service_url=emulator.url, partner_id=emulator.partner_id, admin_secret=emulator.admin_secret
    )
    if request_timeout is not None:
        settings = dataclasses.replace(settings, request_timeout=request_timeout)
    return KalturaApi(settings, retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05))
