"""A dry run's outcome says what it would do, never that it did it."""

from __future__ import annotations

from kaltura_archiver.operations.outcome import Outcome
from kaltura_archiver.operations.runner import outcome, outcome_label
from kaltura_archiver.operations.steplog import StepLog
from kaltura_archiver.run_summary import summarize_outcomes


def test_dry_run_done_says_would() -> None:
    dry = StepLog("0_abcdefgh", "archive", live=False)
    result = outcome(dry, Outcome.DONE, "original 0_f archived to s3://b/0_abcdefgh")
    assert result.outcome is Outcome.DONE
    assert result.reason.startswith("would copy the original to S3") and "archived" not in result.reason
    assert outcome_label(result) == "would be done"
    live = outcome(
        StepLog("0_abcdefgh", "archive", live=True), Outcome.DONE, "original 0_f archived to s3://b/x"
    )
    assert live.reason == "original 0_f archived to s3://b/x" and outcome_label(live) == "done"


def test_dry_run_other_outcomes() -> None:
    dry = StepLog("0_abcdefgh", "restore", live=False)
    assert outcome(dry, Outcome.WAITING_FOR_GLACIER, "Glacier restore requested").reason == (
        "would request a Glacier restore and wait for it"
    )
    assert outcome(dry, Outcome.DONE, "would restore from S3").reason == "would restore from S3"
    archive = StepLog("0_abcdefgh", "archive", live=False)
    assert outcome(archive, Outcome.DONE_BEFORE, "already in S3 (same size); tag added").reason == (
        "already in S3 (same size); would add the tag"
    )
    assert (
        outcome(archive, Outcome.SKIPPED, "exempt from archiving: tag").reason == "exempt from archiving: tag"
    )


def test_dry_run_summary_counts_would_be_done() -> None:
    summary = summarize_outcomes(
        "archive", ["0_abcdefgh"], [{"entry_id": "0_abcdefgh", "outcome": "done"}], dry_run=True
    )
    lines = summary.lines()
    assert lines[0] == "DRYRUN archive: 1 entries (nothing changed)"
    assert any(line.split() == ["would", "be", "done", "1"] for line in lines)
    assert not any(line.split()[:1] == ["done"] for line in lines)
