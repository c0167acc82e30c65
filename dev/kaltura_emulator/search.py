"""Entry search: eSearch operator trees and media.list filters translated into SQL over the entries table.

Tag matching follows the analyzers of Kaltura's Elasticsearch mapping for the `tags` field:

* EXACT_MATCH (a match_phrase on the analyzed field): the search term's tokens appear as a contiguous
  run of one tag's tokens. Tokens are maximal runs of letters, digits and underscores, lower-cased
  (Elasticsearch's standard tokenizer keeps `archived_to_s3` as one token), so `archived` matches the
  tag `archived` or `old archived video`, but not `archived_to_s3`.
* PARTIAL (Kaltura's getPartialQuery: a should of three queries), a tag matches when any holds:
  1. whole tag: the lower-cased term equals the lower-cased tag (the `tags.raw` keyword field);
  2. token: any token of the term equals any token of the tag (the analyzed `tags` field, OR operator);
  3. 3-gram: the term's distinct 3-grams (taken inside runs of letters and digits only; `_`, spaces
     and punctuation split runs, runs shorter than 3 give none) are found among the tag's 3-grams for at
     least max(1, floor(80% x their number)) of them (the `tags.ngrams` field, minimum_should_match 80%).
  So `archived` matches `archive` (5 of its 6 grams), `archived_to_s3` matches `archived_to_s3_old`
  and also a bare `archived` tag (its only grams come from `archived`), and `deleted` matches
  `flavors_deleted`. Unlike Elasticsearch, grams are matched per tag, not pooled over all of an
  entry's tags.
* STARTS_WITH: the lower-cased tag starts with the lower-cased term. EXISTS: the entry has any tag.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any

from dev.kaltura_emulator import rules
from dev.kaltura_emulator.errors import KalturaAPIError
from dev.kaltura_emulator.wire import Params

EXACT_MATCH, PARTIAL, STARTS_WITH, EXISTS, RANGE = 1, 2, 3, 4, 5
AND_OP, OR_OP, NOT_OP = 1, 2, 3
MAX_PAGE_SIZE = 500
MAX_MATCHES = 10000
MAX_IN_VALUES = rules.SQL_MAX_IN_VALUES

_TOKEN = re.compile(r"\w+")
_GRAM_RUN = re.compile(r"[^\W_]+")

# Plays, views and lastPlayedAt reach lists and eSearch through the daily sync (alpha/scripts/kava/
# updateEntryPlaysViews.php), so searches read the synced copies; media.get shows the live ones.
NUMERIC_FIELDS = {
    "created_at": "e.created_at",
    "updated_at": "e.updated_at",
    "last_played_at": "e.synced_last_played_at",
    "plays": "e.synced_plays",
    "views": "e.synced_views",
    "media_type": "e.media_type",
    "length_in_msecs": "(e.duration * 1000)",
}
NULLABLE = {"last_played_at"}
TEXT_FIELDS = {"name": "e.name", "description": "e.description"}
KEYWORD_FIELDS = {"creator_kuser_id": "e.creator_id", "kuser_id": "e.user_id"}
ORDER_FIELDS = {
    "created_at": "e.created_at",
    "updated_at": "e.updated_at",
    "last_played_at": "e.synced_last_played_at",
    "plays": "e.synced_plays",
    "views": "e.synced_views",
    "name": "e.name",
}
_NUMBER = re.compile(r"^-?\d+$")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits and underscore)."""
    return _TOKEN.findall(text.lower())


def grams(text: str) -> set[str]:
    """Distinct 3-grams inside runs of letters and digits."""
    result: set[str] = set()
    for run in _GRAM_RUN.findall(text.lower()):
        result.update(run[i : i + 3] for i in range(len(run) - 2))
    return result


def partial_matcher(term: str) -> Callable[[str], bool]:
    """Predicate: does a (lower-cased) tag match `term` under PARTIAL semantics."""
    lowered = term.strip().lower()
    term_tokens = set(tokens(lowered))
    term_grams = grams(lowered)
    needed = max(1, math.floor(0.8 * len(term_grams))) if term_grams else 0

    def match(tag: str) -> bool:
        if tag == lowered:
            return True
        if term_tokens and term_tokens.intersection(tokens(tag)):
            return True
        return bool(needed) and len(term_grams.intersection(grams(tag))) >= needed

    return match


