"""Settings shared by every operation: tag names, size limit, bucket, placeholder, exemptions.

Plain data, no Airflow imports. The Airflow layer builds an `ArchiverSettings` from Airflow
variables (see `kaltura_archiver.airflow.settings`); tests build one directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kaltura_archiver.kaltura_rules import MAX_TAG_LENGTH, normalize_tag

DEFAULT_SIZE_LIMIT_KB = 10_000_000
DEFAULT_REPLACE_MIN_AGE_YEARS = 3.0
TAG_SETTINGS = ("archived_tag", "replaced_tag", "exempt_tag")
ASSETS = Path(__file__).resolve().parent / "assets"
DEFAULT_PLACEHOLDER_VIDEO = str(ASSETS / "placeholder.mp4")
"""The packaged placeholder (made by dev/make_placeholder.py): 5 s of a card saying the video is archived."""
DEFAULT_PLACEHOLDER_THUMBNAIL = str(ASSETS / "placeholder.jpg")


class SettingsError(ValueError):
    """A configuration value is invalid; the message says which and why."""


@dataclass(frozen=True)
class ArchiverSettings:
    """Everything an operation needs besides its connections; defaults are the old tool's."""

    bucket: str = "kaltura-archive"
    placeholder_video: str = ""
    """Path of the placeholder video; empty means the packaged one (resolved where it is used)."""
    placeholder_thumbnail: str = ""
    """Path of the image replace sets as the entry's thumbnail; empty means the packaged one."""
    archived_tag: str = "archived_to_s3"
    replaced_tag: str = "flavors_deleted"
    exempt_tag: str = "archive_exempt"
    exempt_category_ids: tuple[int, ...] = ()
    size_limit_kb: int = DEFAULT_SIZE_LIMIT_KB
    size_tolerance: float = 0.03
    replace_min_age_years: float = DEFAULT_REPLACE_MIN_AGE_YEARS
    storage_class: str = "GLACIER"
    restore_tier: str = "Bulk"
    restore_days: int = 2
    part_size_bytes: int = 16 * 1024 * 1024
    upload_chunk_bytes: int = 8 * 1024 * 1024
    manifest_prefix: str = "manifests/"
    ready_poll_seconds: float = 30.0
    glacier_poll_seconds: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in TAG_SETTINGS:
            value = getattr(self, name)
            if isinstance(value, str) and "," not in value and normalize_tag(value):
                # stored as Kaltura stores tags, so `Archived_To_S3` finds the entries tagged with it
                object.__setattr__(self, name, normalize_tag(value))
        problems = list(self._problems())
        if problems:
            raise SettingsError("; ".join(problems))

    def _problems(self):  # type: ignore[no-untyped-def]
        if not re.match(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$", self.bucket):
            yield f"bucket {self.bucket!r} is not a valid S3 bucket name"
        for name in TAG_SETTINGS:
            value = getattr(self, name)
            if not isinstance(value, str) or "," in value or not normalize_tag(value):
                yield f"{name} {value!r} must be a Kaltura tag: 2-{MAX_TAG_LENGTH} characters, no comma"
            elif len(value.encode()) > MAX_TAG_LENGTH:
                yield f"{name} {value!r} is longer than Kaltura's {MAX_TAG_LENGTH} bytes"
        if self.archived_tag == self.replaced_tag:
            yield "archived_tag and replaced_tag must differ"
        if self.size_limit_kb <= 0:
            yield f"size_limit_kb must be positive, got {self.size_limit_kb}"
        if not 0 <= self.size_tolerance < 0.5:
            yield f"size_tolerance must be in [0, 0.5), got {self.size_tolerance}"
        if self.replace_min_age_years < 0:
            yield f"replace_min_age_years must be >= 0, got {self.replace_min_age_years}"
        if self.storage_class not in {"STANDARD", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"}:
            yield f"storage_class {self.storage_class!r} is not an S3 storage class this tool supports"
        if self.restore_tier not in {"Bulk", "Standard", "Expedited"}:
            yield f"restore_tier must be Bulk, Standard or Expedited, got {self.restore_tier!r}"
        if self.restore_days < 1:
            yield f"restore_days must be >= 1, got {self.restore_days}"
        if self.part_size_bytes < 5 * 1024 * 1024:
            yield "part_size_bytes must be at least 5 MiB (the S3 multipart minimum)"
        if self.ready_poll_seconds <= 0 or self.glacier_poll_seconds <= 0:
            yield "ready_poll_seconds and glacier_poll_seconds must be positive"
        if self.upload_chunk_bytes < 64 * 1024:
            yield "upload_chunk_bytes must be at least 64 KiB"

    @property
    def placeholder_video_path(self) -> str:
        """The placeholder video to upload: the configured file, else the packaged one."""
        return self.placeholder_video or DEFAULT_PLACEHOLDER_VIDEO

    @property
    def placeholder_thumbnail_path(self) -> str:
        """The thumbnail image replace sets: the configured file, else the packaged one."""
        return self.placeholder_thumbnail or DEFAULT_PLACEHOLDER_THUMBNAIL

    def over_size_limit(self, size_kb: int) -> bool:
        """True when an original of ``size_kb`` (Kaltura's KB) is too large to archive."""
        return size_kb > self.size_limit_kb

    def with_changes(self, **changes: Any) -> ArchiverSettings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
