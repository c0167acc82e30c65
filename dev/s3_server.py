"""Local S3 for development and tests: moto's S3 server behind a thin WSGI layer of our own.

moto in server mode is a real HTTP S3 API, but it completes Glacier restores at once and never
fails.  `DevS3Layer` sits in front of moto's WSGI app and adds three things:

* Glacier restores that take time: after a RestoreObject (``POST ?restore``) is accepted, for
  ``glacier_restore_seconds`` HEAD answers ``x-amz-restore: ongoing-request="true"``, GET is
  refused with 403 InvalidObjectState and a second RestoreObject gets 409
  RestoreAlreadyInProgress; afterwards moto's own ``ongoing-request="false", expiry-date=...``
  shows and GET works.  GET of a GLACIER / DEEP_ARCHIVE object never restored is refused by
  moto itself (InvalidObjectState), which the layer keeps.
* Restore tiers as AWS documents them (S3 User Guide, "Understanding archive retrieval options";
  S3 API Reference, RestoreObject): each tier takes its own time (``tier_seconds``, default
  ``glacier_restore_seconds`` for every tier); an Expedited request is refused with 503
  ``GlacierExpeditedRetrievalNotAvailable`` while ``expedited_capacity`` is false (AWS: returned
  when there is not enough capacity for an Expedited request; never for Standard or Bulk); a
  request with a faster tier while a restore is under way upgrades its speed (S3 User Guide,
  "Upgrading the speed of an in-progress restore"); the same or a slower tier gets 409
  RestoreAlreadyInProgress.
* SQS: requests signed for the ``sqs`` service go straight to moto's SQS (one server answers both,
  as `aws_default`'s single ``endpoint_url`` needs); they are counted as ``sqs:<Action>``.
* Checksum verification of request bodies: a PUT carrying ``x-amz-checksum-sha256`` (or
  ``-sha1`` / ``-crc32``) is checked against the bytes received and refused with 400 BadDigest
  on a mismatch, as S3 does (moto stores the header without checking it).
* Fault injection and call counts, driven over HTTP under ``/_dev/`` (see `S3DevControl`):

  ``POST /_dev/faults`` {operation?, method?, bucket?, key_prefix?, query?, probability? |
  every_nth?, max_hits?, kind: error500 | slowdown503 | drop | delay, after_bytes?, seconds?,
  phase?: request | response}
  -> {"id": n};  ``GET /_dev/faults``;  ``DELETE /_dev/faults[/<id>]``;
  ``GET /_dev/counts`` -> {"operations": {S3 operation: calls}, "faults": {kind: injected}};
  ``DELETE /_dev/counts``;  ``GET|POST /_dev/config`` {"glacier_restore_seconds": N,
  "tier_seconds": {"Expedited": N, "Standard": N, "Bulk": N}, "expedited_capacity": bool};
  ``GET /_dev/restores``;  ``POST /_dev/restores/complete`` (finish pending restores now);
  ``POST /_dev/seed`` {bucket, create_bucket?, objects: [{key, size? | body_b64? | body_text?,
  storage_class?, virtual_size?}]} (bulk set-up straight into moto);
  ``POST /_dev/reset`` {"data": false} (faults, counts, restores, config; ``data`` also wipes
  moto's buckets);  ``GET /_dev/health``.

  Fault kinds: ``error500`` answers 500 InternalError, ``slowdown503`` answers 503 SlowDown,
  ``delay`` sleeps ``seconds`` then serves the request, ``drop`` closes the connection mid-body:
  for a request with a body it reads ``after_bytes`` (default half) of it and closes without an
  answer (moto never sees the request); otherwise, or with ``"phase": "response"``, moto
  executes the request and the connection is closed after ``after_bytes`` (default half) of
  the response body (a lost answer: the client cannot tell whether the request took effect).

Run it with ``python -m dev.s3_server --port 9000 --glacier-restore-seconds 30`` (``--port 0``
picks a free port; the first line printed is ``S3 server listening on http://HOST:PORT``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.serving import BaseWSGIServer, make_server

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
FAULT_KINDS = frozenset({"error500", "slowdown503", "drop", "delay"})
_BODY_METHODS = frozenset({"PUT", "POST"})
_BUCKET_SUBRESOURCES = (
    "uploads",
    "versions",
    "location",
    "versioning",
    "tagging",
    "policy",
    "acl",
    "cors",
    "lifecycle",
    "notification",
    "encryption",
    "website",
    "logging",
    "replication",
    "ownershipControls",
    "publicAccessBlock",
    "object-lock",
    "accelerate",
    "requestPayment",
)


def classify(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> str:
    """The S3 API operation name of a path-style request (e.g. ``UploadPart``)."""
    parts = path.lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method in ("GET", "PUT", "DELETE"):
            for sub in _BUCKET_SUBRESOURCES:
                if sub in query:
                    if sub == "uploads":
                        return "ListMultipartUploads"
                    if sub == "versions":
                        return "ListObjectVersions"
                    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}[method]
                    return f"{verb}Bucket{sub[0].upper()}{sub[1:].replace('-', '')}"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
            method, f"{method}Bucket"
        )
    copy = "x-amz-copy-source" in headers
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        if "restore" in query:
            return "RestoreObject"
        return "PostObject"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObjectTagging" if "tagging" in query else "DeleteObject"
    if method == "GET":
        if "uploadId" in query:
            return "ListParts"
        if "tagging" in query:
            return "GetObjectTagging"
        if "attributes" in query:
            return "GetObjectAttributes"
        return "GetObject"
    if method == "HEAD":
        return "HeadObject"
    return f"{method}Object"


@dataclass
class Fault:
    """One fault rule: which requests it matches, how often it fires, what it does."""

    kind: str
    operation: str | None = None
    method: str | None = None
    bucket: str | None = None
    key_prefix: str | None = None
    query: str | None = None
    probability: float | None = None
    every_nth: int | None = None
    max_hits: int | None = None
    after_bytes: int | None = None
    seconds: float = 1.0
    phase: str | None = None
    id: int = 0
    seen: int = 0
    hits: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any], fault_id: int) -> Fault:
        """Validate a fault rule posted to the control API."""
        allowed = {
            "kind",
            "operation",
            "method",
            "bucket",
            "key_prefix",
            "query",
            "probability",
            "every_nth",
            "max_hits",
            "after_bytes",
            "seconds",
            "phase",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if data.get("kind") not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}, got {data.get('kind')!r}")
        if data.get("phase") not in (None, "request", "response"):
            raise ValueError("phase must be request or response")
        if data.get("probability") is not None and data.get("every_nth") is not None:
            raise ValueError("give probability or every_nth, not both")
        probability = data.get("probability")
        if probability is not None and not 0 <= float(probability) <= 1:
            raise ValueError("probability must be within [0, 1]")
        every_nth = data.get("every_nth")
        if every_nth is not None and int(every_nth) < 1:
            raise ValueError("every_nth must be >= 1")
        fault = cls(**data, id=fault_id)
        if fault.method:
            fault.method = fault.method.upper()
        return fault

    def matches(self, method: str, operation: str, bucket: str, key: str, raw_query: str) -> bool:
        """Whether this rule applies to a request (before counting how often it fires)."""
        return (
            (self.operation is None or self.operation == operation)
            and (self.method is None or self.method == method)
            and (self.bucket is None or self.bucket == bucket)
            and (self.key_prefix is None or key.startswith(self.key_prefix))
            and (self.query is None or self.query in raw_query)
        )

    def fires(self, rng: random.Random) -> bool:
        """Count one matching request and say whether the fault is injected into it."""
        if self.max_hits is not None and self.hits >= self.max_hits:
            return False
        self.seen += 1
        if self.every_nth is not None:
            fire = self.seen % self.every_nth == 0
        elif self.probability is not None:
            fire = rng.random() < self.probability
        else:
            fire = True
        if fire:
            self.hits += 1
        return fire


@dataclass
class _Restore:
    storage_class: str
    requested_at: float
    ready_at: float
    tier: str = "Standard"


RESTORE_TIERS = ("Expedited", "Standard", "Bulk")
# fastest first; a RestoreRequest without a Tier is Standard (S3 API Reference, GlacierJobParameters)


@dataclass
class _State:
    glacier_restore_seconds: float
    tier_seconds: dict[str, float] = field(default_factory=dict)
    expedited_capacity: bool = True
    faults: list[Fault] = field(default_factory=list)
    next_fault_id: int = 1
    operations: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    restores: dict[tuple[str, str], _Restore] = field(default_factory=dict)


def _error_body(code: str, message: str, resource: str, extra: str = "") -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<Resource>{resource}</Resource><RequestId>{request_id}</RequestId></Error>"
    ).encode()


class _Dropped(ConnectionError):
    """Raised inside the WSGI app after the socket was closed on purpose."""


class DevS3Layer:
    """WSGI middleware in front of moto: slow Glacier restores, checksum checks, faults, counts."""

    def __init__(self, app: WsgiApp, glacier_restore_seconds: float = 0.0, seed: int | None = None):
        self.app = app
        self.initial_restore_seconds = float(glacier_restore_seconds)
        self.state = _State(glacier_restore_seconds=self.initial_restore_seconds)
        self.lock = threading.Lock()
        self.rng = random.Random(seed)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: control API, or S3 through the layer to moto."""
        path = unquote(environ.get("PATH_INFO", "/"))
        if path.startswith("/_dev/"):
            return self._control(environ, start_response, path)
        method = environ["REQUEST_METHOD"].upper()
        raw_query = environ.get("QUERY_STRING", "")
        query = parse_qs(raw_query, keep_blank_values=True)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if _signed_for(headers) == "sqs":
            action = headers.get("x-amz-target", "").rpartition(".")[2] or "Query"
            with self.lock:
                self.state.operations[f"sqs:{action}"] += 1
            return self.app(environ, start_response)
        operation = classify(method, path, query, headers)
        parts = path.lstrip("/").split("/", 1)
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
        with self.lock:
            self.state.operations[operation] += 1
            fault = next(
                (
                    f
                    for f in self.state.faults
                    if f.matches(method, operation, bucket, key, raw_query) and f.fires(self.rng)
                ),
                None,
            )
            if fault is not None:
                self.state.injected[fault.kind] += 1
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                return self._drop(environ, start_response, fault)
            else:
                _drain(environ)
                return self._fault_answer(start_response, fault.kind, path)
        return self._s3(environ, start_response, operation, bucket, key, path)

    def _fault_answer(self, start_response: StartResponse, kind: str, path: str) -> list[bytes]:
        if kind == "slowdown503":
            status, body = "503 Slow Down", _error_body("SlowDown", "Please reduce your request rate.", path)
        else:
            status, body = (
                "500 Internal Server Error",
                _error_body("InternalError", "We encountered an internal error. Please try again.", path),
            )
        start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def _drop(self, environ: dict[str, Any], start_response: StartResponse, fault: Fault) -> Iterable[bytes]:
        length = _content_length(environ)
        sock: socket.socket | None = environ.get("werkzeug.socket")
        if fault.phase != "response" and environ["REQUEST_METHOD"].upper() in _BODY_METHODS and length > 0:
            stream = environ["wsgi.input"]
            remaining = fault.after_bytes if fault.after_bytes is not None else length // 2
            while remaining > 0:
                block = stream.read(min(remaining, 1 << 20))
                if not block:
                    break
                remaining -= len(block)
            _close(sock)
            raise _Dropped("fault injection: connection dropped while receiving the request body")
        status_headers: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            status_headers[:] = [status, headers]
            return lambda data: None

        body = b"".join(_iterate_and_close(self.app(environ, capture)))
        cut = fault.after_bytes if fault.after_bytes is not None else len(body) // 2
        if not body or cut >= len(body):
            _close(sock)
            raise _Dropped("fault injection: connection dropped before the answer")
        start_response(status_headers[0], status_headers[1])
        return _truncated(body[:cut], sock)

    def _s3(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        operation: str,
        bucket: str,
        key: str,
        path: str,
    ) -> Iterable[bytes]:
        if operation in ("PutObject", "UploadPart"):
            refusal = self._check_body_checksum(environ, start_response, path)
            if refusal is not None:
                return refusal
        now = time.monotonic()
        with self.lock:
            pending = self.state.restores.get((bucket, key))
            ongoing = pending is not None and pending.ready_at > now
        if ongoing and pending is not None:
            if operation == "GetObject":
                body = _error_body(
                    "InvalidObjectState",
                    "The operation is not valid for the object's storage class",
                    path,
                    f"<StorageClass>{pending.storage_class}</StorageClass>",
                )
                start_response(
                    "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
                )
                return [body]
            if operation == "RestoreObject":
                return self._restore_ongoing(environ, start_response, pending, path)
            if operation == "HeadObject":
                return self.app(environ, _ongoing_restore_headers(start_response))
        if operation in ("PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject"):
            with self.lock:
                self.state.restores.pop((bucket, key), None)
        if operation == "RestoreObject":
            return self._restore(environ, start_response, bucket, key)
        return self.app(environ, start_response)

    def _restore(
        self, environ: dict[str, Any], start_response: StartResponse, bucket: str, key: str
    ) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(_content_length(environ))
        environ["wsgi.input"] = io.BytesIO(body)
        tier = _restore_tier(body)
        with self.lock:
            capacity = self.state.expedited_capacity
        if tier == "Expedited" and not capacity:
            return _no_expedited_capacity(start_response, f"/{bucket}/{key}")
        status_holder: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            status_holder.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        with self.lock:
            already = (bucket, key) in self.state.restores
        result = list(_iterate_and_close(self.app(environ, capture)))
        if status_holder and status_holder[0].startswith("202") and not already:
            now = time.monotonic()
            with self.lock:
                self.state.restores[(bucket, key)] = _Restore(
                    storage_class=_moto_storage_class(bucket, key),
                    requested_at=now,
                    ready_at=now + self._tier_seconds(tier),
                    tier=tier,
                )
        return result

    def _tier_seconds(self, tier: str) -> float:
        return float(self.state.tier_seconds.get(tier, self.state.glacier_restore_seconds))

    def _restore_ongoing(
        self, environ: dict[str, Any], start_response: StartResponse, pending: _Restore, path: str
    ) -> Iterable[bytes]:
        """A restore request while one is under way: a faster tier upgrades it (202), else 409."""
        tier = _restore_tier(environ["wsgi.input"].read(_content_length(environ)))
        if RESTORE_TIERS.index(tier) >= RESTORE_TIERS.index(pending.tier):
            body = _error_body("RestoreAlreadyInProgress", "Object restore is already in progress", path)
            return _answer(start_response, "409 Conflict", body)
        if tier == "Expedited" and not self.state.expedited_capacity:
            return _no_expedited_capacity(start_response, path)
        with self.lock:
            pending.ready_at = min(pending.ready_at, time.monotonic() + self._tier_seconds(tier))
            pending.tier = tier
        start_response("202 Accepted", [("Content-Length", "0")])
        return [b""]

    def _check_body_checksum(
        self, environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> list[bytes] | None:
        algorithm, expected = next(
            (
                (name, environ[f"HTTP_X_AMZ_CHECKSUM_{name.upper()}"])
                for name in ("sha256", "sha1", "crc32")
                if f"HTTP_X_AMZ_CHECKSUM_{name.upper()}" in environ
            ),
            (None, None),
        )
        if algorithm is None or "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", ""):
            return None
        body = environ["wsgi.input"].read(_content_length(environ))
        environ["wsgi.input"] = io.BytesIO(body)
        if algorithm == "crc32":
            actual = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        else:
            actual = base64.b64encode(hashlib.new(algorithm, body).digest()).decode()
        if actual == expected:
            return None
        message = f"The {algorithm.upper()} you specified did not match the calculated checksum."
        refusal = _error_body("BadDigest", message, path)
        start_response(
            "400 Bad Request", [("Content-Type", "application/xml"), ("Content-Length", str(len(refusal)))]
        )
        return [refusal]

    def _control(self, environ: dict[str, Any], start_response: StartResponse, path: str) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        try:
            payload = self._control_action(method, path, _json_body(environ))
            status = "200 OK"
        except KeyError as exc:
            payload, status = {"error": f"not found: {exc.args[0]}"}, "404 Not Found"
        except (ValueError, TypeError) as exc:
            payload, status = {"error": str(exc)}, "400 Bad Request"
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _control_action(self, method: str, path: str, body: dict[str, Any]) -> Any:
        route = path[len("/_dev/") :].strip("/")
        state = self.state
        with self.lock:
            if route == "health" and method == "GET":
                return {"ok": True}
            if route == "faults" and method == "POST":
                fault = Fault.from_json(body, state.next_fault_id)
                state.next_fault_id += 1
                state.faults.append(fault)
                return {"id": fault.id}
            if route == "faults" and method == "GET":
                return [asdict(f) for f in state.faults]
            if route == "faults" and method == "DELETE":
                state.faults.clear()
                return {"ok": True}
            match = re.fullmatch(r"faults/(\d+)", route)
            if match and method == "DELETE":
                fault_id = int(match.group(1))
                if not any(f.id == fault_id for f in state.faults):
                    raise KeyError(route)
                state.faults = [f for f in state.faults if f.id != fault_id]
                return {"ok": True}
            if route == "counts" and method == "GET":
                return {"operations": dict(state.operations), "faults": dict(state.injected)}
            if route == "counts" and method == "DELETE":
                state.operations.clear()
                state.injected.clear()
                return {"ok": True}
            if route == "config" and method == "POST":
                unknown = set(body) - {"glacier_restore_seconds", "tier_seconds", "expedited_capacity"}
                if unknown:
                    raise ValueError(f"unknown config fields: {sorted(unknown)}")
                if "glacier_restore_seconds" in body:
                    seconds = float(body["glacier_restore_seconds"])
                    if seconds < 0:
                        raise ValueError("glacier_restore_seconds must be >= 0")
                    state.glacier_restore_seconds = seconds
                if "tier_seconds" in body:
                    tiers = dict(body["tier_seconds"] or {})
                    if set(tiers) - set(RESTORE_TIERS) or any(float(v) < 0 for v in tiers.values()):
                        raise ValueError(f"tier_seconds maps {', '.join(RESTORE_TIERS)} to seconds >= 0")
                    state.tier_seconds = {k: float(v) for k, v in tiers.items()}
                if "expedited_capacity" in body:
                    state.expedited_capacity = bool(body["expedited_capacity"])
                return self._config()
            if route == "config" and method == "GET":
                return self._config()
            if route == "restores" and method == "GET":
                now = time.monotonic()
                return [
                    {
                        "bucket": b,
                        "key": k,
                        "storage_class": r.storage_class,
                        "tier": r.tier,
                        "ongoing": r.ready_at > now,
                        "seconds_left": max(0.0, r.ready_at - now),
                    }
                    for (b, k), r in state.restores.items()
                ]
            if route == "restores/complete" and method == "POST":
                now = time.monotonic()
                for restore in state.restores.values():
                    restore.ready_at = min(restore.ready_at, now)
                return {"completed": len(state.restores)}
            if route == "seed" and method == "POST":
                return {"created": _seed(body)}
            if route == "reset" and method == "POST":
                self.state = _State(glacier_restore_seconds=self.initial_restore_seconds)
                if body.get("data"):
                    _reset_moto()
                return {"ok": True}
        raise KeyError(f"{method} {path}")

    def _config(self) -> dict[str, Any]:
        return {
            "glacier_restore_seconds": self.state.glacier_restore_seconds,
            "tier_seconds": dict(self.state.tier_seconds),
            "expedited_capacity": self.state.expedited_capacity,
        }