def exact_matcher(term: str) -> Callable[[str], bool]:
    """Predicate: does a tag contain the term's tokens as a contiguous run (match_phrase)."""
    wanted = tokens(term)

    def match(tag: str) -> bool:
        have = tokens(tag)
        size = len(wanted)
        return bool(size) and any(have[i : i + size] == wanted for i in range(len(have) - size + 1))

    return match


def tag_condition(predicate: Callable[[str], bool], all_tags: list[str]) -> tuple[str, list[Any]]:
    """SQL condition: the entry has one of the tags satisfying predicate."""
    matched = [tag for tag in all_tags if predicate(tag)]
    if not matched:
        return "0", []
    marks = ",".join("?" * len(matched))
    return f"e.id IN (SELECT entry_id FROM entry_tags WHERE tag IN ({marks}))", matched  # noqa: S608


class SearchBuilder:
    """Builds SQL WHERE clauses from eSearch items and media.list filters."""

    def __init__(self, all_tags: Callable[[], list[str]]) -> None:
        self.all_tags = all_tags

    def esearch(self, node: Params) -> tuple[str, list[Any]]:
        """SQL for an eSearch operator or item."""
        kind = node.object_type()
        if kind.endswith("Operator"):
            return self._operator(node)
        if kind in ("KalturaESearchEntryItem", "KalturaESearchUnifiedItem"):
            return self._entry_item(node, unified=kind == "KalturaESearchUnifiedItem")
        if kind == "KalturaESearchCategoryEntryItem":
            return self._category_item(node)
        raise KalturaAPIError("INVALID_OBJECT_TYPE", kind or "(none)")

    def _operator(self, node: Params) -> tuple[str, list[Any]]:
        """AND / OR / NOT of the operator's items (NOT: none of the items match)."""
        operator = node.get_int("operator")
        if operator not in (AND_OP, OR_OP, NOT_OP):
            raise KalturaAPIError("MISSING OPERATOR TYPE")
        items = node.objects("searchItems")
        if not items:
            raise KalturaAPIError("EMPTY SEARCH ITEMS ARE NOT ALLOWED")
        parts = [self.esearch(item) for item in items]
        args = [arg for _, part_args in parts for arg in part_args]
        sqls = [f"({sql})" for sql, _ in parts]
        if operator == AND_OP:
            return " AND ".join(sqls), args
        if operator == OR_OP:
            return " OR ".join(sqls), args
        return "NOT (" + " OR ".join(sqls) + ")", args

    def _entry_item(self, node: Params, unified: bool = False) -> tuple[str, list[Any]]:
        """One field condition."""
        field = "unified" if unified else (node.get_str("fieldName") or "")
        item_type = node.get_int("itemType") or EXACT_MATCH
        term = node.get_str("searchTerm") or ""
        if unified:
            predicate = partial_matcher(term)
            tag_sql, tag_args = tag_condition(predicate, self.all_tags())
            like = f"%{term.lower()}%"
            return f"e.id = ? OR lower(e.name) LIKE ? OR ({tag_sql})", [term, like, *tag_args]
        if item_type in (EXACT_MATCH, PARTIAL, STARTS_WITH) and not term.strip():
            raise KalturaAPIError("EMPTY SEARCH TERM IS NOT ALLOWED", field, item_type)
        if field == "tags":
            return self._tags_item(item_type, term)
        if field == "id":
            if item_type == EXACT_MATCH:
                return "e.id = ?", [term]
            if item_type == STARTS_WITH:
                return "e.id LIKE ?", [term + "%"]
            raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, field)
        if field == "entry_type":
            return ("1" if term == "1" else "0"), []
        if field in NUMERIC_FIELDS:
            return self._numeric_item(field, item_type, term, node.obj("range"))
        if field in TEXT_FIELDS:
            column = TEXT_FIELDS[field]
            if item_type == EXACT_MATCH:
                return f"lower({column}) = ?", [term.lower()]
            if item_type == PARTIAL:
                return f"lower({column}) LIKE ?", [f"%{term.lower()}%"]
            if item_type == STARTS_WITH:
                return f"lower({column}) LIKE ?", [f"{term.lower()}%"]
            if item_type == EXISTS:
                return f"{column} != ''", []
            raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, field)
        if field in KEYWORD_FIELDS:
            if item_type != EXACT_MATCH:
                raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, field)
            return f"{KEYWORD_FIELDS[field]} = ?", [term]
        raise KalturaAPIError("INVALID_FIELD_NAME", field)

    def _tags_item(self, item_type: int, term: str) -> tuple[str, list[Any]]:
        """Tag condition by item type (see the module docstring)."""
        if item_type == EXISTS:
            return "e.tags != ''", []
        if item_type == EXACT_MATCH:
            return tag_condition(exact_matcher(term), self.all_tags())
        if item_type == PARTIAL:
            return tag_condition(partial_matcher(term), self.all_tags())
        if item_type == STARTS_WITH:
            prefix = term.strip().lower()
            return tag_condition(lambda tag: tag.startswith(prefix), self.all_tags())
        raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, "tags")

    def _numeric_item(
        self, field: str, item_type: int, term: str, bounds: Params | None
    ) -> tuple[str, list[Any]]:
        """Exact, exists or range on a numeric column; entries lacking the value never match.

        Range bounds are absolute: KalturaESearchRange declares them `int`, not `time`, so
        KalturaRequestDeserializer::castSimpleType does not apply kTime::getRelativeTime to them.
        """
        column = NUMERIC_FIELDS[field]
        guard = f"{column} IS NOT NULL AND " if field in NULLABLE else ""
        if item_type == EXISTS:
            return f"{column} IS NOT NULL", []
        if item_type == EXACT_MATCH:
            try:
                return f"{guard}{column} = ?", [int(float(term))]
            except ValueError as exc:
                raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, field) from exc
        if item_type != RANGE:
            raise KalturaAPIError("SEARCH_TYPE_NOT_ALLOWED_ON_FIELD", item_type, field)
        conditions, args = [], []
        if bounds is not None:
            for key, op in (
                ("greaterThanOrEqual", ">="),
                ("lessThanOrEqual", "<="),
                ("greaterThan", ">"),
                ("lessThan", "<"),
            ):
                value = bounds.get_int(key)
                if value is not None:
                    conditions.append(f"{column} {op} ?")
                    args.append(value)
        if not conditions:
            return f"{column} IS NOT NULL", []
        return guard + " AND ".join(conditions), args

    def _category_item(self, node: Params) -> tuple[str, list[Any]]:
        """Entries in a category, by id (id, full_ids, ancestor_id) or by name."""
        field = node.get_str("fieldName") or "id"
        term = (node.get_str("searchTerm") or "").strip()
        if not term:
            raise KalturaAPIError("EMPTY SEARCH TERM IS NOT ALLOWED", field, node.get_int("itemType") or 1)
        if field in ("name", "ancestor_name"):
            return (
                "e.id IN (SELECT ec.entry_id FROM entry_categories ec JOIN categories c"
                " ON c.id = ec.category_id WHERE lower(c.name) = ?)",
                [term.lower()],
            )
        category = term.split(">")[-1]
        if not category.isdigit():
            return "0", []
        return "e.id IN (SELECT entry_id FROM entry_categories WHERE category_id = ?)", [int(category)]

    def media_filter(
        self, flt: Params | None, now: float, relative: bool = True
    ) -> tuple[str, list[Any], str]:
        """WHERE clause, args and ORDER BY for a KalturaMediaEntryFilter.

        Time-typed fields go through kTime::getRelativeTime (rules.relative_time) with `now` as the
        clock; the defaults of KalturaBaseEntryFilter::prepareEntriesCriteriaFilter apply.
        """
        conditions: list[str] = []
        args: list[Any] = []
        flt = flt or Params({})
        id_equal = flt.get_str("idEqual")
        if id_equal:
            conditions.append("e.id = ?")
            args.append(id_equal)
        sphinx = uses_sphinx(flt)
        for key, negate in (("idIn", False), ("idNotIn", True)):
            values = in_values(flt.get_str(key))
            if values is not None:
                values = rules.cut_id_values(values, sphinx)
                marks = ",".join("?" * len(values)) or "NULL"
                conditions.append(f"e.id {'NOT IN' if negate else 'IN'} ({marks})")
                args.extend(values)
        for key, column, op in TIME_FILTERS:
            value = flt.get_int(key)
            if value is not None:
                conditions.append(f"{column} {op} ?")
                args.append(rules.relative_time(value, now, relative))
        played_or_null = flt.get_int("lastPlayedAtLessThanOrEqualOrNull")
        if played_or_null is not None:
            conditions.append("(e.synced_last_played_at IS NULL OR e.synced_last_played_at <= ?)")
            args.append(rules.relative_time(played_or_null, now, relative))
        for key, column, op in VALUE_FILTERS:
            text = flt.get_str(key)
            if text is not None and text != "":
                conditions.append(f"{column} {op} ?")
                args.append(status_value(text))
        for key, column, negate in IN_FILTERS:
            values = in_values(flt.get_str(key))
            if values is not None:
                marks = ",".join("?" * len(values)) or "NULL"
                conditions.append(f"{column} {'NOT IN' if negate else 'IN'} ({marks})")
                args.extend(status_value(v) for v in values)
        for key, column in (("creatorIdEqual", "e.creator_id"), ("userIdEqual", "e.user_id")):
            text = flt.get_str(key)
            if text is not None:
                conditions.append(f"{column} = ?")
                args.append(text)
        self._media_text_filters(flt, conditions, args)
        conditions.extend(default_conditions(flt))
        order = media_order(flt.get_str("orderBy"))
        return (" AND ".join(f"({c})" for c in conditions) or "1"), args, order

    def _media_text_filters(self, flt: Params, conditions: list[str], args: list[Any]) -> None:
        """Tag, name and category filters of KalturaMediaEntryFilter (whole-word / whole-tag matching)."""
        tags_like = flt.get_str("tagsLike")
        if tags_like:
            conditions.append("lower(e.tags) LIKE ?")
            args.append(f"%{tags_like.lower()}%")
        for key, need_all in (("tagsMultiLikeOr", False), ("tagsMultiLikeAnd", True)):
            words = [w for w in split_csv(flt.get_str(key)) if w]
            if not words:
                continue
            parts = [tag_condition(exact_matcher(word), self.all_tags()) for word in words]
            joiner = " AND " if need_all else " OR "
            conditions.append(joiner.join(f"({sql})" for sql, _ in parts))
            args.extend(arg for _, part_args in parts for arg in part_args)
        name_like = flt.get_str("nameLike")
        if name_like:
            conditions.append("lower(e.name) LIKE ?")
            args.append(f"%{name_like.lower()}%")
        for key, need_all in (("categoriesIdsMatchOr", False), ("categoriesIdsMatchAnd", True)):
            ids = [int(v) for v in split_csv(flt.get_str(key)) if v.isdigit()]
            if not ids:
                continue
            part = "e.id IN (SELECT entry_id FROM entry_categories WHERE category_id = ?)"
            conditions.append((" AND " if need_all else " OR ").join([part] * len(ids)))
            args.extend(ids)


