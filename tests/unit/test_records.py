"""EntryRecord / FlavorRecord conversion from KalturaClient-shaped objects."""

from __future__ import annotations

from datetime import UTC, datetime

from KalturaClient.Plugins.Core import (
    KalturaEntryStatus,
    KalturaFlavorAsset,
    KalturaFlavorAssetStatus,
    KalturaFlavorAssetWithParams,
    KalturaMediaEntry,
    KalturaMediaType,
)

from kaltura_archiver.records import EntryRecord, FlavorRecord, pick_original


def test_entry_from_kaltura_parses_tags_categories_and_times() -> None:
    obj = KalturaMediaEntry()
    obj.id = "0_abc123de"
    obj.name = "Lecture"
    obj.tags = "archived_to_s3_old, lecture ,, archive"
    obj.categoriesIds = "12,34"
    obj.categories = "MediaSpace>site>galleries>A,B"
    obj.creatorId = "jdoe@example.edu"
    obj.createdAt = 1_500_000_000
    obj.status = KalturaEntryStatus("2")
    obj.mediaType = KalturaMediaType(1)
    obj.plays = 5
    rec = EntryRecord.from_kaltura(obj)
    assert rec.tags == ("archived_to_s3_old", "lecture", "archive")
    assert rec.category_ids == (12, 34)
    assert rec.categories == ("MediaSpace>site>galleries>A", "B")
    assert rec.created_at == datetime.fromtimestamp(1_500_000_000, tz=UTC)
    assert rec.last_played_at is None
    assert rec.status == 2 and rec.status_name == "READY"
    assert rec.media_type_name == "video" and rec.plays == 5


def test_has_tag_is_whole_tag_match() -> None:
    rec = EntryRecord(entry_id="0_x", tags=("archived_to_s3_old", "archive"))
    assert not rec.has_tag("archived_to_s3")
    assert not rec.has_tag("archived")
    assert rec.has_tag("archive")


def test_unset_fields_default() -> None:
    rec = EntryRecord.from_kaltura(KalturaMediaEntry(id="0_y"))
    assert rec.tags == () and rec.plays == 0 and rec.last_played_at is None


def test_flavor_from_kaltura_and_with_params() -> None:
    asset = KalturaFlavorAsset()
    asset.id = "1_f"
    asset.entryId = "0_e"
    asset.isOriginal = True
    asset.status = KalturaFlavorAssetStatus(2)
    asset.size = 2048
    asset.sizeInBytes = 2_097_000
    rec = FlavorRecord.from_kaltura(asset)
    assert rec.is_ready and rec.is_original and rec.size_bytes == 2_097_000 and rec.approx_bytes == 2_097_000
    assert FlavorRecord.from_with_params(KalturaFlavorAssetWithParams()) is None
    assert FlavorRecord.from_with_params(KalturaFlavorAssetWithParams(flavorAsset=asset)) == rec


def test_pick_original_prefers_ready_and_ignores_deleted() -> None:
    deleted = FlavorRecord("1_a", "0_e", is_original=True, status=3)
    converting = FlavorRecord("1_b", "0_e", is_original=True, status=1)
    ready = FlavorRecord("1_c", "0_e", is_original=True, status=2)
    other = FlavorRecord("1_d", "0_e", is_original=False, status=2)
    assert pick_original([deleted, converting, ready, other]) == ready
    assert pick_original([deleted, other]) is None
