"""Deterministic generator of a realistic university Kaltura account."""

from __future__ import annotations

import math
import random
import string
import time
import zlib
from typing import Any

from dev.kaltura_emulator.rules import SIZE_IN_BYTES_SINCE

YEAR = 365 * 24 * 3600
FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "wei",
    "priya",
    "carlos",
    "fatima",
    "olga",
    "kenji",
    "amara",
    "lucas",
    "sofia",
    "omar",
    "ines",
    "noah",
]
LAST = [
    "smith",
    "johnson",
    "lee",
    "garcia",
    "chen",
    "patel",
    "kim",
    "nguyen",
    "brown",
    "davis",
    "martin",
    "lopez",
    "wilson",
    "anderson",
    "thomas",
    "moore",
    "jackson",
    "white",
    "harris",
    "clark",
]
SUBJECTS = ["ECO", "MAT", "PHY", "CHM", "COS", "HIS", "ENG", "POL", "MOL", "PSY", "ART", "MUS"]
TAG_POOL = [
    "lecture",
    "seminar",
    "recording",
    "orientation",
    "commencement",
    "lab",
    "interview",
    "archive",
    "archived",
    "flavors",
    "s3",
    "to_s3",
    "archived_to_s3_old",
    "deleted",
    "zoom",
    "guest speaker",
    "fall",
    "spring",
    "research",
    "department",
]
# (status, weight): mostly READY, a few in every other state the archiver's filter can select
KINDS = ["Lecture", "Seminar", "Recording", "Talk"]
LEGACY_SIZE_PERCENT = 25  # of entries created before sizeInBytes existed: never backfilled
NOT_APPLICABLE_HD_PERCENT = 15  # of ready videos: the 720p flavor was not applicable to the source
HD_PARAMS_ID = 487061
FLAVOR_NOT_APPLICABLE = 4
# per 1,000 entries, from a second hash of the entry id: what Kaltura's default lists hide
# (api_v3/lib/types/entry/filters/KalturaBaseEntryFilter.php) and the virus-scan plugin's statuses
HIDDEN_TRAITS: list[tuple[int, dict[str, Any]]] = [
    (10, {"moderation_status": 1}),
    (5, {"moderation_status": 3}),
    (10, {"display_in_search": -2}),
    (3, {"status": "virusScan.Infected"}),
    (2, {"status": "virusScan.ScanFailure"}),
]
STATUSES = [(2, 930), (7, 20), (-1, 15), (1, 10), (4, 10), (0, 8), (-2, 7)]
MEDIA_TYPES = [(1, 85), (5, 10), (2, 5)]


def _pick(rng: random.Random, weighted: list[tuple[int, int]]) -> int:
    """A weighted choice."""
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _size(rng: random.Random, media_type: int) -> int:
    """Original size in bytes: log-normal, MBs to GBs for video."""
    if media_type == 2:
        return int(rng.uniform(0.2, 8) * 1024 * 1024)
    if media_type == 5:
        return int(min(400, max(1, rng.lognormvariate(math.log(25), 0.8))) * 1024 * 1024)
    megabytes = min(12_000, max(2, rng.lognormvariate(math.log(250), 1.2)))
    return int(megabytes * 1024 * 1024)


def generate_account(n: int, seed: int = 0, now: float | None = None) -> list[dict[str, Any]]:
    """N entries for EmulatorControl.create_entries, the same for the same (n, seed, now).

    Shape: creation dates over ten years (more recent years busier); ~40% never played (no
    lastPlayedAt), the rest with heavy-tailed play counts; sizes from MBs to GBs; 0-3 of 40
    categories; creators like jdoe@princeton.edu; tags from a pool with near-misses of the
    archiver's tags (archive, archived, archived_to_s3_old, ...); a quarter of the entries created
    before 2020-08 report sizeInBytes 0 (legacy_size); some videos have a NOT_APPLICABLE 720p flavor;
    about 3% are pending moderation, rejected or recycled (hidden from Kaltura's default lists) and
    0.5% carry a virus-scan status. Those traits come from hashes of the entry id, so the rest of the
    account is as before.
    """
    rng = random.Random(seed)
    end = int(time.time() if now is None else now)
    creators = [
        f"{rng.choice(FIRST)[0]}{rng.choice(LAST)}{rng.choice(['', '', str(rng.randint(2, 9))])}"
        "@princeton.edu"
        for _ in range(max(5, n // 25))
    ]
    categories = {100000 + i: f"{rng.choice(SUBJECTS)} {100 + i * 7}" for i in range(1, 41)}
    category_ids = list(categories)
    ids: set[str] = set()
    entries = []
    for number in range(n):
        entry_id = "0_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        while entry_id in ids:
            entry_id = "0_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        ids.add(entry_id)
        created = end - int(10 * YEAR * rng.random() ** 1.4) - rng.randint(3600, 86400)
        played = rng.random() >= 0.4
        plays = int(rng.paretovariate(1.1)) if played else 0
        last_played = created + int((end - created) * rng.random() ** 2) if played else None
        media_type = _pick(rng, MEDIA_TYPES)
        cats = rng.sample(category_ids, k=rng.choice([0, 1, 1, 1, 2, 3]))
        subject = categories[cats[0]] if cats else rng.choice(SUBJECTS)
        trait = zlib.crc32(entry_id.encode()) % 100
        extra: dict[str, Any] = {"legacy_size": created < SIZE_IN_BYTES_SINCE and trait < LEGACY_SIZE_PERCENT}
        if media_type == 1 and trait >= 100 - NOT_APPLICABLE_HD_PERCENT:
            extra["derived_statuses"] = {str(HD_PARAMS_ID): FLAVOR_NOT_APPLICABLE}
        entries.append(
            {
                **extra,
                "id": entry_id,
                "name": f"{subject} {rng.choice(KINDS)} {number % 40 + 1}",
                "tags": rng.sample(TAG_POOL, k=rng.choice([0, 1, 1, 2, 3])),
                "categories": cats,
                "category_names": {str(c): categories[c] for c in cats},
                "creator_id": rng.choice(creators),
                "created_at": created,
                "last_played_at": last_played,
                "plays": plays,
                "status": _pick(rng, STATUSES),
                "media_type": media_type,
                "duration": rng.randint(30, 7200) if media_type != 2 else 0,
                "original_size": _size(rng, media_type),
                **_hidden_trait(entry_id),
            }
        )
    return entries


def _hidden_trait(entry_id: str) -> dict[str, Any]:
    """Moderation, recycle-bin or virus-scan fields for about 3% of entries, by a hash of the id."""
    point = zlib.crc32(f"{entry_id}:hidden".encode()) % 1000
    for share, fields in HIDDEN_TRAITS:
        if point < share:
            return dict(fields)
        point -= share
    return {}
