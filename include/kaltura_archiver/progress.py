"""Call counting and progress logging for bulk operations (thread-safe, no Airflow imports)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

logger = logging.getLogger(__name__)


class CallCounter:
    """Counts remote calls per label (e.g. ``media.list``, ``s3.list_objects_v2``); safe across threads."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, label: str, n: int = 1) -> None:
        """Record ``n`` calls under ``label``."""
        with self._lock:
            self._counts[label] += n

    def get(self, label: str) -> int:
        """Number of calls recorded under ``label``."""
        with self._lock:
            return self._counts[label]

    @property
    def total(self) -> int:
        """Number of calls recorded under every label."""
        with self._lock:
            return sum(self._counts.values())

    def total_with_prefix(self, prefix: str) -> int:
        """Number of calls whose label starts with ``prefix`` (e.g. ``"s3."``)."""
        with self._lock:
            return sum(n for label, n in self._counts.items() if label.startswith(prefix))

    def as_dict(self) -> dict[str, int]:
        """A snapshot of the counts, sorted by label."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()

    def summary(self) -> str:
        """One line: total and the count per label, e.g. ``12 calls: media.list=2, s3.list_objects_v2=10``."""
        counts = self.as_dict()
        parts = ", ".join(f"{label}={n}" for label, n in counts.items())
        return f"{sum(counts.values())} calls" + (f": {parts}" if parts else "")


class ProgressReporter:
    """Logs pages done of total, entries per second and estimated time left; ends with the call summary."""

    def __init__(
        self,
        operation: str,
        total_entries: int | None = None,
        page_size: int = 500,
        counter: CallCounter | None = None,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.monotonic,
        min_interval_s: float = 0.0,
    ) -> None:
        self.operation = operation
        self.total_entries = total_entries
        self.page_size = max(1, page_size)
        self.counter = counter
        self.log = log
        self._clock = clock
        self._start = clock()
        self._last_log = float("-inf")
        self.min_interval_s = min_interval_s
        self.pages = 0
        self.entries = 0

    @property
    def total_pages(self) -> int | None:
        """Expected number of pages, when the total is known."""
        if self.total_entries is None:
            return None
        return max(1, -(-self.total_entries // self.page_size))

    def elapsed(self) -> float:
        """Seconds since the reporter was created."""
        return self._clock() - self._start

    def rate(self) -> float:
        """Entries processed per second so far."""
        elapsed = self.elapsed()
        return self.entries / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        """Estimated seconds left, when the total is known and some progress was made."""
        rate = self.rate()
        if self.total_entries is None or rate <= 0:
            return None
        return max(0.0, (self.total_entries - self.entries) / rate)

    def page_done(self, entries_in_page: int) -> None:
        """Record one finished page of ``entries_in_page`` entries and log the progress line."""
        self.pages += 1
        self.entries += entries_in_page
        now = self._clock()
        if now - self._last_log < self.min_interval_s:
            return
        self._last_log = now
        self.log.info("%s", self.progress_line())

    def progress_line(self) -> str:
        """The current progress as one human-readable line."""
        pages = f"{self.pages}/{self.total_pages}" if self.total_pages is not None else str(self.pages)
        total = f"/{self.total_entries}" if self.total_entries is not None else ""
        eta = self.eta_seconds()
        left = f", ~{_fmt_duration(eta)} left" if eta is not None else ""
        return (
            f"{self.operation}: page {pages}, {self.entries}{total} entries, "
            f"{self.rate():.1f} entries/s{left}"
        )

    def finish(self) -> str:
        """Log and return the closing line: entries, wall time and the call summary."""
        line = f"{self.operation}: done, {self.entries} entries in {self.pages} pages, {self.elapsed():.1f}s"
        if self.counter is not None:
            line += f"; {self.counter.summary()}"
        self.log.info("%s", line)
        return line


def _fmt_duration(seconds: float) -> str:
    """``3725`` -> ``1h02m05s``; short durations stay short (``42s``)."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m{sec:02d}s"
    if m:
        return f"{m}m{sec:02d}s"
    return f"{sec}s"