TIME_FILTERS = (
    ("createdAtGreaterThanOrEqual", "e.created_at", ">="),
    ("createdAtLessThanOrEqual", "e.created_at", "<="),
    ("updatedAtGreaterThanOrEqual", "e.updated_at", ">="),
    ("updatedAtLessThanOrEqual", "e.updated_at", "<="),
    ("lastPlayedAtGreaterThanOrEqual", "e.synced_last_played_at", ">="),
    ("lastPlayedAtLessThanOrEqual", "e.synced_last_played_at", "<="),
)
VALUE_FILTERS = (
    ("mediaTypeEqual", "e.media_type", "="),
    ("statusEqual", "e.status", "="),
    ("statusNotEqual", "e.status", "!="),
    ("moderationStatusEqual", "e.moderation_status", "="),
    ("moderationStatusNotEqual", "e.moderation_status", "!="),
    ("displayInSearchEqual", "e.display_in_search", "="),
)
IN_FILTERS = (
    ("statusIn", "e.status", False),
    ("statusNotIn", "e.status", True),
    ("mediaTypeIn", "e.media_type", False),
    ("moderationStatusIn", "e.moderation_status", False),
    ("moderationStatusNotIn", "e.moderation_status", True),
    ("displayInSearchIn", "e.display_in_search", False),
)
STATUS_KEYS = ("statusEqual", "statusIn", "statusNotEqual", "statusNotIn")
MODERATION_KEYS = (
    "moderationStatusEqual",
    "moderationStatusIn",
    "moderationStatusNotEqual",
    "moderationStatusNotIn",
)


