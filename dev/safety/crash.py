"""Crash harness: run one entry's task in a forked child process and kill it at a chosen step.

The child builds the project's real per-entry operator (ArchiveEntryOperator, ...) and runs it the
way a worker would: `execute`, and when it defers, the trigger inline, then `execute_complete`.
Its step log gets a hook that counts state-changing steps across the whole task (a deferral
resumes with a fresh step log) and, just before step `kill_at`, kills the process: SIGKILL sent to
itself, or `os._exit` (no cleanup, no finally blocks, no XCom). `kill_at` equal to the number of
steps kills it after the last step, before the task could report. The parent only waits.

Children fork from a multiprocessing fork server, never from the test process: the test process
runs the emulator and the S3 server in threads, and a fork taken while one of them holds a lock
(a log handler's, stdout's) leaves the child waiting on it for ever. The fork server is single
threaded and has the operators imported already; each child gets the parent's environment of the
moment (the connections and Variables a test set).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KILLED_EXIT = 137
CHILD_PRELOAD = [
    "kaltura_archiver.airflow.operators.entry_operations",
    "kaltura_archiver.airflow.operators.restore_requests",
    "airflow.sdk.exceptions",
]
_forkserver = multiprocessing.get_context("forkserver")
_forkserver.set_forkserver_preload(CHILD_PRELOAD)


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


def _in_environment(env: dict[str, str], target: Any, *args: Any) -> None:
    os.environ.clear()
    os.environ.update(env)
    target(*args)


def start_child(target: Any, *args: Any) -> Any:
    """Start `target(*args)` (a module-level function) in a child of the fork server, with this
    process's environment of the moment; returns the started multiprocessing Process."""
    child = _forkserver.Process(target=_in_environment, args=(dict(os.environ), target, *args), daemon=True)
    child.start()
    return child


def _child_main(operation: str, entry_id: str, kill_at: int | None, hard: bool, report: Path) -> None:
    try:
        _run_task(operation, entry_id, kill_at, hard, report)
    except BaseException as err:  # noqa: BLE001 - reported to the parent through the report file
        report.write_text(json.dumps({"steps": [], "outcome": None, "error": repr(err)}))
        os._exit(1)


def run_children(specs: list[tuple[str, str, int | None, bool]]) -> list[ChildRun]:
    """Start one child per (operation, entry_id, kill_at, hard) at once, wait for all, report each."""
    with tempfile.TemporaryDirectory(prefix="safety-crash-") as tmp:
        started: list[tuple[Any, Path]] = []
        for number, (operation, entry_id, kill_at, hard) in enumerate(specs):
            report = Path(tmp) / f"report-{number}.json"
            report.write_text(json.dumps({"steps": [], "outcome": None, "error": None}))
            started.append((start_child(_child_main, operation, entry_id, kill_at, hard, report), report))
        runs = []
        for (child, report), (operation, entry_id, kill_at, _hard) in zip(started, specs, strict=True):
            child.join()
            code = child.exitcode if child.exitcode is not None else 0
            data = json.loads(report.read_text() or "{}")
            runs.append(
                ChildRun(
                    entry_id=entry_id,
                    operation=operation,
                    kill_at=kill_at,
                    killed=code in (-signal.SIGKILL, KILLED_EXIT),
                    exit_code=code,
                    steps=list(data.get("steps") or []),
                    outcome=data.get("outcome"),
                    error=data.get("error"),
                )
            )
    return runs
