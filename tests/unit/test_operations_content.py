"""Unit tests of the operations' pure parts: outcomes, step log, tags, chunking, download, chunked upload."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from KalturaClient.exceptions import KalturaClientException

from kaltura_archiver.kaltura_api import KalturaApiError
from kaltura_archiver.operations.kaltura_content import (
    ContentTransferError,
    hash_stream,
    merge_tags,
    prefetch,
    rechunk,
    stream_flavor,
    upload_chunks,
)
from kaltura_archiver.operations.memory import pin_mmap_threshold
from kaltura_archiver.operations.outcome import EntryOutcome, Outcome
from kaltura_archiver.operations.runner import classify_error
from kaltura_archiver.operations.steplog import StepLog

# -- outcome / step log -----------------------------------------------------------------------------


def test_outcome_round_trips_through_json() -> None:
    outcome = EntryOutcome("0_a", "archive", Outcome.SKIPPED, "too big", {"original_kb": 12, "steps": ["x"]})
    data = json.loads(json.dumps(outcome.as_dict()))
    assert data["outcome"] == "skipped"
    assert EntryOutcome.from_dict(data) == outcome


def test_outcome_flags() -> None:
    assert EntryOutcome("e", "restore", Outcome.WAITING_FOR_GLACIER).waiting
    assert not EntryOutcome("e", "restore", Outcome.DONE).waiting
    assert EntryOutcome("e", "archive", Outcome.FAILED, details={"retryable": True}).retryable
    assert not EntryOutcome("e", "archive", Outcome.FAILED).retryable


def test_steplog_dry_run_announces_without_executing(caplog: pytest.LogCaptureFixture) -> None:
    log = StepLog("0_a", "replace", live=False)
    with caplog.at_level("INFO", logger="kaltura_archiver.operations"):
        assert log.step("delete flavor 0_f") is False
        log.check("original READY")
    assert log.lines == ["DRYRUN 0_a replace: delete flavor 0_f", "CHECK 0_a replace: original READY"]
    assert "DRYRUN 0_a replace: delete flavor 0_f" in caplog.text
    assert log.steps == ["delete flavor 0_f"]


def test_steplog_live_calls_hook_before_each_step() -> None:
    seen: list[tuple[int, str]] = []
    log = StepLog("0_a", "archive", live=True, on_step=lambda i, d: seen.append((i, d)))
    assert log.step("one") is True
    assert log.step("two") is True
    assert seen == [(0, "one"), (1, "two")]
    assert log.lines[0].startswith("EXEC ")


def test_steplog_hook_can_abort_before_the_step() -> None:
    class Crash(BaseException):
        pass

    def crash_at_1(index: int, _description: str) -> None:
        if index == 1:
            raise Crash

    log = StepLog("0_a", "archive", live=True, on_step=crash_at_1)
    log.step("first")
    with pytest.raises(Crash):
        log.step("second")
    assert log.steps == ["first"]


# -- tags -------------------------------------------------------------------------------------------


def test_merge_tags_adds_and_removes_whole_tags_only() -> None:
    tags = ("archived_to_s3_old", "lecture", "flavors_deleted")
    assert merge_tags(tags, add=["archived_to_s3"]) == (*tags, "archived_to_s3")
    assert merge_tags(tags, remove=["flavors"]) == tags
    assert merge_tags(tags, remove=["flavors_deleted"]) == ("archived_to_s3_old", "lecture")


def test_merge_tags_is_case_insensitive_and_idempotent() -> None:
    assert merge_tags(("Archived_To_S3",), add=["archived_to_s3"]) == ("Archived_To_S3",)
    assert merge_tags(("A", "b", "a"), remove=["B"]) == ("A",)
    once = merge_tags(("x",), add=["y"])
    assert merge_tags(once, add=["y"]) == once


# -- chunking and hashing ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "chunk"), [([10, 3, 7], 4), ([1] * 9, 3), ([8], 8), ([5, 5], 100)])
def test_rechunk_cuts_exact_pieces_and_flags_the_last(sizes: list[int], chunk: int) -> None:
    data = bytes(range(sum(sizes)))
    parts, start = [], 0
    for size in sizes:
        parts.append(data[start : start + size])
        start += size
    pieces = list(rechunk(parts, chunk))
    assert b"".join(p for p, _ in pieces) == data
    assert [last for _, last in pieces] == [False] * (len(pieces) - 1) + [True]
    assert all(len(p) == chunk for p, _ in pieces[:-1])
    assert 0 < len(pieces[-1][0]) <= chunk


def test_rechunk_of_nothing_yields_nothing() -> None:
    assert list(rechunk([], 4)) == []
    assert list(rechunk([b""], 4)) == []


def test_hash_stream() -> None:
    assert hash_stream([b"ab", b"c"]) == (hashlib.sha256(b"abc").hexdigest(), 3)


def test_classify_error_retryable_flags() -> None:
    assert classify_error(KalturaApiError("blocked", "ACTION_BLOCKED", True))[1] is True
    assert classify_error(KalturaApiError("nope", "ENTRY_ID_NOT_FOUND", False))[1] is False
    assert classify_error(ContentTransferError("drop", True)) == ("transfer failed: drop", True)
    assert classify_error(ValueError("x"))[1] is False


# -- download with Range resume against a real local HTTP server -------------------------------------

CONTENT = bytes((i * 7) % 251 for i in range(200_000))


class _Handler(BaseHTTPRequestHandler):
    drops: list[int] = []
    requests_seen: list[str | None] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).requests_seen.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = CONTENT[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(CONTENT) - 1}/{len(CONTENT)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).drops:
            cut = type(self).drops.pop(0)
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def content_server() -> Iterator[str]:
    _Handler.drops = []
    _Handler.requests_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/content"
    server.shutdown()
    server.server_close()


class _UrlApi:
    """Answers flavorAsset.getUrl with a fixed URL (the only call stream_flavor makes)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.labels: list[str] = []

    def call(self, label: str, fn: Any) -> Any:
        self.labels.append(label)
        return self.url


