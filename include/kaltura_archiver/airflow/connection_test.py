"""Makes the connection list's Test button work for connections stored without a port (Kaltura, AWS).

Airflow 3.3.2's list sends `port: Number(connection.port)`, which is `0` for a stored NULL, and the API
server refuses a test whose port differs from the stored connection's unless the request carries its
own password ("The host or port to test differs from the stored connection"): the button answers
"Bad Request". Upstream fixed the comparison (apache/airflow#73298: port 0 counts as no port). Until
that release, this ASGI middleware (installed by the UI plugin; it acts only while the running Airflow
has the bug) drops a `port` of 0 from `POST /api/v2/connections/test`, so the stored connection is
tested.
Port 0 addresses nothing, so no real test request changes meaning.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
TEST_PATH = "/api/v2/connections/test"


def airflow_refuses_port_zero() -> bool:
    """True when this Airflow's test endpoint treats `port: 0` as a different port than none."""
    try:
        from airflow.api_fastapi.core_api.routes.public.connections import _same_endpoint
    except ImportError:
        return False
    return not _same_endpoint(0, None)


def without_zero_port(body: bytes) -> bytes:
    """The request body without a `port` of 0 (anything else, including bad JSON, unchanged)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or data.get("port") != 0 or isinstance(data.get("port"), bool):
        return body
    del data["port"]
    return json.dumps(data).encode()


class PortlessConnectionTest:
    """ASGI middleware: `POST .../api/v2/connections/test` bodies lose a `port` of 0; all else passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.needed: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(TEST_PATH):
            await self.app(scope, receive, send)
            return
        if self.needed is None:
            self.needed = airflow_refuses_port_zero()
        if not self.needed:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = without_zero_port(b"".join(chunks))
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)