def _signed_for(headers: dict[str, str]) -> str:
    """The AWS service a request is signed for (its SigV4 credential scope), '' when unsigned."""
    scope = re.search(
        r"Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request", headers.get("authorization", "")
    )
    return scope.group(1) if scope else ""


def _restore_tier(body: bytes) -> str:
    """The Tier of a RestoreRequest body (Standard when none is given, as S3 defaults)."""
    found = re.search(rb"<Tier>\s*([A-Za-z]+)\s*</Tier>", body or b"")
    tier = found.group(1).decode() if found else "Standard"
    return tier if tier in RESTORE_TIERS else "Standard"


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _no_expedited_capacity(start_response: StartResponse, path: str) -> list[bytes]:
    body = _error_body(
        "GlacierExpeditedRetrievalNotAvailable",
        "Glacier expedited retrievals are currently not available, please try again later",
        path,
    )
    return _answer(start_response, "503 Service Unavailable", body)


def _ongoing_restore_headers(start_response: StartResponse) -> StartResponse:
    def rewrite(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        fixed = [(k, v) for k, v in headers if k.lower() != "x-amz-restore"]
        fixed.append(("x-amz-restore", 'ongoing-request="true"'))
        return start_response(status, fixed, exc_info) if exc_info else start_response(status, fixed)

    return rewrite


def _moto_storage_class(bucket: str, key: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    try:
        obj = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, key)
    except Exception:
        return "GLACIER"
    return str(obj.storage_class) if obj is not None else "GLACIER"


def _seed(body: dict[str, Any]) -> int:
    """Create objects straight in moto's backend (fast bulk set-up for tests and benchmarks)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket = body.get("bucket")
    objects = body.get("objects")
    if not isinstance(bucket, str) or not isinstance(objects, list):
        raise ValueError("seed needs a bucket name and a list of objects")
    if body.get("create_bucket") and bucket not in backend.buckets:
        backend.create_bucket(bucket, "us-east-1")
    if bucket not in backend.buckets:
        raise KeyError(f"bucket {bucket}")
    for item in objects:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ValueError("every seeded object needs a key")
        if "body_b64" in item:
            value = base64.b64decode(item["body_b64"])
        elif "body_text" in item:
            value = str(item["body_text"]).encode()
        else:
            value = b"\0" * int(item.get("size", 0))
        key = backend.put_object(bucket, item["key"], value, storage=item.get("storage_class") or "STANDARD")
        if item.get("virtual_size") is not None:
            key.contentsize = int(item["virtual_size"])
    return len(objects)


def _reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _drain(environ: dict[str, Any]) -> None:
    remaining = _content_length(environ)
    stream = environ["wsgi.input"]
    while remaining > 0:
        block = stream.read(min(remaining, 1 << 20))
        if not block:
            return
        remaining -= len(block)


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    raw = environ["wsgi.input"].read(_content_length(environ)) if _content_length(environ) else b""
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def _iterate_and_close(result: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from result
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _close(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _truncated(head: bytes, sock: socket.socket | None) -> Iterator[bytes]:
    yield head
    _close(sock)
    raise _Dropped("fault injection: connection dropped mid-body")


class S3DevServer:
    """The layered moto server running in a background thread of this process."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        glacier_restore_seconds: float = 0.0,
        seed: int | None = None,
        verbose: bool = False,
    ):
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        class Handler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                if verbose:
                    super().log_request(code, size)

            def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
                self.close_connection = True

        self.layer = DevS3Layer(
            DomainDispatcherApplication(create_backend_app),
            glacier_restore_seconds=glacier_restore_seconds,
            seed=seed,
        )
        self.server: BaseWSGIServer = make_server(
            host, port, self.layer, threaded=True, request_handler=Handler
        )
        self.host, self.port = str(self.server.server_address[0]), int(self.server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3 as ``endpoint_url``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> S3DevServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(target=self.server.serve_forever, name="dev-s3", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until shut down."""
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


class S3DevControl:
    """Client of the layer's control API (``/_dev/``) for tests and scripts."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(
        self, method: str, route: str, body: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        if not self.endpoint_url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) endpoint: {self.endpoint_url}")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            f"{self.endpoint_url}/_dev/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"S3 dev control {method} /_dev/{route} failed: {exc.code} {detail}") from exc

    def health(self) -> bool:
        """True when the server answers."""
        return bool(self._call("GET", "health").get("ok"))

    def add_fault(self, kind: str, **match: Any) -> int:
        """Install a fault rule (see the module docstring for fields); returns its id."""
        return int(self._call("POST", "faults", {"kind": kind, **match})["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The installed fault rules with how often each matched (`seen`) and fired (`hits`)."""
        return list(self._call("GET", "faults"))

    def remove_fault(self, fault_id: int) -> None:
        """Remove one fault rule."""
        self._call("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "faults")

    def counts(self) -> dict[str, int]:
        """Calls per S3 operation since the last reset."""
        return dict(self._call("GET", "counts")["operations"])

    def injected(self) -> dict[str, int]:
        """Faults injected per kind since the last reset."""
        return dict(self._call("GET", "counts")["faults"])

    def reset_counts(self) -> None:
        """Zero the call and fault counters."""
        self._call("DELETE", "counts")

    def set_config(
        self,
        glacier_restore_seconds: float | None = None,
        tier_seconds: dict[str, float] | None = None,
        expedited_capacity: bool | None = None,
    ) -> None:
        """How long restores requested from now on stay ongoing (per tier), and whether S3 has
        Expedited capacity (False: Expedited requests get GlacierExpeditedRetrievalNotAvailable)."""
        body: dict[str, Any] = {}
        if glacier_restore_seconds is not None:
            body["glacier_restore_seconds"] = glacier_restore_seconds
        if tier_seconds is not None:
            body["tier_seconds"] = tier_seconds
        if expedited_capacity is not None:
            body["expedited_capacity"] = expedited_capacity
        self._call("POST", "config", body)

    def config(self) -> dict[str, Any]:
        """The current layer configuration."""
        return dict(self._call("GET", "config"))

    def restores(self) -> list[dict[str, Any]]:
        """Restores the layer tracks, with whether each is still ongoing."""
        return list(self._call("GET", "restores"))

    def complete_restores(self) -> int:
        """Finish every pending restore now; returns how many restores are tracked."""
        return int(self._call("POST", "restores/complete")["completed"])

    def seed(self, bucket: str, objects: list[dict[str, Any]], create_bucket: bool = False) -> int:
        """Create objects directly in the server's store, without one PUT each.

        Each object: {"key", "size" (zero bytes) | "body_b64" | "body_text", "storage_class",
        "virtual_size"}.  `virtual_size` makes listings and HEAD report that size while only the
        given bytes are stored (for audits of big archives; a GET returns the stored bytes only).
        """
        payload = {"bucket": bucket, "objects": objects, "create_bucket": create_bucket}
        return int(self._call("POST", "seed", payload, timeout=max(self.timeout, 300.0))["created"])

    def reset(self, data: bool = False) -> None:
        """Clear faults, counts, restores and config; with `data` also wipe every bucket."""
        self._call("POST", "reset", {"data": data})


def main(argv: list[str] | None = None) -> None:
    """Command line: run the layered S3 server in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--glacier-restore-seconds", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None, help="seed for probabilistic faults")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = S3DevServer(args.host, args.port, args.glacier_restore_seconds, args.seed, args.verbose)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.server.shutdown).start())
    print(f"S3 server listening on {server.endpoint_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
