"""Trigger that waits until a Kaltura entry's new content is READY, polling without blocking the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from kaltura_archiver.kaltura_api import KalturaApi, KalturaApiError
from kaltura_archiver.operations.readiness import ERROR, READY, Readiness, check_ready


class KalturaEntryReadyTrigger(BaseTrigger):
    """Fires {"status": "ready"|"error", "entry_id", "message"} once the entry is READY or failed.

    Every poll (media.get + flavorAsset.list) runs in a worker thread via `asyncio.to_thread`,
    so the triggerer's event loop never blocks; transient Kaltura errors just mean "poll again".
    """

    def __init__(self, entry_id: str, kaltura_conn_id: str = "kaltura_default", poll_interval: float = 30.0):
        super().__init__()
        self.entry_id = entry_id
        self.kaltura_conn_id = kaltura_conn_id
        self.poll_interval = poll_interval
        self._api: KalturaApi | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and constructor arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "entry_id": self.entry_id,
                "kaltura_conn_id": self.kaltura_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    def _poll(self) -> Readiness:
        """One blocking check (runs in a thread)."""
        if self._api is None:
            from kaltura_archiver.airflow.hooks.kaltura import KalturaHook

            self._api = KalturaHook(kaltura_conn_id=self.kaltura_conn_id).get_api()
        return check_ready(self._api, self.entry_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until READY or failed."""
        while True:
            try:
                result = await asyncio.to_thread(self._poll)
            except KalturaApiError as err:
                if not err.retryable:
                    yield TriggerEvent({"status": ERROR, "entry_id": self.entry_id, "message": str(err)})
                    return
                self.log.info("transient Kaltura error while waiting for %s: %s", self.entry_id, err.code)
            else:
                if result.status in (READY, ERROR):
                    yield TriggerEvent(
                        {"status": result.status, "entry_id": self.entry_id, "message": result.message}
                    )
                    return
                self.log.info("waiting: %s", result.message)
            await asyncio.sleep(self.poll_interval)
