"""list (video and flavor modes) and count against the emulator, written as TSV page by page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.listing import FLAVOR_COLUMNS, VIDEO_COLUMNS, count, read_tsv, write_list
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import Selector
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import REF, entry_spec, make_api

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(emulator: RunningEmulator) -> dict[str, str]:
    specs = [
        entry_spec("never", 5, categories=(12,), category_names={"12": "Lectures"}),
        entry_spec("played", 4, played=1, plays=7, tags=("archived_to_s3",)),
        entry_spec("replaced", 6, played=2, plays=1, tags=("archived_to_s3", "flavors_deleted")),
        entry_spec("exempt", 5, tags=("archive_exempt",)),
    ]
    specs += [entry_spec(f"bulk{i}", 3 + i / 1000) for i in range(1100)]
    ids = emulator.control.create_entries(specs)
    return {spec["name"]: entry_id for spec, entry_id in zip(specs, ids, strict=True)}


def test_video_list_columns_and_values(
    emulator: RunningEmulator, seeded: dict[str, str], tmp_path: Path
) -> None:
    selector = Selector(make_api(emulator), ArchiverSettings())
    out = tmp_path / "list.tsv"
    result = write_list(selector, EntryFilter(max_entries=-1, page_size=300), REF, out)
    frame = read_tsv(out.read_text())
    assert tuple(frame.columns) == VIDEO_COLUMNS
    assert len(frame) == result.rows == len(seeded)
    assert frame["entry_id"].is_unique
    rows = frame.set_index("entry_id")
    never, played, replaced = (
        rows.loc[seeded["never"]],
        rows.loc[seeded["played"]],
        rows.loc[seeded["replaced"]],
    )
    assert never["last_played_date"] == "" and never["plays"] == "0"
    assert never["category_ids"] == "12" and never["categories"] == "Lectures"
    assert never["creator_id"] == "never@example.edu" and never["status"] == "READY"
    assert played["plays"] == "7" and played["last_played_date"].startswith(str(REF.year - 1))
    assert played["archived_to_s3"] == "True" and played["flavors_deleted"] == "False"
    assert replaced["flavors_deleted"] == "True"
    assert rows.loc[seeded["exempt"]]["exempt"] == "tagged archive_exempt"
    assert int(str(never["created"])) < int(str(played["created"]))


def test_flavor_list(emulator: RunningEmulator, seeded: dict[str, str]) -> None:
    counter = CallCounter()
    selector = Selector(make_api(emulator, counter), ArchiverSettings())
    buffer = io.StringIO()
    ids = [seeded["never"], seeded["played"]]
    result = write_list(selector, EntryFilter(entry_ids=tuple(ids)), REF, buffer, mode="flavor")
    frame = read_tsv(buffer.getvalue())
    assert tuple(frame.columns) == FLAVOR_COLUMNS
    assert result.entries == 2 and len(frame) == result.rows == 8  # source + 3 derived each
    originals = frame[frame["original"] == "True"]
    assert sorted(originals["entry_id"]) == sorted(ids)
    assert set(frame["status"]) == {"READY"} and (frame["deleted_date"] == "").all()
    assert counter.get("flavorAsset.list") == 1


def test_empty_list_still_has_a_header(emulator: RunningEmulator, tmp_path: Path) -> None:
    selector = Selector(make_api(emulator), ArchiverSettings())
    out = tmp_path / "empty.tsv"
    assert write_list(selector, EntryFilter(tags=("nothing_has_this",)), REF, out).rows == 0
    assert out.read_text().strip().split("\t") == list(VIDEO_COLUMNS)


def test_count(emulator: RunningEmulator, seeded: dict[str, str]) -> None:
    selector = Selector(make_api(emulator), ArchiverSettings())
    assert count(selector, EntryFilter(), REF) == len(seeded)
    assert count(selector, EntryFilter(tags=("archived_to_s3",)), REF) == 2
    assert count(selector, EntryFilter(tags=("!archived_to_s3",)), REF) == len(seeded) - 2
    assert count(selector, EntryFilter(played_within=1.5), REF) == 1
    with pytest.raises(ValueError, match="mode"):
        write_list(selector, EntryFilter(), REF, io.StringIO(), mode="audio")
