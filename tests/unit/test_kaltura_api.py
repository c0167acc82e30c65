"""KalturaApi session handling, retry classification and secret scrubbing, with a fake client."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from KalturaClient.exceptions import KalturaClientException, KalturaException

from kaltura_archiver import kaltura_api
from kaltura_archiver.kaltura_api import (
    KalturaApi,
    KalturaApiError,
    KalturaConnectionSettings,
    RetryPolicy,
)
from kaltura_archiver.progress import CallCounter

SECRET = "s3cr3t-admin-secret-value"


class FakeSession:
    def __init__(self, owner: FakeClient) -> None:
        self.owner = owner

    def start(self, secret: str, user_id: str, type_: int, partner_id: int, expiry: int, privileges: str):
        self.owner.starts.append((secret, user_id, type_, partner_id, expiry, privileges))
        return f"KS-{len(self.owner.starts)}"


class FakeClient:
    """Stands in for KalturaClient: records the KS used by each call."""

    def __init__(self) -> None:
        self.starts: list[tuple[Any, ...]] = []
        self.session = FakeSession(self)
        self.ks: str | None = None

    def setKs(self, ks: str) -> None:  # noqa: N802 - KalturaClient's name
        self.ks = ks


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


def make_api(fake: FakeClient, clock=None, **kw: Any) -> tuple[KalturaApi, list[float]]:
    sleeps: list[float] = []
    settings = KalturaConnectionSettings(
        service_url="http://127.0.0.1:1", partner_id=123, admin_secret=SECRET, session_expiry=3600
    )
    api = KalturaApi(
        settings,
        counter=CallCounter(),
        retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05),
        sleep=sleeps.append,
        clock=clock or (lambda: 1000.0),
        **kw,
    )
    api._new_client = lambda: fake  # type: ignore[method-assign]
    return api, sleeps


def test_settings_repr_hides_secret_and_validates() -> None:
    s = KalturaConnectionSettings(partner_id=1, admin_secret=SECRET)
    assert SECRET not in repr(s)
    with pytest.raises(ValueError, match="partner_id"):
        KalturaConnectionSettings(partner_id=0, admin_secret=SECRET)
    with pytest.raises(ValueError, match="admin_secret"):
        KalturaConnectionSettings(partner_id=5, admin_secret="")


def test_session_started_lazily_once_with_admin_type_and_privileges(fake: FakeClient) -> None:
    api, _ = make_api(fake)
    assert fake.starts == []
    assert api.call("media.get", lambda c: c.ks) == "KS-1"
    assert api.call("media.get", lambda c: c.ks) == "KS-1"
    assert fake.starts == [(SECRET, "", 2, 123, 3600, "disableentitlement")]
    assert api.counter.as_dict() == {"media.get": 2, "session.start": 1}


def test_session_renewed_before_expiry(fake: FakeClient) -> None:
    now = [1000.0]
    api, _ = make_api(fake, clock=lambda: now[0])
    api.call("x", lambda c: None)
    now[0] += 3600 - 300  # within the renewal margin (10% of 3600 s)
    assert api.call("x", lambda c: c.ks) == "KS-2"


def test_invalid_ks_renews_once_then_fails(fake: FakeClient) -> None:
    api, sleeps = make_api(fake)
    calls: list[str] = []

    def rejects_first(c: FakeClient) -> str:
        calls.append(c.ks or "")
        if len(calls) == 1:
            raise KalturaException(f'Invalid KS "{c.ks}"', "INVALID_KS")
        return "ok"

    assert api.call("media.list", rejects_first) == "ok"
    assert calls == ["KS-1", "KS-2"] and sleeps == []

    def always_rejects(c: FakeClient) -> str:
        raise KalturaException(f"Invalid KS {c.ks}", "INVALID_KS")

    with pytest.raises(KalturaApiError) as info:
        api.call("media.list", always_rejects)
    assert info.value.code == "INVALID_KS" and not info.value.retryable
    assert "KS-" not in str(info.value)


def test_transient_errors_retried_with_backoff(fake: FakeClient) -> None:
    api, sleeps = make_api(fake)
    failures = [
        KalturaException("blocked", "ACTION_BLOCKED"),
        KalturaClientException("boom", KalturaClientException.ERROR_INVALID_XML),
        ConnectionResetError("reset"),
    ]

    def flaky(c: FakeClient) -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    assert api.call("media.list", flaky) == "done"
    assert len(sleeps) == 3
    assert all(0 < d <= 0.05 for d in sleeps)
    assert api.counter.get("media.list") == 4


def test_retries_stop_at_max_attempts(fake: FakeClient) -> None:
    api, sleeps = make_api(fake)

    def blocked(c: FakeClient) -> None:
        raise KalturaException("blocked", "ACTION_BLOCKED")

    with pytest.raises(KalturaApiError) as info:
        api.call("media.list", blocked)
    assert info.value.retryable and info.value.code == "ACTION_BLOCKED"
    assert len(sleeps) == 3


def test_permanent_error_not_retried(fake: FakeClient) -> None:
    api, sleeps = make_api(fake)

    def missing(c: FakeClient) -> None:
        raise KalturaException("Entry id 0_x not found", "ENTRY_ID_NOT_FOUND")

    with pytest.raises(KalturaApiError) as info:
        api.call("media.get", missing)
    assert info.value.code == "ENTRY_ID_NOT_FOUND" and not info.value.retryable
    assert sleeps == []


def test_get_entry_returns_none_when_missing(fake: FakeClient) -> None:
    api, _ = make_api(fake)

    class Media:
        def get(self, entry_id: str) -> None:
            raise KalturaException(f"Entry id {entry_id} not found", "ENTRY_ID_NOT_FOUND")

    fake.media = Media()  # type: ignore[attr-defined]
    assert api.get_entry("0_missing1") is None


def test_secret_and_ks_never_logged_or_raised(fake: FakeClient, caplog: pytest.LogCaptureFixture) -> None:
    api, _ = make_api(fake)
    caplog.set_level(logging.DEBUG)

    def leaky(c: FakeClient) -> None:
        raise KalturaException(f"bad secret {SECRET} with ks {c.ks}", "SOME_PERMANENT")

    with pytest.raises(KalturaApiError) as info:
        api.call("x", leaky)
    assert SECRET not in str(info.value) and "KS-1" not in str(info.value)
    assert info.value.__cause__ is None
    assert SECRET not in caplog.text and "KS-1" not in caplog.text
    assert SECRET not in repr(api)


def serve_flavors(monkeypatch: pytest.MonkeyPatch, service: Any) -> None:
    """Route KalturaApi's flavorAsset.list calls to a fake service (these tests check the id splitting)."""
    monkeypatch.setattr(
        kaltura_api, "_flavor_list_call", lambda flt, pager: lambda _client: service.list(flt, pager)
    )


