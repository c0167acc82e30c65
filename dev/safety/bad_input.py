"""Bad input: every DAG triggered with invalid params must be refused with a message and change nothing.

`BAD_PARAMS` lists the cases (wrong types, negative years, unknown statuses, 10,001 entry ids, a tag
of 10 KB, ids with SQL or LDAP metacharacters, ...); each applies to the DAGs that have the param.
Every case is a live run (`dry_run` false where the DAG has it), so "changes nothing" means something:
the emulator's write calls and the S3 server's write operations are counted before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dev.kaltura_emulator.control import EmulatorControl
from dev.s3_server import S3DevControl
from dev.safety.dagrun import DagRunner, RunResult

KALTURA_WRITES = (
    "media.update",
    "media.addContent",
    "media.updateThumbnail",
    "flavorAsset.delete",
    "uploadToken.add",
    "uploadToken.upload",
    "thumbAsset.generate",
)
S3_WRITES = (
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "DeleteObject",
    "DeleteObjects",
    "RestoreObject",
    "CopyObject",
)
SQL_ID = "0_abc'; DROP TABLE entries; --"
LDAP_ID = "0_*)(uid=*))(|(uid=*"

BAD_PARAMS: list[tuple[str, str, Any]] = [
    ("years is a string", "years", "three"),
    ("negative years", "years", -1),
    ("dry_run is a string", "dry_run", "no thanks"),
    ("negative created_before", "created_before", -2),
    ("played_within is a list", "played_within", [1]),
    ("unknown status", "status", [99]),
    ("status by an unknown name", "status", ["DELETED"]),
    ("10,001 entry ids", "entry_ids", [f"0_{i:08d}" for i in range(10_001)]),
    ("a tag of 10 KB", "tag", ["t" * 10_240]),
    ("entry id with SQL metacharacters", "entry_ids", [SQL_ID]),
    ("entry id with LDAP metacharacters", "entry_ids", [LDAP_ID]),
    ("max_entries below -1", "max_entries", -5),
    ("page_size over 500", "page_size", 501),
    ("unknown media type", "media_type", "hologram"),
    ("negative played window", "played_window_years", -1),
    ("unknown report mode", "mode", "everything"),
]


@dataclass
class BadInputResult:
    """One bad trigger: refused or not, the message, and whether anything changed."""

    dag_id: str
    case: str
    refused: bool
    message: str
    kaltura_writes: int
    s3_writes: int
    run_state: str

    @property
    def ok(self) -> bool:
        """Refused with a message, nothing written, and no run that looks successful."""
        return (
            self.refused
            and bool(self.message)
            and self.kaltura_writes == 0
            and self.s3_writes == 0
            and self.run_state != "success"
        )


def _writes(kaltura: EmulatorControl, s3: S3DevControl) -> tuple[int, int]:
    calls, ops = kaltura.calls(), s3.counts()
    return sum(calls.get(k, 0) for k in KALTURA_WRITES), sum(ops.get(k, 0) for k in S3_WRITES)


def _refusal(result: RunResult, log_text: Callable[[], str]) -> str:
    """The refusal message: the param error, or the failed select task's "nothing was changed" line."""
    if result.refused is not None:
        return result.refused
    if any(task.startswith("select") for task in result.failed_tasks) and not result.outcomes:
        text = log_text()
        marker = "nothing was changed: "
        position = text.rfind(marker)
        if position >= 0:
            end = text.find("\n", position)
            return text[text.rfind("\n", 0, position) + 1 : end if end >= 0 else None].strip()
        return f"run failed before any entry task ({', '.join(result.failed_tasks)})"
    return ""


def trigger_bad(
    runner: DagRunner,
    dag_id: str,
    case: str,
    conf: dict[str, Any],
    kaltura: EmulatorControl,
    s3: S3DevControl,
    log_text: Callable[[], str],
    full: bool = True,
) -> BadInputResult:
    """Trigger `dag_id` live with `conf` and judge the answer.

    `full=False` stops at the trigger-time param check when it refuses (no DAG run is made then
    either); conf that passes it is always run for real.
    """
    before = _writes(kaltura, s3)
    refusal = None if full else runner.validate(dag_id, conf)
    if refusal is not None:
        message, state = refusal, "refused"
    else:
        result = runner.run(dag_id, conf)
        message, state = _refusal(result, log_text), result.state
    after = _writes(kaltura, s3)
    verdict = BadInputResult(
        dag_id, case, bool(message), message, after[0] - before[0], after[1] - before[1], state
    )
    print(f"SAFETY bad input {dag_id} ({case}): {state}, ok={verdict.ok}: {message[:120]!r}", flush=True)
    return verdict


def bad_input_suite(
    runner: DagRunner,
    kaltura: EmulatorControl,
    s3: S3DevControl,
    log_text: Callable[[], str],
    full: bool = True,
) -> list[BadInputResult]:
    """Every applicable bad param on every DAG, each as a live run (see `trigger_bad` for `full`)."""
    results = []
    for dag_id, dag in runner.dags.items():
        names = set(dag.params.keys())
        live = {"dry_run": False} if "dry_run" in names else {}
        for case, name, value in BAD_PARAMS:
            if name in names:
                conf = {**live, name: value}
                results.append(trigger_bad(runner, dag_id, case, conf, kaltura, s3, log_text, full))
    return results


def missing_placeholder(
    runner: DagRunner,
    entry_ids: list[str],
    kaltura: EmulatorControl,
    s3: S3DevControl,
    log_text: Callable[[], str],
    set_placeholder: Callable[[str], None],
    restore_placeholder: Callable[[], None],
) -> list[BadInputResult]:
    """Replace and repair with a placeholder path that does not exist: refused before any entry."""
    results = []
    set_placeholder("/nonexistent/kaltura-archiver/placeholder.mp4")
    try:
        for dag_id in ("kaltura_replace", "kaltura_repair"):
            conf = {"dry_run": False, "entry_ids": entry_ids}
            results.append(
                trigger_bad(runner, dag_id, "placeholder video missing", conf, kaltura, s3, log_text)
            )
    finally:
        restore_placeholder()
    return results
