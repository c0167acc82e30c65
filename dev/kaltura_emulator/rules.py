"""Kaltura server rules the emulator applies, each in one place with the kaltura/server file defining it.

Paths are relative to the kaltura/server repository.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

# alpha/apps/kaltura/lib/kTime.class.php and configurations/base.ini (max_relative_time = 10 years)
MAX_RELATIVE_TIME = 315_360_000
REMOVE_DATE = -1
# alpha/apps/kaltura/lib/request/kSessionBase.class.php (PRIVILEGE_REFERENCE_TIME)
PRIVILEGE_REFERENCE_TIME = "reftime"


def relative_time(value: int, now: float, enabled: bool = True) -> int:
    """kTime::getRelativeTime: |value| <= 10 years means now + value; -1 stays; others are absolute."""
    if value == REMOVE_DATE or not enabled:
        return value
    if -MAX_RELATIVE_TIME <= value <= MAX_RELATIVE_TIME:
        return int(now) + value
    return value


def reference_time(privileges: str) -> int | None:
    """kTime::getTime: the KS privilege `reftime:N` replaces the clock for relative times, else None."""
    for privilege in privileges.split(","):
        name, _, value = privilege.partition(":")
        if name.strip() == PRIVILEGE_REFERENCE_TIME and value.strip().lstrip("-").isdigit():
            return int(value) or None
    return None


# alpha/apps/kaltura/lib/model/ktagword.class.php
TAG_SEPARATOR = ","
MAXIMUM_TAG_LENGTH = 100
_PHP_TRIM = " \t\n\r\0\x0b"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_tags(paragraph: str | Sequence[str] | None) -> list[str]:
    """ktagword::tagsListFromParagraph: split on ",", PHP trim + strtolower (ASCII only), drop tags
    under 2 bytes, cut each at 100 bytes on a UTF-8 character boundary (mb_strcut), drop duplicates."""
    if paragraph is None:
        return []
    words = paragraph.split(TAG_SEPARATOR) if isinstance(paragraph, str) else [str(w) for w in paragraph]
    valid: list[str] = []
    for word in words:
        tag = word.strip(_PHP_TRIM).translate(_ASCII_LOWER)
        raw = tag.encode("utf-8")
        if len(raw) < 2:
            continue
        fixed = raw[:MAXIMUM_TAG_LENGTH].decode("utf-8", errors="ignore")
        if fixed not in valid:
            valid.append(fixed)
    return valid


def tags_text(tags: Iterable[str]) -> str:
    """The stored tags string: normalised tags joined with ", " (ktagword::tagsListFromParagraph)."""
    return (TAG_SEPARATOR + " ").join(tags)


# alpha/apps/kaltura/lib/model/objectfilters/filters.class.php (baseObjectFilter::$maxInValues, createSqlIn)
SQL_MAX_IN_VALUES = 500
# plugins/search/providers/sphinx_search/lib/SphinxCriterion.php (MAX_IN_VALUES, getNonStringClause)
SPHINX_MAX_IN_VALUES = 150


def cut_id_values(values: list[str], sphinx: bool) -> list[str]:
    """The entry ids an idIn/idNotIn filter keeps.

    The filter's IN becomes a criterion of its first 500 values (baseObjectFilter::createSqlIn). MySQL
    path (SphinxCriteria::shouldSkipSphinx: only peer columns, no text match): those 500. Sphinx path:
    the ids become crc32 `int_entry_id` values (SphinxCriteria::getTranslateIndexId), which
    getNonStringClause sorts and cuts to 150, so the kept ids are those with the smallest crc32.
    """
    values = values[:SQL_MAX_IN_VALUES]
    if not sphinx:
        return values
    unique = list(dict.fromkeys(values))
    return sorted(unique, key=lambda v: zlib.crc32(v.encode()))[:SPHINX_MAX_IN_VALUES]


# Entry list filters that make the query go through Sphinx (match clauses, string LIKE comparisons,
# fields without an `entry` table column): plugins/search/providers/sphinx_search/lib/SphinxCriteria.php
# (applyFilters, shouldSkipSphinx) and alpha/lib/model/index/entryIndex.php (matchable fields).
SPHINX_FILTERS = frozenset(
    {
        "tagsLike",
        "tagsMultiLikeOr",
        "tagsMultiLikeAnd",
        "nameLike",
        "nameMultiLikeOr",
        "nameMultiLikeAnd",
        "descriptionLike",
        "freeText",
        "searchTextMatchAnd",
        "searchTextMatchOr",
        "categoriesMatchOr",
        "categoriesMatchAnd",
        "categoriesIdsMatchOr",
        "categoriesIdsMatchAnd",
        "categoriesIdsNotContains",
        "categoriesNotContains",
        "adminTagsLike",
        "adminTagsMultiLikeOr",
        "adminTagsMultiLikeAnd",
        "creatorIdEqual",
    }
)
# Ordering by a string attribute also needs Sphinx (shouldSkipSphinx treats order-by columns as fields).
SPHINX_ORDER_FIELDS = frozenset({"name"})

# api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php (setDefaultModerationStatus) and
# alpha/lib/enums/entryModerationStatus.php
MODERATION_PENDING, MODERATION_APPROVED, MODERATION_REJECTED = 1, 2, 3
MODERATION_FLAGGED, MODERATION_AUTO_APPROVED = 5, 6
HIDDEN_MODERATION = (MODERATION_PENDING, MODERATION_REJECTED)
# alpha/lib/enums/EntryDisplayInSearchType.php; RECYCLED and SYSTEM are hidden by
# KalturaBaseEntryFilter::prepareEntriesCriteriaFilter and by eSearch
# (plugins/search/providers/elastic_search/lib/model/search/ESearchEntryQueryFilterAttributes.php)
DISPLAY_RECYCLED, DISPLAY_SYSTEM, DISPLAY_NONE, DISPLAY_PARTNER_ONLY, DISPLAY_KALTURA_NETWORK = (
    -2,
    -1,
    0,
    1,
    2,
)
HIDDEN_DISPLAY = (DISPLAY_RECYCLED, DISPLAY_SYSTEM)

# alpha/lib/model/asset.php: CUSTOM_DATA_SIZE_IN_BYTES was added by commit 4959fe3778 (2020-08-18);
# flavors written before it report sizeInBytes 0 (getFromCustomData default) unless backfilled by
# alpha/scripts/utils/updateFlavorAssetSizeInBytes.php.
SIZE_IN_BYTES_SINCE = 1_596_240_000  # 2020-08-01T00:00:00Z

DAY = 86_400


def utc_day(timestamp: float) -> int:
    """The number of the UTC day a timestamp falls on (the daily plays sync runs once a day)."""
    return int(timestamp // DAY)


# -- response profiles: api_v3/lib/types/KalturaObject.php (the generated fromObject), ----------------
# alpha/lib/enums/ResponseProfileType.php; a list action builds each item with the request's profile.
INCLUDE_FIELDS, EXCLUDE_FIELDS = 1, 2


def apply_response_profile(result: Any, profile_type: int | None, fields: str | None) -> Any:
    """`result` as Kaltura sends it under a ``responseProfile`` of `profile_type` and `fields`: each
    object (each item of a list response) keeps only the listed fields (INCLUDE_FIELDS) or all but
    them (EXCLUDE_FIELDS); ``objectType`` always stays; no fields means no change."""
    names = {name.strip() for name in (fields or "").split(",") if name.strip()}
    if not names or profile_type not in (INCLUDE_FIELDS, EXCLUDE_FIELDS):
        return result

    def shaped(obj: dict[str, Any]) -> dict[str, Any]:
        keep = (lambda k: k in names) if profile_type == INCLUDE_FIELDS else (lambda k: k not in names)
        return {k: v for k, v in obj.items() if k == "objectType" or keep(k)}

    if isinstance(result, dict) and isinstance(result.get("objects"), list):
        return {**result, "objects": [shaped(o) if isinstance(o, dict) else o for o in result["objects"]]}
    if isinstance(result, dict) and "objectType" in result:
        return shaped(result)
    return result