def test_list_flavors_splits_ids_until_each_call_fits_one_page(
    fake: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kaltura's order among equal keys may change between calls, so page indexes are not used for
    several entries at once: the id list is split until each call's matches fit one page."""
    api, _ = make_api(fake)
    flavors = [
        SimpleNamespace(id=f"1_f{i}", entryId=f"0_e{i % 3}", isOriginal=i < 3, status=2, size=10, createdAt=1)
        for i in range(1200)
    ]
    requests: list[tuple[str, int]] = []

    class FlavorAsset:
        def list(self, flt: Any, pager: Any) -> Any:
            requests.append((flt.entryIdIn, pager.pageIndex))
            wanted = set(flt.entryIdIn.split(","))
            matches = [f for f in flavors if f.entryId in wanted]
            start = (pager.pageIndex - 1) * pager.pageSize
            return SimpleNamespace(totalCount=len(matches), objects=matches[start : start + pager.pageSize])

    serve_flavors(monkeypatch, FlavorAsset())
    out = api.list_flavors(["0_e0", "0_e1", "0_e2", "0_none"])
    assert all(page == 1 for _, page in requests)
    assert sum(len(v) for v in out.values()) == 1200
    assert out["0_none"] == []
    assert all(f.entry_id == "0_e1" for f in out["0_e1"]) and len(out["0_e1"]) == 400
    assert api.counter.get("flavorAsset.list") == len(requests) == 5


def test_list_flavors_one_call_per_500_ids(fake: FakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    api, _ = make_api(fake)
    sizes: list[int] = []

    class FlavorAsset:
        def list(self, flt: Any, pager: Any) -> Any:
            sizes.append(len(flt.entryIdIn.split(",")))
            return SimpleNamespace(totalCount=0, objects=[])

    serve_flavors(monkeypatch, FlavorAsset())
    api.list_flavors([f"0_{i:08d}" for i in range(1001)])
    assert sizes == [500, 500, 1]


def test_retry_policy_delay_bounds() -> None:
    policy = RetryPolicy(max_attempts=6, base=0.5, cap=30)
    assert policy.delay(1, rng=lambda: 0.0) == 0.25
    assert policy.delay(1, rng=lambda: 1.0) == 0.5
    assert policy.delay(10, rng=lambda: 1.0) == 30


def test_truncated_response_is_refused_not_recovered() -> None:
    from KalturaClient import KalturaConfiguration

    from kaltura_archiver.kaltura_api import CompleteResponseClient

    client = CompleteResponseClient(KalturaConfiguration("http://127.0.0.1:1"))
    document = (
        b'<?xml version="1.0" encoding="utf-8"?><xml><result>'
        b"<objectType>KalturaMediaListResponse</objectType>"
        b"<objects><item><objectType>KalturaMediaEntry</objectType><id>0_a</id></item>"
        b"<item><objectType>KalturaMediaEntry</objectType><id>0_b</id></item></objects>"
        b"<totalCount>2</totalCount></result><executionTime>0.1</executionTime></xml>"
    )
    assert client.parsePostResult(document) is not None
    with pytest.raises(KalturaClientException) as info:
        client.parsePostResult(document[: len(document) // 2])
    assert info.value.code == KalturaClientException.ERROR_INVALID_XML