def test_stream_flavor_resumes_after_drops(content_server: str) -> None:
    _Handler.drops = [50_000, 30_000]
    api = _UrlApi(content_server)
    chunks = stream_flavor(api, "0_f", expected_size=len(CONTENT), chunk_size=8192, sleep=lambda s: None)  # type: ignore[arg-type]
    data = b"".join(chunks)
    assert data == CONTENT
    assert _Handler.requests_seen[0] is None
    resumed_at = [int(r.split("=")[1].rstrip("-")) for r in _Handler.requests_seen[1:] if r]
    assert len(resumed_at) == 2
    assert 0 < resumed_at[0] <= 50_000 < resumed_at[1] <= resumed_at[0] + 30_000


def test_stream_flavor_learns_size_from_headers(content_server: str) -> None:
    _Handler.drops = [10_000]
    data = b"".join(stream_flavor(_UrlApi(content_server), "0_f", sleep=lambda s: None))  # type: ignore[arg-type]
    assert data == CONTENT


def test_stream_flavor_gives_up_with_a_retryable_error(content_server: str) -> None:
    _Handler.drops = [1000] * 10
    with pytest.raises(ContentTransferError) as info:
        b"".join(stream_flavor(_UrlApi(content_server), "0_f", max_resumes=2, sleep=lambda s: None))  # type: ignore[arg-type]
    assert info.value.retryable
    assert "0_f" in str(info.value)


# -- chunked upload against a recording fake ---------------------------------------------------------


class _Token:
    def __init__(self) -> None:
        self.id = "tok1"
        self.data = bytearray()
        self.status = 0
        self.uploadedFileSize = 0


class _UploadClient:
    """Enough of KalturaClient's uploadToken service for `upload_chunks` (a test double)."""

    def __init__(self, fail_once_at: int | None = None, accept_before_failing: bool = False) -> None:
        self.token = _Token()
        self.calls: list[tuple[bool, bool, float]] = []
        self.fail_once_at = fail_once_at
        self.accept_before_failing = accept_before_failing
        self.uploadToken = self

    def add(self, token: Any) -> _Token:
        return self.token

    def get(self, token_id: str) -> _Token:
        return self.token

    def upload(
        self, _token: str, data: Any, resume: bool = False, final: bool = True, at: float = -1
    ) -> _Token:
        offset = int(at) if resume else 0
        piece = data.read()
        self.calls.append((resume, final, at))
        if self.fail_once_at == offset:
            self.fail_once_at = None
            if self.accept_before_failing:
                self._write(offset, piece, final)
            raise KalturaApiError("chunk lost", "UPLOAD_ERROR", False)
        self._write(offset, piece, final)
        return self.token

    def _write(self, offset: int, piece: bytes, final: bool) -> None:
        self.token.data[offset : offset + len(piece)] = piece
        self.token.uploadedFileSize = len(self.token.data)
        self.token.status = 2 if final else 1


class _Api:
    def __init__(self, client: _UploadClient) -> None:
        self.client = client

    def call(self, label: str, fn: Any) -> Any:
        return fn(self.client)


