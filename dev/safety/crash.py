"""Crash harness: run one entry's task in a forked child process and kill it at a chosen step.

The child builds the project's real per-entry operator (ArchiveEntryOperator, ...) and runs it the
way a worker would: `execute`, and when it defers, the trigger inline, then `execute_complete`.
Its step log gets a hook that counts state-changing steps across the whole task (a deferral
resumes with a fresh step log) and, just before step `kill_at`, kills the process: SIGKILL sent to
itself, or `os._exit` (no cleanup, no finally blocks, no XCom). `kill_at` equal to the number of
steps kills it after the last step, before the task could report. The parent only waits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KILLED_EXIT = 137


@dataclass(frozen=True)
class ChildRun:
    """How a child run ended: killed (and before which step), or finished with an outcome."""

    entry_id: str
    operation: str
    kill_at: int | None
    killed: bool
    exit_code: int
    steps: list[str]
    outcome: dict[str, Any] | None
    error: str | None = None


def _operator(operation: str, entry_id: str) -> Any:
    from kaltura_archiver.airflow.operators import entry_operations as ops
    from kaltura_archiver.airflow.operators.restore_requests import RequestedRestoreOperator

    if operation.startswith("requested-restore:"):  # "requested-restore:<tier>", as a request runs it
        return RequestedRestoreOperator(
            task_id="restore_entry",
            entry_id=entry_id,
            dry_run=False,
            tier=operation.split(":", 1)[1],
            ready_poll_interval=0.3,
            glacier_poll_interval=0.3,
        )
    classes = {
        "archive": ops.ArchiveEntryOperator,
        "replace": ops.ReplaceEntryOperator,
        "restore": ops.RestoreEntryOperator,
        "repair": ops.RepairEntryOperator,
    }
    return classes[operation](
        task_id=f"{operation}_entry",
        entry_id=entry_id,
        dry_run=False,
        ready_poll_interval=0.3,
        glacier_poll_interval=0.3,
    )


async def _first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event
    return None


def _run_task(operation: str, entry_id: str, kill_at: int | None, hard: bool, report: Path) -> None:
    """The child's body: run the task, kill at step `kill_at`, write steps and outcome to `report`."""
    from airflow.sdk.exceptions import TaskDeferred

    steps: list[str] = []

    def save(outcome: Any = None, error: str | None = None) -> None:
        report.write_text(json.dumps({"steps": steps, "outcome": outcome, "error": error}))

    def kill() -> None:
        save()
        if hard:
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(KILLED_EXIT)

    def hook(_index: int, description: str) -> None:
        if kill_at is not None and len(steps) == kill_at:
            kill()
        steps.append(description)
        save()

    operator = _operator(operation, entry_id)
    build = operator.build_context

    def build_with_hook(context: Any) -> Any:
        ctx = build(context)
        ctx.on_step = hook
        return ctx

    operator.build_context = build_with_hook
    context: dict[str, Any] = {"logical_date": datetime.now(UTC)}
    try:
        try:
            result = operator.execute(context)
        except TaskDeferred as deferred:
            result = None
            for _ in range(10):
                event = asyncio.run(_first_event(deferred.trigger))
                try:
                    result = operator.execute_complete(context, event=event.payload if event else None)
                    break
                except TaskDeferred as again:
                    deferred = again
    except Exception as err:  # noqa: BLE001 - a failed task is a result here, reported to the parent
        if kill_at is not None and len(steps) == kill_at:
            kill()
        save(error=f"{type(err).__name__}: {err}")
        return
    if kill_at is not None and len(steps) == kill_at:
        kill()
    save(outcome=result)


def run_in_child(operation: str, entry_id: str, kill_at: int | None = None, hard: bool = True) -> ChildRun:
    """Fork, run the entry's task in the child (killed before step `kill_at`), wait, report."""
    return run_children([(operation, entry_id, kill_at, hard)])[0]


def run_children(specs: list[tuple[str, str, int | None, bool]]) -> list[ChildRun]:
    """Fork one child per (operation, entry_id, kill_at, hard) at once, wait for all, report each."""
    with tempfile.TemporaryDirectory(prefix="safety-crash-") as tmp:
        started: list[tuple[int, Path]] = []
        for number, (operation, entry_id, kill_at, hard) in enumerate(specs):
            report = Path(tmp) / f"report-{number}.json"
            report.write_text(json.dumps({"steps": [], "outcome": None, "error": None}))
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    _run_task(operation, entry_id, kill_at, hard, report)
                except BaseException as err:  # noqa: BLE001 - the child must never return into the parent
                    report.write_text(json.dumps({"steps": [], "outcome": None, "error": repr(err)}))
                    code = 1
                finally:
                    os._exit(code)
            started.append((pid, report))
        runs = []
        for (pid, report), (operation, entry_id, kill_at, _hard) in zip(started, specs, strict=True):
            _, status = os.waitpid(pid, 0)
            data = json.loads(report.read_text() or "{}")
            killed = os.WIFSIGNALED(status) or (
                os.WIFEXITED(status) and os.WEXITSTATUS(status) == KILLED_EXIT
            )
            runs.append(
                ChildRun(
                    entry_id=entry_id,
                    operation=operation,
                    kill_at=kill_at,
                    killed=killed,
                    exit_code=-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status),
                    steps=list(data.get("steps") or []),
                    outcome=data.get("outcome"),
                    error=data.get("error"),
                )
            )
    return runs
