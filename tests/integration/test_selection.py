"""Selection against the Kaltura emulator: every criterion, the seed's combinations, tag traps, paging."""

from __future__ import annotations

import pytest

from kaltura_archiver.config import ArchiverSettings
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.selection import Selector
from tests.fixtures.emulator import RunningEmulator
from tests.integration.selection_support import REF, entry_spec, make_api

pytestmark = pytest.mark.integration

ACCOUNT = [
    entry_spec("old_never", 5),
    entry_spec("old_played_long", 6, played=4, plays=3),
    entry_spec("old_played_recent", 6, played=0.5, plays=10),
    entry_spec("mid_never", 2.5),
    entry_spec("c35_never", 3.5),
    entry_spec("new_played", 0.5, played=0.1, plays=1),
    entry_spec("archived", 5, played=4, plays=2, tags=("archived_to_s3",)),
    entry_spec("archived_old_tag", 5, tags=("archived_to_s3_old",)),
    entry_spec("archive_tag", 5, tags=("archive", "lecture")),
    entry_spec("archived_word", 5, tags=("archived",)),
    entry_spec("replaced", 7, played=0.5, plays=5, tags=("archived_to_s3", "flavors_deleted")),
    entry_spec("played_2_5", 6, played=2.5, plays=4),
    entry_spec("converting", 5, status=1),
    entry_spec("error", 5, status=-2),
    entry_spec("deleted", 5, status=3),
    entry_spec("audio", 5, media_type=5),
    entry_spec("in_cat", 5, categories=(77, 5)),
]


@pytest.fixture(scope="module")
def account(kaltura_emulator: RunningEmulator) -> dict[str, str]:
    """The small account above, seeded once for the module; name -> entry id."""
    kaltura_emulator.control.reset()
    ids = kaltura_emulator.control.create_entries(ACCOUNT)
    return {spec["name"]: entry_id for spec, entry_id in zip(ACCOUNT, ids, strict=True)}


@pytest.fixture
def selector(kaltura_emulator: RunningEmulator, account: dict[str, str]) -> Selector:
    return Selector(make_api(kaltura_emulator), ArchiverSettings())


def names(selector: Selector, account: dict[str, str], flt: EntryFilter) -> set[str]:
    by_id = {v: k for k, v in account.items()}
    found = [by_id[e.entry_id] for e in selector.iter_entries(flt, REF)]
    assert len(found) == len(set(found)), "an entry was returned twice"
    assert selector.count(flt, REF) == len(found)
    return set(found)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # archive script: unplayed / never played for 3 years and not yet archived
        (
            {"unplayed_for": 3, "tag": "!archived_to_s3"},
            {
                "old_never",
                "old_played_long",
                "c35_never",
                "archived_old_tag",
                "archive_tag",
                "archived_word",
                "converting",
                "error",
                "in_cat",
            },
        ),
        # restore script: replaced entries played within a year
        ({"played_within": 1, "tag": "flavors_deleted"}, {"replaced"}),
        # played between 2 and 3 years ago
        ({"played_within": 3, "unplayed_for": 2}, {"played_2_5"}),
        # not READY
        ({"status": [1, -2, 0, 7, 4]}, {"converting", "error"}),
        # created 3-4 years ago, never played (the seed's list example)
        ({"created_before": 3, "created_within": 4, "plays": 0}, {"c35_never"}),
        ({"created_before": 6.5}, {"replaced"}),
        ({"created_within": 1}, {"new_played"}),
        # every entry created 5.5+ years ago was played 3 times or more
        ({"plays": 3, "created_before": 5.5}, set()),
        ({"category": 77}, {"in_cat"}),
        ({"media_type": "audio"}, {"audio"}),
        ({"played_within": 1}, {"old_played_recent", "new_played", "replaced"}),
    ],
)
def test_criteria_and_combinations(selector: Selector, account: dict[str, str], params, expected) -> None:
    flt = EntryFilter.from_params({**params, "max_entries": -1})
    assert names(selector, account, flt) == expected


def test_plays_fewer_than(selector: Selector, account: dict[str, str]) -> None:
    flt = EntryFilter(plays=3, created_within=5.5, max_entries=-1)
    # created less than 5.5 years ago with fewer than 3 plays
    assert names(selector, account, flt) == {
        "old_never",
        "mid_never",
        "c35_never",
        "new_played",
        "archived",
        "archived_old_tag",
        "archive_tag",
        "archived_word",
        "converting",
        "error",
        "in_cat",
    }


def test_tag_traps(selector: Selector, account: dict[str, str]) -> None:
    assert names(selector, account, EntryFilter(tags=("archived_to_s3",))) == {"archived", "replaced"}
    assert names(selector, account, EntryFilter(tags=("archive",))) == {"archive_tag"}
    assert names(selector, account, EntryFilter(tags=("archived",))) == {"archived_word"}
    assert names(selector, account, EntryFilter(tags=("archive", "lecture"))) == {"archive_tag"}
    not_replaced = names(selector, account, EntryFilter(tags=("!flavors_deleted",), max_entries=-1))
    assert "replaced" not in not_replaced and "archived" in not_replaced


def test_entry_id_list(selector: Selector, account: dict[str, str]) -> None:
    ids = [account["old_never"], account["audio"], account["deleted"], account["replaced"], "0_zzzzzzzz"]
    assert names(selector, account, EntryFilter(entry_ids=tuple(ids))) == {"old_never", "replaced"}
    flt = EntryFilter(entry_ids=tuple(ids), unplayed_for=3)
    assert names(selector, account, flt) == {"old_never"}


def test_never_played_entries(selector: Selector, account: dict[str, str]) -> None:
    never = names(selector, account, EntryFilter(unplayed_for=4.5, plays=1, max_entries=-1))
    assert never == {
        "old_never",
        "archived_old_tag",
        "archive_tag",
        "archived_word",
        "converting",
        "error",
        "in_cat",
    }
    assert "mid_never" not in names(selector, account, EntryFilter(unplayed_for=3, max_entries=-1))
    assert not {"old_never", "mid_never"} & names(selector, account, EntryFilter(played_within=50))


def test_paging_first_page_and_max_entries(selector: Selector, account: dict[str, str]) -> None:
    everything = [e.entry_id for e in selector.iter_entries(EntryFilter(max_entries=-1), REF)]
    created = [e.created_epoch for e in selector.iter_entries(EntryFilter(max_entries=-1), REF)]
    assert created == sorted(created)
    page = [
        e.entry_id for e in selector.iter_entries(EntryFilter(first_page=2, page_size=3, max_entries=4), REF)
    ]
    assert page == everything[3:7]
    assert selector.count(EntryFilter(max_entries=1), REF) == len(everything)


def test_media_get_and_missing_entry(kaltura_emulator: RunningEmulator, account: dict[str, str]) -> None:
    api = make_api(kaltura_emulator)
    entry = api.get_entry(account["archive_tag"])
    assert entry is not None and entry.tags == ("archive", "lecture") and entry.has_tag("archive")
    assert entry.creator_id == "archive_tag@example.edu" and entry.last_played_at is None
    assert api.get_entry("0_nothere0") is None
    info = api.session_info()
    assert info["partner_id"] == kaltura_emulator.partner_id and kaltura_emulator.admin_secret not in str(
        info
    )
