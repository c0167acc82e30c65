"""The archive's cost model: storage in Kaltura and in S3 Glacier per month, and what a restore costs.

Prices are per GB-month (storage) and per GB and per 1,000 requests (Glacier retrievals, by tier), in
one currency. The AWS defaults are the published us-east-1 list prices of S3 Glacier Flexible Retrieval
and S3 Glacier Deep Archive (https://aws.amazon.com/s3/pricing/, "Requests & data retrievals"); the
Kaltura default is only a placeholder: set `kaltura_gb_month` to the storage price of your contract.
A GB here is 1024**3 bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

GB = 1024**3
STORAGE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
TIERS = ("Expedited", "Standard", "Bulk")
"""Glacier restore tiers; Deep Archive has no Expedited tier."""


class PriceError(ValueError):
    """The prices setting is malformed; the message names the field."""


@dataclass(frozen=True)
class Prices:
    """Storage and retrieval prices (see the module docstring for units and sources)."""

    currency: str = "USD"
    kaltura_gb_month: float = 0.10
    glacier_gb_month: float = 0.0036
    deep_archive_gb_month: float = 0.00099
    glacier_expedited_gb: float = 0.03
    glacier_expedited_per_1000: float = 10.0
    glacier_standard_gb: float = 0.01
    glacier_standard_per_1000: float = 0.05
    glacier_bulk_gb: float = 0.0
    glacier_bulk_per_1000: float = 0.0
    deep_archive_standard_gb: float = 0.02
    deep_archive_standard_per_1000: float = 0.10
    deep_archive_bulk_gb: float = 0.0025
    deep_archive_bulk_per_1000: float = 0.025

    @classmethod
    def from_setting(cls, raw: str | Mapping[str, Any] | None) -> Prices:
        """Defaults overridden by a JSON object (variable `kaltura_archiver_prices`); unknown keys fail."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return cls()
        try:
            values = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except ValueError as exc:
            raise PriceError(f"prices must be a JSON object: {exc}") from None
        if not isinstance(values, dict):
            raise PriceError(f"prices must be a JSON object, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise PriceError(f"unknown price {unknown[0]!r}; known: {', '.join(sorted(known))}")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name == "currency":
                if not isinstance(value, str) or not value.strip():
                    raise PriceError("currency must be a non-empty text such as 'USD'")
                checked[name] = value.strip()
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise PriceError(f"price {name} must be a number >= 0, got {value!r}")
            checked[name] = float(value)
        return cls(**checked)

    def archive_gb_month(self, storage_class: str) -> float:
        """Storage price of the archive's storage class (GLACIER or DEEP_ARCHIVE)."""
        return self.deep_archive_gb_month if storage_class == "DEEP_ARCHIVE" else self.glacier_gb_month

    def retrieval(self, storage_class: str, tier: str) -> tuple[float, float]:
        """(price per GB, price per 1,000 requests) of restoring from `storage_class` at `tier`."""
        prefix = "deep_archive" if storage_class == "DEEP_ARCHIVE" else "glacier"
        tier_name = tier.lower()
        if prefix == "deep_archive" and tier_name == "expedited":
            tier_name = "standard"  # Deep Archive has no Expedited tier; S3 refuses it
        per_gb = getattr(self, f"{prefix}_{tier_name}_gb", None)
        per_1000 = getattr(self, f"{prefix}_{tier_name}_per_1000", None)
        if per_gb is None or per_1000 is None:
            raise PriceError(f"unknown restore tier {tier!r}; known: {', '.join(TIERS)}")
        return float(per_gb), float(per_1000)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Savings:
    """Monthly figures of the cost model, in `Prices.currency`."""

    kaltura_freed_month: float
    """What the originals replaced by placeholders would cost in Kaltura per month."""
    archive_month: float
    """What every archive object costs in S3 per month."""
    saved_month: float
    """Net: Kaltura storage freed minus the archive's storage (can be negative while few are replaced)."""
    could_save_month: float
    """Net monthly saving still available from the archivable entries."""
    restore_one: float
    """Retrieval cost of restoring one average archived video at the configured tier."""


def savings(
    prices: Prices,
    placeholder_bytes: float,
    archive_bytes: float,
    archivable_bytes: float,
    archive_objects: int,
    storage_class: str,
    restore_tier: str,
) -> Savings:
    """The cost model applied to the account's byte figures (originals replaced, archived, archivable)."""
    archive_price = prices.archive_gb_month(storage_class)
    freed = placeholder_bytes / GB * prices.kaltura_gb_month
    archive = archive_bytes / GB * archive_price
    could = archivable_bytes / GB * (prices.kaltura_gb_month - archive_price)
    per_gb, per_1000 = prices.retrieval(storage_class, restore_tier)
    average = archive_bytes / archive_objects if archive_objects else 0.0
    restore_one = average / GB * per_gb + per_1000 / 1000
    return Savings(freed, archive, freed - archive, could, restore_one)
