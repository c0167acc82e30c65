"""Reaching every entry a filter selects, past Kaltura's 10,000-result cap, in bulk pages.

Entries are read with media.list (KalturaMediaEntryFilter) in ascending createdAt order, always asking
for the first page of a window: a page yields the entries created before its last second, and the
next window starts at that second. Kaltura has no tie-breaker among equal createdAt values (their
order may change between calls), so page indexes are never trusted across ties; a second holding a
whole page of entries is read with ``idNotIn`` and its count. Every page comes out in (createdAt, id)
order, the same on every run. Each request is one call.

Server side the query applies what Kaltura evaluates exactly (status, media type, created and played
windows, category, entry ids) plus the required tags as ``tagsMultiLikeAnd``, which Kaltura matches
loosely; every entry is then checked with `EntryFilter.matches` (whole tags, ``!tag``, plays).
media.list rather than eSearch: it filters statuses, media type, windows and categories exactly, and
eSearch's tag matching is fuzzy too, so nothing would be pushed down that is not checked anyway.
A response cut short is refused by `kaltura_api.CompleteResponseClient`, so a short page really is
the end of a window.

Plays and lastPlayedAt reach Kaltura's list filters only after its daily plays sync
(`kaltura_rules.PLAYS_SYNC_LAG_SECONDS`); ``media.get`` may show a play sooner. With ``live_plays``
(the select of replace and restore) a filter that depends on plays drops the server bound a late play could
hide an entry behind (``lastPlayedAtGreaterThanOrEqual``) and decides on each candidate as
``media.get`` shows it (one multirequest per 50 candidates): a placeholder played an hour ago is
restored, an entry played an hour ago is not replaced.

`Selector.count` is exact: a filter fully evaluated by Kaltura is counted from ``totalCount`` of
createdAt windows below the cap (a few calls), any other by walking its candidates.

Enrichment works per page of up to 500 matching entries: one flavorAsset.list call for the page's
flavors and the S3 state of the page from `ArchiveStore.inventory` (listings, no HEAD per entry).

Bulk audits (health, list reports) pass ``concurrency`` (`AUDIT_CONCURRENCY`): once the first page
of a walk comes back full, the rest of the createdAt range is cut into independent windows (one
more call finds the newest createdAt), each walked as above by its own worker, and pages are
enriched by as many workers (so at most twice ``concurrency`` Kaltura requests are in flight), and
Kaltura's ACTION_BLOCKED answers are retried with backoff by `KalturaApi`. Results come out in the same
order as a single walk's. Selections for actions walk one window at a time, page by page, so they
read no further than they use.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaMediaEntryFilter

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.entry_state import EntryState, S3ObjectLike, classify_entry, exemption
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.kaltura_api import KalturaApi
from kaltura_archiver.kaltura_lists import list_call
from kaltura_archiver.kaltura_rules import (
    ACCOUNT_DISPLAY_IN_SEARCH,
    MAX_PAGE_SIZE,
    MODERATION_STATUS_NAMES,
    RESULT_CAP,
    lower_time_bound,
    max_id_in,
    time_bound_is_exact,
    upper_time_bound,
)
from kaltura_archiver.progress import CallCounter, ProgressReporter
from kaltura_archiver.records import EntryRecord, FlavorRecord, pick_original

logger = logging.getLogger(__name__)

EPOCH_MAX = 2**31 - 1
SAME_SECOND_IDLE_PAGES = 50
"""Pages in a row without a new entry before reading one crowded second gives up."""
FLAVORS_NONE, FLAVORS_ORIGINAL, FLAVORS_ALL = "none", "original", "all"
AUDIT_CONCURRENCY = 3
"""Kaltura requests a bulk audit keeps in flight at once (windows walked and pages enriched side by side)."""
WINDOW_ENTRIES = 8_000
"""Candidates per createdAt window of a concurrent walk (each window costs about one page more)."""
MAX_WINDOWS_PER_WORKER = 4


class SelectionError(RuntimeError):
    """The selection cannot be completed as asked (e.g. over 10,000 entries share one createdAt second)."""


@dataclass(frozen=True)
class EntryView:
    """One selected entry with what bulk enrichment found: flavors, original, S3 object, state, exemption."""

    entry: EntryRecord
    flavors: tuple[FlavorRecord, ...]
    original: FlavorRecord | None
    s3: Any
    state: EntryState
    state_reason: str
    exempt_reason: str = ""

    @property
    def entry_id(self) -> str:
        """The entry's id."""
        return self.entry.entry_id

    @property
    def exempt(self) -> bool:
        """True when the entry must never be selected for archive or replace."""
        return bool(self.exempt_reason)


