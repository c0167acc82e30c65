"""The archiver on an account that behaves like real Kaltura (the emulator's strict defaults).

Each test names the kaltura/server file of the rule it exercises; the emulator models the same file
(see tests/integration/test_emulator_fidelity.py). The archiver's count, list, health and stats are
checked against an independent count: the entries this test created, and a plain `KalturaClient`
query written out by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from KalturaClient.Plugins.Core import KalturaFilterPager, KalturaMediaEntryFilter

from kaltura_archiver.archive_store import ArchiveStore
from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.listing import read_tsv, write_health, write_list
from kaltura_archiver.planning import Operation, filters_from_params, plan_entries
from kaltura_archiver.progress import CallCounter
from kaltura_archiver.selection import Selector
from kaltura_archiver.stats import StatsOptions, compute_stats
from kaltura_archiver.stats_source import SelectorStatsSource
from tests.fixtures.emulator import RunningEmulator, make_client
from tests.integration.selection_support import REF, entry_spec, make_api

pytestmark = pytest.mark.integration

KB = 1024
A, R = "archived_to_s3", "flavors_deleted"

# name -> (spec, counted by the archiver: a video the account owns, not a SYSTEM entry, not deleted)
ACCOUNT: dict[str, tuple[dict[str, Any], bool]] = {
    "plain": (entry_spec("plain", 5), True),
    "legacy": (entry_spec("legacy", 7, original_size=300 * KB), True),
    "recent": (entry_spec("recent", 0.2, played=0.1, plays=2), True),
    "tagged_mixed_case": (entry_spec("tagged_mixed_case", 5, tags=("Archived_To_S3", "Lecture")), True),
    "pending_moderation": (entry_spec("pending_moderation", 5, moderation_status=1), True),
    "rejected": (entry_spec("rejected", 5, moderation_status=3), True),
    "recycled": (entry_spec("recycled", 5, display_in_search=-2), True),
    "system": (entry_spec("system", 5, display_in_search=-1), False),
    "infected": (entry_spec("infected", 5, status="virusScan.Infected"), True),
    "scan_failure": (entry_spec("scan_failure", 5, status="virusScan.ScanFailure"), True),
    "pending": (entry_spec("pending", 5, status=4), True),
    "error_converting": (entry_spec("error_converting", 5, status=-1), True),
    "draft": (entry_spec("draft", 5, status=7, flavors=False), True),
    "deleted": (entry_spec("deleted", 5, status=3), False),
    "audio": (entry_spec("audio", 5, media_type=5), False),
}
COUNTED = {name for name, (_, counted) in ACCOUNT.items() if counted}


@pytest.fixture
def account(emulator: RunningEmulator) -> dict[str, str]:
    """The account above on a reset emulator with its strict defaults; name -> entry id."""
    ids = emulator.control.create_entries([spec for spec, _ in ACCOUNT.values()])
    return dict(zip(ACCOUNT, ids, strict=True))


def _plain_count(emulator: RunningEmulator, **fields: Any) -> int:
    """totalCount of one media.list written by hand with the plain KalturaClient."""
    client = make_client(emulator)
    flt = KalturaMediaEntryFilter()
    for key, value in fields.items():
        setattr(flt, key, value)
    return int(client.media.list(flt, KalturaFilterPager(pageSize=1)).totalCount)


def test_relative_time_would_empty_a_naive_count_but_not_the_archivers(
    emulator: RunningEmulator, account: dict[str, str]
) -> None:
    """alpha/apps/kaltura/lib/kTime.class.php: createdAtGreaterThanOrEqual=0 means "from now on"."""
    statuses = "-1,-2,0,1,2,4,7,virusScan.Infected,virusScan.ScanFailure"
    assert _plain_count(emulator, statusIn=statuses, mediaTypeEqual=1, createdAtGreaterThanOrEqual=0) == 0
    selector = Selector(make_api(emulator), ArchiverSettings())
    assert selector.count(EntryFilter(max_entries=-1), REF) == len(COUNTED)
    # a window reaching before 1980 is inside the relative range on its lower side
    assert selector.count(EntryFilter(created_within=60, max_entries=-1), REF) == len(COUNTED)


def test_count_list_health_and_stats_equal_an_independent_count(
    emulator: RunningEmulator, account: dict[str, str], s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    """api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php hides moderated and recycled entries
    from default lists: the archiver asks for them, so nothing the account owns goes missing."""
    client, bucket = s3_bucket
    settings = ArchiverSettings(bucket=bucket)
    counter = CallCounter()
    store = ArchiveStore(client, bucket, settings, calls=lambda op: counter.add(f"s3.{op}"))
    selector = Selector(make_api(emulator, counter), settings, inventory=store.inventory)
    by_hand = _plain_count(
        emulator,
        statusIn="-1,-2,0,1,2,4,7,virusScan.Infected,virusScan.ScanFailure",
        mediaTypeEqual=1,
        moderationStatusIn="1,2,3,4,5,6",
        displayInSearchIn="-2,0,1,2",
    )
    naive = _plain_count(emulator, statusIn="-1,-2,0,1,2,4,7", mediaTypeEqual=1)
    assert by_hand == len(COUNTED)
    assert naive == len(COUNTED) - 5  # moderated (2), recycled (1) and the virus-scan statuses (2) missing

    everything = EntryFilter(max_entries=-1)
    assert selector.count(everything, REF) == by_hand

    listed = write_list(selector, everything, REF, tmp_path / "list.tsv")
    rows = read_tsv((tmp_path / "list.tsv").read_text())
    assert listed.entries == len(rows) == by_hand
    name_of = {v: k for k, v in account.items()}
    assert {name_of[i] for i in rows["entry_id"]} == COUNTED
    hidden = dict(zip(rows["entry_id"].map(name_of), rows["hidden"].fillna(""), strict=True))
    assert hidden["pending_moderation"] == "pending_moderation" and hidden["rejected"] == "rejected"
    assert hidden["recycled"] == "recycled" and hidden["plain"] == ""
    statuses = dict(zip(rows["entry_id"].map(name_of), rows["status"], strict=True))
    assert statuses["infected"] == "INFECTED" and statuses["scan_failure"] == "SCAN_FAILURE"

    health = write_health(selector, everything, REF, tmp_path / "health.tsv")
    assert health.entries == by_hand
    # drafts and failed conversions the archiver never touched are reported, not failing the run;
    # the entry tagged "Archived_To_S3" is Kaltura's archived_to_s3 with no S3 object: unhealthy
    assert health.unhealthy_ids == [account["tagged_mixed_case"]]
    observed = read_tsv((tmp_path / "health.tsv").read_text())
    observed = observed[observed["verdict"] == "observed"]
    observed_names = {name_of[i] for i in observed["entry_id"]}
    assert "draft" in observed_names
    assert observed_names <= {"draft", "pending", "error_converting", "infected", "scan_failure"}

    source = SelectorStatsSource(selector, client, bucket)
    stats = compute_stats(source, settings, REF, StatsOptions(include_sizes=False))
    assert stats["total_entries"] == by_hand
    assert stats["archived_entries"] == 1  # "Archived_To_S3" is stored as archived_to_s3


def test_entry_ids_with_a_tag_go_in_chunks_kaltura_keeps(emulator: RunningEmulator) -> None:
    """plugins/search/providers/sphinx_search/lib/SphinxCriterion.php keeps 150 idIn values once the
    query has a text-match clause: 400 named entries with a tag filter must all be found."""
    ids = emulator.control.create_entries([entry_spec(f"t{i}", 4, tags=("lecture",)) for i in range(400)])
    counter = CallCounter()
    selector = Selector(make_api(emulator, counter), ArchiverSettings())
    flt = EntryFilter(entry_ids=tuple(ids), tags=("lecture",), max_entries=-1)
    found = [e.entry_id for e in selector.iter_entries(flt, REF)]
    assert sorted(found) == sorted(ids)
    assert counter.get("media.list") == 3  # 150 + 150 + 100
    assert selector.count(flt, REF) == 400


def test_restore_sees_a_play_before_kalturas_daily_sync(emulator: RunningEmulator) -> None:
    """alpha/scripts/kava/: plays reach list filters after the daily sync; media.get shows them now."""
    ids = emulator.control.create_entries(
        [
            entry_spec("played_placeholder", 6, tags=(A, R), original_size=40 * KB),
            entry_spec("idle_placeholder", 6, tags=(A, R), original_size=40 * KB),
        ]
    )
    emulator.control.play(ids[0])
    settings = ArchiverSettings()
    restore = filters_from_params(Operation.RESTORE, {"years": 1}, settings)

    def selected(live: bool) -> set[str]:
        selector = Selector(make_api(emulator), settings)
        selector.live_plays = live
        return {e.entry_id for f in restore for e in selector.iter_entries(f, REF, bounded=False)}

    assert selected(live=False) == set()  # what a list-only selection would see until tomorrow
    assert selected(live=True) == {ids[0]}
    emulator.control.sync_plays()
    assert selected(live=False) == {ids[0]}


def test_replace_does_not_select_an_entry_played_since_the_sync(emulator: RunningEmulator) -> None:
    """alpha/scripts/kava/: an archived entry played an hour ago still looks unplayed to list filters."""
    (entry_id,) = emulator.control.create_entries([entry_spec("archived", 6, tags=(A,))])
    emulator.control.play(entry_id)
    settings = ArchiverSettings()
    (replace,) = filters_from_params(Operation.REPLACE, {"years": 3}, settings)
    selector = Selector(make_api(emulator), settings)
    assert [e.entry_id for e in selector.iter_entries(replace, REF)] == [entry_id]
    selector.live_plays = True
    assert list(selector.iter_entries(replace, REF)) == []


def test_archive_plan_takes_ready_entries_only_by_default(
    emulator: RunningEmulator, account: dict[str, str], s3_bucket: tuple[Any, str]
) -> None:
    """api_v3/lib/types/enums/KalturaEntryStatus.php: infected, unscanned, pending and failed
    conversions are never archived unless the trigger names their status."""
    client, bucket = s3_bucket
    settings = ArchiverSettings(bucket=bucket)
    store = ArchiveStore(client, bucket, settings)
    selector = Selector(make_api(emulator), settings, inventory=store.inventory)
    name_of = {v: k for k, v in account.items()}

    def plan(params: dict[str, Any]) -> set[str]:
        filters = filters_from_params(Operation.ARCHIVE, params, settings)
        views = (
            (v.entry, v.original, v.s3)
            for f in filters
            for page in selector.iter_views(f, REF, bounded=False)
            for v in page
        )
        return {name_of[i] for i in plan_entries(Operation.ARCHIVE, views, settings, REF, -1).entry_ids}

    default = plan({"years": 3})
    assert default == {"plain", "legacy", "pending_moderation", "rejected", "recycled"}
    named = plan({"unplayed_for": 3, "status": [2, -1]})
    assert "error_converting" in named and "infected" not in named


def test_seeded_account_counts_equal_a_plain_client_count(emulator: RunningEmulator) -> None:
    """The generated account (legacy flavors, moderated, recycled and virus-scanned entries among
    them): the archiver's counts per criterion equal hand-written plain-client counts."""
    emulator.control.seed(3000, seed=7)
    selector = Selector(make_api(emulator), ArchiverSettings())
    every = "-1,-2,0,1,2,4,7,virusScan.Infected,virusScan.ScanFailure"
    hidden_too = {"moderationStatusIn": "1,2,3,4,5,6", "displayInSearchIn": "-2,0,1,2"}
    for media_type, name in ((1, "video"), (5, "audio")):
        by_hand = _plain_count(emulator, statusIn=every, mediaTypeEqual=media_type, **hidden_too)
        assert selector.count(EntryFilter(media_type=name, max_entries=-1), REF) == by_hand > 0
    naive = _plain_count(emulator, statusIn="-1,-2,0,1,2,4,7", mediaTypeEqual=1)
    assert naive < selector.count(EntryFilter(max_entries=-1), REF)  # the seed hides some from lists
    ready = _plain_count(emulator, statusIn="2", mediaTypeEqual=1, **hidden_too)
    assert selector.count(EntryFilter(status=(2,), max_entries=-1), REF) == ready
    walked = sum(1 for _ in selector.iter_entries(EntryFilter(status=(2,), max_entries=-1), REF))
    assert walked == ready
