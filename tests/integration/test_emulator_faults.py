"""Fault injection, rate limiting and call counting of the Kaltura emulator, seen through the real client."""

from __future__ import annotations

import time

import pytest
import requests
from KalturaClient.exceptions import KalturaClientException, KalturaException
from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaFlavorAssetFilter

from tests.fixtures.emulator import RunningEmulator, make_client

pytestmark = pytest.mark.integration


def seed_one(emulator: RunningEmulator, size: int = 2_000_000) -> str:
    """Create one READY entry; return the download URL of its original."""
    emulator.control.create_entries([{"id": "0_fault", "original_size": size, "created_at": 1_400_000_000}])
    client = make_client(emulator)
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = "0_fault"
    source = next(f for f in client.flavorAsset.list(flt).objects if f.isOriginal)
    return str(client.flavorAsset.getUrl(source.id))


def outcome(call: object) -> str:
    """'ok' or the Kaltura error code of a call."""
    try:
        call()  # type: ignore[operator]
    except KalturaException as error:
        return str(error.code)
    return "ok"


def test_error_code_fault_targets_one_action(emulator: RunningEmulator) -> None:
    seed_one(emulator)
    client = make_client(emulator)
    emulator.control.add_fault("media", "get", code="INTERNAL_SERVERL_ERROR")
    assert outcome(lambda: client.media.get("0_fault")) == "INTERNAL_SERVERL_ERROR"
    assert outcome(lambda: client.media.list()) == "ok"
    emulator.control.clear_faults()
    assert outcome(lambda: client.media.get("0_fault")) == "ok"


def test_every_nth_and_max_fires(emulator: RunningEmulator) -> None:
    seed_one(emulator)
    client = make_client(emulator)
    emulator.control.add_fault("media", "get", code="ENTRY_ID_NOT_FOUND", every_nth=2)
    results = [outcome(lambda: client.media.get("0_fault")) for _ in range(4)]
    assert results == ["ok", "ENTRY_ID_NOT_FOUND", "ok", "ENTRY_ID_NOT_FOUND"]
    emulator.control.clear_faults()
    emulator.control.add_fault("media", "*", code="INTERNAL_SERVERL_ERROR", max_fires=1)
    assert [outcome(lambda: client.media.list()) for _ in range(3)] == ["INTERNAL_SERVERL_ERROR", "ok", "ok"]
    assert emulator.control.faults()[0]["fired"] == 1


def test_probability_fault_is_seeded(emulator: RunningEmulator) -> None:
    seed_one(emulator)
    client = make_client(emulator)
    runs = []
    for _ in range(2):
        emulator.control.clear_faults()
        emulator.control.add_fault("media", "list", code="INTERNAL_SERVERL_ERROR", probability=0.5, seed=7)
        runs.append([outcome(lambda: client.media.list()) for _ in range(20)])
    assert runs[0] == runs[1]
    assert 0 < runs[0].count("INTERNAL_SERVERL_ERROR") < 20


def test_latency_fault(emulator: RunningEmulator) -> None:
    seed_one(emulator)
    client = make_client(emulator)
    emulator.control.add_fault("media", "get", latency_ms=400)
    started = time.monotonic()
    client.media.get("0_fault")
    assert time.monotonic() - started >= 0.4


def test_rate_limit_answers_action_blocked(emulator: RunningEmulator) -> None:
    seed_one(emulator)
    client = make_client(emulator)
    emulator.control.set_rate_limit(3, window_seconds=1.0, service="media")
    results = [outcome(lambda: client.media.list()) for _ in range(5)]
    assert results == ["ok", "ok", "ok", "ACTION_BLOCKED", "ACTION_BLOCKED"]
    assert outcome(lambda: client.baseEntry.get("0_fault")) == "ok"
    time.sleep(1.1)
    assert outcome(lambda: client.media.list()) == "ok"
    emulator.control.set_rate_limit(None)
    emulator.control.add_fault("media", "list", code="ACTION_BLOCKED", max_fires=1)
    with pytest.raises(KalturaException) as info:
        client.media.list()
    assert info.value.code == "ACTION_BLOCKED" and '"list"' in info.value.message


def test_api_drop_and_truncate_break_the_client_call(emulator: RunningEmulator) -> None:
    """A drop is a client exception; a truncated body is parsed leniently (lxml recover) into less data."""
    seed_one(emulator)
    client = make_client(emulator)
    emulator.control.add_fault("media", "list", drop_mid_download=True, max_fires=1)
    with pytest.raises(KalturaClientException):
        client.media.list(pager=KalturaFilterPager(500))
    assert client.media.list().totalCount == 1
    emulator.control.create_entries([{"id": f"0_t{i}", "original_size": 1000} for i in range(9)])
    emulator.control.add_fault("media", "list", truncate=True, max_fires=1)
    truncated = client.media.list()
    assert len(truncated.objects) < 10 or truncated.totalCount != 10
    whole = client.media.list()
    assert len(whole.objects) == 10 and whole.totalCount == 10


def test_download_faults(emulator: RunningEmulator) -> None:
    url = seed_one(emulator, size=3_000_000)
    emulator.control.add_fault("download", code="503", max_fires=1)
    assert requests.get(url, timeout=30).status_code == 503
    emulator.control.add_fault("download", drop_mid_download=True, max_fires=1)
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(url, timeout=30)
    emulator.control.add_fault("download", truncate=True, max_fires=1)
    short = requests.get(url, timeout=30)
    assert short.status_code == 200 and 0 < len(short.content) < 3_000_000
    emulator.control.add_fault("download", latency_ms=300, max_fires=1)
    started = time.monotonic()
    whole = requests.get(url, timeout=30)
    assert time.monotonic() - started >= 0.3
    assert len(whole.content) == 3_000_000 and whole.content[: len(short.content)] == short.content


def test_call_counts_include_multirequest_parts_and_downloads(emulator: RunningEmulator) -> None:
    url = seed_one(emulator)
    client = make_client(emulator)
    client.startMultiRequest()
    client.media.get("0_fault")
    client.media.get("0_fault")
    client.doMultiRequest()
    requests.get(url, headers={"Range": "bytes=0-9"}, timeout=30)
    calls = emulator.control.calls()
    assert calls["media.get"] == 2
    assert calls["download.serve"] == 1
    assert calls["session.start"] == 2
    emulator.control.reset()
    assert emulator.control.calls() == {}
