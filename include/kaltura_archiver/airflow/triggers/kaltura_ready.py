"""Trigger that waits until a Kaltura entry's new content is READY, polling without blocking the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from kaltura_archiver.kaltura_api import KalturaApi

# The triggerer imports this module inside its event loop: the Kaltura client is imported in the
# polling thread instead, so loading the trigger never blocks the loop.


class KalturaEntryReadyTrigger(BaseTrigger):
    """Fires {"status": "ready"|"error", "entry_id", "message"} once the entry is READY or failed.

    Every poll (media.get + flavorAsset.list) runs in a worker thread via `asyncio.to_thread`,
    so the triggerer's event loop never blocks; transient Kaltura errors just mean "poll again", any
    other error (a refused session, a missing entry, a broken connection) fires "error" at once.
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

    def _poll(self) -> tuple[bool, str, str]:
        """One blocking check (runs in a thread): (final, status, message); transient errors are not final."""
        from kaltura_archiver.kaltura_api import KalturaApiError
        from kaltura_archiver.operations.readiness import ERROR, READY, check_ready

        try:
            if self._api is None:
                from kaltura_archiver.airflow.hooks.kaltura import KalturaHook

                self._api = KalturaHook(kaltura_conn_id=self.kaltura_conn_id).get_api()
            result = check_ready(self._api, self.entry_id)
        except KalturaApiError as err:
            if err.retryable:
                return False, "transient", f"transient Kaltura error {err.code}"
            return True, ERROR, str(err)
        except ValueError as err:  # a connection that cannot work (e.g. no partner id): no point polling
            return True, ERROR, f"Kaltura connection {self.kaltura_conn_id!r}: {err}"
        return result.status in (READY, ERROR), result.status, result.message

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until READY or failed."""
        while True:
            final, status, message = await asyncio.to_thread(self._poll)
            if final:
                yield TriggerEvent({"status": status, "entry_id": self.entry_id, "message": message})
                return
            self.log.info("waiting for %s: %s", self.entry_id, message)
            await asyncio.sleep(self.poll_interval)
