"""Bulk audits walk independent createdAt windows side by side: same entries, same order, same report.

Against the emulator (kaltura/server's list rules: no tie-breaker among equal createdAt, the
10,000-result cap, ACTION_BLOCKED when a partner is throttled).
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.kaltura_api import RetryPolicy
from kaltura_archiver.listing import write_health
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import WINDOW_ENTRIES, Selector
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import REF, ago, make_api

pytestmark = pytest.mark.integration

N = 26_000
CROWD = 700  # entries sharing one createdAt second: more than a page


def account() -> list[dict[str, Any]]:
    """26,000 entries, two per second, one second holding 700, every 5th tagged archived_to_s3."""
    base = ago(7)
    specs = []
    for i in range(N):
        second = base + (i // 2 if i < 12_000 else 6_000 if i < 12_000 + CROWD else i)
        specs.append(
            {
                "created_at": second,
                "tags": ["archived_to_s3"] if i % 5 == 0 else [],
                "original_size": 2048,
                "flavors": i % 50 == 0,
            }
        )
    return specs


@pytest.fixture(scope="module")
def ids(kaltura_emulator: RunningEmulator) -> list[str]:
    kaltura_emulator.control.reset()
    return kaltura_emulator.control.create_entries(account())


def walk(
    emulator: RunningEmulator, concurrency: int, flt: EntryFilter, retry: RetryPolicy | None = None
) -> tuple[list[str], CallCounter]:
    counter = CallCounter()
    api = make_api(emulator, counter)
    if retry is not None:
        api.retry = retry
    selector = Selector(api, ArchiverSettings())
    seen = [e.entry_id for e in selector.iter_entries(flt, REF, bounded=False, concurrency=concurrency)]
    return seen, counter


def test_concurrent_windows_give_every_entry_once_in_the_same_order(
    kaltura_emulator: RunningEmulator, ids: list[str]
) -> None:
    single, single_calls = walk(kaltura_emulator, 1, EntryFilter(max_entries=-1))
    concurrent, concurrent_calls = walk(kaltura_emulator, 3, EntryFilter(max_entries=-1))
    assert len(single) == N and set(single) == set(ids)
    assert concurrent == single
    windows = min(12, N // WINDOW_ENTRIES)
    assert windows >= 3
    # one call finds the newest createdAt, and each window ends with a page of its own at most
    assert concurrent_calls.get("media.list") <= single_calls.get("media.list") + windows + 1


def test_client_side_tags_agree_across_windows(kaltura_emulator: RunningEmulator, ids: list[str]) -> None:
    flt = EntryFilter(tags=("!archived_to_s3",), max_entries=-1)
    single, _ = walk(kaltura_emulator, 1, flt)
    concurrent, _ = walk(kaltura_emulator, 3, flt)
    assert concurrent == single
    assert len(single) == N - len(range(0, N, 5))


def test_throttled_partner_still_gets_every_entry(
    kaltura_emulator: RunningEmulator, ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    single, _ = walk(kaltura_emulator, 1, EntryFilter(max_entries=-1))
    control = kaltura_emulator.control
    control.set_rate_limit(4, window_seconds=0.5, service="media", action="list")
    # three windows share 8 calls a second: one can lose the race several seconds running on a busy machine
    patient = RetryPolicy(max_attempts=40, base=0.1, cap=1.0)
    try:
        concurrent, _ = walk(kaltura_emulator, 3, EntryFilter(max_entries=-1), retry=patient)
    finally:
        control.set_rate_limit(None)
    assert "ACTION_BLOCKED" in caplog.text  # the limit was hit, and the blocked calls were retried
    assert concurrent == single
    assert len(concurrent) == N and set(concurrent) == set(ids)


def test_health_report_is_the_same_with_one_window_or_many(
    kaltura_emulator: RunningEmulator, ids: list[str]
) -> None:
    reports = []
    for concurrency in (1, 3):
        selector = Selector(make_api(kaltura_emulator), ArchiverSettings())
        out = io.StringIO()
        result = write_health(selector, EntryFilter(max_entries=-1), REF, out, concurrency=concurrency)
        assert result.entries == N
        reports.append(out.getvalue())
    assert reports[0] == reports[1]
