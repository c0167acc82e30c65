"""The emulator's WSGI application and threaded HTTP server: /api_v3, flavor downloads, /_control."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from dev.kaltura_emulator import content, rules, seed, store
from dev.kaltura_emulator.api import Api, CallContext
from dev.kaltura_emulator.errors import KalturaAPIError
from dev.kaltura_emulator.faults import Faults, Outcome
from dev.kaltura_emulator.store import Store
from dev.kaltura_emulator.wire import (
    Params,
    Part,
    parse_multipart,
    parse_params,
    render_response,
    substitute_refs,
)

_SINGLE = re.compile(r"^/api_v3/(?:index\.php/)?service/([^/]+)/action/([^/?]+)")
_MULTI = re.compile(r"^/api_v3/(?:index\.php/)?service/multirequest/?$")
_DOWNLOAD = re.compile(r"^/p/\d+/sp/\d+/playManifest/entryId/([^/]+)/flavorId/([^/]+)/")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
PIECE = 1024 * 1024

log = logging.getLogger(__name__)


class _ConnectionDrop(ConnectionResetError):
    """Raised inside a response body to make the server drop the connection."""


class EmulatorApp:
    """WSGI application holding the store, the API and the fault registry."""

    def __init__(
        self,
        data_dir: str,
        partner_id: int,
        admin_secret: str,
        user_secret: str = "",
        defaults: dict[str, Any] | None = None,
    ) -> None:
        os.makedirs(data_dir, exist_ok=True)
        self.defaults = {**store.DEFAULT_SETTINGS, **(defaults or {})}
        self.db = Store(data_dir, self.defaults)
        self.api = Api(self.db, partner_id, admin_secret, user_secret or admin_secret[::-1])
        self.faults = Faults()
        self.faults.set_rate_limit(self.db.settings.get("rate_limit"))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Route a request."""
        request = Request(environ)
        path = request.path
        try:
            if path.startswith("/api_v3"):
                response = self.handle_api(request, path)
            elif _DOWNLOAD.match(path):
                response = self.handle_download(request, path)
            elif path.startswith("/_control/"):
                try:
                    response = self.handle_control(request, path[len("/_control/") :])
                except (sqlite3.IntegrityError, ValueError, TypeError, KeyError) as error:
                    response = _json({"error": f"{type(error).__name__}: {error}"}, 400)
            else:
                response = Response("not found", status=404)
        except _ConnectionDrop:
            raise
        except Exception:
            log.exception("emulator internal error")
            response = Response(render_response(KalturaAPIError("INTERNAL_SERVERL_ERROR"), 0.0), 200)
            response.content_type = "text/xml"
        return response(environ, start_response)

    def handle_api(self, request: Request, path: str) -> Any:
        """Single and multi requests in Kaltura's protocol."""
        started = time.monotonic()
        files: dict[str, Part] = {}
        if request.mimetype == "multipart/form-data":
            boundary = request.mimetype_params.get("boundary", "").encode()
            json_text, fields, files = parse_multipart(request.stream, boundary)
            params = parse_params(json_text, fields)
        elif request.mimetype == "application/json":
            params = parse_params(request.get_data(as_text=True), dict(request.args))
        else:
            params = parse_params(None, {**request.args, **request.form})
        params.pop("kalsig", None)
        base_url = request.host_url.rstrip("/")
        outcomes: list[Outcome] = []
        multi = bool(_MULTI.match(path)) or (
            path.rstrip("/").endswith("index.php") and params.get("service") == "multirequest"
        )
        if multi:
            result: Any = self._multirequest(params, files, base_url, outcomes)
        else:
            match = _SINGLE.match(path)
            service = match.group(1) if match else str(params.get("service") or "")
            action = match.group(2) if match else str(params.get("action") or "")
            result = self._one_call(service, action, params, files, base_url, outcomes)
        latency = sum(o.latency_ms for o in outcomes)
        if latency:
            time.sleep(latency / 1000.0)
        body = render_response(result, time.monotonic() - started, multi)
        return self._faulty_body(
            body, "text/xml", any(o.drop for o in outcomes), any(o.truncate for o in outcomes)
        )

    def _one_call(
        self,
        service: str,
        action: str,
        params: dict[str, Any],
        files: dict[str, Part],
        base_url: str,
        outcomes: list[Outcome],
    ) -> Any:
        """Run one action with faults and rate limiting applied; errors become results."""
        outcome, blocked = self.faults.record(service, action)
        outcomes.append(outcome)
        try:
            if blocked:
                raise KalturaAPIError("ACTION_BLOCKED", action, service)
            if outcome.code:
                names = {"ACTION_BLOCKED": (action, service)}
                raise KalturaAPIError(outcome.code, *names.get(outcome.code, ()))
            ctx = CallContext(
                base_url=base_url,
                files={name: part.data for name, part in files.items()},
                file_names={name: part.filename for name, part in files.items()},
            )
            call_params = Params(params)
            result = self.api.call(service, action, call_params, ctx)
            profile = call_params.obj("responseProfile")
            if profile is None:
                return result
            return rules.apply_response_profile(result, profile.get_int("type"), profile.get_str("fields"))
        except KalturaAPIError as error:
            return error

    def _multirequest(
        self, params: dict[str, Any], files: dict[str, Part], base_url: str, outcomes: list[Outcome]
    ) -> list[Any]:
        """Run the numbered calls in order; `{N:result...}` refers to the Nth call's result (1-based)."""
        common = {k: v for k, v in params.items() if not str(k).isdigit() and k not in ("service", "action")}
        results: list[Any] = []
        for key in sorted((k for k in params if str(k).isdigit()), key=int):
            call = params[key] if isinstance(params[key], dict) else {}
            merged = substitute_refs({**common, **call}, results)
            call_files = {
                name.split(":", 1)[1]: handle for name, handle in files.items() if name.startswith(f"{key}:")
            }
            service = str(merged.pop("service", ""))
            action = str(merged.pop("action", ""))
            results.append(self._one_call(service, action, merged, call_files, base_url, outcomes))
        return results

    @staticmethod
    def _faulty_body(body: bytes, mimetype: str, drop: bool, truncate: bool) -> Response:
        """A response carrying body, or half of it (truncate), or half then a dropped connection (drop)."""
        if truncate:
            body = body[: len(body) // 2]
        if not drop:
            return Response(body, status=200, mimetype=mimetype)
        half = body[: len(body) // 2]
        return Response(
            _drop_after([half]), status=200, mimetype=mimetype, headers={"Content-Length": str(len(body))}
        )

    def handle_download(self, request: Request, path: str) -> Response:
        """Serve a flavor's exact bytes with single-range support; faults apply as service 'download'."""
        match = _DOWNLOAD.match(path)
        assert match is not None
        outcome, _ = self.faults.record("download", "serve")
        if outcome.latency_ms:
            time.sleep(outcome.latency_ms / 1000.0)
        if outcome.code:
            return Response(f"injected fault {outcome.code}", status=503)
        with self.db.lock:
            flavor = self.db.conn.execute(
                "SELECT * FROM flavors WHERE id = ? AND entry_id = ? AND status = ?",
                (match.group(2), match.group(1), store.FLAVOR_READY),
            ).fetchone()
        if flavor is None:
            return Response("flavor not found", status=404)
        size = flavor["size_bytes"]
        start, end, status = 0, size, 200
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        header = request.headers.get("Range")
        if header:
            parsed = _parse_range(header, size)
            if parsed is None:
                return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
            start, end, status = parsed[0], parsed[1], 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        length = end - start
        if outcome.truncate:
            end = start + length // 2
            length = end - start
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status=status, headers=headers)
        body: Iterable[bytes] = self._stream(flavor, start, end)
        if outcome.drop:
            body = _drop_after(_limit(body, length // 2))
        return Response(body, status=status, headers=headers, direct_passthrough=True)

    def _stream(self, flavor: Any, start: int, end: int) -> Iterator[bytes]:
        """The bytes [start, end) of a flavor, from its file or the generator."""
        if flavor["content_kind"] == "file":
            with open(os.path.join(self.db.content_dir, flavor["content_ref"]), "rb") as handle:
                handle.seek(start)
                remaining = end - start
                while remaining > 0:
                    piece = handle.read(min(PIECE, remaining))
                    if not piece:
                        return
                    remaining -= len(piece)
                    yield piece
            return
        buffer: list[bytes] = []
        buffered = 0
        pieces = content.iter_bytes(
            flavor["content_ref"], flavor["size_bytes"], start, end, flavor["content_kind"]
        )
        for piece in pieces:
            buffer.append(piece)
            buffered += len(piece)
            if buffered >= PIECE:
                yield b"".join(buffer)
                buffer, buffered = [], 0
        if buffer:
            yield b"".join(buffer)

    def handle_control(self, request: Request, route: str) -> Response:
        """JSON control API for tests, the demo and benchmarks."""
        body: dict[str, Any] = request.get_json(silent=True) or {}
        parts = route.strip("/").split("/")
        result: Any
        if parts == ["health"]:
            result = {"ok": True}
        elif parts == ["entries"] and request.method == "POST":
            result = {"ids": self.db.create_entries(body.get("entries") or [])}
        elif len(parts) == 2 and parts[0] == "entries":
            state = self.db.entry_state(parts[1], with_sha256=request.args.get("sha256", "1") != "0")
            if state is None:
                return _json({"error": "ENTRY_ID_NOT_FOUND"}, 404)
            result = state
        elif len(parts) == 3 and parts[0] == "entries" and parts[2] == "play":
            if not self.db.play(parts[1]):
                return _json({"error": "ENTRY_ID_NOT_FOUND"}, 404)
            result = {"ok": True}
        elif len(parts) == 3 and parts[0] == "entries" and parts[2] == "fields" and request.method == "POST":
            if not self.db.set_entry_fields(parts[1], body):
                return _json({"error": "ENTRY_ID_NOT_FOUND"}, 404)
            result = {"ok": True}
        elif (
            len(parts) == 3
            and parts[0] == "entries"
            and parts[2] == "conversion"
            and request.method == "POST"
        ):
            if not self.db.set_conversion_outcome(parts[1], body.get("derived") or {}):
                return _json({"error": "ENTRY_ID_NOT_FOUND"}, 404)
            result = {"ok": True}
        elif parts == ["sync_plays"] and request.method == "POST":
            result = {"changed": self.db.sync_plays()}
        elif parts == ["settings"] and request.method == "POST":
            result = self._update_settings(body)
        elif parts == ["settings"]:
            result = dict(self.db.settings)
        elif parts == ["faults"] and request.method == "POST":
            result = self.faults.add(body).describe()
        elif parts == ["faults"] and request.method == "DELETE":
            self.faults.clear()
            result = {"ok": True}
        elif parts == ["faults"]:
            result = [fault.describe() for fault in self.faults.faults]
        elif parts == ["calls"]:
            result = self.faults.snapshot()
        elif parts == ["reset"] and request.method == "POST":
            self.reset()
            result = {"ok": True}
        elif parts == ["seed"] and request.method == "POST":
            entries = seed.generate_account(
                int(body.get("n", 100)), int(body.get("seed", 0)), body.get("now")
            )
            result = {"ids": self.db.create_entries(entries)}
        else:
            return _json({"error": f"unknown control route {route}"}, 404)
        return _json(result)

    def _update_settings(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change settings (store.DEFAULT_SETTINGS names them); a bad value changes nothing."""
        unknown = set(body) - store.SETTING_KEYS
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        values = {key: store.check_setting(key, value) for key, value in body.items()}
        for key, value in values.items():
            self.db.set_setting(key, value)
        if "rate_limit" in body:
            self.faults.set_rate_limit(body["rate_limit"])
        return dict(self.db.settings)

    def reset(self) -> None:
        """Forget all state, faults and counters; settings back to the server's defaults."""
        self.db.reset(self.defaults)
        self.faults.reset()
        self.faults.set_rate_limit(self.db.settings.get("rate_limit"))


def _json(value: Any, status: int = 200) -> Response:
    """A JSON response."""
    return Response(json.dumps(value), status=status, mimetype="application/json")


def _limit(pieces: Iterable[bytes], count: int) -> Iterator[bytes]:
    """At most `count` bytes of a stream."""
    for piece in pieces:
        if count <= 0:
            return
        yield piece[:count]
        count -= len(piece)


def _drop_after(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Yield pieces, then drop the connection (werkzeug treats this as a client disconnect)."""
    yield from pieces
    raise _ConnectionDrop("injected connection drop")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range, or None when unsatisfiable or unsupported."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    if not match.group(1):
        suffix = int(match.group(2))
        return (max(0, size - suffix), size) if suffix > 0 and size > 0 else None
    start = int(match.group(1))
    end = min(size, int(match.group(2)) + 1) if match.group(2) else size
    if start >= size or end <= start:
        return None
    return start, end


class _QuietHandler(WSGIRequestHandler):
    """Request handler that drops the connection on injected drops and keeps access logs quiet."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Access logs only at debug level."""
        log.debug("%s %s %s", self.command, self.path.split("?")[0], code)

    def connection_dropped(self, error: BaseException, environ: dict[str, Any] | None = None) -> None:
        """Close the socket so the client sees the drop immediately."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class EmulatorServer:
    """A threaded HTTP server running EmulatorApp, in the foreground or a background thread."""

    def __init__(self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8123."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self.thread = threading.Thread(target=self.server.serve_forever, name="kaltura-emulator", daemon=True)
        self.thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the database."""
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        with self.app.db.lock:
            self.app.db.conn.close()
