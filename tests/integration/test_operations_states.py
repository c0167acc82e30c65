"""Each operation on each entry state, dry and live, against the emulator and the dev S3 server."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from kaltura_archiver.operations import OPERATIONS, Outcome
from tests.integration.operations_harness import PLACEHOLDER_BYTES, Harness, build_harness

D, B, F = Outcome.DONE, Outcome.DONE_BEFORE, Outcome.FAILED
EXPECTED = {
    ("archive", "initial"): D,
    ("archive", "archived"): B,
    ("archive", "placeholder"): B,
    ("archive", "inconsistent"): F,
    ("replace", "initial"): F,
    ("replace", "archived"): D,
    ("replace", "placeholder"): B,
    ("replace", "inconsistent"): F,
    ("restore", "initial"): F,
    ("restore", "archived"): B,
    ("restore", "placeholder"): D,
    ("restore", "inconsistent"): F,
    ("repair", "initial"): B,
    ("repair", "archived"): B,
    ("repair", "placeholder"): B,
    ("repair", "inconsistent"): F,
}


@pytest.fixture
def harness(emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path) -> Harness:
    """The local stack wired for operations."""
    return build_harness(emulator, s3_bucket, tmp_path)


PLACEHOLDER_SHA = hashlib.sha256(PLACEHOLDER_BYTES).hexdigest()
MUTATING = {
    "media.update",
    "media.addcontent",
    "media.updatethumbnail",
    "flavorasset.delete",
    "uploadtoken.add",
    "uploadtoken.upload",
}


def _mutations(calls: dict[str, int]) -> int:
    """How many state-changing Kaltura calls the emulator has seen."""
    return sum(n for key, n in calls.items() if key.lower() in MUTATING)


@pytest.mark.parametrize(("operation", "state"), sorted(EXPECTED))
def test_dry_run_reports_and_changes_nothing(harness: Harness, operation: str, state: str) -> None:
    entry_id = harness.make(state)
    before = harness.snapshot(entry_id)
    calls_before = harness.emulator.control.calls()
    result = OPERATIONS[operation](harness.ctx(live=False), entry_id)
    assert result.outcome is EXPECTED[(operation, state)], result.reason
    assert result.details["dry_run"] is True
    assert harness.snapshot(entry_id) == before
    assert _mutations(harness.emulator.control.calls()) == _mutations(calls_before)
    if result.outcome is D:
        assert result.details["steps"], "a dry run that would act lists the steps it would take"


@pytest.mark.parametrize(("operation", "state"), sorted(EXPECTED))
def test_live_run_moves_the_entry_as_the_spec_says(harness: Harness, operation: str, state: str) -> None:
    entry_id = harness.make(state)
    calls_before = _mutations(harness.emulator.control.calls())
    result = OPERATIONS[operation](harness.ctx(), entry_id)
    assert result.outcome is EXPECTED[(operation, state)], result.reason
    assert (_mutations(harness.emulator.control.calls()) > calls_before) == (result.outcome is D)
    archived, replaced = harness.settings.archived_tag, harness.settings.replaced_tag
    tags = harness.tags(entry_id)
    real = harness.real_sha[entry_id]
    final = {
        ("archive", "initial"): "archived",
        ("replace", "archived"): "placeholder",
        ("restore", "placeholder"): "archived",
    }.get((operation, state), state)
    if final == "initial":
        assert archived not in tags and harness.s3_sha(entry_id) is None
        assert harness.original_sha(entry_id) == real
    if final == "archived":
        assert archived in tags and replaced not in tags
        assert harness.s3_sha(entry_id) == real == harness.original_sha(entry_id)
    if final == "placeholder":
        assert {archived, replaced} <= tags
        assert harness.s3_sha(entry_id) == real
        assert harness.original_sha(entry_id) == PLACEHOLDER_SHA
    if final == "inconsistent":
        assert harness.s3_sha(entry_id) is None
        assert harness.original_sha(entry_id) == real
    again = OPERATIONS[operation](harness.ctx(), entry_id)
    assert again.outcome in (B, F), "a second run never acts again"
    assert not harness.lost_video(entry_id)


def test_archive_skips_originals_over_the_size_limit(harness: Harness) -> None:
    entry_id = harness.create()
    result = OPERATIONS["archive"](harness.ctx(size_limit_kb=100), entry_id)
    assert result.outcome is Outcome.SKIPPED
    assert "size limit" in result.reason
    assert harness.s3_sha(entry_id) is None


def test_archive_skips_exempt_entries(harness: Harness) -> None:
    entry_id = harness.create(tags=(harness.settings.exempt_tag,))
    result = OPERATIONS["archive"](harness.ctx(), entry_id)
    assert result.outcome is Outcome.SKIPPED
    assert harness.s3_sha(entry_id) is None


def test_replace_guard_refuses_young_entries(harness: Harness) -> None:
    entry_id = harness.make("archived", years_old=1)
    result = OPERATIONS["replace"](harness.ctx(), entry_id)
    assert result.outcome is Outcome.SKIPPED
    assert "guard" in result.reason
    assert harness.settings.replaced_tag not in harness.tags(entry_id)
    assert harness.original_sha(entry_id) == harness.real_sha[entry_id]


def test_replace_refuses_an_s3_copy_over_the_size_limit(harness: Harness) -> None:
    entry_id = harness.make("archived")
    result = OPERATIONS["replace"](harness.ctx(size_limit_kb=200), entry_id)
    assert result.outcome is Outcome.SKIPPED
    assert harness.original_sha(entry_id) == harness.real_sha[entry_id]


def test_unknown_entry_fails_cleanly(harness: Harness) -> None:
    for name, operation in OPERATIONS.items():
        result = operation(harness.ctx(), "0_missing")
        assert result.outcome is Outcome.FAILED, name
        assert "not found" in result.reason
