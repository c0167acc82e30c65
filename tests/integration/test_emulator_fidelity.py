"""The emulator behaves like kaltura/server where a client can trip: each test names the server source.

Paths in docstrings are relative to the kaltura/server repository.
"""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaClientException
from KalturaClient.Plugins.Core import (
    KalturaEntryStatus,
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaMediaEntry,
    KalturaMediaEntryFilter,
    KalturaSessionType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenFilter,
    KalturaUploadTokenOrderBy,
    KalturaUploadTokenStatus,
)
from KalturaClient.Plugins.ElasticSearch import (
    KalturaESearchEntryParams,
    KalturaESearchItemType,
    KalturaESearchOperatorType,
)

from dev.kaltura_emulator.control import EmulatorControl
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
from tests.integration.test_emulator_api import entry, error_code, item, operator, search

pytestmark = pytest.mark.integration
DAY = 86400
YEAR = 365 * DAY
AND = KalturaESearchOperatorType.AND_OP
RANGE = KalturaESearchItemType.RANGE
EXACT = KalturaESearchItemType.EXACT_MATCH


def listed(client: KalturaClient, **fields: Any) -> list[str]:
    """Ids media.list returns for a KalturaMediaEntryFilter with these fields (one page of 500)."""
    flt = KalturaMediaEntryFilter()
    for key, value in fields.items():
        setattr(flt, key, value)
    return [e.id for e in client.media.list(flt, KalturaFilterPager(500)).objects]


