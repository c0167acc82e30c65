"""Is an entry's new content READY? One cheap check used by the wait-for-READY trigger.

Only entry status READY (2) with a READY original counts. PENDING (4), IMPORT and PRECONVERT are
steps of conversion (waiting); the conversion errors and the virus-scan plugin's string statuses
(``virusScan.Infected``, ``virusScan.ScanFailure``; `kaltura_rules.ENTRY_STATUS_NAMES`) will not
become READY by waiting: they end the wait as errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaltura_archiver.kaltura_api import KalturaApi
from kaltura_archiver.kaltura_rules import ENTRY_READY, ENTRY_STATUS_NAMES
from kaltura_archiver.records import pick_original

ENTRY_ERRORS: frozenset[int | str] = frozenset(
    code
    for code, name in ENTRY_STATUS_NAMES.items()
    if name in {"ERROR_IMPORTING", "ERROR_CONVERTING", "INFECTED", "SCAN_FAILURE"}
)
FLAVOR_ERROR = -1
FLAVOR_DELETED = 3

READY = "ready"
WAITING = "waiting"
ERROR = "error"


@dataclass(frozen=True)
class Readiness:
    """READY, still waiting, or failed, with a one-line explanation."""

    status: str
    message: str


def check_ready(api: KalturaApi, entry_id: str) -> Readiness:
    """READY when entry and original flavor are READY; ERROR on conversion errors or a missing entry."""
    entry = api.get_entry(entry_id)
    if entry is None:
        return Readiness(ERROR, f"entry {entry_id} not found")
    if entry.status in ENTRY_ERRORS:
        return Readiness(ERROR, f"entry {entry_id} is {entry.status_name}")
    flavors = [f for f in api.list_flavors([entry_id]).get(entry_id, []) if f.status != FLAVOR_DELETED]
    original = pick_original(flavors)
    if original is not None and original.status == FLAVOR_ERROR:
        return Readiness(ERROR, f"original flavor {original.flavor_id} of {entry_id} failed to convert")
    if entry.status == ENTRY_READY and original is not None and original.is_ready:
        return Readiness(READY, f"entry {entry_id} and original {original.flavor_id} are READY")
    orig = f"original {original.flavor_id} {original.status_name}" if original else "no original yet"
    return Readiness(WAITING, f"entry {entry_id} is {entry.status_name}, {orig}")
