"""plan_entries keeps only what each operation can act on; default selections follow the old schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.planning import Operation, default_filters, filters_from_params, plan_entries
from kaltura_archiver.records import EntryRecord, FlavorRecord

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD = datetime(2018, 1, 1, tzinfo=UTC)
SETTINGS = ArchiverSettings()


@dataclass(frozen=True)
class Obj:
    size_bytes: int


def _entry(eid: str, tags: tuple[str, ...] = (), created: datetime = OLD) -> EntryRecord:
    return EntryRecord(entry_id=eid, tags=tags, created_at=created)


def _orig(eid: str, size: int = 10_240) -> FlavorRecord:
    return FlavorRecord(
        flavor_id=f"f_{eid}", entry_id=eid, is_original=True, status=2, size_kb=size // 1024, size_bytes=size
    )


def _candidates():
    return [
        (_entry("0_initial1"), _orig("0_initial1"), None),
        (_entry("0_archivd1", ("archived_to_s3",)), _orig("0_archivd1"), Obj(10_240)),
        (_entry("0_placeho1", ("archived_to_s3", "flavors_deleted")), _orig("0_placeho1", 999), Obj(10_240)),
        (_entry("0_exempt01", ("archive_exempt",)), _orig("0_exempt01"), None),
        (
            _entry("0_young001", ("archived_to_s3",), datetime(2025, 1, 1, tzinfo=UTC)),
            _orig("0_young001"),
            Obj(10_240),
        ),
        (_entry("0_orphan01"), _orig("0_orphan01"), Obj(10_240)),
    ]


def test_archive_acts_on_initial_and_untagged_copies_only() -> None:
    plan = plan_entries(Operation.ARCHIVE, _candidates(), SETTINGS, NOW, max_entries=-1)
    assert plan.entry_ids == ["0_initial1", "0_orphan01"]
    assert plan.left_alone["done before"] == 3 and plan.left_alone["exempt"] == 1


def test_replace_needs_archived_old_entries() -> None:
    plan = plan_entries(Operation.REPLACE, _candidates(), SETTINGS, NOW, max_entries=-1)
    assert plan.entry_ids == ["0_archivd1"]
    assert plan.left_alone["created less than 3 years ago"] == 1
    assert plan.left_alone["done before"] == 1


def test_restore_and_repair() -> None:
    assert plan_entries(Operation.RESTORE, _candidates(), SETTINGS, NOW, -1).entry_ids == ["0_placeho1"]
    repair = plan_entries(Operation.REPAIR, _candidates(), SETTINGS, NOW, -1)
    assert repair.entry_ids == ["0_orphan01"]


def test_max_entries_caps_and_counts_the_rest() -> None:
    plan = plan_entries(Operation.ARCHIVE, _candidates(), SETTINGS, NOW, max_entries=1)
    assert plan.entry_ids == ["0_initial1"] and plan.capped


def test_default_selection_used_only_without_criteria() -> None:
    restore = filters_from_params(Operation.RESTORE, {"years": 2, "max_entries": 50}, SETTINGS)
    assert [f.played_within for f in restore] == [2, None]
    assert all(f.max_entries == 50 and f.tags == ("flavors_deleted",) for f in restore)
    user = filters_from_params(Operation.ARCHIVE, {"years": 2, "tag": ["lecture"]}, SETTINGS)
    assert len(user) == 1 and user[0].tags == ("lecture",) and user[0].unplayed_for is None
    assert default_filters(Operation.ARCHIVE, 3, SETTINGS)[0].tags == ("!archived_to_s3",)


def test_entries_without_a_ready_original_are_left_to_health_unless_named() -> None:
    broken = _orig("0_broken01")
    broken = FlavorRecord(
        flavor_id=broken.flavor_id, entry_id=broken.entry_id, is_original=True, status=-1, size_kb=10
    )
    candidates = [(_entry("0_broken01"), broken, None), (_entry("0_nonorig1"), None, None)]
    plan = plan_entries(Operation.ARCHIVE, candidates, SETTINGS, NOW, max_entries=-1)
    assert plan.entry_ids == [] and plan.left_alone["no READY original (see health)"] == 2
    named = plan_entries(
        Operation.ARCHIVE, candidates + _candidates()[:2], SETTINGS, NOW, -1, every_candidate=True
    )
    assert named.entry_ids == ["0_broken01", "0_nonorig1", "0_initial1", "0_archivd1"]


def test_archive_and_replace_select_ready_entries_unless_the_trigger_names_other_statuses() -> None:
    """An ERROR_CONVERTING entry archived then replaced would become a healthy-looking placeholder."""
    for operation in (Operation.ARCHIVE, Operation.REPLACE):
        default = filters_from_params(operation, {"years": 3}, SETTINGS)
        assert all(f.status == (2,) for f in default)
        named = filters_from_params(operation, {"unplayed_for": 3, "status": [2, -1]}, SETTINGS)
        assert named[0].status == (2, -1)
        unnamed = filters_from_params(operation, {"unplayed_for": 3}, SETTINGS)
        assert unnamed[0].status == (2,)
    health_like = filters_from_params(Operation.RESTORE, {"years": 1}, SETTINGS)
    assert all(len(f.status) > 1 for f in health_like)


def test_archive_leaves_originals_over_the_size_limit_out_of_the_map() -> None:
    settings = ArchiverSettings(size_limit_kb=100)
    big = (_entry("0_bigbig01"), _orig("0_bigbig01", size=200 * 1024), None)
    small = (_entry("0_small001"), _orig("0_small001", size=50 * 1024), None)
    plan = plan_entries(Operation.ARCHIVE, [big, small], settings, NOW, max_entries=-1)
    assert plan.entry_ids == ["0_small001"]
    assert plan.left_alone["original over the size limit of 100 KB"] == 1


def test_a_configured_mixed_case_tag_does_not_re_archive_what_kaltura_stored_lower_case() -> None:
    """alpha/apps/kaltura/lib/model/ktagword.class.php stores tags lower-cased."""
    settings = ArchiverSettings(archived_tag="Archived_To_S3", replaced_tag="Flavors_Deleted")
    archived = (_entry("0_archivd1", ("archived_to_s3",)), _orig("0_archivd1"), Obj(10_240))
    plan = plan_entries(Operation.ARCHIVE, [archived], settings, NOW, max_entries=-1)
    assert plan.entry_ids == [] and plan.left_alone["done before"] == 1
    (archive,) = filters_from_params(Operation.ARCHIVE, {"years": 3}, settings)
    assert archive.tags == ("!archived_to_s3",)
