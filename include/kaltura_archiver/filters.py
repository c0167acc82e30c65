"""`EntryFilter`: the selection criteria of SPEC section 3, validated, with exact client-side matching.

Ages ("N years ago") are computed from a reference time, normally the DAG run's logical date, in UTC:
whole years are calendar years (29 Feb falls back to 28 Feb), a fractional part counts 365.25 days.

``unplayed_for N`` means "existed N years ago and not played since": last played at least N years
ago, or never played (no last-played date), and in both cases created at least N years ago (for a
played entry that holds anyway). For never-played entries this is the old tool's
``plays < 1 AND created_before N``. ``played_within N`` never matches never-played entries.
Server side this is ``createdAt <= limit AND lastPlayedAtLessThanOrEqualOrNull = limit``.

``plays N`` selects entries with fewer than N plays. ``plays 0`` is accepted as the old tool's way of
writing "never played" and means the same as ``plays 1``.

Tags match whole tags only. Kaltura's search matches tags fuzzily (``archived`` also finds
``archive``; ``archived_to_s3`` also finds ``archived_to_s3_old``), so every search result is checked
with `EntryFilter.matches` before it is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kaltura_archiver.kaltura_rules import ENTRY_READY, ENTRY_STATUS_NAMES, MAX_TAG_LENGTH, normalize_tag
from kaltura_archiver.records import MEDIA_TYPE_NAMES, EntryRecord

DEFAULT_STATUSES: tuple[int | str, ...] = (
    -1,
    -2,
    0,
    1,
    2,
    7,
    4,
    "virusScan.Infected",
    "virusScan.ScanFailure",
)
"""Every status an entry with (or waiting for) content can have; DELETED, MODERATE and BLOCKED are out."""
ACTION_STATUSES: tuple[int | str, ...] = (ENTRY_READY,)
"""Archive and replace act on READY entries only unless the trigger names other statuses: archiving an
entry whose conversion failed, then replacing it, would turn a failed upload into a healthy-looking
placeholder whose restore brings back a source that never converted."""
MEDIA_TYPES: dict[str, int] = {name: code for code, name in MEDIA_TYPE_NAMES.items()}
MAX_PAGE_SIZE = 500
MAX_YEARS = 100.0
ENTRY_ID_RE = re.compile(r"^[0-9]_[a-z0-9]{8}$")
YEAR_FIELDS = ("created_before", "created_within", "unplayed_for", "played_within")


class FilterError(ValueError):
    """A filter value is invalid or the criteria contradict each other; the message says which."""


def years_ago(reference: datetime, years: float) -> datetime:
    """The instant ``years`` before ``reference`` (UTC; calendar years plus 365.25-day fractions)."""
    ref = as_utc(reference)
    whole = int(years)
    try:
        shifted = ref.replace(year=ref.year - whole)
    except ValueError:
        shifted = ref.replace(year=ref.year - whole, day=28)
    return shifted - timedelta(days=(years - whole) * 365.25)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class TimeBounds:
    """Epoch-second bounds a filter puts on createdAt and lastPlayedAt (None = unbounded)."""

    created_min: int | None = None
    created_max: int | None = None
    played_min: int | None = None
    played_max: int | None = None


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


@dataclass(frozen=True)
class EntryFilter:
    """Selection criteria (all combined with AND); see the module docstring for the semantics."""

    created_before: float | None = None
    created_within: float | None = None
    unplayed_for: float | None = None
    played_within: float | None = None
    plays: int | None = None
    category: int | None = None
    tags: tuple[str, ...] = ()
    status: tuple[int | str, ...] = DEFAULT_STATUSES
    media_type: str = "video"
    entry_ids: tuple[str, ...] = ()
    first_page: int = 1
    page_size: int = MAX_PAGE_SIZE
    max_entries: int = 500
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in YEAR_FIELDS:
            set_(self, name, _years(name, getattr(self, name)))
        set_(self, "plays", _opt_int("plays", self.plays, minimum=0))
        set_(self, "category", _opt_int("category", self.category, minimum=1))
        set_(self, "tags", _tags(self.tags))
        set_(self, "status", _statuses(self.status))
        set_(self, "media_type", _media_type(self.media_type))
        set_(self, "entry_ids", _entry_ids(self.entry_ids))
        set_(self, "first_page", _opt_int("first_page", self.first_page, minimum=1))
        page_size = _opt_int("page_size", self.page_size, minimum=1)
        if page_size is not None and page_size > MAX_PAGE_SIZE:
            raise FilterError(f"page_size must be at most {MAX_PAGE_SIZE} (Kaltura's cap), got {page_size}")
        set_(self, "page_size", page_size)
        max_entries = _opt_int("max_entries", self.max_entries, minimum=-1)
        if max_entries == 0:
            raise FilterError("max_entries must be -1 (unlimited) or a positive number, got 0")
        set_(self, "max_entries", max_entries)
        if self.first_page is None or self.page_size is None or self.max_entries is None:
            raise FilterError("first_page, page_size and max_entries must be set")
        self._check_contradictions()

    def _check_contradictions(self) -> None:
        cb, cw, uf, pw = self.created_before, self.created_within, self.unplayed_for, self.played_within
        if cb is not None and cw is not None and cw <= cb:
            raise FilterError(
                f"created_before {cb:g} and created_within {cw:g} contradict each other: nothing is created "
                f"at least {cb:g} and less than {cw:g} years ago (created_within must be larger)"
            )
        if uf is not None and pw is not None and pw <= uf:
            raise FilterError(
                f"unplayed_for {uf:g} and played_within {pw:g} contradict each other: nothing was last "
                f"played at least {uf:g} and less than {pw:g} years ago (played_within must be larger)"
            )
        if uf is not None and cw is not None and cw <= uf:
            raise FilterError(
                f"unplayed_for {uf:g} and created_within {cw:g} contradict each other: an entry created less "
                f"than {cw:g} years ago cannot be unplayed for {uf:g} years"
            )
        if pw is not None and self.plays is not None and self.plays <= 1:
            raise FilterError(
                f"played_within {pw:g} and plays {self.plays} contradict each other: plays {self.plays} "
                "selects never-played entries, which are never played within any window"
            )
        overlap = set(self.required_tags) & set(self.excluded_tags)
        if overlap:
            raise FilterError(f"tag {sorted(overlap)[0]!r} is both required and excluded")

    # -- derived views ---------------------------------------------------------------------------

    @property
    def required_tags(self) -> tuple[str, ...]:
        """Tags an entry must carry."""
        return tuple(t for t in self.tags if not t.startswith("!"))

    @property
    def excluded_tags(self) -> tuple[str, ...]:
        """Tags an entry must not carry (given as ``!T``)."""
        return tuple(t[1:] for t in self.tags if t.startswith("!"))

    @property
    def media_type_code(self) -> int:
        """Kaltura's numeric media type (1 video, 2 image, 5 audio)."""
        return MEDIA_TYPES[self.media_type]

    @property
    def unlimited(self) -> bool:
        """True when max_entries is -1 (no cap per run)."""
        return self.max_entries == -1

    @property
    def skip(self) -> int:
        """Matches skipped before the first selected one (``(first_page - 1) * page_size``)."""
        return (self.first_page - 1) * self.page_size

    def bounds(self, reference: datetime) -> TimeBounds:
        """Inclusive epoch bounds of createdAt and lastPlayedAt (played_max also admits never played)."""
        created_min = created_max = played_min = played_max = None
        if self.created_before is not None:
            created_max = _epoch(years_ago(reference, self.created_before))
        if self.created_within is not None:
            created_min = _epoch(years_ago(reference, self.created_within)) + 1
        if self.unplayed_for is not None:
            played_max = _epoch(years_ago(reference, self.unplayed_for))
            created_max = played_max if created_max is None else min(created_max, played_max)
        if self.played_within is not None:
            played_min = _epoch(years_ago(reference, self.played_within)) + 1
        return TimeBounds(created_min, created_max, played_min, played_max)

    @property
    def plays_matter(self) -> bool:
        """True when the decision depends on plays or lastPlayedAt (which Kaltura's lists see late)."""
        return self.unplayed_for is not None or self.played_within is not None or self.plays is not None

    def matches(self, entry: EntryRecord, reference: datetime) -> bool:
        """The exact decision whether ``entry`` is selected (tags as whole tags, ages from ``reference``)."""
        return not self.mismatch(entry, reference)

    def mismatch(self, entry: EntryRecord, reference: datetime) -> str:
        """Why ``entry`` is not selected (empty when it is)."""
        if self.entry_ids and entry.entry_id not in self.entry_ids:
            return "entry id not in the list"
        if entry.status not in self.status:
            return f"status {entry.status_name} not selected"
        if entry.media_type != self.media_type_code:
            return f"media type {entry.media_type_name} is not {self.media_type}"
        created = _epoch(entry.created_at)
        played = _epoch(entry.last_played_at) if entry.last_played_at else None
        b = self.bounds(reference)
        if b.created_max is not None and created > b.created_max:
            return "created too recently"
        if b.created_min is not None and created < b.created_min:
            return "created too long ago"
        if b.played_max is not None and played is not None and played > b.played_max:
            return "played too recently"
        if b.played_min is not None:
            if played is None:
                return "never played"
            if played < b.played_min:
                return "not played recently enough"
        if self.plays is not None and entry.plays >= max(1, self.plays):
            return f"{entry.plays} plays"
        if self.category is not None and self.category not in entry.category_ids:
            return f"not in category {self.category}"
        for tag in self.required_tags:
            if not entry.has_tag(tag):
                return f"lacks tag {tag}"
        for tag in self.excluded_tags:
            if entry.has_tag(tag):
                return f"has tag {tag}"
        return ""

    def describe(self) -> str:
        """The non-default criteria in the old tool's option syntax, e.g. ``--unplayed_for 3 --tag !x``."""
        parts = []
        defaults = EntryFilter()
        for name in (*YEAR_FIELDS, "plays", "category"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"--{name} {value:g}" if isinstance(value, float) else f"--{name} {value}")
        parts.extend(f"--tag {t}" for t in self.tags)
        if self.status != defaults.status:
            parts.append("--status " + " ".join(str(s) for s in self.status))
        if self.media_type != defaults.media_type:
            parts.append(f"--media_type {self.media_type}")
        if self.entry_ids:
            shown = " ".join(self.entry_ids[:5]) + (" ..." if len(self.entry_ids) > 5 else "")
            parts.append(f"--entry_id {shown}")
        for name in ("first_page", "page_size", "max_entries"):
            if getattr(self, name) != getattr(defaults, name):
                parts.append(f"--{name} {getattr(self, name)}")
        return " ".join(parts) or "(all entries)"

    def with_changes(self, **changes: Any) -> EntryFilter:
        """A copy with some criteria changed (validated again)."""
        return replace(self, **changes)

    # -- params ----------------------------------------------------------------------------------

    def to_params(self) -> dict[str, Any]:
        """JSON-serialisable criteria; ``EntryFilter.from_params(f.to_params()) == f``."""
        data = asdict(self)
        data.pop("extra")
        data["tag"] = list(data.pop("tags"))
        data["status"] = list(self.status)
        data["entry_ids"] = list(self.entry_ids)
        return data

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EntryFilter:
        """Build from DAG params / a dict: ``tag`` may be a string or list, ``entry_ids`` a list or text."""
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        for key, value in params.items():
            name = {"tag": "tags", "entry_id": "entry_ids", "statuses": "status"}.get(key, key)
            if name not in known:
                continue
            if value is None or value == "" or value == []:
                if name in {"tags", "entry_ids"}:
                    continue
                if name == "status":
                    continue
            values[name] = value
        return cls(**values)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """A JSON schema (object) of the params `from_params` accepts."""
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": cls.param_schemas(),
        }

    @classmethod
    def param_schemas(cls) -> dict[str, dict[str, Any]]:
        """Per-param JSON schema with default, title, description and form section, for ``Param(**schema)``.

        Bounds sit in ``allOf`` so that Airflow's form does not clamp a typed value to them: an
        out-of-range value reaches the server, which refuses the trigger with the reason. ``null`` in a
        type marks the field optional. ``examples`` + ``values_display`` make a pick list with readable
        names; the form sends the picked codes as text, which the schema and `from_params` accept.
        """
        age, which, paging = SECTION_AGE, SECTION_WHICH, SECTION_PAGING

        def years(title: str, description: str) -> dict[str, Any]:
            return {
                "type": ["null", "number"],
                **bounded(0, MAX_YEARS),
                "default": None,
                "title": title,
                "description": f"{description} (0 to {MAX_YEARS:g}; empty: no limit)",
                "section": age,
            }

        status_codes = [str(code) for code in ENTRY_STATUS_NAMES]
        numeric_as_text = [str(code) for code in ENTRY_STATUS_NAMES if isinstance(code, int)]
        return {
            "created_before": years("Created at least N years ago", "created at least N years ago"),
            "created_within": years("Created less than N years ago", "created less than N years ago"),
            "unplayed_for": years(
                "Not played for N years",
                "last played at least N years ago (never played: created at least N years ago)",
            ),
            "played_within": years(
                "Played within the last N years",
                "last played less than N years ago (never matches never-played entries)",
            ),
            "plays": {
                "type": ["null", "integer"],
                **bounded(0),
                "default": None,
                "title": "Fewer than N plays",
                "description": "fewer than N plays (0 = never played, same as 1; empty: any)",
                "section": age,
            },
            "category": {
                "type": ["null", "integer"],
                **bounded(1),
                "default": None,
                "title": "Category id",
                "description": "only entries in this Kaltura category (empty: any)",
                "section": which,
            },
            "tag": {
                "type": ["array", "null"],
                "items": {
                    "type": "string",
                    "pattern": r"^!?\s*[^,\s][^,]*[^,\s]\s*$",
                    "maxLength": MAX_TAG_LENGTH + 1,
                },
                "default": [],
                "title": "Tags (one per line)",
                "description": "whole tags the entry must have; prefix with ! for must not have (empty: any)",
                "section": which,
            },
            "status": {
                "type": "array",
                "items": {"type": ["integer", "string"], "enum": [*ENTRY_STATUS_NAMES, *numeric_as_text]},
                "examples": status_codes,
                "values_display": {str(code): status_label(code) for code in ENTRY_STATUS_NAMES},
                "default": list(DEFAULT_STATUSES),
                "title": "Entry statuses",
                "description": "entries in any of these Kaltura statuses",
                "section": which,
            },
            "media_type": {
                "type": "string",
                "enum": sorted(MEDIA_TYPES),
                "values_display": {name: name.capitalize() for name in MEDIA_TYPES},
                "default": "video",
                "title": "Media type",
                "description": "video, audio or image entries",
                "section": which,
            },
            "entry_ids": {
                "type": ["array", "null"],
                "items": {"type": "string", "pattern": ENTRY_ID_RE.pattern},
                "default": [],
                "title": "Entry ids (one per line)",
                "description": "only these entries, e.g. 0_abc123de (empty: any)",
                "section": which,
            },
            "first_page": {
                "type": "integer",
                **bounded(1),
                "default": 1,
                "title": "First page",
                "description": "start at this page of matches (1-based)",
                "section": paging,
            },
            "page_size": {
                "type": "integer",
                **bounded(1, MAX_PAGE_SIZE),
                "default": MAX_PAGE_SIZE,
                "title": "Page size",
                "description": f"entries per page (1 to {MAX_PAGE_SIZE}, Kaltura's cap)",
                "section": paging,
            },
            "max_entries": {
                "type": "integer",
                **bounded(-1),
                "default": 500,
                "title": "At most N entries per run",
                "description": "at most this many entries per run; -1 for no limit",
                "section": paging,
            },
        }


