"""Selection past the 10,000-result cap, KS expiry mid-iteration and injected ACTION_BLOCKED."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import Selector
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import REF, ago, make_api

pytestmark = pytest.mark.integration

N = 25_000
CROWD = 1_200  # entries sharing one createdAt second (more than two pages)


def big_account() -> list[dict[str, Any]]:
    """25,000 entries: three per second, one second holding 1,200, every 7th tagged archived_to_s3."""
    base = ago(6)
    specs = []
    for i in range(N):
        second = base + (i // 3 if i < 10_000 else 10_000 if i < 10_000 + CROWD else i)
        specs.append(
            {
                "created_at": second,
                "tags": ["archived_to_s3"] if i % 7 == 0 else (["archived_to_s3_old"] if i % 7 == 1 else []),
                "original_size": 1024,
                "flavors": i % 100 == 0,
            }
        )
    return specs


@pytest.fixture(scope="module")
def big(kaltura_emulator: RunningEmulator) -> list[str]:
    kaltura_emulator.control.reset()
    return kaltura_emulator.control.create_entries(big_account())


def test_every_entry_past_the_cap_exactly_once(kaltura_emulator: RunningEmulator, big: list[str]) -> None:
    counter = CallCounter()
    selector = Selector(make_api(kaltura_emulator, counter), ArchiverSettings())
    seen = [e.entry_id for e in selector.iter_entries(EntryFilter(max_entries=-1), REF)]
    assert len(seen) == N
    assert set(seen) == set(big)
    assert counter.get("media.list") <= N // 500 + 10
    counter.reset()
    assert selector.count(EntryFilter(), REF) == N
    assert counter.get("media.list") <= 12


def test_exact_count_with_client_side_tags(kaltura_emulator: RunningEmulator, big: list[str]) -> None:
    selector = Selector(make_api(kaltura_emulator), ArchiverSettings())
    tagged = len(range(0, N, 7))
    assert selector.count(EntryFilter(tags=("archived_to_s3",)), REF) == tagged
    assert selector.count(EntryFilter(tags=("!archived_to_s3",)), REF) == N - tagged


def test_ks_expiry_mid_iteration(
    kaltura_emulator: RunningEmulator, big: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    control = kaltura_emulator.control
    control.set_ks_expiry(60)
    counter = CallCounter()
    secrets: list[str] = []
    api = make_api(kaltura_emulator, counter, secret_sink=secrets.append)
    selector = Selector(api, ArchiverSettings())
    seen: list[str] = []
    try:
        for i, page in enumerate(selector.iter_pages(EntryFilter(max_entries=3000), REF)):
            seen.extend(e.entry_id for e in page)
            if i == 1:
                control.set_clock_offset(120)  # the KS issued at the start is now expired
    finally:
        control.set_clock_offset(0)
        control.set_ks_expiry(None)
    assert len(seen) == len(set(seen)) == 3000
    assert counter.get("session.start") == 2
    assert len(secrets) == 3  # the admin secret and two KSs, none of them logged
    assert "session rejected (INVALID_KS)" in caplog.text
    assert not any(secret in caplog.text for secret in secrets)


def test_action_blocked_on_a_fifth_of_calls(kaltura_emulator: RunningEmulator, big: list[str]) -> None:
    control = kaltura_emulator.control
    control.add_fault(code="ACTION_BLOCKED", probability=0.2, seed=42)
    counter = CallCounter()
    sleeps: list[float] = []
    selector = Selector(make_api(kaltura_emulator, counter, sleep=sleeps.append), ArchiverSettings())
    started = time.monotonic()
    try:
        views = [v for page in selector.iter_views(EntryFilter(max_entries=5000), REF) for v in page]
    finally:
        fired = sum(f["fired"] for f in control.faults())
        control.clear_faults()
    assert len({v.entry_id for v in views}) == 5000
    index = {entry_id: i for i, entry_id in enumerate(big)}
    assert all(v.entry.has_tag("archived_to_s3") == (index[v.entry_id] % 7 == 0) for v in views)
    assert fired > 0 and len(sleeps) == fired
    assert time.monotonic() - started < 120


def test_truncated_responses_are_retried(kaltura_emulator: RunningEmulator, big: list[str]) -> None:
    control = kaltura_emulator.control
    control.add_fault(service="media", action="list", truncate=True, every_nth=3)
    control.add_fault(service="flavorAsset", action="list", code="INTERNAL_SERVERL_ERROR", every_nth=2)
    counter = CallCounter()
    selector = Selector(make_api(kaltura_emulator, counter), ArchiverSettings())
    try:
        views = [v for page in selector.iter_views(EntryFilter(max_entries=2000), REF) for v in page]
    finally:
        control.clear_faults()
    assert len({v.entry_id for v in views}) == 2000
    index = {entry_id: i for i, entry_id in enumerate(big)}
    assert all((v.original is not None) == (index[v.entry_id] % 100 == 0) for v in views)
    assert counter.get("flavorAsset.list") == 7  # four pages; the 2nd, 4th and 6th calls fail
