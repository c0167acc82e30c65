"""summarize_outcomes: counts per outcome, missing outcomes count as failures."""

from kaltura_archiver.run_summary import summarize_outcomes


def _o(entry_id: str, outcome: str, reason: str = "") -> dict[str, str]:
    return {"entry_id": entry_id, "operation": "archive", "outcome": outcome, "reason": reason}


def test_counts_each_outcome_and_passes_without_failures() -> None:
    summary = summarize_outcomes(
        "archive",
        ["0_a", "0_b", "0_c"],
        [_o("0_a", "done"), _o("0_b", "done_before"), _o("0_c", "waiting_for_glacier")],
        dry_run=False,
    )
    assert summary.ok
    assert summary.counts["done"] == 1 and summary.counts["done_before"] == 1
    assert summary.counts["waiting_for_glacier"] == 1 and summary.total == 3
    assert summary.lines()[0] == "EXEC archive: 3 entries"


def test_failed_and_missing_outcomes_fail_the_run() -> None:
    summary = summarize_outcomes(
        "replace",
        ["0_a", "0_b", "0_c"],
        [_o("0_a", "failed", "S3 copy differs"), None, _o("0_b", "done")],
        True,
    )
    assert not summary.ok
    assert summary.counts["failed"] == 2
    assert {f["entry_id"] for f in summary.failed} == {"0_a", "0_c"}
    assert summary.lines()[0].startswith("DRYRUN replace")
