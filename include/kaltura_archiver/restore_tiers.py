"""Which Glacier restore tier an entry gets: from its size, its storage class and how urgent the request is.

AWS's documented retrieval options (S3 User Guide, "Understanding archive retrieval options",
docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html):

* S3 Glacier Flexible Retrieval (GLACIER): Expedited 1-5 minutes ("for all but the largest archived
  objects (250 MB+)"), Standard 3-5 hours, Bulk 5-12 hours (free of retrieval charges);
* S3 Glacier Deep Archive (DEEP_ARCHIVE): Standard within 12 hours, Bulk within 48 hours; Expedited
  is not offered;
* Expedited capacity is not guaranteed: without provisioned capacity RestoreObject may answer
  503 ``GlacierExpeditedRetrievalNotAvailable`` (S3 API Reference, RestoreObject, "Special errors"),
  and the request must then be made again with a slower tier.

`TierPolicy` holds the thresholds (settings, see `policy_from_mapping`); `choose_tier` is the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

EXPEDITED = "Expedited"
STANDARD = "Standard"
BULK = "Bulk"
TIERS_FASTEST_FIRST = (EXPEDITED, STANDARD, BULK)
TIERS_BY_STORAGE_CLASS = {"GLACIER": TIERS_FASTEST_FIRST, "DEEP_ARCHIVE": (STANDARD, BULK)}
EXPEDITED_NOT_AVAILABLE = "GlacierExpeditedRetrievalNotAvailable"
MB = 1_000_000

URGENT = "urgent"
NORMAL = "normal"
LOW = "low"
URGENCIES = (URGENT, NORMAL, LOW)
TYPICAL_WAIT = {
    ("GLACIER", EXPEDITED): "1-5 minutes",
    ("GLACIER", STANDARD): "3-5 hours",
    ("GLACIER", BULK): "5-12 hours",
    ("DEEP_ARCHIVE", STANDARD): "within 12 hours",
    ("DEEP_ARCHIVE", BULK): "within 48 hours",
}


class TierPolicyError(ValueError):
    """A tier threshold setting is invalid; the message names it."""


@dataclass(frozen=True)
class TierPolicy:
    """Thresholds: urgent requests up to `expedited_max_mb` go Expedited; normal ones up to
    `standard_max_mb` go Standard; everything else (and every low-urgency request) goes Bulk."""

    expedited_max_mb: int = 250
    standard_max_mb: int = 10_000

    def __post_init__(self) -> None:
        if self.expedited_max_mb < 0 or self.standard_max_mb < 0:
            raise TierPolicyError(
                "expedited_max_mb and standard_max_mb must be >= 0 "
                f"(got {self.expedited_max_mb} and {self.standard_max_mb})"
            )


SETTING_NAMES = {"expedited_max_mb": "restore_expedited_max_mb", "standard_max_mb": "restore_standard_max_mb"}
"""TierPolicy field -> setting name (an Airflow Variable `kaltura_archiver_<name>`)."""


def policy_from_mapping(values: Mapping[str, str | None]) -> TierPolicy:
    """A policy from raw setting strings keyed by setting name (missing or None: default)."""
    fields: dict[str, int] = {}
    for field_name, setting in SETTING_NAMES.items():
        raw = values.get(setting)
        if raw is None or not str(raw).strip():
            continue
        try:
            fields[field_name] = int(str(raw).strip())
        except ValueError:
            raise TierPolicyError(f"{setting}={raw!r} must be a whole number of MB") from None
    return TierPolicy(**fields)


def available_tiers(storage_class: str) -> tuple[str, ...]:
    """The tiers S3 offers for an object of `storage_class`, fastest first (none for readable classes)."""
    return TIERS_BY_STORAGE_CLASS.get(storage_class, ())


def choose_tier(size_bytes: int, storage_class: str, urgency: str, policy: TierPolicy) -> str:
    """The tier for one entry: Expedited for small urgent ones, Standard for normal ones up to a size,
    Bulk otherwise; never a tier S3 does not offer for the storage class (Deep Archive: no Expedited)."""
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}, got {urgency!r}")
    if urgency == URGENT and size_bytes <= policy.expedited_max_mb * MB:
        wanted = EXPEDITED
    elif urgency in (URGENT, NORMAL) and size_bytes <= policy.standard_max_mb * MB:
        wanted = STANDARD
    else:
        wanted = BULK
    offered = available_tiers(storage_class) or TIERS_FASTEST_FIRST
    return wanted if wanted in offered else next(t for t in offered if t != EXPEDITED)


def fallback_tier(tier: str) -> str | None:
    """The tier to ask for when `tier`'s capacity is refused (only Expedited can be), else None."""
    return STANDARD if tier == EXPEDITED else None


def cheapest_tier(storage_class: str) -> str:
    """The tier with the lowest retrieval cost (Bulk, for both archive classes)."""
    return BULK


def typical_wait(storage_class: str, tier: str) -> str:
    """How long AWS documents a restore of this class and tier to take ('' when not documented)."""
    return TYPICAL_WAIT.get((storage_class, tier), "")
