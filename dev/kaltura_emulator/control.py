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

        Fields per entry: id (optional), name, description, tags (list or comma string, normalised
        like Kaltura), categories (list of int ids), category_names ({id: name}), creator_id, user_id,
        created_at / updated_at / last_played_at (epoch seconds; last_played_at None = never played),
        plays, views (plays and lastPlayedAt count as already synced), status (entry status int or a
        plugin string such as "virusScan.Infected", default 2 READY), moderation_status (default 6
        AUTO_APPROVED), display_in_search (default 1 PARTNER_ONLY), media_type (1 video, 2 image,
        5 audio), duration (s), original_size (bytes of the source flavor, generated on the fly),
        flavors (False: none), derived_statuses ({flavor params id: flavor status} for the derived
        flavors, e.g. {487061: 4} NOT_APPLICABLE, {487051: -1} ERROR), legacy_size (True: flavors
        report sizeInBytes 0; default: created before 2020-08-01).
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
        """Simulate a play now: live plays + 1 and lastPlayedAt = emulator clock, seen by media.get at
        once but by lists and eSearch only after the next `sync_plays` (or UTC midnight)."""
        self._call("POST", f"entries/{entry_id}/play")

    def sync_plays(self) -> int:
        """Run the daily analytics sync now: lists and eSearch see the live plays; returns how many
        entries changed."""
        return int(self._call("POST", "sync_plays")["changed"])

    def set_entry_fields(self, entry_id: str, **fields: Any) -> None:
        """Set status (int or e.g. "virusScan.Infected"), moderation_status or display_in_search."""
        self._call("POST", f"entries/{entry_id}/fields", fields)

    def set_entry_status(self, entry_id: str, status: int | str) -> None:
        """Set an entry's status as a server flow would (virus scan, import failure, ...)."""
        self.set_entry_fields(entry_id, status=status)

    def set_conversion_outcome(self, entry_id: str, derived: dict[int, int]) -> None:
        """The statuses the derived flavors get at the entry's next conversion ({params id: status},
        -1 ERROR, 4 NOT_APPLICABLE); all failed or not applicable with an error: ERROR_CONVERTING."""
        self._call(
            "POST", f"entries/{entry_id}/conversion", {"derived": {str(k): v for k, v in derived.items()}}
        )

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

    def set_conversion_profile(self, profile: str) -> None:
        """ "default" (convert: PRECONVERT then READY) or "none" (no conversion: the entry stays PENDING)."""
        self._set(conversion_profile=profile)

    def set_relative_time(self, enabled: bool) -> None:
        """Whether time filter values within 10 years of 0 are relative to now (off: the partner is in
        disable_relative_time_partners)."""
        self._set(relative_time=enabled)

    def set_file_type_restriction(self, enabled: bool, whitelist: list[str] | None | bool = True) -> None:
        """The partner's upload file-type restriction; whitelist True keeps the current list, None
        disables the extension check."""
        values: dict[str, Any] = {"file_type_restriction": enabled}
        if whitelist is not True:
            values["file_extensions_whitelist"] = whitelist
        self._set(**values)

    def set_final_chunk_seconds(self, seconds: float) -> None:
        """How long the server works on the final chunk of a resumed upload before it answers."""
        self._set(final_chunk_seconds=seconds)

    def set_read_lag(self, seconds: float) -> None:
        """Serve list actions and eSearch from a replica that shows writes only `seconds` later (0: off)."""
        self._set(read_lag_seconds=seconds)

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
