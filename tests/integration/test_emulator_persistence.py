"""The emulator keeps its state across restarts; the CLI starts it; the seed generator is deterministic."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from KalturaClient.Plugins.Core import (
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaMediaEntry,
    KalturaMediaEntryFilter,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
)

from dev.kaltura_emulator.seed import generate_account
from tests.fixtures.emulator import (
    ADMIN_SECRET,
    PARTNER_ID,
    RunningEmulator,
    make_client,
    mp4_bytes,
    named_file,
    start_emulator,
)

pytestmark = pytest.mark.integration
YEAR = 365 * 86400


def test_restart_loses_nothing(tmp_path: Path) -> None:
    first = start_emulator(tmp_path, conversion_seconds=0)
    try:
        first.control.create_entries(
            [
                {"id": "0_keep", "tags": ["lecture"], "categories": [5], "plays": 4, "original_size": 70_000},
                {"id": "0_swap", "status": 7, "flavors": False},
            ]
        )
        client = make_client(first)
        update = KalturaMediaEntry()
        update.tags = "lecture, archived_to_s3"
        client.media.update("0_keep", update)
        token = client.uploadToken.add(KalturaUploadToken(fileName="p.mp4"))
        client.uploadToken.upload(token.id, named_file(mp4_bytes(11_000), "p.mp4"), False, True)
        client.media.addContent("0_swap", KalturaUploadedFileTokenResource(token=token.id))
        pending = client.uploadToken.add(KalturaUploadToken(fileName="q.mp4"))
        client.uploadToken.upload(pending.id, named_file(mp4_bytes(500), "q.mp4"), False, False)
        first.control.set_clock_offset(-3600)
        before = {entry_id: first.control.entry(entry_id) for entry_id in ("0_keep", "0_swap")}
    finally:
        first.server.stop()
    second = start_emulator(tmp_path)
    try:
        after = {entry_id: second.control.entry(entry_id) for entry_id in ("0_keep", "0_swap")}
        assert after == before
        assert after["0_swap"]["status"] == 2
        assert after["0_keep"]["tags"] == ["lecture", "archived_to_s3"]
        assert second.control.settings()["clock_offset"] == -3600
        client = make_client(second)
        assert client.uploadToken.get(pending.id).uploadedFileSize == 500
        resumed = client.uploadToken.upload(pending.id, named_file(b"y" * 500, "q.mp4"), True, True, -1)
        assert resumed.uploadedFileSize == 1000
        flt = KalturaFlavorAssetFilter()
        flt.entryIdEqual = "0_swap"
        source = next(f for f in client.flavorAsset.list(flt).objects if f.isOriginal)
        assert source.sizeInBytes == 11_000
    finally:
        second.server.stop()


def test_command_line_starts_seeded_emulator(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "dev.kaltura_emulator",
        "--data-dir",
        str(tmp_path),
        "--port",
        "0",
        "--seed-entries",
        "300",
        "--seed",
        "3",
        "--partner-id",
        str(PARTNER_ID),
        "--admin-secret",
        ADMIN_SECRET,
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        from dev.kaltura_emulator.control import EmulatorControl

        running = RunningEmulator(url, PARTNER_ID, ADMIN_SECRET, EmulatorControl(url), tmp_path, None)  # type: ignore[arg-type]
        client = make_client(running)
        flt = KalturaMediaEntryFilter()
        flt.statusIn = "-2,-1,0,1,2,4,7,virusScan.Infected,virusScan.ScanFailure"
        flt.moderationStatusIn = "1,2,3,4,5,6"  # the seed has moderated and recycled entries too
        flt.displayInSearchIn = "-2,0,1,2"
        assert client.media.list(flt, KalturaFilterPager(1)).totalCount == 300
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_seed_generator_is_deterministic_and_realistic() -> None:
    now = 1_750_000_000
    entries = generate_account(3000, seed=11, now=now)
    assert entries == generate_account(3000, seed=11, now=now)
    assert entries != generate_account(3000, seed=12, now=now)
    assert len({e["id"] for e in entries}) == 3000
    ages = [(now - e["created_at"]) / YEAR for e in entries]
    assert min(ages) < 0.5 and 9 < max(ages) <= 10.01
    never = [e for e in entries if e["last_played_at"] is None]
    assert 0.3 < len(never) / 3000 < 0.5 and all(e["plays"] == 0 for e in never)
    played = sorted(e["plays"] for e in entries if e["last_played_at"] is not None)
    assert played[len(played) // 2] < 5 and played[-1] > 100
    sizes = [e["original_size"] for e in entries if e["media_type"] == 1]
    assert min(sizes) < 10 * 1024**2 and max(sizes) > 2 * 1024**3
    assert all(re.fullmatch(r"[a-z]+\d?@princeton\.edu", e["creator_id"]) for e in entries)
    assert {e["status"] for e in entries} >= {2, 7, -1}
    assert any(e["categories"] for e in entries) and any(not e["categories"] for e in entries)


def test_seed_endpoint_bulk_creates(emulator: RunningEmulator) -> None:
    ids = emulator.control.seed(500, seed=5, now=1_750_000_000)
    assert len(ids) == 500
    assert ids == [e["id"] for e in generate_account(500, seed=5, now=1_750_000_000)]
    accounts = generate_account(500, seed=5, now=1_750_000_000)
    smallest = min((e for e in accounts if e["status"] == 2), key=lambda e: e["original_size"])
    state = emulator.control.entry(smallest["id"], sha256=False)
    assert state["original_sha256"] is None and state["original_size"] == smallest["original_size"]
    assert len(emulator.control.entry(smallest["id"])["original_sha256"]) == 64