def status_value(value: str) -> int | str:
    """A filter value as stored: integers for core enum values, text for plugin values such as
    "virusScan.Infected" (dynamic enums, api_v3/lib/types/enums/KalturaEntryStatus.php)."""
    text = value.strip()
    return int(text) if _NUMBER.match(text) else text


def default_conditions(flt: Params) -> list[str]:
    """KalturaBaseEntryFilter::prepareEntriesCriteriaFilter: without idEqual, READY only unless a status
    filter is set, moderation not PENDING/REJECTED unless a moderation filter is set, and (also without
    idIn, parentEntryIdEqual and displayInSearch filters) display_in_search not RECYCLED/SYSTEM."""
    if flt.get_str("idEqual") or flt.get_str("redirectFromEntryId"):
        return []
    conditions = []
    if not any(flt.get_str(key) is not None for key in STATUS_KEYS):
        conditions.append("e.status = 2")
    if not any(flt.get_str(key) is not None for key in MODERATION_KEYS):
        hidden = ",".join(str(v) for v in rules.HIDDEN_MODERATION)
        conditions.append(f"e.moderation_status NOT IN ({hidden})")
    if not any(flt.get_str(key) for key in ("parentEntryIdEqual", "idIn")) and not any(
        flt.get_str(key) is not None for key in ("displayInSearchEqual", "displayInSearchIn")
    ):
        hidden = ",".join(str(v) for v in rules.HIDDEN_DISPLAY)
        conditions.append(f"e.display_in_search NOT IN ({hidden})")
    return conditions


