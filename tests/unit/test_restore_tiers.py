"""The restore-tier policy: size, urgency and storage class pick the tier; thresholds are settings."""

from __future__ import annotations

import pytest

from kaltura_archiver.restore_tiers import (
    BULK,
    EXPEDITED,
    STANDARD,
    TierPolicy,
    TierPolicyError,
    choose_tier,
    fallback_tier,
    policy_from_mapping,
    typical_wait,
)

MB = 1_000_000


def test_small_urgent_entries_go_expedited_big_ones_standard() -> None:
    policy = TierPolicy(expedited_max_mb=250, standard_max_mb=10_000)
    assert choose_tier(250 * MB, "GLACIER", "urgent", policy) == EXPEDITED
    assert choose_tier(250 * MB + 1, "GLACIER", "urgent", policy) == STANDARD
    assert choose_tier(10 * MB, "GLACIER", "normal", policy) == STANDARD
    assert choose_tier(10_000 * MB + 1, "GLACIER", "normal", policy) == BULK
    assert choose_tier(1, "GLACIER", "low", policy) == BULK


def test_deep_archive_never_gets_expedited() -> None:
    """AWS: Deep Archive offers Standard and Bulk only (S3 User Guide, archive retrieval options)."""
    assert choose_tier(1, "DEEP_ARCHIVE", "urgent", TierPolicy()) == STANDARD
    assert typical_wait("DEEP_ARCHIVE", STANDARD) == "within 12 hours"


def test_expedited_falls_back_to_standard_and_nothing_else_falls_back() -> None:
    assert fallback_tier(EXPEDITED) == STANDARD
    assert fallback_tier(STANDARD) is None and fallback_tier(BULK) is None


def test_thresholds_come_from_settings_with_clear_errors() -> None:
    policy = policy_from_mapping({"restore_expedited_max_mb": "5", "restore_standard_max_mb": None})
    assert policy == TierPolicy(expedited_max_mb=5)
    with pytest.raises(TierPolicyError, match="restore_expedited_max_mb='lots'"):
        policy_from_mapping({"restore_expedited_max_mb": "lots"})
    with pytest.raises(TierPolicyError, match=">= 0"):
        policy_from_mapping({"restore_standard_max_mb": "-1"})
    with pytest.raises(ValueError, match="urgency"):
        choose_tier(1, "GLACIER", "asap", TierPolicy())
