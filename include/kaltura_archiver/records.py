"""Plain, immutable views of Kaltura entries and flavors, converted from KalturaClient objects."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from kaltura_archiver.kaltura_rules import (
    DISPLAY_IN_SEARCH_NAMES,
    DISPLAY_RECYCLED,
    ENTRY_READY,
    ENTRY_STATUS_NAMES,
    HIDDEN_MODERATION_STATUSES,
    MODERATION_STATUS_NAMES,
    entry_status,
    normalize_tags,
)

FLAVOR_STATUS_NAMES: dict[int, str] = {
    -1: "ERROR",
    0: "QUEUED",
    1: "CONVERTING",
    2: "READY",
    3: "DELETED",
    4: "NOT_APPLICABLE",
    5: "TEMP",
    6: "WAIT_FOR_CONVERT",
    7: "IMPORTING",
    8: "VALIDATING",
    9: "EXPORTING",
}
MEDIA_TYPE_NAMES: dict[int, str] = {1: "video", 2: "image", 5: "audio"}
FLAVOR_READY = 2


_PLAIN = (str, int)


def unset(value: Any) -> bool:
    """True when a KalturaClient field was not returned (``NotImplemented``) or empty (``None``)."""
    return value is NotImplemented or value is None


def enum_value(value: Any) -> Any:
    """The raw value of a KalturaClient enum object (``.getValue()``), or the value itself."""
    if type(value) in _PLAIN:  # a lean list page's text, or an int: most calls, so first
        return value
    if unset(value):
        return None
    getter = getattr(value, "getValue", None)
    return getter() if callable(getter) else value


def as_int(value: Any, default: int | None = None) -> int | None:
    """An int from a KalturaClient field (enum, str or int); ``default`` when unset or not numeric."""
    raw = enum_value(value)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def as_str(value: Any) -> str:
    """A string from a KalturaClient field; empty when unset."""
    raw = enum_value(value)
    return "" if raw is None else str(raw)


def as_bool(value: Any) -> bool:
    """A bool from a KalturaClient field; False when unset."""
    raw = enum_value(value)
    if isinstance(raw, str):
        return raw.strip().lower() in {"1", "true", "yes"}
    return bool(raw)


def epoch_to_utc(value: Any) -> datetime | None:
    """A UTC datetime from Kaltura's epoch seconds; None when unset or zero."""
    seconds = as_int(value)
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def split_tags(value: Any) -> tuple[str, ...]:
    """Kaltura's comma-separated tags as whole tags, normalised as Kaltura stores them (`normalize_tags`)."""
    return normalize_tags(as_str(value))


def split_ints(value: Any) -> tuple[int, ...]:
    """A comma-separated list of ids as ints (non-numeric parts are ignored)."""
    out = []
    for part in as_str(value).split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            out.append(int(part))
    return tuple(out)


def split_names(value: Any) -> tuple[str, ...]:
    """A comma-separated list of names (category full names), whitespace stripped."""
    return tuple(p.strip() for p in as_str(value).split(",") if p.strip())


def _entry_status(value: Any) -> int | str:
    """The entry status Kaltura sent; unset only happens on partial objects and reads as READY."""
    raw = enum_value(value)
    if raw is None or raw == "":
        return ENTRY_READY
    return entry_status(raw)


@functools.lru_cache(maxsize=256)
def _stored_form(tag: str) -> str:
    """A tag as Kaltura stores it ('' when Kaltura drops it); asked for the same few tags per entry."""
    found = normalize_tags([tag])
    return found[0] if found else ""


