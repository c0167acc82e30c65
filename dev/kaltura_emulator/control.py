"""Python client of the emulator's control API (outside /api_v3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests


class EmulatorControl:
    """Drive a running emulator: seed entries, read state, move the clock, inject faults, count calls."""

    def __init__(self, base_url: str, timeout: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _call(self, method: str, route: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        """One control request; raises on HTTP errors."""
        response = self.http.request(
            method, f"{self.base_url}/_control/{route}", json=body, params=params, timeout=self.timeout
        )
        if response.status_code == 404 and route.startswith("entries/"):
            raise KeyError(route.split("/")[1])
        response.raise_for_status()
        return response.json()

    def health(self) -> bool:
        """Whether the emulator answers."""
        return bool(self._call("GET", "health").get("ok"))

    def create_entries(self, entries: Sequence[dict[str, Any]], batch: int = 20000) -> list[str]:
        """Bulk-create entries; returns their ids.

        Fields per entry: id (optional), name, description, tags (list or comma string), categories
        (list of int ids), category_names ({id: name}), creator_id, user_id, created_at / updated_at /
        last_played_at (epoch seconds; last_played_at None = never played), plays, views, status
        (entry status int, default 2 READY), media_type (1 video, 2 image, 5 audio), duration (s),
        original_size (bytes of the source flavor, generated on the fly), flavors (False: none).
        """
        ids: list[str] = []
        for start in range(0, len(entries), batch):
            ids.extend(
                self._call("POST", "entries", {"entries": list(entries[start : start + batch])})["ids"]
            )
        return ids

    def entry(self, entry_id: str, sha256: bool = True) -> dict[str, Any]:
        """Full state of an entry: fields, tags, status, flavors and original_sha256 (KeyError if unknown)."""
        return dict(self._call("GET", f"entries/{entry_id}", params={"sha256": "1" if sha256 else "0"}))

    def play(self, entry_id: str) -> None:
        """Simulate a play now (plays + 1, lastPlayedAt = emulator clock)."""
        self._call("POST", f"entries/{entry_id}/play")

    def settings(self) -> dict[str, Any]:
        """Current settings."""
        return dict(self._call("GET", "settings"))

    def _set(self, **values: Any) -> dict[str, Any]:
        """Change settings."""
        return dict(self._call("POST", "settings", values))

    def set_clock_offset(self, seconds: float) -> None:
        """Move the emulator clock (KS expiry, conversions, createdAt of new objects, plays)."""
        self._set(clock_offset=seconds)

    def set_conversion_seconds(self, seconds: float) -> None:
        """How long addContent keeps an entry in PRECONVERT before it becomes READY."""
        self._set(conversion_seconds=seconds)

    def set_ks_expiry(self, seconds: int | None) -> None:
        """Force the lifetime of KSs issued from now on (None: honour the requested expiry)."""
        self._set(ks_expiry=seconds)

    def set_rate_limit(
        self, max_calls: int | None, window_seconds: float = 1.0, service: str = "*", action: str = "*"
    ) -> None:
        """Answer ACTION_BLOCKED once more than max_calls matching calls arrive in the window (None: off)."""
        limit = None
        if max_calls is not None:
            limit = {
                "max_calls": max_calls,
                "window_seconds": window_seconds,
                "service": service,
                "action": action,
            }
        self._set(rate_limit=limit)

    def add_fault(
        self,
        service: str = "*",
        action: str = "*",
        code: str | None = None,
        probability: float | None = None,
        every_nth: int | None = None,
        latency_ms: int = 0,
        drop_mid_download: bool = False,
        truncate: bool = False,
        max_fires: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Inject a fault on service/action ("*" = any; downloads are service "download").

        Fires on every matching call, every Nth, or with a probability (seeded), at most max_fires times.
        code: the call fails with that Kaltura error code (downloads: HTTP 503); latency_ms: delay;
        drop_mid_download: half the body then a dropped connection; truncate: a complete response with
        half the body.
        """
        spec = {
            "service": service,
            "action": action,
            "code": code,
            "probability": probability,
            "every_nth": every_nth,
            "latency_ms": latency_ms,
            "drop_mid_download": drop_mid_download,
            "truncate": truncate,
            "max_fires": max_fires,
            "seed": seed,
        }
        return dict(self._call("POST", "faults", spec))

    def faults(self) -> list[dict[str, Any]]:
        """Registered faults with their seen/fired counters."""
        return list(self._call("GET", "faults"))

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._call("DELETE", "faults")

    def calls(self) -> dict[str, int]:
        """Calls per "service.action" since the last reset (downloads count as download.serve)."""
        return {str(k): int(v) for k, v in self._call("GET", "calls").items()}

    def reset(self) -> None:
        """Forget entries, tokens, faults, counters and settings."""
        self._call("POST", "reset")

    def seed(self, n: int, seed: int = 0, now: float | None = None) -> list[str]:
        """Create n entries with seed.generate_account on the server side; returns their ids."""
        return list(self._call("POST", "seed", {"n": n, "seed": seed, "now": now})["ids"])
