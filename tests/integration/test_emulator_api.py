"""The Kaltura emulator driven through the real KalturaClient: sessions, media, eSearch, flavors, uploads."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import requests
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaEntryStatus,
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaFlavorAssetStatus,
    KalturaMediaEntry,
    KalturaMediaEntryFilter,
    KalturaSessionType,
    KalturaThumbParams,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenStatus,
)
from KalturaClient.Plugins.ElasticSearch import (
    KalturaESearchCategoryEntryFieldName,
    KalturaESearchCategoryEntryItem,
    KalturaESearchEntryFieldName,
    KalturaESearchEntryItem,
    KalturaESearchEntryOperator,
    KalturaESearchEntryOrderByItem,
    KalturaESearchEntryParams,
    KalturaESearchItemType,
    KalturaESearchOperatorType,
    KalturaESearchOrderBy,
    KalturaESearchRange,
    KalturaESearchSortOrder,
)

from tests.fixtures.emulator import RunningEmulator, make_client, mp4_bytes, named_file

pytestmark = pytest.mark.integration
NOW = int(time.time())
YEAR = 365 * 86400


def entry(entry_id: str, **fields: Any) -> dict[str, Any]:
    """An entry spec for the control API with sensible defaults."""
    spec: dict[str, Any] = {
        "id": entry_id,
        "name": f"entry {entry_id}",
        "tags": [],
        "creator_id": "jdoe@princeton.edu",
        "created_at": NOW - 5 * YEAR,
        "last_played_at": None,
        "plays": 0,
        "status": 2,
        "media_type": 1,
        "original_size": 300_000,
    }
    spec.update(fields)
    return spec


def item(field: str, item_type: int, term: str | None = None, **bounds: int) -> KalturaESearchEntryItem:
    """An eSearch entry item."""
    result = KalturaESearchEntryItem()
    result.fieldName = field
    result.itemType = item_type
    if term is not None:
        result.searchTerm = term
    if bounds:
        result.range = KalturaESearchRange(**bounds)
    return result


def operator(op: int, *items: Any) -> KalturaESearchEntryOperator:
    """An eSearch operator over items."""
    result = KalturaESearchEntryOperator()
    result.operator = op
    result.searchItems = list(items)
    return result


def search(
    client: KalturaClient,
    op: KalturaESearchEntryOperator,
    statuses: str | None = None,
    page_size: int = 500,
    page_index: int = 1,
    order: str | None = None,
) -> tuple[int, list[str]]:
    """Run searchEntry; return (totalCount, ids)."""
    params = KalturaESearchEntryParams()
    params.searchOperator = op
    if statuses is not None:
        params.objectStatuses = statuses
    if order is not None:
        order_item = KalturaESearchEntryOrderByItem()
        order_item.sortField = "created_at"
        order_item.sortOrder = order
        params.orderBy = KalturaESearchOrderBy([order_item])
    response = client.elasticSearch.eSearch.searchEntry(params, KalturaFilterPager(page_size, page_index))
    return response.totalCount, [result.object.id for result in response.objects]


def error_code(call: Any, *args: Any) -> str:
    """The Kaltura error code a call raises."""
    with pytest.raises(KalturaException) as info:
        call(*args)
    return str(info.value.code)


def test_session_start_checks_partner_and_secret(emulator: RunningEmulator) -> None:
    client = KalturaClient(KalturaConfiguration(emulator.url))
    start = client.session.start
    assert (
        error_code(start, "wrong", "u", KalturaSessionType.ADMIN, emulator.partner_id)
        == "START_SESSION_ERROR"
    )
    assert (
        error_code(start, emulator.admin_secret, "u", KalturaSessionType.ADMIN, 999) == "START_SESSION_ERROR"
    )
    ks = start(
        emulator.admin_secret, "u", KalturaSessionType.ADMIN, emulator.partner_id, 60, "disableentitlement"
    )
    assert isinstance(ks, str) and len(ks) > 20


def test_calls_without_ks_are_forbidden_and_bad_ks_invalid(emulator: RunningEmulator) -> None:
    client = KalturaClient(KalturaConfiguration(emulator.url))
    assert error_code(client.media.list) == "SERVICE_FORBIDDEN"
    client.setKs("bm90IGEga3M=")
    assert error_code(client.media.list) == "INVALID_KS"


def test_ks_expires_by_emulator_clock(emulator: RunningEmulator) -> None:
    client = make_client(emulator, expiry=3600)
    assert client.media.list().totalCount == 0
    emulator.control.set_clock_offset(3601)
    with pytest.raises(KalturaException) as info:
        client.media.list()
    assert info.value.code == "INVALID_KS"
    assert "EXPIRED" in info.value.message


def test_forced_ks_expiry(emulator: RunningEmulator) -> None:
    emulator.control.set_ks_expiry(1)
    client = make_client(emulator)
    time.sleep(2.1)
    assert error_code(client.media.list) == "INVALID_KS"


def test_media_get_update_and_not_found(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_media001", tags="lecture, fall", categories=[7, 8], plays=3)])
    client = make_client(emulator)
    got = client.media.get("0_media001")
    assert got.id == "0_media001"
    assert got.status.getValue() == KalturaEntryStatus.READY
    assert got.tags == "lecture, fall"
    assert got.categoriesIds == "7,8"
    assert got.plays == 3
    assert got.lastPlayedAt is None
    update = KalturaMediaEntry()
    update.tags = "lecture, fall, archived_to_s3"
    assert client.media.update("0_media001", update).tags == "lecture, fall, archived_to_s3"
    assert emulator.control.entry("0_media001")["tags"] == ["lecture", "fall", "archived_to_s3"]
    assert error_code(client.media.get, "0_missing") == "ENTRY_ID_NOT_FOUND"
    assert client.baseEntry.get("0_media001").tags == "lecture, fall, archived_to_s3"
    assert [e.id for e in client.baseEntry.list().objects] == ["0_media001"]
    assert error_code(client.media.update, "0_missing", update) == "ENTRY_ID_NOT_FOUND"


def test_media_list_filters_order_and_default_ready(emulator: RunningEmulator) -> None:
    emulator.control.create_entries(
        [
            entry("0_old", created_at=NOW - 9 * YEAR),
            entry("0_mid", created_at=NOW - 5 * YEAR),
            entry("0_new", created_at=NOW - 1 * YEAR),
            entry("0_empty", created_at=NOW - 5 * YEAR, status=7),
            entry("0_audio", created_at=NOW - 2 * YEAR, media_type=5),
        ]
    )
    client = make_client(emulator)
    everything = client.media.list(KalturaMediaEntryFilter(), KalturaFilterPager(500))
    assert [e.id for e in everything.objects] == ["0_new", "0_audio", "0_mid", "0_old"]
    flt = KalturaMediaEntryFilter()
    flt.createdAtLessThanOrEqual = NOW - 3 * YEAR
    flt.statusIn = "2,7"
    flt.orderBy = "+createdAt"
    listed = client.media.list(flt, KalturaFilterPager(500))
    assert [e.id for e in listed.objects] == ["0_old", "0_mid", "0_empty"] or [
        e.id for e in listed.objects
    ] == ["0_old", "0_empty", "0_mid"]
    flt = KalturaMediaEntryFilter()
    flt.idIn = "0_old,0_empty,0_nope"
    assert {e.id for e in client.media.list(flt).objects} == {"0_old"}
    flt.mediaTypeEqual = 5
    assert client.media.list(flt).totalCount == 0


def test_media_list_and_esearch_10000_cap(emulator: RunningEmulator) -> None:
    emulator.control.create_entries(
        [entry(f"0_cap{i:05d}", created_at=NOW - YEAR - i, flavors=False) for i in range(10_050)]
    )
    client = make_client(emulator)
    page = client.media.list(KalturaMediaEntryFilter(), KalturaFilterPager(500, 20))
    assert len(page.objects) == 500 and page.totalCount == 10_050
    assert error_code(client.media.list, KalturaMediaEntryFilter(), KalturaFilterPager(500, 21)) == (
        "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED"
    )
    everything = operator(
        KalturaESearchOperatorType.AND_OP, item("plays", KalturaESearchItemType.RANGE, greaterThanOrEqual=0)
    )
    total, ids = search(client, everything, page_index=20)
    assert total == 10_050 and len(ids) == 500
    with pytest.raises(KalturaException) as info:
        search(client, everything, page_index=21)
    assert info.value.code == "CRITERIA EXCEEDED MAX MATCHES ALLOWED"
    total, ids = search(client, everything, page_size=1000)
    assert len(ids) == 500


def seed_search_entries(emulator: RunningEmulator) -> None:
    """A small account covering every eSearch field the archiver uses."""
    emulator.control.create_entries(
        [
            entry("0_a", tags="archived_to_s3", plays=0, created_at=NOW - 8 * YEAR, categories=[11]),
            entry(
                "0_b",
                tags="archived_to_s3, flavors_deleted",
                plays=5,
                last_played_at=NOW - 4 * YEAR,
                created_at=NOW - 7 * YEAR,
            ),
            entry(
                "0_c",
                tags="archive",
                plays=50,
                last_played_at=NOW - 30 * 86400,
                created_at=NOW - 2 * YEAR,
                categories=[11, 12],
            ),
            entry(
                "0_d",
                tags="archived_to_s3_old",
                plays=1,
                last_played_at=NOW - 6 * YEAR,
                created_at=NOW - 6 * YEAR,
                media_type=5,
            ),
            entry("0_e", tags="lecture", plays=0, created_at=NOW - 1 * YEAR, status=7),
            entry("0_f", tags="archived", plays=2, last_played_at=NOW - 2 * YEAR, created_at=NOW - 3 * YEAR),
            entry(
                "0_g",
                tags="archer, s3 bucket",
                plays=9,
                last_played_at=NOW - 9 * 86400,
                created_at=NOW - 10 * 86400,
                status=4,
            ),
        ]
    )


def test_esearch_tags_fuzzy_partial_and_exact(emulator: RunningEmulator) -> None:
    seed_search_entries(emulator)
    client = make_client(emulator)
    partial, exact = KalturaESearchItemType.PARTIAL, KalturaESearchItemType.EXACT_MATCH
    AND = KalturaESearchOperatorType.AND_OP
    fuzzy = {"0_a", "0_b", "0_c", "0_d", "0_f"}
    _, ids = search(client, operator(AND, item("tags", partial, "archived")))
    assert set(ids) == fuzzy
    _, ids = search(client, operator(AND, item("tags", partial, "archived_to_s3")))
    assert set(ids) == fuzzy
    assert search(client, operator(AND, item("tags", partial, "bucket")), statuses="2,4") == (1, ["0_g"])
    _, ids = search(client, operator(AND, item("tags", partial, "archived")), statuses="2,4")
    assert set(ids) == fuzzy
    _, ids = search(client, operator(AND, item("tags", exact, "archived")))
    assert set(ids) == {"0_f"}
    _, ids = search(client, operator(AND, item("tags", exact, "archived_to_s3")))
    assert set(ids) == {"0_a", "0_b"}
    _, ids = search(client, operator(AND, item("tags", partial, "deleted")))
    assert set(ids) == {"0_b"}
    assert error_code(search, client, operator(AND, item("tags", partial, " "))) == (
        "EMPTY SEARCH TERM IS NOT ALLOWED"
    )


def test_esearch_not_ranges_media_type_ids_categories_statuses(emulator: RunningEmulator) -> None:
    seed_search_entries(emulator)
    client = make_client(emulator)
    AND, OR, NOT = (
        KalturaESearchOperatorType.AND_OP,
        KalturaESearchOperatorType.OR_OP,
        KalturaESearchOperatorType.NOT_OP,
    )
    exact, rng = KalturaESearchItemType.EXACT_MATCH, KalturaESearchItemType.RANGE
    not_archived = operator(NOT, item("tags", exact, "archived_to_s3"))
    _, ids = search(client, operator(AND, not_archived))
    assert set(ids) == {"0_c", "0_d", "0_f"}
    unplayed_3y = item(KalturaESearchEntryFieldName.LAST_PLAYED_AT, rng, lessThanOrEqual=NOW - 3 * YEAR)
    _, ids = search(client, operator(AND, unplayed_3y))
    assert set(ids) == {"0_b", "0_d"}
    never_played_old = operator(
        AND,
        item(KalturaESearchEntryFieldName.PLAYS, rng, lessThan=1),
        item(KalturaESearchEntryFieldName.CREATED_AT, rng, lessThanOrEqual=NOW - 3 * YEAR),
    )
    _, ids = search(client, operator(OR, operator(AND, unplayed_3y), never_played_old))
    assert set(ids) == {"0_a", "0_b", "0_d"}
    _, ids = search(client, operator(NOT, unplayed_3y))
    assert set(ids) == {"0_a", "0_c", "0_f"}
    _, ids = search(client, operator(AND, item(KalturaESearchEntryFieldName.MEDIA_TYPE, exact, "5")))
    assert ids == ["0_d"]
    _, ids = search(client, operator(AND, item(KalturaESearchEntryFieldName.ID, exact, "0_b")))
    assert ids == ["0_b"]
    category = KalturaESearchCategoryEntryItem()
    category.fieldName = KalturaESearchCategoryEntryFieldName.ID
    category.itemType = exact
    category.searchTerm = "11"
    _, ids = search(client, operator(AND, category))
    assert set(ids) == {"0_a", "0_c"}
    lecture = operator(AND, item("tags", exact, "lecture"))
    assert search(client, lecture) == (0, [])
    assert search(client, lecture, statuses="2,7") == (1, ["0_e"])
    total, ids = search(
        client, operator(AND, item("plays", rng, greaterThanOrEqual=0)), order="asc", page_size=2
    )
    assert total == 5 and ids == ["0_a", "0_b"]
    _, ids = search(
        client,
        operator(AND, item("plays", rng, greaterThanOrEqual=0)),
        order=KalturaESearchSortOrder.ORDER_BY_DESC,
    )
    assert ids == ["0_c", "0_f", "0_d", "0_b", "0_a"]
    assert error_code(search, client, operator(AND)) == "EMPTY SEARCH ITEMS ARE NOT ALLOWED"


def test_flavor_list_get_with_params_sizes_and_delete(emulator: RunningEmulator) -> None:
    emulator.control.create_entries(
        [entry("0_fl1", original_size=5_000_000), entry("0_fl2"), entry("0_fl3", status=7)]
    )
    client = make_client(emulator)
    flt = KalturaFlavorAssetFilter()
    flt.entryIdIn = "0_fl1,0_fl2,0_fl3"
    listed = client.flavorAsset.list(flt, KalturaFilterPager(500))
    assert listed.totalCount == 8
    originals = [f for f in listed.objects if f.isOriginal]
    assert {f.entryId for f in originals} == {"0_fl1", "0_fl2"}
    source = next(f for f in originals if f.entryId == "0_fl1")
    assert source.sizeInBytes == 5_000_000
    assert source.size != 5_000_000 // 1024 and abs(source.size * 1024 - 5_000_000) / 5_000_000 < 0.011
    assert source.status.getValue() == KalturaFlavorAssetStatus.READY
    with_params = client.flavorAsset.getFlavorAssetsWithParams("0_fl1")
    assert len(with_params) == 4 and {w.flavorParams.id for w in with_params} >= {0}
    assert client.flavorAsset.get(source.id).id == source.id
    for flavor in [f for f in listed.objects if f.entryId == "0_fl1"]:
        client.flavorAsset.delete(flavor.id)
    state = emulator.control.entry("0_fl1")
    assert state["status"] == 7 and all(f["status"] == 3 for f in state["flavors"])
    assert client.media.get("0_fl1").status.getValue() == KalturaEntryStatus.NO_CONTENT
    assert error_code(client.flavorAsset.get, source.id) == "FLAVOR_ASSET_ID_NOT_FOUND"
    assert error_code(client.flavorAsset.delete, "0_nothere") == "FLAVOR_ASSET_ID_NOT_FOUND"
    flt.statusIn = "3"
    assert client.flavorAsset.list(flt).totalCount == 4


def test_flavor_list_cuts_entry_ids_to_500_and_pages(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry(f"0_many{i:04d}") for i in range(501)])
    client = make_client(emulator)
    flt = KalturaFlavorAssetFilter()
    flt.entryIdIn = ",".join(f"0_many{i:04d}" for i in range(501))
    listed = client.flavorAsset.list(flt, KalturaFilterPager(500))
    assert listed.totalCount == 2000 and len(listed.objects) == 500
    assert "0_many0500" not in {f.entryId for f in listed.objects}


def test_get_url_serves_exact_bytes_with_ranges(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_dl", original_size=3_000_001), entry("0_conv", status=1)])
    client = make_client(emulator)
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = "0_dl"
    source = next(f for f in client.flavorAsset.list(flt).objects if f.isOriginal)
    url = client.flavorAsset.getUrl(source.id)
    assert url == client.flavorAsset.getDownloadUrl(source.id)
    whole = requests.get(url, timeout=30)
    assert whole.status_code == 200 and len(whole.content) == 3_000_001
    state = emulator.control.entry("0_dl")
    assert hashlib.sha256(whole.content).hexdigest() == state["original_sha256"]
    part = requests.get(url, headers={"Range": "bytes=1000000-1999999"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[1_000_000:2_000_000]
    assert part.headers["Content-Range"] == "bytes 1000000-1999999/3000001"
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=30)
    assert tail.content == whole.content[-10:]
    assert requests.get(url, headers={"Range": "bytes=4000000-"}, timeout=30).status_code == 416
    flt.entryIdEqual = "0_conv"
    queued = client.flavorAsset.list(flt).objects[0]
    assert error_code(client.flavorAsset.getUrl, queued.id) == "FLAVOR_ASSET_IS_NOT_READY"
    assert error_code(client.flavorAsset.getUrl, "0_none") == "FLAVOR_ASSET_ID_NOT_FOUND"


def test_same_id_same_bytes(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_det", original_size=200_000)])
    first = emulator.control.entry("0_det")["original_sha256"]
    emulator.control.reset()
    emulator.control.create_entries([entry("0_det", original_size=200_000)])
    assert emulator.control.entry("0_det")["original_sha256"] == first


def upload(client: KalturaClient, data: bytes, name: str = "placeholder.mp4") -> str:
    """Upload bytes in one chunk; returns the token id."""
    token = client.uploadToken.add(KalturaUploadToken(fileName=name, fileSize=len(data)))
    assert token.status.getValue() == KalturaUploadTokenStatus.PENDING
    done = client.uploadToken.upload(token.id, named_file(data, name), False, True)
    assert done.status.getValue() == KalturaUploadTokenStatus.FULL_UPLOAD
    return str(token.id)


def test_replace_content_no_content_preconvert_ready(emulator: RunningEmulator) -> None:
    emulator.control.set_conversion_seconds(600)
    emulator.control.create_entries([entry("0_rep", original_size=1_000_000)])
    client = make_client(emulator)
    old = emulator.control.entry("0_rep")
    data = mp4_bytes(1_024_000)
    token = upload(client, data)
    resource = KalturaUploadedFileTokenResource(token=token)
    assert error_code(client.media.addContent, "0_rep", resource) == "ENTRY_ALREADY_WITH_CONTENT"
    for flavor in old["flavors"]:
        client.flavorAsset.delete(flavor["id"])
    assert client.media.get("0_rep").status.getValue() == KalturaEntryStatus.NO_CONTENT
    added = client.media.addContent("0_rep", resource)
    assert added.status.getValue() == KalturaEntryStatus.PRECONVERT
    assert error_code(client.media.addContent, "0_rep", resource) == "ENTRY_ALREADY_WITH_CONTENT"
    assert client.uploadToken.get(token).status.getValue() == KalturaUploadTokenStatus.CLOSED
    thumb = client.thumbAsset.generate("0_rep", KalturaThumbParams())
    assert thumb.entryId == "0_rep"
    emulator.control.set_clock_offset(601)
    assert client.media.get("0_rep").status.getValue() == KalturaEntryStatus.READY
    state = emulator.control.entry("0_rep")
    live = [f for f in state["flavors"] if f["status"] == 2]
    assert len(live) == 4 and state["original_size"] == len(data)
    assert state["original_sha256"] == hashlib.sha256(data).hexdigest()
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = "0_rep"
    source = next(f for f in client.flavorAsset.list(flt).objects if f.isOriginal)
    assert requests.get(client.flavorAsset.getUrl(source.id), timeout=30).content == data
    updated = client.media.updateThumbnail("0_rep", 1)
    assert "/version/" in updated.thumbnailUrl and state["thumbnails"] == 1


def test_upload_token_errors(emulator: RunningEmulator) -> None:
    """Errors of api_v3/services/UploadTokenService.php (uploadAction, validateForUpload) and
    alpha/apps/kaltura/lib/kUploadTokenMgr.php; thumbAsset.generate preconditions."""
    emulator.control.create_entries([entry("0_empty", status=7), entry("0_img", status=2, media_type=2)])
    client = make_client(emulator)
    assert error_code(client.uploadToken.get, "0_nope") == "UPLOAD_TOKEN_NOT_FOUND"
    assert error_code(client.uploadToken.upload, "0_nope", named_file(b"x")) == "UPLOAD_TOKEN_NOT_FOUND"
    pending = client.uploadToken.add(KalturaUploadToken(fileName="a.mp4"))
    assert (
        error_code(client.uploadToken.upload, pending.id, named_file(b"x"), True)
        == "UPLOAD_TOKEN_CANNOT_RESUME"
    )
    token = upload(client, mp4_bytes(2000))
    assert error_code(client.uploadToken.upload, token, named_file(b"again")) == (
        "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"
    )
    client.uploadToken.delete(token)
    assert error_code(client.uploadToken.get, token) == "UPLOAD_TOKEN_NOT_FOUND"
    assert (
        error_code(client.thumbAsset.generate, "0_img", KalturaThumbParams())
        == "ENTRY_MEDIA_TYPE_NOT_SUPPORTED"
    )
    assert error_code(client.thumbAsset.generate, "0_empty", KalturaThumbParams()) == "INVALID_ENTRY_STATUS"


def test_chunked_upload_with_resume_and_out_of_order_chunks(emulator: RunningEmulator) -> None:
    """kUploadTokenMgr::handleResume: a chunk past the end waits for the gap; the final chunk (resumeAt
    > 0) needs the file to end exactly where it ends, else UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE."""
    client = make_client(emulator)
    data = mp4_bytes(300_000)
    token = client.uploadToken.add(KalturaUploadToken(fileName="big.mp4", fileSize=len(data)))
    first = client.uploadToken.upload(token.id, named_file(data[:100_000]), False, False)
    assert first.status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    assert first.uploadedFileSize == 100_000
    assert error_code(
        client.uploadToken.upload, token.id, named_file(data[200_000:]), True, True, 200_000
    ) == ("UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE")
    assert client.uploadToken.get(token.id).status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    middle = client.uploadToken.upload(token.id, named_file(data[100_000:200_000]), True, False, 100_000)
    assert middle.status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    assert middle.uploadedFileSize == len(data)
    last = client.uploadToken.upload(token.id, named_file(data[200_000:]), True, True, 200_000)
    assert last.status.getValue() == KalturaUploadTokenStatus.FULL_UPLOAD
    assert last.uploadedFileSize == len(data)
    emulator.control.create_entries([entry("0_chunk", status=7)])
    client.media.addContent("0_chunk", KalturaUploadedFileTokenResource(token=token.id))
    assert emulator.control.entry("0_chunk")["original_sha256"] == hashlib.sha256(data).hexdigest()


def test_multirequest_with_result_references(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_mr1", tags="a"), entry("0_mr2")])
    client = make_client(emulator)
    client.startMultiRequest()
    first = client.media.get("0_mr1")
    client.media.get("0_missing")
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = first.id
    client.flavorAsset.list(flt)
    results = client.doMultiRequest()
    assert results[0].id == "0_mr1"
    assert isinstance(results[1], KalturaException) and results[1].code == "ENTRY_ID_NOT_FOUND"
    assert {f.entryId for f in results[2].objects} == {"0_mr1"}


def test_downloads_run_while_api_calls_happen(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_big", original_size=40_000_000)])
    client = make_client(emulator)
    flt = KalturaFlavorAssetFilter()
    flt.entryIdEqual = "0_big"
    url = client.flavorAsset.getUrl(next(f for f in client.flavorAsset.list(flt).objects if f.isOriginal).id)
    with requests.get(url, stream=True, timeout=30) as streaming:
        first = next(streaming.iter_content(1_000_000))
        assert client.media.get("0_big").id == "0_big"
        rest = sum(len(chunk) for chunk in streaming.iter_content(4_000_000))
    assert len(first) + rest == 40_000_000
    assert emulator.control.calls()["download.serve"] == 1


def test_unknown_service_action_and_unsupported_resource(emulator: RunningEmulator) -> None:
    emulator.control.create_entries([entry("0_res", status=7), entry("0_src", status=1, flavors=False)])
    client = make_client(emulator)
    client.queueServiceActionCall("nosuchservice", "list", "None")
    with pytest.raises(KalturaException) as info:
        client.doQueue()
    assert info.value.code == "SERVICE_DOES_NOT_EXISTS"
    client.queueServiceActionCall("media", "explode", "None")
    with pytest.raises(KalturaException) as info:
        client.doQueue()
    assert info.value.code == "ACTION_DOES_NOT_EXISTS"
    from KalturaClient.Plugins.Core import KalturaUrlResource

    assert error_code(client.media.addContent, "0_res", KalturaUrlResource(url="http://x/y.mp4")) == (
        "RESOURCE_TYPE_NOT_SUPPORTED"
    )
    assert error_code(client.thumbAsset.generate, "0_src", KalturaThumbParams()) == "THUMB_ASSET_IS_NOT_READY"
    assert error_code(client.media.get, "") == "ENTRY_ID_NOT_FOUND"
