"""DRYRUN / EXEC step logger: every state-changing step is announced here before it runs.

`step()` returns True when the step must really be executed (live run) and False in a dry run,
so call sites read `if log.step("delete flavor 0_x"): delete(...)`. An optional `on_step`
callback sees every step before it runs; tests use it to inject a crash between any two steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

DRYRUN = "DRYRUN"
EXEC = "EXEC"

StepHook = Callable[[int, str], None]


class LineLogger(Protocol):
    """Anything with `log(level, message)`: a stdlib logger or Airflow's task logger."""

    def log(self, level: int, msg: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Write one line at `level`."""


_LOG = logging.getLogger("kaltura_archiver.operations")


class StepLog:
    """Announces checks and steps of one operation on one entry; records the lines it wrote."""

    def __init__(
        self,
        entry_id: str,
        operation: str,
        live: bool,
        logger: LineLogger | None = None,
        on_step: StepHook | None = None,
    ) -> None:
        self.entry_id = entry_id
        self.operation = operation
        self.live = live
        self.lines: list[str] = []
        self.steps: list[str] = []
        self._logger: LineLogger = logger or _LOG
        self._on_step = on_step

    @property
    def prefix(self) -> str:
        """`EXEC` in a live run, `DRYRUN` otherwise."""
        return EXEC if self.live else DRYRUN

    def step(self, description: str) -> bool:
        """Announce a state-changing step; True when it must be executed now."""
        index = len(self.steps)
        if self._on_step is not None:
            self._on_step(index, description)
        self.steps.append(description)
        self._emit(logging.INFO, f"{self.prefix} {self.entry_id} {self.operation}: {description}")
        return self.live

    def check(self, message: str) -> None:
        """Record a read-only observation or precondition result."""
        self._emit(logging.INFO, f"CHECK {self.entry_id} {self.operation}: {message}")

    def warn(self, message: str) -> None:
        """Record something an operator should look at."""
        self._emit(logging.WARNING, f"WARN {self.entry_id} {self.operation}: {message}")

    def _emit(self, level: int, line: str) -> None:
        self.lines.append(line)
        self._logger.log(level, line)