@dataclass
class SelectionStats:
    """What this selector read and kept so far (cumulative): candidates, matches, pages, states."""

    candidates: int = 0
    matched: int = 0
    server_pages: int = 0
    states: dict[str, int] = field(default_factory=dict)


InventoryFn = Callable[[Sequence[str]], dict[str, Any]]


class Selector:
    """Runs `EntryFilter`s against Kaltura (and optionally S3) in bulk pages."""

    def __init__(
        self,
        api: KalturaApi,
        settings: ArchiverSettings,
        inventory: InventoryFn | None = None,
        log: logging.Logger = logger,
        prepare_inventory: Callable[[], object] | None = None,
    ) -> None:
        """``inventory`` is ``ArchiveStore.inventory`` (or None to skip S3, e.g. for list and count);
        ``prepare_inventory`` (``ArchiveStore.list_bucket``) is run in the background when a bulk
        audit starts, so the bucket is listed while Kaltura is read."""
        self.prepare_inventory = prepare_inventory
        self.live_plays = False
        self.api = api
        self.settings = settings
        self.inventory = inventory
        self.log = log
        self.stats = SelectionStats()
        self._stats_lock = threading.Lock()

    @property
    def counter(self) -> CallCounter:
        """The call counter shared with the Kaltura API (and S3, when the store counts into it)."""
        return self.api.counter

    # -- server query --------------------------------------------------------------------------

    def _media_filter(
        self, flt: EntryFilter, reference: datetime, created_min: int | None, created_max: int | None
    ) -> KalturaMediaEntryFilter:
        """The server-side part of ``flt`` for one createdAt window (inclusive bounds)."""
        bounds = flt.bounds(reference)
        mf = KalturaMediaEntryFilter()
        mf.orderBy = "+createdAt"
        mf.statusIn = ",".join(str(s) for s in flt.status)
        mf.mediaTypeEqual = flt.media_type_code
        # Kaltura hides entries pending moderation, rejected or in the recycle bin unless asked for them
        mf.moderationStatusIn = ",".join(str(m) for m in MODERATION_STATUS_NAMES)
        mf.displayInSearchIn = ",".join(str(d) for d in ACCOUNT_DISPLAY_IN_SEARCH)
        # time bounds Kaltura would read as relative to now are widened; `matches` re-checks exactly
        lo = lower_time_bound(_max_opt(bounds.created_min, created_min))
        hi = upper_time_bound(_min_opt(bounds.created_max, created_max))
        if lo is not None:
            mf.createdAtGreaterThanOrEqual = lo
        if hi is not None:
            mf.createdAtLessThanOrEqual = hi
        played_min = None if self._live(flt) else lower_time_bound(bounds.played_min)
        played_max = upper_time_bound(bounds.played_max)
        if played_min is not None:
            mf.lastPlayedAtGreaterThanOrEqual = played_min
        if played_max is not None:
            mf.lastPlayedAtLessThanOrEqualOrNull = played_max
        if flt.category is not None:
            mf.categoriesIdsMatchOr = str(flt.category)
        if flt.required_tags:
            mf.tagsMultiLikeAnd = ",".join(flt.required_tags)
        return mf

    def _live(self, flt: EntryFilter) -> bool:
        return self.live_plays and flt.plays_matter

    def server_exact(self, flt: EntryFilter, reference: datetime) -> bool:
        """True when Kaltura evaluates every criterion exactly (no tags, no plays, no widened time bound)."""
        b = flt.bounds(reference)
        times = (b.created_min, b.created_max, b.played_min, b.played_max)
        exact_times = all(time_bound_is_exact(t) for t in times)
        return not flt.tags and flt.plays is None and exact_times and not self._live(flt)

    @staticmethod
    def text_match(flt: EntryFilter) -> bool:
        """True when the server query has a text-match clause (tags, categories), which cuts ``idIn``."""
        return bool(flt.required_tags) or flt.category is not None

    def _list(
        self, mf: KalturaMediaEntryFilter, page_size: int, page_index: int = 1
    ) -> tuple[list[Any], int]:
        pager = KalturaFilterPager(pageSize=page_size, pageIndex=page_index)
        response = self.api.call(
            "media.list",
            list_call(
                "media",
                "list",
                "KalturaMediaListResponse",
                EntryRecord.KALTURA_FIELDS,
                filter=mf,
                pager=pager,
            ),
        )
        with self._stats_lock:
            self.stats.server_pages += 1
        objects = response.objects if isinstance(response.objects, list) else []
        total = response.totalCount if isinstance(response.totalCount, int) else len(objects)
        return objects, total

    def _window_walk(
        self, flt: EntryFilter, reference: datetime, concurrency: int = 1
    ) -> Iterator[list[EntryRecord]]:
        """Server candidates in (createdAt, id) order, page by page, each exactly once.

        With ``concurrency`` above 1, a walk whose first page is full goes on in independent
        createdAt windows walked side by side (see the module docstring); the order is the same.
        """
        walk = self._walk_range(flt, reference, None, None)
        for page, cursor, total in walk:
            if page:
                yield page
            if cursor is None:
                return
            windows = self._windows(flt, reference, cursor, total, concurrency) if concurrency > 1 else []
            if len(windows) > 1:
                walk.close()
                walks = _ordered_map(self._walk_window(flt, reference), windows, concurrency)
                for pages in walks:
                    yield from pages
                return
            concurrency = 1

    def _walk_window(
        self, flt: EntryFilter, reference: datetime
    ) -> Callable[[tuple[int, int | None]], list[list[EntryRecord]]]:
        def walk(window: tuple[int, int | None]) -> list[list[EntryRecord]]:
            return [page for page, _, _ in self._walk_range(flt, reference, *window) if page]

        return walk

    def _windows(
        self, flt: EntryFilter, reference: datetime, start: int, total: int, workers: int
    ) -> list[tuple[int, int | None]]:
        """Independent createdAt windows covering ``start`` onwards: about `WINDOW_ENTRIES` candidates
        each (by ``total``, the first page's count), cut evenly in time up to the newest createdAt."""
        parts = min(workers * MAX_WINDOWS_PER_WORKER, max(1, total // WINDOW_ENTRIES))
        if parts < 2:
            return []
        mf = self._media_filter(flt, reference, start, None)
        mf.orderBy = "-createdAt"
        newest, _ = self._list(mf, 1)
        if not newest:
            return []
        end = EntryRecord.from_kaltura(newest[0]).created_epoch
        parts = min(parts, end - start + 1)
        if parts < 2:
            return []
        step = (end - start + 1) / parts
        bounds = [start + int(i * step) for i in range(parts)]
        return [(lo, hi - 1) for lo, hi in zip(bounds, bounds[1:], strict=False)] + [(bounds[-1], None)]

    def _walk_range(
        self, flt: EntryFilter, reference: datetime, lo: int | None, hi: int | None
    ) -> Generator[tuple[list[EntryRecord], int | None, int], None, None]:
        """(page, where the next page starts or None at the end, the page's count) of one createdAt range.

        Kaltura has no tie-breaker among equal createdAt values (their order may change between
        calls), so a page yields only the entries created before its last second; the next page
        starts at that second and brings all of it. A second that fills a whole page is read apart.
        """
        cursor = lo
        while True:
            mf = self._media_filter(flt, reference, cursor, hi)
            objects, total = self._list(mf, MAX_PAGE_SIZE)
            records = [EntryRecord.from_kaltura(o) for o in objects]
            if len(records) < MAX_PAGE_SIZE:
                yield _in_order(records), None, total
                return
            last = records[-1].created_epoch
            if records[0].created_epoch == last:
                cursor = last + 1
                yield _in_order(self._same_second(flt, reference, last, records)), cursor, total
                continue
            cursor = last
            yield _in_order([r for r in records if r.created_epoch < last]), cursor, total

    def _same_second(
        self, flt: EntryFilter, reference: datetime, second: int, first: list[EntryRecord]
    ) -> list[EntryRecord]:
        """Every candidate created in one second that holds at least a page of entries.

        Each request excludes seen ids (``idNotIn``, as many as Kaltura keeps), so while they fit one
        request returns only unseen entries; past that, pages are read until every entry the second
        holds (its count) was seen, whatever order Kaltura returns the ties in.
        """
        cap = max_id_in(self.text_match(flt))
        found = {r.entry_id: r for r in first}
        frozen: list[str] = []
        page, idle = 1, 0
        while True:
            if len(found) <= cap:
                excluded, page = sorted(found), 1
            else:
                frozen = frozen or sorted(found)[:cap]
                excluded = frozen
            mf = self._media_filter(flt, reference, second, second)
            mf.idNotIn = ",".join(excluded)
            objects, total = self._list(mf, MAX_PAGE_SIZE, page)
            fresh = [r for r in map(EntryRecord.from_kaltura, objects) if r.entry_id not in found]
            found.update((r.entry_id, r) for r in fresh)
            if len(found) >= total + len(excluded):
                return list(found.values())
            idle = 0 if fresh else idle + 1
            if idle > SAME_SECOND_IDLE_PAGES:
                raise SelectionError(
                    f"{total + len(excluded)} entries share createdAt {second}; {len(found)} could be read"
                )
            page = page % max(1, -(-total // MAX_PAGE_SIZE)) + 1
            if page * MAX_PAGE_SIZE > RESULT_CAP:
                raise SelectionError(f"more than {RESULT_CAP} entries were created in the second {second}")

    def _id_walk(self, flt: EntryFilter, reference: datetime) -> Iterator[list[EntryRecord]]:
        """Server candidates of an entry-id list, as many ids per call as Kaltura keeps, in chunk order."""
        ids = list(flt.entry_ids)
        chunk = min(MAX_PAGE_SIZE, max_id_in(self.text_match(flt)))
        for start in range(0, len(ids), chunk):
            mf = self._media_filter(flt, reference, None, None)
            mf.idIn = ",".join(ids[start : start + chunk])
            objects, _ = self._list(mf, MAX_PAGE_SIZE)
            records = sorted(
                map(EntryRecord.from_kaltura, objects), key=lambda r: (r.created_epoch, r.entry_id)
            )
            if records:
                yield records

    def candidates(
        self, flt: EntryFilter, reference: datetime, concurrency: int = 1
    ) -> Iterator[list[EntryRecord]]:
        """Pages of server candidates (a superset of the matches), each entry once."""
        walk = (
            self._id_walk(flt, reference) if flt.entry_ids else self._window_walk(flt, reference, concurrency)
        )
        for page in walk:
            self.stats.candidates += len(page)
            yield page

    # -- matches -------------------------------------------------------------------------------

    def iter_entries(
        self, flt: EntryFilter, reference: datetime, bounded: bool = True, concurrency: int = 1
    ) -> Iterator[EntryRecord]:
        """Every exact match in createdAt order; with ``bounded``, honours first_page and max_entries."""
        skip = flt.skip if bounded else 0
        limit = flt.max_entries if bounded and not flt.unlimited else None
        produced = 0
        for page in self.candidates(flt, reference, concurrency):
            if self._live(flt):
                page = self._with_live_plays(flt, reference, page)
            for entry in page:
                if not flt.matches(entry, reference):
                    continue
                self.stats.matched += 1
                if skip:
                    skip -= 1
                    continue
                yield entry
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def _with_live_plays(
        self, flt: EntryFilter, reference: datetime, page: list[EntryRecord]
    ) -> list[EntryRecord]:
        """The page with plays as ``media.get`` shows them, for the entries whose decision plays can flip."""
        other_criteria = flt.with_changes(unplayed_for=None, played_within=None, plays=None)
        unsure = [e.entry_id for e in page if other_criteria.matches(e, reference)]
        live = self.api.get_entries(unsure) if unsure else {}
        return [live.get(e.entry_id, e) if e.entry_id in unsure else e for e in page]

    def iter_pages(
        self, flt: EntryFilter, reference: datetime, bounded: bool = True, concurrency: int = 1
    ) -> Iterator[list[EntryRecord]]:
        """Matches grouped in pages of ``flt.page_size``."""
        page: list[EntryRecord] = []
        for entry in self.iter_entries(flt, reference, bounded, concurrency):
            page.append(entry)
            if len(page) >= flt.page_size:
                yield page
                page = []
        if page:
            yield page

    def count(self, flt: EntryFilter, reference: datetime) -> int:
        """The exact number of matches (first_page and max_entries do not apply)."""
        if flt.entry_ids or not self.server_exact(flt, reference):
            return sum(1 for _ in self.iter_entries(flt, reference, bounded=False))
        return self.server_count(flt, reference)

    def server_count(self, flt: EntryFilter, reference: datetime) -> int:
        """Number of server candidates, from totalCount of createdAt windows each below the cap."""
        if flt.entry_ids:
            return sum(len(page) for page in self.candidates(flt, reference))
        first, total = self._list(self._media_filter(flt, reference, None, None), 1)
        if total < RESULT_CAP or not first:
            return total
        mf = self._media_filter(flt, reference, None, None)
        mf.orderBy = "-createdAt"
        last, _ = self._list(mf, 1)
        lo = EntryRecord.from_kaltura(first[0]).created_epoch
        hi = EntryRecord.from_kaltura(last[0]).created_epoch if last else EPOCH_MAX
        return self._split_count(flt, reference, lo, hi, total)

    def _split_count(self, flt: EntryFilter, reference: datetime, lo: int, hi: int, total: int) -> int:
        """Count [lo, hi] (``total`` matches, at or over the cap) as equal sub-windows below the cap."""
        if lo >= hi:
            return total
        parts = min(hi - lo + 1, max(2, -(-total * 2 // RESULT_CAP)))
        step = (hi - lo + 1) / parts
        result = 0
        for i in range(parts):
            a = lo + int(i * step)
            b = hi if i == parts - 1 else lo + int((i + 1) * step) - 1
            if a > b:
                continue
            _, sub = self._list(self._media_filter(flt, reference, a, b), 1)
            result += sub if sub < RESULT_CAP else self._split_count(flt, reference, a, b, sub)
        return result

    def expected_total(self, flt: EntryFilter, reference: datetime, bounded: bool = True) -> int:
        """Upper bound of the matches (exact when the filter is server-exact), capped by max_entries."""
        total = self.server_count(flt, reference)
        if bounded:
            total = max(0, total - flt.skip)
            if not flt.unlimited:
                total = min(total, flt.max_entries)
        return total

    # -- enrichment ----------------------------------------------------------------------------

    def enrich(self, entries: Sequence[EntryRecord], flavors: str = FLAVORS_ORIGINAL) -> list[EntryView]:
        """Views of up to 500 entries: one flavorAsset.list for their flavors, one inventory for S3."""
        ids = [e.entry_id for e in entries]
        by_entry: dict[str, list[FlavorRecord]] = {}
        if flavors != FLAVORS_NONE and ids:
            by_entry = self.api.list_flavors(ids, originals_only=flavors == FLAVORS_ORIGINAL)
        s3: dict[str, Any] = dict(self.inventory(ids)) if self.inventory is not None and ids else {}
        views = []
        for entry in entries:
            entry_flavors = tuple(by_entry.get(entry.entry_id, ()))
            original = pick_original(entry_flavors)
            s3_object: S3ObjectLike | None = s3.get(entry.entry_id)
            state = classify_entry(entry, original, s3_object, self.settings)
            views.append(
                EntryView(
                    entry=entry,
                    flavors=entry_flavors,
                    original=original,
                    s3=s3_object,
                    state=state.state,
                    state_reason=state.reason,
                    exempt_reason=exemption(entry, self.settings),
                )
            )
        return views

    def _prepare_inventory(self) -> None:
        try:
            if self.prepare_inventory is not None:
                self.prepare_inventory()
        except Exception as exc:  # noqa: BLE001 - the first page's inventory lists again and raises
            self.log.warning("listing the bucket ahead failed (%s); it is listed with the first page", exc)

    def iter_views(
        self,
        flt: EntryFilter,
        reference: datetime,
        flavors: str = FLAVORS_ORIGINAL,
        bounded: bool = True,
        operation: str = "selection",
        progress: ProgressReporter | None = None,
        concurrency: int = 1,
    ) -> Iterator[list[EntryView]]:
        """Enriched pages of matches, logging progress (pages of total, entries/s, time left) per page.

        ``concurrency`` above 1 (bulk audits): windows walked and pages enriched side by side.
        """
        if progress is None:
            total = self.expected_total(flt, reference, bounded)
            progress = ProgressReporter(operation, total, flt.page_size, self.counter, self.log)
        states: Counter[str] = Counter()
        exempt = 0
        if concurrency > 1 and self.prepare_inventory is not None and self.inventory is not None:
            threading.Thread(target=self._prepare_inventory, name="s3-listing", daemon=True).start()
        pages = self.iter_pages(flt, reference, bounded, concurrency)
        enriched = (
            _ordered_map(lambda page: self.enrich(page, flavors), pages, concurrency)
            if concurrency > 1
            else (self.enrich(page, flavors) for page in pages)
        )
        for views in enriched:
            states.update(v.state.value for v in views)
            exempt += sum(1 for v in views if v.exempt)
            progress.page_done(len(views))
            yield views
        progress.finish()
        for key, value in states.items():
            self.stats.states[key] = self.stats.states.get(key, 0) + value
        if states:
            self.log.info(
                "%s: entries per state: %s; exempt: %d",
                operation,
                ", ".join(f"{k}={v}" for k, v in sorted(states.items())),
                exempt,
            )


def _ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``fn`` of each item, computed by up to ``workers`` threads at once, yielded in the items' order.

    At most ``workers`` results wait ahead of the consumer; closing the iterator cancels the rest.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kaltura-list")
    ahead: deque[Future[Any]] = deque()
    try:
        for item in items:
            ahead.append(pool.submit(fn, item))
            if len(ahead) >= workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        for future in ahead:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _in_order(records: list[EntryRecord]) -> list[EntryRecord]:
    """Records in (createdAt, id) order: the same on every run, whatever order Kaltura gave ties."""
    return sorted(records, key=lambda r: (r.created_epoch, r.entry_id))


def _max_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
