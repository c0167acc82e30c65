"""Kaltura's server-side rules the archiver must respect, each in one place with the source that defines it.

Paths are files of the Kaltura server (github.com/kaltura/server); the archiver is only as correct on a
real account as these rules are faithful, and the emulator in ``dev/kaltura_emulator`` models the same
files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# -- paging: api_v3/lib/types/filters/KalturaFilterPager.php, plugins/search/providers/sphinx_search ----
MAX_PAGE_SIZE = 500
"""Largest page a list action returns (KalturaFilterPager clamps pageSize)."""
RESULT_CAP = 10_000
"""Matches a list can page through (sphinx max_matches: QUERY_EXCEEDED_MAX_MATCHES_ALLOWED)."""

# -- relative time: alpha/apps/kaltura/lib/kTime.class.php, configurations/base.ini -----------------
MAX_RELATIVE_TIME = 315_360_000
"""``max_relative_time``: a time-typed filter value v with |v| <= this means "now + v" (-1 is kept)."""


def is_relative_time(value: int) -> bool:
    """True when Kaltura reads ``value`` in a time-typed filter field as relative to now."""
    return value != -1 and -MAX_RELATIVE_TIME <= value <= MAX_RELATIVE_TIME


def lower_time_bound(value: int | None) -> int | None:
    """A ``...GreaterThanOrEqual`` value Kaltura reads as absolute, or None (unbounded) for one it would not.

    Widening is safe: every candidate is checked exactly on the client side. Nothing on a Kaltura
    account was created before 1980, so an unset lower bound selects the same entries.
    """
    if value is None or is_relative_time(value):
        return None
    return value


def upper_time_bound(value: int | None) -> int | None:
    """A ``...LessThanOrEqual`` value Kaltura reads as absolute: one inside the relative range becomes the
    smallest absolute value above it (a superset, checked exactly on the client side)."""
    if value is None:
        return None
    if is_relative_time(value):
        return MAX_RELATIVE_TIME + 1
    return value


def time_bound_is_exact(value: int | None) -> bool:
    """True when ``value`` goes to Kaltura unchanged (so a server count under it is exact)."""
    return value is None or not is_relative_time(value)


# -- idIn: plugins/search/providers/sphinx_search/lib/SphinxCriterion.php (MAX_IN_VALUES = 150) -------
MAX_IN_VALUES = 500
"""Values an ``...In`` filter keeps; the rest are silently dropped."""
MAX_IN_VALUES_WITH_TEXT_MATCH = 150
"""Values ``idIn`` keeps once the query has a text-match clause (tags, categories, free text)."""


def max_id_in(text_match: bool) -> int:
    """How many ids one ``idIn`` may carry without Kaltura dropping some."""
    return MAX_IN_VALUES_WITH_TEXT_MATCH if text_match else MAX_IN_VALUES


# -- tags: alpha/apps/kaltura/lib/model/ktagword.class.php (tagsListFromParagraph) --------------------
TAG_SEPARATOR = ","
MIN_TAG_LENGTH = 2
MAX_TAG_LENGTH = 100
"""Bytes (UTF-8) a stored tag keeps (``MAXIMUM_TAG_LENGTH``)."""


def normalize_tag(tag: str) -> str:
    """The tag as Kaltura stores it: trimmed, lower-cased, cut at 100 UTF-8 bytes; '' when dropped."""
    word = str(tag).strip().lower()
    if len(word.encode()) < MIN_TAG_LENGTH:
        return ""
    return word.encode()[:MAX_TAG_LENGTH].decode(errors="ignore")


def normalize_tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    """Tags as Kaltura stores them: each normalised, short ones dropped, duplicates dropped, order kept."""
    if tags is None:
        return ()
    items = tags.split(TAG_SEPARATOR) if isinstance(tags, str) else tags
    out: list[str] = []
    for item in items:
        tag = normalize_tag(item)
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


def join_tags(tags: Iterable[str]) -> str:
    """Tags joined the way Kaltura writes them back (``", "``)."""
    return (TAG_SEPARATOR + " ").join(normalize_tags(list(tags)))


# -- entry statuses: api_v3/lib/types/enums/KalturaEntryStatus.php, plugins/virus_scan ----------------
ENTRY_STATUS_NAMES: dict[int | str, str] = {
    -2: "ERROR_IMPORTING",
    -1: "ERROR_CONVERTING",
    0: "IMPORT",
    1: "PRECONVERT",
    2: "READY",
    3: "DELETED",
    4: "PENDING",
    5: "MODERATE",
    6: "BLOCKED",
    7: "NO_CONTENT",
    "virusScan.Infected": "INFECTED",
    "virusScan.ScanFailure": "SCAN_FAILURE",
}
"""KalturaEntryStatus is a string enum: plugins add non-numeric values (the virus-scan plugin's)."""
ENTRY_READY = 2


def entry_status(value: object) -> int | str:
    """An entry status as Kaltura sent it: an int for the numeric ones, the string otherwise."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return text


# -- moderation and visibility: api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php -------------
# (alpha/lib/enums/entryModerationStatus.php, alpha/lib/enums/EntryDisplayInSearchType.php)
MODERATION_STATUS_NAMES: dict[int, str] = {
    1: "PENDING_MODERATION",
    2: "APPROVED",
    3: "REJECTED",
    4: "DELETED",
    5: "FLAGGED_FOR_REVIEW",
    6: "AUTO_APPROVED",
}
HIDDEN_MODERATION_STATUSES = (1, 3)
"""Listed only when a moderationStatus filter is given (setDefaultModerationStatus)."""
DISPLAY_IN_SEARCH_NAMES: dict[int, str] = {
    -2: "RECYCLED",
    -1: "SYSTEM",
    0: "NONE",
    1: "PARTNER_ONLY",
    2: "KALTURA_NETWORK",
}
DISPLAY_RECYCLED = -2
DISPLAY_SYSTEM = -1
ACCOUNT_DISPLAY_IN_SEARCH = (-2, 0, 1, 2)
"""What the archiver lists: the account's own entries, recycled ones included; SYSTEM entries are
Kaltura's internal objects, not the account's videos, and stay out of every selection."""

# -- plays: alpha/scripts/kava/ (plays and lastPlayedAt are synced from analytics once a day) ---------
PLAYS_SYNC_LAG_SECONDS = 24 * 3600
"""How long a play may take to reach list filters; ``media.get`` may show it earlier."""

# -- upload tokens: api_v3/services/UploadTokenService.php, deployment/base/sql/01.kaltura_ce_tables.sql -
UPLOAD_TOKEN_PENDING = 0
"""KalturaUploadTokenStatus.PENDING: added, nothing uploaded yet (api_v3/lib/types/enums/)."""
UPLOAD_TOKEN_FILE_NAME_MAX = 256
"""Characters of a token's fileName Kaltura keeps: ``upload_token.file_name varchar(256)`` under
``sql_mode = ''`` cuts a longer name silently, and the cut name no longer matches ``fileNameEqual``."""
UPLOAD_TOKEN_LIST_FILTERS = (
    "idEqual",
    "idIn",
    "userIdEqual",
    "statusEqual",
    "statusIn",
    "fileNameEqual",
    "fileSizeEqual",
)
"""What ``uploadToken.list`` filters on (api_v3/lib/types/filters/base/KalturaUploadTokenBaseFilter.php):
nothing on createdAt, so an attempt's own token is found by a name unique to the attempt."""


def attempt_file_name(file_name: str, suffix: str) -> str:
    """`file_name` with ``-suffix`` before its extension, cut to the 256 characters Kaltura keeps."""
    stem, dot, ext = file_name.rpartition(".")
    if not dot:
        stem, ext = file_name, ""
    tail = f"-{suffix}{dot}{ext}"
    return (stem[: max(0, UPLOAD_TOKEN_FILE_NAME_MAX - len(tail))] + tail)[:UPLOAD_TOKEN_FILE_NAME_MAX]


# -- thumbnails: api_v3/services/ThumbAssetService.php, alpha/lib/model/thumbParams.php --------------
DEFAULT_THUMB_TAG = "default_thumb"
"""thumbParams::TAG_DEFAULT_THUMB: the tag of the thumbnail asset an entry shows. ``addFromImage``
sets it only on an entry without content; ``setAsDefault`` sets it and takes it off the others."""
THUMB_ASSET_READY = 2
"""KalturaAssetStatus::READY, which KalturaThumbAssetStatus extends (api_v3/lib/types/enums/)."""


# -- response profiles: api_v3/lib/types/KalturaObject.php, alpha/lib/enums/ResponseProfileType.php ---
RESPONSE_PROFILE_INCLUDE_FIELDS = 1
"""ResponseProfileType::INCLUDE_FIELDS: an object is sent with the listed fields only (of a list
response, each item; `objectType` always)."""


def include_fields(fields: tuple[str, ...]) -> Any:
    """The request's ``responseProfile`` that makes Kaltura send only `fields` of each object."""
    from KalturaClient.Plugins.Core import KalturaDetachedResponseProfile

    return KalturaDetachedResponseProfile(type=RESPONSE_PROFILE_INCLUDE_FIELDS, fields=",".join(fields))