def uses_sphinx(flt: Params) -> bool:
    """Whether an entry list query goes through Sphinx (see rules.SPHINX_FILTERS)."""
    if any(flt.get_str(key) for key in rules.SPHINX_FILTERS):
        return True
    return any(item.lstrip("+-") in rules.SPHINX_ORDER_FIELDS for item in split_csv(flt.get_str("orderBy")))


def tie_breaker() -> str:
    """An ORDER BY term that orders rows with equal sort keys differently on every call.

    Neither Sphinx nor Elasticsearch adds a unique tie-breaker to Kaltura's sort orders, so entries with
    equal createdAt (or other keys) come back in an order that may change between calls: a pseudo-random
    permutation of the row ids, salted per call.
    """
    prime = 2_147_483_647
    factor = random.randrange(1, prime)
    offset = random.randrange(prime)
    return f"((e.seq * {factor} + {offset}) % {prime})"


def split_csv(text: str | None) -> list[str]:
    """Comma separated values, trimmed."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def in_values(text: str | None) -> list[str] | None:
    """An `...In` filter's values, silently cut to Kaltura's 500, or None when absent."""
    if text is None:
        return None
    return split_csv(text)[:MAX_IN_VALUES]


def media_order(order_by: str | None) -> str:
    """ORDER BY clause for a media.list orderBy such as '-createdAt' (default: newest first)."""
    columns = {
        "createdAt": "e.created_at",
        "updatedAt": "e.updated_at",
        "lastPlayedAt": "e.synced_last_played_at",
        "plays": "e.synced_plays",
        "views": "e.synced_views",
        "name": "e.name",
        "mediaType": "e.media_type",
        "duration": "e.duration",
    }
    parts = []
    for item in split_csv(order_by):
        direction = "DESC" if item.startswith("-") else "ASC"
        column = columns.get(item.lstrip("+-"))
        if column:
            parts.append(f"{column} {direction}")
    if not parts:
        parts.append("e.created_at DESC")
    return ", ".join([*parts, tie_breaker()])


def esearch_order(order: Params | None) -> str:
    """ORDER BY clause for an eSearch orderBy (missing values last, default newest first)."""
    parts = []
    for item in order.objects("orderItems") if order else []:
        column = ORDER_FIELDS.get(item.get_str("sortField") or "")
        if column is None:
            continue
        direction = "ASC" if (item.get_str("sortOrder") or "desc").lower() == "asc" else "DESC"
        parts.append(f"{column} IS NULL, {column} {direction}")
    if not parts:
        parts.append("e.created_at DESC")
    return ", ".join([*parts, tie_breaker()])


def pager_values(pager: Params | None) -> tuple[int, int]:
    """(pageSize, pageIndex) clamped the way KalturaPager does: size 0..500 (default 30), index >= 1."""
    size = pager.get_int("pageSize") if pager else None
    index = pager.get_int("pageIndex") if pager else None
    size = 30 if size is None else max(0, min(size, MAX_PAGE_SIZE))
    index = 1 if index is None else max(1, index)
    return size, index