def test_upload_chunks_sends_offsets_and_final_flag() -> None:
    client = _UploadClient()
    data = bytes(range(256)) * 40
    result = upload_chunks(_Api(client), [data[:3000], data[3000:]], "x.mp4", 4096, len(data))  # type: ignore[arg-type]
    assert bytes(client.token.data) == data
    assert client.calls == [(False, False, -1), (True, False, 4096.0), (True, True, 8192.0)]
    assert result.size_bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_upload_chunk_already_received_counts_as_sent() -> None:
    client = _UploadClient(fail_once_at=4096, accept_before_failing=True)
    data = b"z" * 10_000
    upload_chunks(_Api(client), [data], "x.mp4", 4096, len(data))  # type: ignore[arg-type]
    assert bytes(client.token.data) == data


def test_upload_chunk_lost_is_a_retryable_failure() -> None:
    client = _UploadClient(fail_once_at=4096)
    with pytest.raises(ContentTransferError) as info:
        upload_chunks(_Api(client), [b"z" * 10_000], "x.mp4", 4096, 10_000)  # type: ignore[arg-type]
    assert info.value.retryable


def test_upload_of_wrong_size_fails() -> None:
    with pytest.raises(ContentTransferError):
        upload_chunks(_Api(_UploadClient()), [b"abc"], "x.mp4", 4096, 5)  # type: ignore[arg-type]


class _SlowFinalClient(_UploadClient):
    """The final chunk's answer is lost (client timeout); the server closes the token `polls` reads later."""

    def __init__(self, polls: int | None) -> None:
        super().__init__()
        self.polls = polls
        self.pending: tuple[int, bytes] | None = None

    def upload(
        self, _token: str, data: Any, resume: bool = False, final: bool = True, at: float = -1
    ) -> _Token:
        if not final:
            return super().upload(_token, data, resume, final, at)
        self.calls.append((resume, final, at))
        self.pending = (int(at) if resume else 0, data.read())
        raise KalturaClientException(
            "Read timed out. (read timeout=10)", KalturaClientException.ERROR_CONNECTION_FAILED
        )

    def get(self, token_id: str) -> _Token:
        if self.pending is not None and self.polls is not None:
            if self.polls == 0:
                self._write(*self.pending, final=True)
                self.pending = None
            else:
                self.polls -= 1
        return self.token


def test_final_chunk_without_an_answer_is_awaited_not_sent_again() -> None:
    client = _SlowFinalClient(polls=3)
    slept: list[float] = []
    data = bytes(range(256)) * 40
    result = upload_chunks(_Api(client), [data], "x.mp4", 4096, len(data), sleep=slept.append)  # type: ignore[arg-type]
    assert bytes(client.token.data) == data and result.size_bytes == len(data)
    assert [c for c in client.calls if c[1]] == [(True, True, 8192.0)], "the final chunk went up once"
    assert len(slept) == 3


def test_final_chunk_that_never_completes_fails_retryably_after_the_wait() -> None:
    client = _SlowFinalClient(polls=None)
    slept: list[float] = []
    with pytest.raises(ContentTransferError) as info:
        api: Any = _Api(client)
        upload_chunks(api, [b"q" * 9000], "x.mp4", 4096, 9000, sleep=slept.append, final_wait_seconds=30)
    assert info.value.retryable and "no answer" in str(info.value)
    assert sum(slept) >= 30 and len([c for c in client.calls if c[1]]) == 1


def test_file_type_restriction_is_not_retryable() -> None:
    class Restricted(_UploadClient):
        def upload(
            self, _token: str, data: Any, resume: bool = False, final: bool = True, at: float = -1
        ) -> _Token:
            if final:
                raise KalturaApiError("restricted", "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD", False)
            return super().upload(_token, data, resume, final, at)

    with pytest.raises(ContentTransferError) as info:
        upload_chunks(_Api(Restricted()), [b"r" * 9000], "x.exe", 4096, 9000)  # type: ignore[arg-type]
    assert not info.value.retryable


# -- prefetch -----------------------------------------------------------------------------------------


def test_prefetch_keeps_order_and_content() -> None:
    pieces = [bytes([i]) * 100 for i in range(50)]
    assert list(prefetch(iter(pieces), 3)) == pieces


def test_prefetch_raises_the_producers_error_in_the_consumer() -> None:
    def broken() -> Iterator[bytes]:
        yield b"a"
        raise ContentTransferError("dropped", True)

    got: list[bytes] = []
    with pytest.raises(ContentTransferError):
        for chunk in prefetch(broken(), 2):
            got.append(chunk)
    assert got == [b"a"]


def test_prefetch_stops_the_producer_when_the_consumer_stops() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield b"x"
        finally:
            closed.set()

    stream = prefetch(endless(), 2)
    assert next(stream) == b"x"
    stream.close()  # type: ignore[attr-defined]
    assert closed.wait(5)
    assert len(produced) < 10


def test_pin_mmap_threshold_is_applied_once_on_glibc() -> None:
    first = pin_mmap_threshold()
    assert pin_mmap_threshold() is first
    assert isinstance(first, bool)
