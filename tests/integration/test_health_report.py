"""Health report against the emulator and the local S3 server: every invariant, verdicts, bulk calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.archive_store import ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.listing import read_tsv, write_health
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import Selector
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import REF, entry_spec, make_api

pytestmark = pytest.mark.integration

KB = 1024
SIZE = 300 * KB
A, R = "archived_to_s3", "flavors_deleted"

# name -> (entry spec, bytes of the S3 object or None, expected verdict, words in the explanation)
CASES: dict[str, tuple[dict[str, Any], int | None, str, str]] = {
    "initial": (entry_spec("initial", 4, original_size=SIZE), None, "healthy", "ok"),
    "archived": (entry_spec("archived", 4, tags=(A,), original_size=SIZE), SIZE, "healthy", "ok"),
    "placeholder": (entry_spec("placeholder", 4, tags=(A, R), original_size=40 * KB), SIZE, "healthy", "ok"),
    "size_mismatch": (
        entry_spec("size_mismatch", 4, tags=(A,), original_size=SIZE),
        SIZE - 20 * KB,
        "warning",
        "changed since archival",
    ),
    "one_byte_off": (
        entry_spec("one_byte_off", 4, tags=(A,), original_size=SIZE),
        SIZE - 1,
        "warning",
        "changed since archival",
    ),
    "untagged_s3": (entry_spec("untagged_s3", 4, original_size=SIZE), SIZE, "unhealthy", "not tagged"),
    "tag_no_s3": (
        entry_spec("tag_no_s3", 4, tags=(A,), original_size=SIZE),
        None,
        "unhealthy",
        "no S3 object",
    ),
    "replaced_only": (entry_spec("replaced_only", 4, tags=(R,)), None, "unhealthy", "but not archived_to_s3"),
    "still_real": (
        entry_spec("still_real", 4, tags=(A, R), original_size=SIZE),
        SIZE,
        "unhealthy",
        "still matches",
    ),
    "no_content": (entry_spec("no_content", 4, status=7, flavors=False), None, "observed", "no original"),
    "converting": (entry_spec("converting", 4, status=1, original_size=SIZE), None, "observed", "not READY"),
    "archived_no_content": (
        entry_spec("archived_no_content", 4, status=7, tags=(A,), flavors=False),
        SIZE,
        "unhealthy",
        "no original",
    ),
    "exempt": (
        entry_spec("exempt", 4, tags=("archive_exempt",), original_size=SIZE),
        None,
        "exempt",
        "exempt",
    ),
    "exempt_cat": (entry_spec("exempt_cat", 4, categories=(555,), original_size=SIZE), None, "exempt", "555"),
    "big": (entry_spec("big", 4, tags=(A,), original_size=600 * KB), 600 * KB, "warning", "size limit"),
    "old_tag_trap": (entry_spec("old_tag_trap", 4, tags=("archived_to_s3_old",)), None, "healthy", "ok"),
}


def test_health_rows_and_verdicts(
    emulator: RunningEmulator, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    client, bucket = s3_bucket
    settings = ArchiverSettings(bucket=bucket, size_limit_kb=500, exempt_category_ids=(555,))
    ids = emulator.control.create_entries([spec for spec, *_ in CASES.values()])
    name_of = dict(zip(ids, CASES, strict=True))
    for entry_id, name in name_of.items():
        size = CASES[name][1]
        if size is not None:
            client.put_object(Bucket=bucket, Key=entry_id, Body=b"\0" * size)
    counter = CallCounter()
    store = ArchiveStore(client, bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(make_api(emulator, counter), settings, inventory=store.inventory)
    out = tmp_path / "health.tsv"
    result = write_health(selector, EntryFilter(max_entries=-1), REF, out)
    frame = read_tsv(out.read_text())
    assert list(frame.columns)[:11] == [
        "entry_id",
        "status-ok",
        "original",
        "orig_status",
        "archived_to_s3",
        "flavors_deleted",
        "created_date",
        "s3-size (KB)",
        "orig_KB",
        "size_match",
        "explanation",
    ]
    assert len(frame) == len(CASES) == result.entries
    for row in frame.to_dict("records"):
        name = name_of[row["entry_id"]]
        _, _, verdict, words = CASES[name]
        assert row["verdict"] == verdict, (name, row)
        assert words in row["explanation"], (name, row)
    assert result.unhealthy == sum(1 for *_, v, _ in CASES.values() if v == "unhealthy")
    assert set(result.unhealthy_ids) == {i for i, n in name_of.items() if CASES[n][2] == "unhealthy"}
    states = dict(zip(frame["entry_id"].map(name_of), frame["state"], strict=True))
    assert states["archived"] == "archived" and states["placeholder"] == "placeholder"
    assert states["initial"] == "initial" and states["size_mismatch"] == "changed_since_archival"
    assert counter.get("flavorAsset.list") == 1
    assert counter.get("media.list") <= 2


def test_health_large_page_uses_one_bucket_listing(
    emulator: RunningEmulator, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    client, bucket = s3_bucket
    settings = ArchiverSettings(bucket=bucket)
    tags = [(A,) if i % 10 == 0 else () for i in range(1200)]
    specs = [entry_spec(f"e{i}", 4, tags=t, original_size=2 * KB) for i, t in enumerate(tags)]
    for i, spec in enumerate(specs):
        spec["created_at"] += i % 3  # three seconds of 400 entries: no second fills a page
    ids = emulator.control.create_entries(specs)
    for i, entry_id in enumerate(ids):
        if i % 10 == 0:
            client.put_object(Bucket=bucket, Key=entry_id, Body=b"\0" * 2 * KB)
    counter = CallCounter()
    store = ArchiveStore(client, bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(make_api(emulator, counter), settings, inventory=store.inventory)
    counter.reset()
    result = write_health(selector, EntryFilter(max_entries=-1), REF, tmp_path / "h.tsv")
    assert result.entries == 1200 and result.verdicts["healthy"] == 1200
    assert counter.total_with_prefix("s3.") <= 3
    assert counter.get("flavorAsset.list") == 3
    # one count, then windows of 500 that each restart at the last second seen
    assert counter.get("media.list") <= 5
