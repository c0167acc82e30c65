"""List pages read lean give the same records as KalturaClient's typed objects, errors included."""

from __future__ import annotations

from typing import Any

import pytest
from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaFlavorAssetFilter, KalturaMediaEntryFilter

from kaltura_archiver.kaltura_api import KalturaApiError, _flavor_list_call
from kaltura_archiver.kaltura_lists import list_call
from kaltura_archiver.kaltura_rules import MODERATION_STATUS_NAMES
from kaltura_archiver.records import EntryRecord, FlavorRecord
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import entry_spec, make_api

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def varied(kaltura_emulator: RunningEmulator) -> list[str]:
    """Entries with and without tags, categories, plays, flavors; pending, rejected, old and new."""
    kaltura_emulator.control.reset()
    specs: list[dict[str, Any]] = []
    for i in range(60):
        spec = entry_spec(
            f"Entry {i} & <co>",
            created=0.5 + i / 7,
            played=None if i % 3 else i / 10,
            plays=i % 4,
            tags=("archived_to_s3", f"Tag {i}") if i % 2 else (),
            status=(2, 2, 7, 4)[i % 4],
            media_type=(1, 1, 5)[i % 3],
            categories=(10 + i % 3,) if i % 5 == 0 else (),
            original_size=1000 * (1 + i),
        )
        if i % 7 == 0:
            spec["moderation_status"] = 1
        specs.append(spec)
    return kaltura_emulator.control.create_entries(specs)


def test_entries_read_lean_equal_kalturaclient_entries(
    kaltura_emulator: RunningEmulator, varied: list[str]
) -> None:
    api = make_api(kaltura_emulator)
    flt = KalturaMediaEntryFilter(orderBy="+createdAt")
    flt.statusIn = "-1,0,1,2,4,7"
    flt.moderationStatusIn = ",".join(str(m) for m in MODERATION_STATUS_NAMES)
    pager = KalturaFilterPager(pageSize=500, pageIndex=1)
    typed: Any = api.call("media.list", lambda c: c.media.list(flt, pager))
    lean = api.call(
        "media.list", list_call("media", "list", "KalturaMediaListResponse", filter=flt, pager=pager)
    )
    assert lean.totalCount == typed.totalCount == len(varied)
    assert [EntryRecord.from_kaltura(o) for o in lean.objects] == [
        EntryRecord.from_kaltura(o) for o in typed.objects
    ]
    tagged = [EntryRecord.from_kaltura(o) for o in lean.objects if EntryRecord.from_kaltura(o).tags]
    assert tagged and all("archived_to_s3" in e.tags for e in tagged)
    # only the fields the records read, as the archiver asks: the same records from fewer fields
    trimmed = api.call(
        "media.list",
        list_call(
            "media", "list", "KalturaMediaListResponse", EntryRecord.KALTURA_FIELDS, filter=flt, pager=pager
        ),
    )
    assert trimmed.totalCount == lean.totalCount
    assert (
        set(vars(trimmed.objects[0]))
        == {"objectType", *EntryRecord.KALTURA_FIELDS}
        < set(vars(lean.objects[0]))
    )
    assert [EntryRecord.from_kaltura(o) for o in trimmed.objects] == [
        EntryRecord.from_kaltura(o) for o in typed.objects
    ]


def test_flavors_read_lean_equal_kalturaclient_flavors(
    kaltura_emulator: RunningEmulator, varied: list[str]
) -> None:
    api = make_api(kaltura_emulator)
    flt = KalturaFlavorAssetFilter(entryIdIn=",".join(varied))
    pager = KalturaFilterPager(pageSize=500, pageIndex=1)
    typed: Any = api.call("flavorAsset.list", lambda c: c.flavorAsset.list(flt, pager))
    lean = api.call(
        "flavorAsset.list",
        list_call("flavorasset", "list", "KalturaFlavorAssetListResponse", filter=flt, pager=pager),
    )
    assert lean.totalCount == typed.totalCount > 0
    records = [FlavorRecord.from_kaltura(o) for o in lean.objects]
    assert records == [FlavorRecord.from_kaltura(o) for o in typed.objects]
    trimmed = api.call("flavorAsset.list", _flavor_list_call(flt, pager))  # as the archiver lists flavors
    assert set(vars(trimmed.objects[0])) <= {"objectType", *FlavorRecord.KALTURA_FIELDS}
    assert [FlavorRecord.from_kaltura(o) for o in trimmed.objects] == records
    assert any(r.is_original for r in records) and any(r.size_bytes for r in records)


def test_an_api_error_is_raised_as_kalturaclient_raises_it(kaltura_emulator: RunningEmulator) -> None:
    api = make_api(kaltura_emulator)
    flt = KalturaFlavorAssetFilter()  # flavorAsset.list needs entryIdEqual or entryIdIn
    with pytest.raises(KalturaApiError) as lean:
        api.call(
            "flavorAsset.list", list_call("flavorasset", "list", "KalturaFlavorAssetListResponse", filter=flt)
        )
    with pytest.raises(KalturaApiError) as typed:
        api.call("flavorAsset.list", lambda c: c.flavorAsset.list(flt))
    assert lean.value.code == typed.value.code != ""