def fmt_time(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, or empty for None (the report format)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@dataclass(frozen=True)
class EntryRecord:
    """One Kaltura media entry, reduced to what the archiver reads."""

    entry_id: str
    name: str = ""
    tags: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    creator_id: str = ""
    user_id: str = ""
    created_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    updated_at: datetime | None = None
    last_played_at: datetime | None = None
    plays: int = 0
    status: int | str = ENTRY_READY
    media_type: int = 1
    duration: int = 0
    moderation_status: int = 2
    display_in_search: int = 1

    KALTURA_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "name",
        "tags",
        "categoriesIds",
        "categories",
        "creatorId",
        "userId",
        "createdAt",
        "updatedAt",
        "lastPlayedAt",
        "plays",
        "status",
        "mediaType",
        "duration",
        "moderationStatus",
        "displayInSearch",
    )
    """The KalturaMediaEntry fields `from_kaltura` reads: what a list asks Kaltura to send."""

    @classmethod
    def from_kaltura(cls, obj: Any) -> EntryRecord:
        """Convert a KalturaMediaEntry / KalturaBaseEntry (unset fields are NotImplemented)."""
        created = epoch_to_utc(getattr(obj, "createdAt", None))
        return cls(
            entry_id=as_str(obj.id),
            name=as_str(getattr(obj, "name", None)),
            tags=split_tags(getattr(obj, "tags", None)),
            category_ids=split_ints(getattr(obj, "categoriesIds", None)),
            categories=split_names(getattr(obj, "categories", None)),
            creator_id=as_str(getattr(obj, "creatorId", None)) or as_str(getattr(obj, "userId", None)),
            user_id=as_str(getattr(obj, "userId", None)),
            created_at=created or datetime(1970, 1, 1, tzinfo=UTC),
            updated_at=epoch_to_utc(getattr(obj, "updatedAt", None)),
            last_played_at=epoch_to_utc(getattr(obj, "lastPlayedAt", None)),
            plays=as_int(getattr(obj, "plays", None), 0) or 0,
            status=_entry_status(getattr(obj, "status", None)),
            media_type=as_int(getattr(obj, "mediaType", None), 1) or 0,
            duration=as_int(getattr(obj, "duration", None), 0) or 0,
            moderation_status=as_int(getattr(obj, "moderationStatus", None), 2) or 0,
            display_in_search=as_int(getattr(obj, "displayInSearch", None), 1) or 0,
        )

    def has_tag(self, tag: str) -> bool:
        """True when ``tag`` is one of the entry's whole tags (never a substring of another tag).

        Compared as Kaltura stores tags (`normalize_tags`: trimmed, lower-cased).
        """
        wanted = _stored_form(tag)
        return bool(wanted) and wanted in self.tags

    @property
    def is_ready(self) -> bool:
        """True only for status READY (never for PENDING, a virus-scan status or an unknown one)."""
        return self.status == ENTRY_READY

    @property
    def hidden_reason(self) -> str:
        """Why Kaltura's default list leaves this entry out ('' when it lists it): moderation, recycle bin."""
        if self.moderation_status in HIDDEN_MODERATION_STATUSES:
            return MODERATION_STATUS_NAMES[self.moderation_status].lower()
        if self.display_in_search == DISPLAY_RECYCLED:
            return DISPLAY_IN_SEARCH_NAMES[DISPLAY_RECYCLED].lower()
        return ""

    @property
    def status_name(self) -> str:
        """Kaltura's name of the entry status (e.g. READY)."""
        return ENTRY_STATUS_NAMES.get(self.status, str(self.status))

    @property
    def media_type_name(self) -> str:
        """``video``, ``audio``, ``image`` or the numeric type."""
        return MEDIA_TYPE_NAMES.get(self.media_type, str(self.media_type))

    @property
    def created_epoch(self) -> int:
        """Creation time as Kaltura epoch seconds."""
        return int(self.created_at.timestamp())


@dataclass(frozen=True)
class FlavorRecord:
    """One flavor asset of an entry; sizes as Kaltura reports them (KB, and bytes when available)."""

    flavor_id: str
    entry_id: str
    is_original: bool = False
    status: int = FLAVOR_READY
    size_kb: int = 0
    size_bytes: int | None = None
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    flavor_params_id: int | None = None
    file_ext: str = ""
    tags: tuple[str, ...] = ()

    KALTURA_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "entryId",
        "isOriginal",
        "status",
        "size",
        "sizeInBytes",
        "createdAt",
        "deletedAt",
        "flavorParamsId",
        "fileExt",
        "tags",
    )
    """The KalturaFlavorAsset fields `from_kaltura` reads: what a list asks Kaltura to send."""

    @classmethod
    def from_kaltura(cls, obj: Any) -> FlavorRecord:
        """Convert a KalturaFlavorAsset (unset fields are NotImplemented)."""
        size_bytes = as_int(getattr(obj, "sizeInBytes", None))
        return cls(
            flavor_id=as_str(obj.id),
            entry_id=as_str(getattr(obj, "entryId", None)),
            is_original=as_bool(getattr(obj, "isOriginal", None)),
            status=as_int(getattr(obj, "status", None), -1) or 0,
            size_kb=as_int(getattr(obj, "size", None), 0) or 0,
            size_bytes=size_bytes if size_bytes else None,
            created_at=epoch_to_utc(getattr(obj, "createdAt", None)),
            deleted_at=epoch_to_utc(getattr(obj, "deletedAt", None)),
            flavor_params_id=as_int(getattr(obj, "flavorParamsId", None)),
            file_ext=as_str(getattr(obj, "fileExt", None)),
            tags=split_tags(getattr(obj, "tags", None)),
        )

    @classmethod
    def from_with_params(cls, obj: Any) -> FlavorRecord | None:
        """Convert a KalturaFlavorAssetWithParams; None when it has params but no asset."""
        asset = getattr(obj, "flavorAsset", None)
        if unset(asset):
            return None
        return cls.from_kaltura(asset)

    @property
    def is_ready(self) -> bool:
        """True when the flavor is in status READY."""
        return self.status == FLAVOR_READY

    @property
    def status_name(self) -> str:
        """Kaltura's name of the flavor status (e.g. READY)."""
        return FLAVOR_STATUS_NAMES.get(self.status, str(self.status))

    @property
    def approx_bytes(self) -> int:
        """Size in bytes: exact when Kaltura reported sizeInBytes, else size_kb * 1024."""
        return self.size_bytes if self.size_bytes is not None else self.size_kb * 1024


def pick_original(flavors: list[FlavorRecord] | tuple[FlavorRecord, ...]) -> FlavorRecord | None:
    """The entry's original (source) flavor: a non-deleted one flagged original, READY preferred."""
    originals = [f for f in flavors if f.is_original and f.status != 3]
    if not originals:
        return None
    originals.sort(key=lambda f: (not f.is_ready, -(f.created_at.timestamp() if f.created_at else 0)))
    return originals[0]
