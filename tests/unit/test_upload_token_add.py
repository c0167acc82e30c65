"""`add_upload_token` when uploadToken.add's answer never came and the server made no token.

The integration tests (tests/integration/test_upload_token_lost_answer.py) cover a lost answer after
the server made the token; a request that never reached the server cannot be staged there, so a
recording double stands in for the client here.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from KalturaClient.exceptions import KalturaClientException

from kaltura_archiver.operations.kaltura_content import (
    TOKEN_ADD_SENDS,
    ContentTransferError,
    add_upload_token,
)


class _Client:
    """uploadToken.add that fails `lost` times before reaching the server; list reads what was made."""

    def __init__(self, lost: int) -> None:
        self.lost = lost
        self.made: list[SimpleNamespace] = []
        self.adds = 0
        self.filters: list[Any] = []
        self.uploadToken = self

    def add(self, token: Any) -> SimpleNamespace:
        self.adds += 1
        if self.lost:
            self.lost -= 1
            raise KalturaClientException("connection refused", KalturaClientException.ERROR_CONNECTION_FAILED)
        made = SimpleNamespace(id=f"tok{len(self.made)}", fileName=token.fileName, status=0)
        self.made.append(made)
        return made

    def list(self, flt: Any, pager: Any) -> SimpleNamespace:
        self.filters.append(flt)
        found = [t for t in self.made if t.fileName == flt.fileNameEqual and t.status == flt.statusEqual]
        return SimpleNamespace(objects=found[: pager.pageSize], totalCount=len(found))


class _Api:
    def __init__(self, client: _Client) -> None:
        self.client = client

    def call(self, label: str, fn: Any) -> Any:
        return fn(self.client)


def test_an_add_that_never_arrived_is_sent_again_after_the_lookup_finds_nothing() -> None:
    client = _Client(lost=1)
    slept: list[float] = []
    token_id = add_upload_token(_Api(client), "0_x-ab.mp4", 10, sleep=slept.append)  # type: ignore[arg-type]
    assert token_id == "tok0" and client.adds == 2 and len(client.made) == 1
    [flt] = client.filters
    assert (flt.fileNameEqual, flt.statusEqual, flt.orderBy) == ("0_x-ab.mp4", 0, "+createdAt")
    assert slept == [2.0]


def test_add_gives_up_retryably_after_its_sends() -> None:
    client = _Client(lost=TOKEN_ADD_SENDS)
    with pytest.raises(ContentTransferError) as info:
        add_upload_token(_Api(client), "0_y-cd.mp4", 10, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert info.value.retryable and client.adds == TOKEN_ADD_SENDS == len(client.filters)
    assert client.made == []