SECTION_AGE = "Age and plays"
SECTION_WHICH = "Which entries"
SECTION_PAGING = "Batch size and paging"


def bounded(minimum: float, maximum: float | None = None) -> dict[str, Any]:
    """JSON-schema bounds the server checks and Airflow's form does not clamp to (see `param_schemas`)."""
    bounds: dict[str, Any] = {"minimum": minimum}
    if maximum is not None:
        bounds["maximum"] = maximum
    return {"allOf": [bounds]}


def status_label(code: int | str) -> str:
    """A readable name of an entry status for pick lists, e.g. "Ready (2)", "Virus scan: infected"."""
    name = ENTRY_STATUS_NAMES[code]
    if isinstance(code, str):
        return f"Virus scan: {name.replace('SCAN_', '').replace('_', ' ').lower()}"
    return f"{name.replace('_', ' ').capitalize()} ({code})"


# -- value normalisation -------------------------------------------------------------------------


def _years(name: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FilterError(f"{name} must be a number of years, got {value!r}")
    try:
        years = float(value)
    except (TypeError, ValueError):
        raise FilterError(f"{name} must be a number of years, got {value!r}") from None
    if years != years or years < 0:
        raise FilterError(f"{name} must be a non-negative number of years, got {value!r}")
    if years > MAX_YEARS:
        raise FilterError(f"{name} must be at most {MAX_YEARS:g} years, got {value!r}")
    return years


def _opt_int(name: str, value: Any, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FilterError(f"{name} must be an integer, got {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise FilterError(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise FilterError(f"{name} must be an integer, got {value!r}")
    if number < minimum:
        raise FilterError(f"{name} must be >= {minimum}, got {value!r}")
    return number


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _tags(value: Any) -> tuple[str, ...]:
    """Filter tags normalised as Kaltura stores tags (`normalize_tag`), ``!`` kept for exclusions."""
    out: list[str] = []
    for raw in _as_list_keep_spaces(value):
        tag = str(raw).strip()
        negated = tag.startswith("!")
        name = tag[1:].strip() if negated else tag
        if "," in name:
            raise FilterError(f"tag {tag!r} must not contain a comma (Kaltura separates tags with commas)")
        stored = normalize_tag(name)
        if not stored:
            raise FilterError(
                f"tag {tag!r} is too short: Kaltura drops tags under 2 characters, so no entry carries it"
            )
        if len(name.strip().lower().encode()) > MAX_TAG_LENGTH:
            raise FilterError(f"tag {name[:20]!r}... is longer than Kaltura's {MAX_TAG_LENGTH} bytes")
        normalized = f"!{stored}" if negated else stored
        if normalized not in out:
            out.append(normalized)
    return tuple(out)


def _as_list_keep_spaces(value: Any) -> list[Any]:
    """Like `_as_list`, but a string splits on commas and semicolons only (tags may contain spaces)."""
    if isinstance(value, str):
        return [part for part in re.split(r"[,;]", value) if part.strip()]
    return _as_list(value)


def _statuses(value: Any) -> tuple[int | str, ...]:
    names = {v: k for k, v in ENTRY_STATUS_NAMES.items()}
    codes = {str(k).lower(): k for k in ENTRY_STATUS_NAMES}
    out: list[int | str] = []
    for raw in _as_list(value):
        text = str(raw).strip()
        code = names.get(text.upper(), codes.get(text.lower()))
        if code is None:
            raise FilterError(f"unknown entry status {raw!r}; known: {_known_statuses()}")
        if code not in out:
            out.append(code)
    if not out:
        raise FilterError("status must list at least one entry status")
    return tuple(out)


def _known_statuses() -> str:
    return ", ".join(f"{k} {v}" for k, v in ENTRY_STATUS_NAMES.items())


def _media_type(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value in MEDIA_TYPE_NAMES:
        return MEDIA_TYPE_NAMES[value]
    text = str(value).strip().lower()
    if text.isdigit() and int(text) in MEDIA_TYPE_NAMES:
        return MEDIA_TYPE_NAMES[int(text)]
    if text not in MEDIA_TYPES:
        raise FilterError(f"media_type must be one of {', '.join(sorted(MEDIA_TYPES))}, got {value!r}")
    return text


def _entry_ids(value: Any) -> tuple[str, ...]:
    out: dict[str, None] = {}
    bad: list[str] = []
    for raw in _as_list(value):
        entry_id = str(raw).strip()
        if not ENTRY_ID_RE.match(entry_id):
            bad.append(entry_id)
        out[entry_id] = None
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise FilterError(f"malformed entry id {shown}: expected a digit, '_' and 8 characters a-z0-9")
    return tuple(out)
