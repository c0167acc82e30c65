"""Helpers shared by the selection / health / listing integration tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kaltura_archiver.filters import years_ago
from kaltura_archiver.kaltura_api import KalturaApi, KalturaConnectionSettings, RetryPolicy
from kaltura_archiver.progress import CallCounter
from tests.fixtures.emulator import RunningEmulator

REF = datetime.now(UTC).replace(microsecond=0)
FAST_RETRY = RetryPolicy(max_attempts=8, base=0.001, cap=0.01)


def ago(years: float) -> int:
    """Epoch seconds ``years`` before the reference time."""
    return int(years_ago(REF, years).timestamp())


def make_api(emulator: RunningEmulator, counter: CallCounter | None = None, **kw: Any) -> KalturaApi:
    """A KalturaApi on the emulator with a fast retry policy."""
    settings = KalturaConnectionSettings(
        service_url=emulator.url, partner_id=emulator.partner_id, admin_secret=emulator.admin_secret
    )
    return KalturaApi(settings, counter=counter or CallCounter(), retry=FAST_RETRY, **kw)


def entry_spec(
    name: str,
    created: float,
    played: float | None = None,
    plays: int = 0,
    tags: tuple[str, ...] = (),
    status: int = 2,
    media_type: int = 1,
    categories: tuple[int, ...] = (),
    original_size: int = 200 * 1024,
    **extra: Any,
) -> dict[str, Any]:
    """An emulator entry named ``name``, created / last played that many years before REF."""
    return {
        "name": name,
        "created_at": ago(created),
        "last_played_at": None if played is None else ago(played),
        "plays": plays,
        "tags": list(tags),
        "status": status,
        "media_type": media_type,
        "categories": list(categories),
        "creator_id": f"{name}@example.edu",
        "original_size": original_size,
        **extra,
    }