def noon_today() -> float:
    """Set-clock target: 12:00 UTC of the current UTC day (far from the midnight plays sync)."""
    return (time.time() // DAY) * DAY + DAY / 2


def client_with_privileges(
    emulator: RunningEmulator, privileges: str, user: str = "archiver"
) -> KalturaClient:
    """An admin client whose KS carries extra privileges."""
    client = KalturaClient(KalturaConfiguration(emulator.url))
    ks = client.session.start(
        emulator.admin_secret, user, KalturaSessionType.ADMIN, emulator.partner_id, 86400, privileges
    )
    client.setKs(ks)
    return client


def flavors(client: KalturaClient, entry_id: str) -> list[Any]:
    """flavorAsset.list of one entry."""
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = entry_id
    return list(client.flavorAsset.list(flt, KalturaFilterPager(500)).objects)


def upload(client: KalturaClient, data: bytes, name: str = "video.mp4", token_name: str | None = None) -> str:
    """Upload bytes in one chunk; returns the token id."""
    token = client.uploadToken.add(
        KalturaUploadToken(fileName=token_name if token_name is not None else name)
    )
    client.uploadToken.upload(token.id, named_file(data, name), False, True)
    return str(token.id)


def status(value: Any) -> str:
    """An entry status as the client reads it (a string enum)."""
    return str(value.getValue())


# 1. relative time


def test_time_filters_are_relative_within_ten_years(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/kTime.class.php (getRelativeTime), configurations/base.ini
    (max_relative_time = 315360000) and api_v3/lib/KalturaRequestDeserializer.php (castSimpleType
    "time"): |value| <= 10 years is now + value, -1 stays -1, 0 means now."""
    now = time.time()
    emulator.control.create_entries(
        [
            entry("0_day2", created_at=now - 2 * DAY, last_played_at=now - 2 * DAY, plays=1),
            entry("0_day10", created_at=now - 10 * DAY),
            entry("0_day400", created_at=now - 400 * DAY, last_played_at=now - 300 * DAY, plays=1),
        ]
    )
    client = make_client(emulator)
    assert listed(client, createdAtGreaterThanOrEqual=-5 * DAY) == ["0_day2"]
    assert set(listed(client, createdAtGreaterThanOrEqual=-30 * DAY)) == {"0_day2", "0_day10"}
    assert listed(client, createdAtGreaterThanOrEqual=0) == []
    assert len(listed(client, createdAtLessThanOrEqual=0)) == 3
    assert len(listed(client, createdAtGreaterThanOrEqual=-1)) == 3
    assert listed(client, createdAtLessThanOrEqual=-365 * DAY) == ["0_day400"]
    assert listed(client, updatedAtLessThanOrEqual=-365 * DAY) == ["0_day400"]
    assert listed(client, lastPlayedAtGreaterThanOrEqual=-7 * DAY) == ["0_day2"]
    assert set(listed(client, lastPlayedAtLessThanOrEqualOrNull=-30 * DAY)) == {"0_day10", "0_day400"}
    assert listed(client, lastPlayedAtLessThanOrEqual=-30 * DAY) == ["0_day400"]
    absolute = int(now - 5 * DAY)
    assert listed(client, createdAtGreaterThanOrEqual=absolute) == ["0_day2"]


def test_relative_time_follows_ks_reference_time_and_partner_setting(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/kTime.class.php: getTime() takes the KS privilege `reftime`
    (alpha/apps/kaltura/lib/request/kSessionBase.class.php PRIVILEGE_REFERENCE_TIME); partners in
    disable_relative_time_partners get absolute values (emulator setting relative_time)."""
    now = time.time()
    emulator.control.create_entries(
        [entry("0_new", created_at=now - 2 * DAY), entry("0_old", created_at=now - 100 * DAY)]
    )
    past = int(now - 90 * DAY)
    client = client_with_privileges(emulator, f"disableentitlement,reftime:{past}")
    assert set(listed(client, createdAtGreaterThanOrEqual=-20 * DAY)) == {"0_new", "0_old"}
    assert listed(client, createdAtLessThanOrEqual=0) == ["0_old"]
    emulator.control.set_relative_time(False)
    plain = make_client(emulator)
    assert set(listed(plain, createdAtGreaterThanOrEqual=-5 * DAY)) == {"0_new", "0_old"}
    assert listed(plain, createdAtLessThanOrEqual=0) == []


def test_esearch_ranges_are_absolute(emulator: RunningEmulator) -> None:
    """plugins/search/providers/elastic_search/lib/api/types/KalturaESearchRange.php declares the bounds
    `int`, not `time`, so kTime::getRelativeTime does not apply: 0 is 1970, -86400 is before it."""
    now = time.time()
    emulator.control.create_entries([entry("0_es", created_at=now - 2 * DAY)])
    client = make_client(emulator)
    assert search(client, operator(AND, item("created_at", RANGE, lessThanOrEqual=0))) == (0, [])
    assert search(client, operator(AND, item("created_at", RANGE, greaterThanOrEqual=-5 * DAY))) == (
        1,
        ["0_es"],
    )
    assert search(client, operator(AND, item("created_at", RANGE, greaterThanOrEqual=int(now - DAY)))) == (
        0,
        [],
    )


# 2. idIn limits


def test_id_in_keeps_500_or_150_with_a_text_match(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/model/objectfilters/filters.class.php (createSqlIn: first 500 values) when
    plugins/search/providers/sphinx_search/lib/SphinxCriteria.php skips Sphinx (shouldSkipSphinx: id IN
    and peer columns only); with a match clause (tags, categories, name) the query goes to Sphinx, whose
    SphinxCriterion.php getNonStringClause sorts the crc32 `int_entry_id` values of those 500 and keeps
    MAX_IN_VALUES = 150 of them."""
    ids = [f"0_in{i:04d}" for i in range(600)]
    emulator.control.create_entries([entry(e, tags="lecture", categories=[7], flavors=False) for e in ids])
    client = make_client(emulator)
    flt = KalturaMediaEntryFilter()
    flt.idIn = ",".join(ids)
    assert client.media.list(flt, KalturaFilterPager(500)).totalCount == 500
    assert set(listed(client, idIn=",".join(ids))) == set(ids[:500])
    smallest = set(sorted(ids[:500], key=lambda v: zlib.crc32(v.encode()))[:150])
    for extra in ({"tagsMultiLikeOr": "lecture"}, {"categoriesIdsMatchOr": "7"}, {"nameLike": "entry"}):
        flt = KalturaMediaEntryFilter()
        flt.idIn = ",".join(ids)
        for key, value in extra.items():
            setattr(flt, key, value)
        response = client.media.list(flt, KalturaFilterPager(500))
        assert response.totalCount == 150, extra
        assert {e.id for e in response.objects} == smallest, extra
    assert len(listed(client, idIn=",".join(ids[:150]), tagsMultiLikeOr="lecture")) == 150
    assert len(listed(client, idIn=",".join(ids[:200]), orderBy="+name")) == 150
    assert len(listed(client, idIn=",".join(ids[:200]), orderBy="+createdAt")) == 200


# 3. default list filters


def test_base_entry_filter_hides_moderated_recycled_and_system_entries(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php (prepareEntriesCriteriaFilter): without
    idEqual, moderation PENDING (1) and REJECTED (3) are hidden unless a moderationStatus filter is set,
    and display_in_search RECYCLED (-2) and SYSTEM (-1) unless idIn, parentEntryIdEqual or a
    displayInSearch filter is set. eSearch (plugins/search/providers/elastic_search/lib/model/search/
    kEntrySearch.php, ESearchEntryQueryFilterAttributes.php) hides only RECYCLED and SYSTEM."""
    emulator.control.create_entries(
        [
            entry("0_plain"),
            entry("0_pending", moderation_status=1),
            entry("0_rejected", moderation_status=3),
            entry("0_flagged", moderation_status=5),
            entry("0_recycled", display_in_search=-2),
            entry("0_system", display_in_search=-1),
            entry("0_none", display_in_search=0),
        ]
    )
    client = make_client(emulator)
    assert set(listed(client)) == {"0_plain", "0_flagged", "0_none"}
    assert set(listed(client, moderationStatusIn="1,3")) == {"0_pending", "0_rejected"}
    assert set(listed(client, idIn="0_pending,0_recycled,0_system,0_plain")) == {
        "0_recycled",
        "0_system",
        "0_plain",
    }
    assert set(listed(client, displayInSearchIn="-2,-1")) == {"0_recycled", "0_system"}
    assert listed(client, idEqual="0_pending") == ["0_pending"]
    assert listed(client, idEqual="0_recycled") == ["0_recycled"]
    got = client.media.get("0_pending")
    assert got.moderationStatus.getValue() == 1 and got.displayInSearch.getValue() == 1
    assert client.media.get("0_recycled").displayInSearch.getValue() == -2
    everything = operator(AND, item("plays", RANGE, greaterThanOrEqual=0))
    _, ids = search(client, everything)
    assert set(ids) == {"0_plain", "0_pending", "0_rejected", "0_flagged", "0_none"}
    params = KalturaESearchEntryParams()
    params.searchOperator = everything
    params.objectId = "0_recycled"
    found = client.elasticSearch.eSearch.searchEntry(params, KalturaFilterPager(10))
    assert [r.object.id for r in found.objects] == ["0_recycled"]
    emulator.control.set_entry_fields("0_plain", display_in_search=-2)
    assert "0_plain" not in listed(client)


# 4. plays sync


def test_plays_reach_lists_and_esearch_after_the_daily_sync(emulator: RunningEmulator) -> None:
    """alpha/scripts/kava/kava_plays_views_sync.sh and updateEntryPlaysViews.php: plays, views and
    lastPlayedAt reach the entry table, Sphinx and Elasticsearch once a day; media.get reads the live
    values (alpha/lib/model/entry.php getPlays from the plays/views cache). The emulator syncs on
    sync_plays and when its clock passes a UTC midnight."""
    emulator.control.set_clock_offset(noon_today() - time.time())
    old = time.time() - 5 * YEAR
    emulator.control.create_entries([entry("0_quiet", created_at=old), entry("0_other", created_at=old)])
    client = make_client(emulator)
    recent = int(time.time() - 30 * DAY)
    played_search = operator(AND, item("last_played_at", RANGE, greaterThanOrEqual=recent))
    emulator.control.play("0_quiet")
    got = client.media.get("0_quiet")
    assert got.plays == 1 and got.lastPlayedAt is not None and got.lastPlayedAt >= recent
    assert listed(client, lastPlayedAtGreaterThanOrEqual=recent) == []
    assert search(client, played_search) == (0, [])
    assert search(client, operator(AND, item("plays", RANGE, greaterThanOrEqual=1))) == (0, [])
    in_list = next(e for e in client.media.list().objects if e.id == "0_quiet")
    assert in_list.plays == 0 and in_list.lastPlayedAt is None
    assert emulator.control.sync_plays() == 1
    assert listed(client, lastPlayedAtGreaterThanOrEqual=recent) == ["0_quiet"]
    assert search(client, played_search) == (1, ["0_quiet"])
    in_list = next(e for e in client.media.list().objects if e.id == "0_quiet")
    assert in_list.plays == 1 and in_list.lastPlayedAt == got.lastPlayedAt
    emulator.control.play("0_other")
    emulator.control.set_clock_offset(noon_today() - time.time() + 6 * 3600)
    assert listed(client, lastPlayedAtGreaterThanOrEqual=recent) == ["0_quiet"]
    emulator.control.set_clock_offset(noon_today() - time.time() + 13 * 3600)
    client = make_client(emulator)
    assert set(listed(client, lastPlayedAtGreaterThanOrEqual=recent)) == {"0_quiet", "0_other"}


# 5. sizeInBytes


def test_flavors_before_2020_08_report_size_in_bytes_zero(emulator: RunningEmulator) -> None:
    """alpha/lib/model/asset.php: getSizeInBytes reads custom data added in August 2020 (default 0), so
    older flavors report only `size` (KB) unless backfilled (alpha/scripts/utils/
    updateFlavorAssetSizeInBytes.php); flavors written later (a new source) have it."""
    emulator.control.set_conversion_seconds(0)
    old, new = 1_500_000_000, 1_650_000_000
    emulator.control.create_entries(
        [
            entry("0_legacy", created_at=old, original_size=5_000_000),
            entry("0_backfilled", created_at=old, original_size=5_000_000, legacy_size=False),
            entry("0_recent", created_at=new, original_size=5_000_000),
        ]
    )
    client = make_client(emulator)
    legacy = flavors(client, "0_legacy")
    assert legacy and all(f.sizeInBytes == 0 and f.size > 0 for f in legacy)
    source = next(f for f in legacy if f.isOriginal)
    assert abs(source.size * 1024 - 5_000_000) / 5_000_000 < 0.011
    assert next(f for f in flavors(client, "0_backfilled") if f.isOriginal).sizeInBytes == 5_000_000
    assert next(f for f in flavors(client, "0_recent") if f.isOriginal).sizeInBytes == 5_000_000
    for flavor in legacy:
        client.flavorAsset.delete(flavor.id)
    data = mp4_bytes(70_000)
    client.media.addContent("0_legacy", KalturaUploadedFileTokenResource(token=upload(client, data)))
    fresh = [f for f in flavors(client, "0_legacy") if f.status.getValue() == 2]
    assert next(f for f in fresh if f.isOriginal).sizeInBytes == len(data)


def test_seeded_accounts_have_legacy_entries_and_not_applicable_flavors() -> None:
    """alpha/lib/model/asset.php (sizeInBytes since 2020-08) and alpha/lib/model/asset.php
    FLAVOR_ASSET_STATUS_NOT_APPLICABLE: the account generator makes a quarter of the pre-2020-08
    entries legacy and gives some videos a NOT_APPLICABLE 720p flavor."""
    entries = generate_account(4000, seed=3, now=1_750_000_000)
    old = [e for e in entries if e["created_at"] < 1_596_240_000]
    share = sum(1 for e in old if e["legacy_size"]) / len(old)
    assert 0.2 < share < 0.3
    assert not any(e["legacy_size"] for e in entries if e["created_at"] >= 1_596_240_000)
    hd_na = [e for e in entries if e.get("derived_statuses")]
    assert 0.1 < len(hd_na) / sum(1 for e in entries if e["media_type"] == 1) < 0.2


# 6. tags


def test_tags_are_normalised_like_ktagword(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/model/ktagword.class.php tagsListFromParagraph (called by entry::setTags,
    alpha/lib/model/entry.php): split on ",", trimmed, lower-cased, tags under 2 bytes dropped, cut to
    MAXIMUM_TAG_LENGTH = 100 bytes on a character boundary, duplicates dropped, joined with ", ". A null
    tags value changes nothing; "" clears them."""
    long_tag = "a" * 150
    accented = "é" * 60  # 120 bytes: cut to 50 characters (100 bytes)
    emulator.control.create_entries([entry("0_tags", tags=[" Lecture ", "LECTURE", "x", "Fall 2020"])])
    client = make_client(emulator)
    assert client.media.get("0_tags").tags == "lecture, fall 2020"
    update = KalturaMediaEntry()
    update.tags = f" Archived_To_S3 ,a,, ARCHIVED_to_s3,\tZoom\n, {long_tag}, {accented}, é"
    updated = client.media.update("0_tags", update)
    expected = ["archived_to_s3", "zoom", "a" * 100, "é" * 50, "é"]
    assert updated.tags == ", ".join(expected)
    assert emulator.control.entry("0_tags")["tags"] == expected
    _, ids = search(client, operator(AND, item("tags", EXACT, "zoom")))
    assert ids == ["0_tags"]
    nulled = KalturaMediaEntry()
    nulled.tags = None
    client.media.update("0_tags", nulled)
    assert client.media.get("0_tags").tags == ", ".join(expected)
    cleared = KalturaMediaEntry()
    cleared.tags = ""
    assert client.media.update("0_tags", cleared).tags == ""


# 7. flavorAsset.list needs entry ids


def test_flavor_list_requires_entry_ids(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/conversionProfile/filters/KalturaAssetFilter.php (validateEntryIdsFiltered):
    without entryIdEqual or entryIdIn the call fails with PROPERTY_VALIDATION_CANNOT_BE_NULL naming both
    properties; unknown and deleted entries are dropped
    (alpha/lib/model/entryPeer.php filterEntriesByPartnerOrKalturaNetwork)."""
    emulator.control.create_entries([entry("0_f1"), entry("0_gone", status=3)])
    client = make_client(emulator)
    with pytest.raises(Exception) as info:
        client.flavorAsset.list()
    assert getattr(info.value, "code", None) == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    expected = "KalturaFlavorAssetFilter::entryIdEqual/KalturaFlavorAssetFilter::entryIdIn"
    assert info.value.message == f'The property "{expected}" cannot be null'  # type: ignore[attr-defined]
    only_ids = KalturaFlavorAssetFilter()
    only_ids.idIn = ",".join(f.id for f in flavors(client, "0_f1"))
    assert error_code(client.flavorAsset.list, only_ids) == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    flt = KalturaFlavorAssetFilter()
    flt.entryIdIn = "0_nope,0_gone"
    empty = client.flavorAsset.list(flt)
    assert empty.totalCount == 0 and empty.objects == []
    flt.entryIdIn = "0_nope,0_f1"
    assert {f.entryId for f in client.flavorAsset.list(flt).objects} == {"0_f1"}


# 8. uploads


def test_upload_file_type_restriction(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/myUploadUtils.class.php (isFileTypeRestricted: content type in
    configurations/base.ini [file_type] and extension in file_extensions_whitelist), checked on the final
    chunk by alpha/apps/kaltura/lib/kUploadTokenMgr.php; api_v3/services/UploadTokenService.php answers
    UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD and kFlowHelper::handleUploadFailed deletes the token."""
    client = make_client(emulator)
    random_bytes = hashlib.sha512(b"not a video").digest() * 100
    for data, name in (
        (random_bytes, "video.mp4"),
        (mp4_bytes(4000), "video.exe"),
        (b"MZ" + random_bytes, "a.mp4"),
    ):
        token = client.uploadToken.add(KalturaUploadToken(fileName=name))
        code = error_code(client.uploadToken.upload, token.id, named_file(data, name))
        assert code == "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD", name
        assert error_code(client.uploadToken.get, token.id) == "UPLOAD_TOKEN_NOT_FOUND"
    partial = client.uploadToken.add(KalturaUploadToken(fileName="video.mp4"))
    first = client.uploadToken.upload(partial.id, named_file(random_bytes, "video.mp4"), False, False)
    assert first.status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    for data, name in ((mp4_bytes(4000), "clip.MOV"), (b"ID3" + random_bytes, "talk.mp3")):
        assert client.uploadToken.get(upload(client, data, name)).status.getValue() == 2
    emulator.control.set_file_type_restriction(True, whitelist=None)
    assert client.uploadToken.get(upload(client, mp4_bytes(4000), "video.exe")).status.getValue() == 2
    emulator.control.set_file_type_restriction(False)
    unchecked = upload(client, random_bytes, "video.bin")
    assert client.uploadToken.get(unchecked).status.getValue() == 2
    emulator.control.set_file_type_restriction(True)
    emulator.control.create_entries([entry("0_unsafe", status=7)])
    resource = KalturaUploadedFileTokenResource(token=unchecked)
    assert error_code(client.media.addContent, "0_unsafe", resource) == "FILE_CONTENT_NOT_SECURE"
    assert status(client.media.get("0_unsafe").status) == KalturaEntryStatus.NO_CONTENT


def test_upload_extension_becomes_the_source_flavor_ext(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/kUploadTokenMgr.php (handleMoveFile, getUploadPath: the uploaded part's
    extension, else the token fileName's, else "noex") and api_v3/lib/KalturaEntryService.php (attachFile:
    the source flavor's fileExt is that extension)."""
    emulator.control.set_conversion_seconds(0)
    emulator.control.create_entries([entry(f"0_ext{i}", status=7) for i in range(3)])
    client = make_client(emulator)
    cases = (("0_ext0", "part.MOV", "orig.mp4", "mov"), ("0_ext1", "blob", "lecture.webm", "webm"))
    for entry_id, part, token_name, ext in cases:
        token = upload(client, mp4_bytes(3000), part, token_name)
        client.media.addContent(entry_id, KalturaUploadedFileTokenResource(token=token))
        assert next(f for f in flavors(client, entry_id) if f.isOriginal).fileExt == ext
    emulator.control.set_file_type_restriction(True, whitelist=None)
    token = upload(client, mp4_bytes(3000), "blob", "")
    client.media.addContent("0_ext2", KalturaUploadedFileTokenResource(token=token))
    assert next(f for f in flavors(client, "0_ext2") if f.isOriginal).fileExt == "noex"


def test_upload_part_without_file_name_is_refused(emulator: RunningEmulator) -> None:
    """api_v3/lib/KalturaRequestDeserializer.php (validateFile): a multipart part without a filename is a
    plain form field to PHP, not an uploaded file, so the call fails with UPLOAD_ERROR. The Kaltura client
    sends a BytesIO that has no `name` attribute that way."""
    client = make_client(emulator)
    token = client.uploadToken.add(KalturaUploadToken(fileName="video.mp4"))
    assert error_code(client.uploadToken.upload, token.id, io.BytesIO(mp4_bytes(2000))) == "UPLOAD_ERROR"
    assert client.uploadToken.get(token.id).status.getValue() == KalturaUploadTokenStatus.PENDING


def test_file_size_is_only_checked_with_auto_finalize(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/KalturaUploadToken.php (validateForInsert: autoFinalize needs fileSize) and
    alpha/apps/kaltura/lib/kUploadTokenMgr.php (a single-chunk upload is not compared with fileSize)."""
    client = make_client(emulator)
    code = error_code(client.uploadToken.add, KalturaUploadToken(fileName="a.mp4", autoFinalize=1))
    assert code == "UPLOAD_TOKEN_MISSING_FILE_SIZE"
    token = client.uploadToken.add(KalturaUploadToken(fileName="a.mp4", fileSize=10_000))
    done = client.uploadToken.upload(token.id, named_file(mp4_bytes(3000)), False, True)
    assert done.status.getValue() == KalturaUploadTokenStatus.FULL_UPLOAD and done.uploadedFileSize == 3000
    auto = client.uploadToken.add(KalturaUploadToken(fileName="b.mp4", fileSize=3000, autoFinalize=1))
    finished = client.uploadToken.upload(auto.id, named_file(mp4_bytes(3000)), False, False)
    assert finished.status.getValue() == KalturaUploadTokenStatus.FULL_UPLOAD


class ShortFileTimeoutClient(KalturaClient):  # type: ignore[misc]
    """The real client with a shorter timeout for file uploads (its own is a fixed 10 s)."""

    file_timeout = 1.0

    def doHttpRequest(self, url: str, params: Any = None, files: Any = None) -> bytes:  # noqa: N802
        """KalturaClient.doHttpRequest without its retries, with file_timeout for uploads."""
        timeout = self.file_timeout if files else self.config.requestTimeout
        response = self.openRequestUrl(url, params, files, self.requestHeaders, timeout)
        self.responseHeaders = response.headers
        return bytes(self.readHttpResponse(response))


def final_chunk_outlives_the_client(emulator: RunningEmulator, client: KalturaClient, seconds: float) -> None:
    """Upload two chunks; the final one outlasts the client's timeout, yet the token ends FULL."""
    emulator.control.set_final_chunk_seconds(seconds)
    emulator.control.create_entries([entry("0_slow", status=7)])
    data = mp4_bytes(200_000)
    token = client.uploadToken.add(KalturaUploadToken(fileName="slow.mp4", fileSize=len(data)))
    client.uploadToken.upload(token.id, named_file(data[:100_000]), False, False)
    started = time.monotonic()
    with pytest.raises(KalturaClientException):
        client.uploadToken.upload(token.id, named_file(data[100_000:]), True, True, 100_000)
    assert client.uploadToken.get(token.id).status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    while client.uploadToken.get(token.id).status.getValue() != KalturaUploadTokenStatus.FULL_UPLOAD:
        assert time.monotonic() - started < seconds + 10
        time.sleep(0.2)
    assert time.monotonic() - started >= seconds - 0.5
    client.media.addContent("0_slow", KalturaUploadedFileTokenResource(token=token.id))
    assert client.uploadToken.get(token.id).status.getValue() == KalturaUploadTokenStatus.CLOSED
    assert emulator.control.entry("0_slow")["original_sha256"] == hashlib.sha256(data).hexdigest()


def test_final_chunk_keeps_processing_after_the_client_times_out(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/kUploadTokenMgr.php (handleResume: the final chunk appends the parked chunks
    for up to upload_final_chunk_max_append_time = 45 s; the request runs on after the client gave up):
    setting final_chunk_seconds, here 2.5 s against a client that waits 1 s."""
    client = ShortFileTimeoutClient(KalturaConfiguration(emulator.url))
    client.setKs(make_client(emulator).getKs())
    final_chunk_outlives_the_client(emulator, client, 2.5)


@pytest.mark.slow
def test_final_chunk_of_12_seconds_outlives_the_stock_client(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/kUploadTokenMgr.php (handleResume): 12 s of concatenation against the stock
    KalturaClient's fixed 10 s upload timeout."""
    final_chunk_outlives_the_client(emulator, make_client(emulator), 12.0)


def test_add_content_with_a_token_still_uploading(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/resource/KalturaUploadedFileTokenResource.php (toObject: a token not FULL makes a
    resource that is not ready), api_v3/lib/KalturaEntryService.php (attachLocalFileResource: entry IMPORT,
    source flavor IMPORTING, token attached) and alpha/apps/kaltura/lib/batch2/kFlowHelper.php
    (handleUploadFinished: the final chunk brings the file in, the token is CLOSED, conversion starts)."""
    emulator.control.set_conversion_seconds(0.5)
    emulator.control.create_entries([entry("0_early", status=7)])
    client = make_client(emulator)
    data = mp4_bytes(150_000)
    token = client.uploadToken.add(KalturaUploadToken(fileName="early.mov"))
    client.uploadToken.upload(token.id, named_file(data[:100_000], "early.mov"), False, False)
    added = client.media.addContent("0_early", KalturaUploadedFileTokenResource(token=token.id))
    assert status(added.status) == KalturaEntryStatus.IMPORT
    source = next(f for f in flavors(client, "0_early") if f.isOriginal)
    assert source.status.getValue() == 7
    attached = client.uploadToken.get(token.id)
    assert attached.attachedObjectType == "flavorAsset" and attached.attachedObjectId == source.id
    client.uploadToken.upload(token.id, named_file(data[100_000:], "early.mov"), True, True, 100_000)
    assert client.uploadToken.get(token.id).status.getValue() == KalturaUploadTokenStatus.CLOSED
    assert status(client.media.get("0_early").status) == KalturaEntryStatus.PRECONVERT
    time.sleep(0.6)
    assert status(client.media.get("0_early").status) == KalturaEntryStatus.READY
    state = emulator.control.entry("0_early")
    assert state["original_sha256"] == hashlib.sha256(data).hexdigest()
    assert next(f for f in state["flavors"] if f["is_original"])["file_ext"] == "mov"
    emulator.control.create_entries([entry("0_reused", status=7)])
    again = client.media.addContent("0_reused", KalturaUploadedFileTokenResource(token=token.id))
    assert status(again.status) == KalturaEntryStatus.IMPORT
    time.sleep(0.6)
    assert status(client.media.get("0_reused").status) == KalturaEntryStatus.IMPORT


def test_partial_upload_expires_after_seven_days(emulator: RunningEmulator) -> None:
    """api_v3/services/UploadTokenService.php (validateForUpload: a PARTIAL token not updated for
    upload_token_max_resume_time, 7 days by default, refuses further chunks)."""
    client = make_client(emulator)
    data = mp4_bytes(20_000)
    token = client.uploadToken.add(KalturaUploadToken(fileName="idle.mp4"))
    client.uploadToken.upload(token.id, named_file(data[:10_000]), False, False)
    emulator.control.set_clock_offset(6 * DAY)
    client = make_client(emulator)
    client.uploadToken.upload(token.id, named_file(data[10_000:15_000]), True, False, 10_000)
    emulator.control.set_clock_offset(13 * DAY + 60)
    client = make_client(emulator)
    chunk = named_file(data[15_000:])
    code = error_code(client.uploadToken.upload, token.id, chunk, True, True, 15_000)
    assert code == "UPLOAD_PASSED_MAX_RESUME_TIME_ALLOWED"


def tokens(
    client: KalturaClient, pager: KalturaFilterPager | None = None, **fields: Any
) -> tuple[list[str], int]:
    """(ids, totalCount) of uploadToken.list with a KalturaUploadTokenFilter of these fields."""
    flt = KalturaUploadTokenFilter()
    for key, value in fields.items():
        setattr(flt, key, value)
    answer = client.uploadToken.list(flt, pager or KalturaFilterPager(500))
    return [str(t.id) for t in answer.objects], int(answer.totalCount)


def test_upload_token_list_filters_and_paging(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/filters/base/KalturaUploadTokenBaseFilter.php (filterable: idEqual, idIn,
    userIdEqual, statusEqual, statusIn, fileNameEqual, fileSizeEqual), alpha/lib/model/UploadTokenPeer.php
    (setDefaultCriteriaFilter: DELETED tokens never listed) and api_v3/services/UploadTokenService.php
    (listAction: totalCount before the KalturaFilterPager page)."""
    client = make_client(emulator)
    add = client.uploadToken.add
    a1 = str(add(KalturaUploadToken(fileName="a.mp4", fileSize=100)).id)
    a2 = str(add(KalturaUploadToken(fileName="a.mp4", fileSize=200)).id)
    b = str(add(KalturaUploadToken(fileName="b.mp4")).id)
    full = upload(client, mp4_bytes(3000), "c.mp4")
    gone = str(add(KalturaUploadToken(fileName="a.mp4")).id)
    client.uploadToken.delete(gone)
    every = {a1, a2, b, full}
    assert set(tokens(client)[0]) == every and tokens(client)[1] == 4
    assert set(tokens(client, fileNameEqual="a.mp4")[0]) == {a1, a2}
    assert tokens(client, fileNameEqual="a.mp4", fileSizeEqual=200)[0] == [a2]
    assert tokens(client, idEqual=b)[0] == [b]
    assert set(tokens(client, idIn=f"{a1},{full},{gone}")[0]) == {a1, full}
    assert set(tokens(client, statusEqual=KalturaUploadTokenStatus.PENDING)[0]) == {a1, a2, b}
    assert tokens(client, statusIn="2,5")[0] == [full]
    assert tokens(client, statusEqual=KalturaUploadTokenStatus.DELETED) == ([], 0)
    assert set(tokens(client, userIdEqual="archiver")[0]) == every
    assert tokens(client, userIdEqual="nobody") == ([], 0)
    first, total = tokens(client, KalturaFilterPager(3, 1))
    second, _ = tokens(client, KalturaFilterPager(3, 2))
    assert total == 4 and len(first) == 3 and set(first) | set(second) == every


def test_upload_token_list_by_file_name_keeps_to_open_tokens(emulator: RunningEmulator) -> None:
    """api_v3/services/UploadTokenService.php (listAction: fileNameEqual without a status filter lists
    PENDING, PARTIAL_UPLOAD and FULL_UPLOAD only; with statusEqual PARTIAL_UPLOAD only tokens updated
    within upload_token_max_resume_time, 7 days)."""
    emulator.control.create_entries([entry("0_tok_closed", status=7)])
    client = make_client(emulator)
    closed = upload(client, mp4_bytes(3000), "same.mp4")
    client.media.addContent("0_tok_closed", KalturaUploadedFileTokenResource(token=closed))
    stale = str(client.uploadToken.add(KalturaUploadToken(fileName="same.mp4")).id)
    client.uploadToken.upload(stale, named_file(mp4_bytes(3000), "same.mp4"), False, False)
    emulator.control.set_clock_offset(8 * DAY)
    client = make_client(emulator)
    pending = str(client.uploadToken.add(KalturaUploadToken(fileName="same.mp4")).id)
    assert set(tokens(client, fileNameEqual="same.mp4")[0]) == {stale, pending}
    assert tokens(client, fileNameEqual="same.mp4", statusEqual=KalturaUploadTokenStatus.CLOSED)[0] == [
        closed
    ]
    partial = KalturaUploadTokenStatus.PARTIAL_UPLOAD
    assert tokens(client, fileNameEqual="same.mp4", statusEqual=partial) == ([], 0)
    assert tokens(client, statusEqual=partial)[0] == [stale]


def test_upload_token_list_user_session_sees_its_own_tokens(emulator: RunningEmulator) -> None:
    """api_v3/services/UploadTokenService.php (restrictPeerToCurrentUser: a session that is not admin
    lists only its own user's tokens; applyPartnerFilterForClass: the partner's tokens only)."""
    admin = make_client(emulator)
    mine = str(admin.uploadToken.add(KalturaUploadToken(fileName="x.mp4")).id)
    user = KalturaClient(KalturaConfiguration(emulator.url))
    user.setKs(user.session.start(emulator.admin_secret, "someone", KalturaSessionType.USER, PARTNER_ID))
    theirs = str(user.uploadToken.add(KalturaUploadToken(fileName="x.mp4")).id)
    assert tokens(user)[0] == [theirs]
    assert tokens(user, idEqual=mine) == ([], 0)
    assert set(tokens(admin, fileNameEqual="x.mp4")[0]) == {mine, theirs}


def test_upload_token_list_order(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/model/objectfilters/UploadTokenFilter.class.php (allowed_order_fields:
    created_at only), api_v3/lib/types/filters/orderEnums/KalturaUploadTokenOrderBy.php (+createdAt,
    -createdAt; KalturaFilter drops other orderBy values) and deployment/base/sql/01.kaltura_ce_tables.sql
    (PRIMARY KEY (id, created_at): without orderBy the random id's order, not creation order)."""
    client = make_client(emulator)
    made = []
    for offset in range(6):
        emulator.control.set_clock_offset(offset * 60)
        made.append(str(make_client(emulator).uploadToken.add(KalturaUploadToken(fileName="o.mp4")).id))
    assert tokens(client, orderBy=KalturaUploadTokenOrderBy.CREATED_AT_ASC)[0] == made
    assert tokens(client, orderBy=KalturaUploadTokenOrderBy.CREATED_AT_DESC)[0] == made[::-1]
    assert tokens(client)[0] == sorted(made)
    assert tokens(client, orderBy="+fileName")[0] == sorted(made)


def test_upload_token_file_name_is_kept_to_256_characters(emulator: RunningEmulator) -> None:
    """deployment/base/sql/01.kaltura_ce_tables.sql (upload_token.file_name varchar(256) under
    sql_mode = '': a longer name is cut silently, so fileNameEqual with the full name finds nothing)."""
    client = make_client(emulator)
    name = "n" * 300 + ".mp4"
    token = client.uploadToken.add(KalturaUploadToken(fileName=name))
    assert client.uploadToken.get(token.id).fileName == name[:256]
    assert tokens(client, fileNameEqual=name) == ([], 0)
    assert tokens(client, fileNameEqual=name[:256])[0] == [str(token.id)]


# 9. statuses


def test_virus_scan_statuses_are_strings(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/enums/KalturaEntryStatus.php (a dynamic enum) with
    plugins/virus_scan/lib/VirusScanEntryStatus.php: "virusScan.Infected" and "virusScan.ScanFailure"
    come back as strings and filter like any status."""
    emulator.control.create_entries([entry("0_infected", status="virusScan.Infected"), entry("0_ok")])
    client = make_client(emulator)
    assert status(client.media.get("0_infected").status) == KalturaEntryStatus.INFECTED
    assert listed(client) == ["0_ok"]
    assert listed(client, statusIn="virusScan.Infected,7") == ["0_infected"]
    assert listed(client, statusEqual="virusScan.Infected") == ["0_infected"]
    everything = operator(AND, item("plays", RANGE, greaterThanOrEqual=0))
    assert search(client, everything, statuses="virusScan.Infected") == (1, ["0_infected"])
    emulator.control.set_entry_status("0_ok", "virusScan.ScanFailure")
    assert status(client.media.get("0_ok").status) == KalturaEntryStatus.SCAN_FAILURE
    assert listed(client, statusNotIn="virusScan.Infected,virusScan.ScanFailure") == []


def test_conversion_statuses_and_flavor_outcomes(emulator: RunningEmulator) -> None:
    """alpha/apps/kaltura/lib/batch2/kFlowManager.php (objectAdded) and kJobsManager.php
    (addConvertProfileJob: PRECONVERT, or PENDING when the conversion profile converts nothing);
    bcdl/kBusinessPostConvertDL.php (handleConvertFailed: the entry is ERROR_CONVERTING once every derived
    flavor is ERROR or NOT_APPLICABLE)."""
    emulator.control.set_conversion_seconds(0.3)
    emulator.control.create_entries(
        [entry(f"0_cv{i}", status=7) for i in range(3)]
        + [entry("0_seeded", derived_statuses={487061: 4}), entry("0_failed", status=-1)]
    )
    client = make_client(emulator)
    emulator.control.set_conversion_outcome("0_cv0", {487061: 4})
    emulator.control.set_conversion_outcome("0_cv1", {487041: -1, 487051: -1, 487061: 4})
    for entry_id in ("0_cv0", "0_cv1"):
        added = client.media.addContent(
            entry_id, KalturaUploadedFileTokenResource(token=upload(client, mp4_bytes(5000)))
        )
        assert status(added.status) == KalturaEntryStatus.PRECONVERT
    time.sleep(0.4)
    assert status(client.media.get("0_cv0").status) == KalturaEntryStatus.READY
    by_params = {f.flavorParamsId: f.status.getValue() for f in flavors(client, "0_cv0")}
    assert by_params == {0: 2, 487041: 2, 487051: 2, 487061: 4}
    assert status(client.media.get("0_cv1").status) == KalturaEntryStatus.ERROR_CONVERTING
    assert {f.flavorParamsId: f.status.getValue() for f in flavors(client, "0_cv1")}[487041] == -1
    assert {f.flavorParamsId: f.status.getValue() for f in flavors(client, "0_seeded")}[487061] == 4
    assert {f.status.getValue() for f in flavors(client, "0_failed") if not f.isOriginal} == {-1}
    emulator.control.set_conversion_profile("none")
    pending = client.media.addContent(
        "0_cv2", KalturaUploadedFileTokenResource(token=upload(client, mp4_bytes(5000)))
    )
    assert status(pending.status) == KalturaEntryStatus.PENDING
    time.sleep(0.4)
    assert status(client.media.get("0_cv2").status) == KalturaEntryStatus.PENDING
    assert [f.status.getValue() for f in flavors(client, "0_cv2")] == [0]


# 10. read replica lag


def test_lists_read_a_lagging_replica(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php and
    api_v3/lib/types/conversionProfile/filters/KalturaAssetFilter.php (doGetListResponse reads through
    myDbHelper::$use_alternative_con, a replica) and the asynchronous Sphinx/Elasticsearch indexing:
    with read_lag_seconds set, media.list, eSearch and flavorAsset.list see a write only that much later,
    media.get at once."""
    emulator.control.create_entries([entry("0_lag")])
    emulator.control.set_read_lag(1.5)
    client = make_client(emulator)
    update = KalturaMediaEntry()
    update.tags = "archived_to_s3"
    client.media.update("0_lag", update)
    flavor_ids = [f.id for f in flavors(client, "0_lag")]
    client.flavorAsset.delete(flavor_ids[-1])
    emulator.control.create_entries([entry("0_lag_new")])
    changed = time.monotonic()
    assert client.media.get("0_lag").tags == "archived_to_s3"
    tagged = operator(AND, item("tags", EXACT, "archived_to_s3"))
    assert listed(client, tagsMultiLikeOr="archived_to_s3") == []
    assert search(client, tagged) == (0, [])
    assert "0_lag_new" not in listed(client)
    assert [f.id for f in flavors(client, "0_lag")] == flavor_ids
    while time.monotonic() - changed < 1.6:
        time.sleep(0.1)
    assert listed(client, tagsMultiLikeOr="archived_to_s3") == ["0_lag"]
    assert search(client, tagged) == (1, ["0_lag"])
    assert "0_lag_new" in listed(client)
    assert [f.id for f in flavors(client, "0_lag")] == flavor_ids[:-1]
    emulator.control.set_read_lag(0)
    update.tags = "lecture"
    client.media.update("0_lag", update)
    assert listed(client, tagsMultiLikeOr="lecture") == ["0_lag"]


# 11. no tie-breaker


def test_order_among_equal_keys_changes_between_calls(emulator: RunningEmulator) -> None:
    """plugins/search/providers/sphinx_search/lib/SphinxCriteria.php (ORDER BY of the requested columns
    only) and plugins/search/providers/elastic_search/lib/model/order/ESearchOrderBy.php (sort items
    without a unique tie-breaker): rows with equal createdAt have no stable order between calls."""
    created = int(time.time() - YEAR)
    emulator.control.create_entries(
        [entry(f"0_tie{i:02d}", created_at=created, flavors=False) for i in range(40)]
    )
    client = make_client(emulator)
    orders = {tuple(listed(client, orderBy="-createdAt")) for _ in range(4)}
    assert len(orders) > 1 and all(set(order) == {f"0_tie{i:02d}" for i in range(40)} for order in orders)
    everything = operator(AND, item("created_at", RANGE, greaterThanOrEqual=0))
    searches = {tuple(search(client, everything)[1]) for _ in range(4)}
    assert len(searches) > 1


# 12. other preconditions


def test_update_thumbnail_preconditions(emulator: RunningEmulator) -> None:
    """api_v3/lib/KalturaEntryService.php (updateThumbnailForEntryFromSourceEntry: a user KS must own the
    entry) and alpha/apps/kaltura/lib/myEntryUtils.class.php (createThumbnailFromEntry: a video needs a
    flavor with a file, any entry status will do; audio fails; images copy their data)."""
    emulator.control.set_conversion_seconds(600)
    emulator.control.create_entries(
        [
            entry("0_th_ready", user_id="owner"),
            entry("0_th_converting", status=1),
            entry("0_th_audio", media_type=5),
            entry("0_th_image", media_type=2),
            entry("0_th_empty", status=7),
            entry("0_th_import", status=0),
        ]
    )
    client = make_client(emulator)
    assert client.media.updateThumbnail("0_th_ready", 3).id == "0_th_ready"
    assert client.media.updateThumbnail("0_th_ready", 99_999).id == "0_th_ready"
    assert client.media.updateThumbnail("0_th_converting", 1).id == "0_th_converting"
    assert client.media.updateThumbnail("0_th_image", 0).id == "0_th_image"
    for entry_id in ("0_th_audio", "0_th_empty", "0_th_import"):
        assert error_code(client.media.updateThumbnail, entry_id, 1) == "INTERNAL_SERVERL_ERROR", entry_id
    for flavor in flavors(client, "0_th_ready"):
        client.flavorAsset.delete(flavor.id)
    assert error_code(client.media.updateThumbnail, "0_th_ready", 1) == "INTERNAL_SERVERL_ERROR"
    emulator.control.create_entries([entry("0_th_owned", user_id="owner")])
    user = KalturaClient(KalturaConfiguration(emulator.url))
    user.setKs(user.session.start(emulator.admin_secret, "someone", KalturaSessionType.USER, PARTNER_ID))
    assert error_code(user.media.updateThumbnail, "0_th_owned", 1) == "PERMISSION_DENIED_TO_UPDATE_ENTRY"
    owner = KalturaClient(KalturaConfiguration(emulator.url))
    owner.setKs(owner.session.start(emulator.admin_secret, "Owner", KalturaSessionType.USER, PARTNER_ID))
    assert owner.media.updateThumbnail("0_th_owned", 1).id == "0_th_owned"
    assert error_code(client.media.updateThumbnail, "0_missing", 1) == "ENTRY_ID_NOT_FOUND"


# data dirs and the command line


def _jpeg(width: int = 64, height: int = 36) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 40, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def _thumb_tags(client: KalturaClient, entry_id: str) -> dict[str, str]:
    return {t.id: t.tags for t in client.thumbAsset.getByEntryId(entry_id)}


def test_thumbnail_from_an_image_is_not_the_default_of_a_ready_entry(emulator: RunningEmulator) -> None:
    """api_v3/services/ThumbAssetService.php (addFromImageAction: READY asset with the image's size and
    dimensions; it becomes the default only for an entry without content whose only thumbnail it is)."""
    emulator.control.create_entries([entry("0_img_ready"), entry("0_img_empty", status=7)])
    client = make_client(emulator)
    image = _jpeg(64, 36)
    before = emulator.control.entry("0_img_ready", sha256=False)["thumb_version"]
    thumb = client.thumbAsset.addFromImage("0_img_ready", named_file(image, "card.jpg"))
    assert (thumb.width, thumb.height, thumb.sizeInBytes, thumb.status.getValue()) == (64, 36, len(image), 2)
    assert "default_thumb" not in (thumb.tags or "")
    state = emulator.control.entry("0_img_ready", sha256=False)
    assert state["thumb_version"] == before and state["default_thumbnail"] is None
    first = client.thumbAsset.addFromImage("0_img_empty", named_file(image, "card.jpg"))
    assert _thumb_tags(client, "0_img_empty") == {first.id: "default_thumb"}
    second = client.thumbAsset.addFromImage("0_img_empty", named_file(image, "card.jpg"))
    assert _thumb_tags(client, "0_img_empty")[second.id] == ""


def test_set_as_default_moves_the_default_tag(emulator: RunningEmulator) -> None:
    """api_v3/services/ThumbAssetService.php (setAsDefaultAction) and
    alpha/apps/kaltura/lib/batch2/bcdl/kBusinessConvertDL.php (setAsDefaultThumbAsset: tag
    default_thumb, entry::setCreateThumb(false) takes it off the others via
    alpha/lib/model/assetPeer.php removeThumbAssetDeafultTags, the entry's thumbnail links the asset);
    an unknown id is THUMB_ASSET_ID_NOT_FOUND. media.updateThumbnail then writes the entry's own
    thumbnail file (alpha/apps/kaltura/lib/myEntryUtils.class.php createThumbnailFromEntry), so the
    entry no longer shows the asset."""
    emulator.control.create_entries([entry("0_img_dflt")])
    client = make_client(emulator)
    one = client.thumbAsset.addFromImage("0_img_dflt", named_file(_jpeg(64, 36), "one.jpg"))
    two = client.thumbAsset.addFromImage("0_img_dflt", named_file(_jpeg(32, 18), "two.png"))
    version = emulator.control.entry("0_img_dflt", sha256=False)["thumb_version"]
    client.thumbAsset.setAsDefault(one.id)
    client.thumbAsset.setAsDefault(two.id)
    assert _thumb_tags(client, "0_img_dflt") == {one.id: "", two.id: "default_thumb"}
    state = emulator.control.entry("0_img_dflt", sha256=False)
    assert state["thumb_version"] == version + 2 and state["default_thumbnail"]["id"] == two.id
    assert state["default_thumbnail"]["size_bytes"] == two.sizeInBytes
    assert error_code(client.thumbAsset.setAsDefault, "0_nosuchth") == "THUMB_ASSET_ID_NOT_FOUND"
    client.media.updateThumbnail("0_img_dflt", 0)
    assert emulator.control.entry("0_img_dflt", sha256=False)["default_thumbnail"] is None


def test_thumbnail_image_file_type_restriction(emulator: RunningEmulator) -> None:
    """api_v3/services/ThumbAssetService.php (addFromImageAction, isThumbValidFileType: the extension must be
    one of configurations/base.ini image_file_ext, and myUploadUtils::isFileTypeRestricted) answers
    FILE_CONTENT_NOT_SECURE under the partner's file-type restriction; without it anything goes."""
    emulator.control.create_entries([entry("0_img_safe")])
    client = make_client(emulator)
    for data, name in ((_jpeg(), "card.mp4"), (b"MZ" + bytes(500), "card.jpg"), (_jpeg(), "card")):
        code = error_code(client.thumbAsset.addFromImage, "0_img_safe", named_file(data, name))
        assert code == "FILE_CONTENT_NOT_SECURE", name
    assert client.thumbAsset.getByEntryId("0_img_safe") == []
    emulator.control.set_file_type_restriction(False)
    assert client.thumbAsset.addFromImage("0_img_safe", named_file(_jpeg(), "card.mp4")).width == 64
    emulator.control.set_file_type_restriction(True)
    missing = error_code(client.thumbAsset.addFromImage, "0_nosuchen", named_file(_jpeg(), "card.jpg"))
    assert missing == "ENTRY_ID_NOT_FOUND"


def test_response_profile_trims_each_object(emulator: RunningEmulator) -> None:
    """api_v3/lib/types/KalturaObject.php (the generated fromObject keeps the fields a detached
    responseProfile includes, or all but those it excludes; alpha/lib/enums/ResponseProfileType.php):
    a list action builds each item with the profile, so the list keeps its totalCount."""
    from KalturaClient.Plugins.Core import KalturaDetachedResponseProfile

    emulator.control.create_entries([entry("0_rp_one"), entry("0_rp_two")])
    client = make_client(emulator)
    client.setResponseProfile(KalturaDetachedResponseProfile(type=1, fields="id,createdAt"))
    page = client.media.list(KalturaMediaEntryFilter(idIn="0_rp_one,0_rp_two"), KalturaFilterPager(10))
    assert page.totalCount == 2
    assert {(e.id, e.name, isinstance(e.createdAt, int)) for e in page.objects} == {
        ("0_rp_one", NotImplemented, True),
        ("0_rp_two", NotImplemented, True),
    }
    client.setResponseProfile(KalturaDetachedResponseProfile(type=2, fields="name, tags"))
    one = client.media.get("0_rp_one")
    assert (one.id, one.name, one.tags, one.status.getValue()) == (
        "0_rp_one",
        NotImplemented,
        NotImplemented,
        "2",
    )
    client.setResponseProfile(KalturaDetachedResponseProfile(type=1, fields=""))
    assert client.media.get("0_rp_one").name == "entry 0_rp_one"


OLD_SCHEMA = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '',
    categories_ids TEXT NOT NULL DEFAULT '', creator_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, last_played_at INTEGER, plays INTEGER NOT NULL DEFAULT 0,
    views INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL, media_type INTEGER NOT NULL DEFAULT 1,
    duration INTEGER NOT NULL DEFAULT 0, conversion_ready_at REAL, thumb_version INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX entries_played ON entries (last_played_at);
CREATE TABLE entry_tags (entry_id TEXT NOT NULL, tag TEXT NOT NULL);
CREATE TABLE entry_categories (entry_id TEXT NOT NULL, category_id INTEGER NOT NULL);
CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE flavors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, entry_id TEXT NOT NULL,
    flavor_params_id INTEGER NOT NULL, is_original INTEGER NOT NULL, status INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL, size_kb INTEGER NOT NULL, content_kind TEXT NOT NULL,
    content_ref TEXT NOT NULL, file_ext TEXT NOT NULL, width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    bitrate INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    deleted_at INTEGER, version INTEGER NOT NULL DEFAULT 1, sha256 TEXT
);
CREATE TABLE thumbs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, entry_id TEXT NOT NULL,
    status INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE upload_tokens (
    id TEXT PRIMARY KEY, status INTEGER NOT NULL, file_name TEXT NOT NULL DEFAULT '', file_size INTEGER,
    uploaded_size INTEGER NOT NULL DEFAULT 0, auto_finalize INTEGER NOT NULL DEFAULT 0,
    final_seen INTEGER NOT NULL DEFAULT 0, user_id TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO entries (id, tags, created_at, updated_at, last_played_at, plays, views, status)
    VALUES ('0_v1', 'lecture', 1400000000, 1400000000, 1500000000, 4, 4, 2);
INSERT INTO entry_tags VALUES ('0_v1', 'lecture');
INSERT INTO flavors (id, entry_id, flavor_params_id, is_original, status, size_bytes, size_kb, content_kind,
    content_ref, file_ext, created_at, updated_at)
    VALUES ('0_v1src', '0_v1', 0, 1, 2, 70000, 69, 'gen', '0_v1', 'mp4', 1400000000, 1400000000);
"""


def test_data_dirs_of_the_first_schema_are_migrated(tmp_path: Path) -> None:
    """An emulator data dir written before these columns existed opens with them added: entries keep their
    plays as synced values and flavors keep reporting sizeInBytes and their first-version content."""
    with sqlite3.connect(tmp_path / "emulator.sqlite3") as conn:
        conn.executescript(OLD_SCHEMA)
    running = start_emulator(tmp_path)
    try:
        client = make_client(running)
        listed_entries = client.media.list(KalturaMediaEntryFilter(), KalturaFilterPager(10)).objects
        assert [(e.id, e.plays, e.lastPlayedAt, e.moderationStatus.getValue()) for e in listed_entries] == [
            ("0_v1", 4, 1500000000, 6)
        ]
        source = flavors(client, "0_v1")[0]
        assert source.sizeInBytes == 70000
        body = requests.get(client.flavorAsset.getUrl(source.id), timeout=30).content
        assert hashlib.sha256(body).hexdigest() == running.control.entry("0_v1")["original_sha256"]
        assert body[:8] == b"\x00" * 8
    finally:
        running.server.stop()


def test_command_line_settings(tmp_path: Path) -> None:
    """Every partner setting has a command-line flag; unknown or bad settings are refused."""
    command = [
        sys.executable,
        "-m",
        "dev.kaltura_emulator",
        "--data-dir",
        str(tmp_path),
        "--port",
        "0",
        "--partner-id",
        str(PARTNER_ID),
        "--admin-secret",
        ADMIN_SECRET,
        "--no-relative-time",
        "--no-file-type-restriction",
        "--file-extensions",
        "mp4,MOV",
        "--final-chunk-seconds",
        "3",
        "--read-lag-seconds",
        "2",
        "--conversion-profile",
        "none",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", process.stderr.readline())
        assert match
        control = EmulatorControl(match.group(1))
        settings = control.settings()
        assert settings["relative_time"] is False and settings["file_type_restriction"] is False
        assert settings["file_extensions_whitelist"] == ["mp4", "mov"]
        assert settings["final_chunk_seconds"] == 3 and settings["read_lag_seconds"] == 2
        assert settings["conversion_profile"] == "none"
        for bad in ({"relative_time": "yes"}, {"read_lag_seconds": -1}, {"nonsense": 1}):
            with pytest.raises(requests.HTTPError):
                control._call("POST", "settings", bad)
        assert control.settings() == settings
    finally:
        process.terminate()
        process.wait(timeout=10)
