"""What every state-changing operation needs: connections, settings, mode, reference time, placeholder."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import ACTION_STATUSES
from kaltura_archiver.kaltura_rules import entry_status
from kaltura_archiver.operations.steplog import LineLogger, StepHook, StepLog
from kaltura_archiver.records import FlavorRecord

if TYPE_CHECKING:  # the clients are imported by whoever builds a context, not by the placeholder check
    import requests

    from kaltura_archiver.archive_store import ArchiveStore
    from kaltura_archiver.kaltura_api import KalturaApi


DOWNLOAD_CHUNK_BYTES = 128 * 1024
"""Below glibc's pinned mmap threshold (`operations.memory`, 256 KiB): downloaded chunks come from
the heap and are reused, where 1 MiB chunks were each mapped, faulted in and unmapped again (about
a quarter of a second of CPU per 512 MB)."""


class PlaceholderError(ValueError):
    """The configured placeholder video or thumbnail is missing, empty or unreadable."""


@dataclass(frozen=True)
class PlaceholderFile:
    """The placeholder video (or its thumbnail image): size and sha256 identify it among an entry's assets."""

    path: str
    kind: str = "video"

    def check(self) -> None:
        """Raise PlaceholderError unless the file exists, is readable and not empty."""
        if not os.path.isfile(self.path):
            raise PlaceholderError(f"placeholder {self.kind} {self.path!r} does not exist")
        if os.path.getsize(self.path) == 0:
            raise PlaceholderError(f"placeholder {self.kind} {self.path!r} is empty")
        with open(self.path, "rb"):
            pass

    @cached_property
    def size_bytes(self) -> int:
        """Size of the file in bytes."""
        self.check()
        return os.path.getsize(self.path)

    @cached_property
    def sha256(self) -> str:
        """sha256 of the file's content."""
        digest = hashlib.sha256()
        for chunk in self.chunks(1024 * 1024):
            digest.update(chunk)
        return digest.hexdigest()

    @property
    def file_name(self) -> str:
        """Base name of the file (used as the upload token's file name)."""
        return os.path.basename(self.path)

    def chunks(self, size: int) -> Iterator[bytes]:
        """The file's bytes in chunks of `size`."""
        self.check()
        with open(self.path, "rb") as handle:
            while chunk := handle.read(size):
                yield chunk


@dataclass
class OperationContext:
    """Connections and settings of one operation run; `live=False` (the default) is a dry run.

    `entry_statuses`: the entry statuses archive and replace may start work on (Kaltura's values:
    ints, or numeric strings, and the virus-scan strings); READY only unless the trigger named others
    (DAG param `status`).
    """

    api: KalturaApi
    store: ArchiveStore
    settings: ArchiverSettings
    live: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    on_step: StepHook | None = None
    logger: LineLogger | None = None
    http: requests.Session | None = None
    sleep: Callable[[float], None] = time.sleep
    download_chunk_bytes: int = DOWNLOAD_CHUNK_BYTES
    entry_statuses: tuple[int | str, ...] = ACTION_STATUSES

    def __post_init__(self) -> None:
        self.entry_statuses = tuple(entry_status(s) for s in self.entry_statuses)

    @cached_property
    def placeholder(self) -> PlaceholderFile:
        """The configured placeholder video."""
        return PlaceholderFile(self.settings.placeholder_video_path)

    @cached_property
    def placeholder_thumbnail(self) -> PlaceholderFile:
        """The image replace sets as the entry's thumbnail."""
        return PlaceholderFile(self.settings.placeholder_thumbnail_path, "thumbnail")

    def download(self, flavor: FlavorRecord) -> Iterator[bytes]:
        """The flavor's bytes from its Kaltura download URL, resumed on drops, checked against its size."""
        from kaltura_archiver.operations.kaltura_content import stream_flavor

        return stream_flavor(
            self.api,
            flavor.flavor_id,
            expected_size=flavor.size_bytes,
            chunk_size=self.download_chunk_bytes,
            session=self.http,
            sleep=self.sleep,
        )

    def steplog(self, entry_id: str, operation: str) -> StepLog:
        """A DRYRUN/EXEC step logger for one entry."""
        return StepLog(entry_id, operation, self.live, logger=self.logger, on_step=self.on_step)
