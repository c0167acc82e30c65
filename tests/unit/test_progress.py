"""CallCounter and ProgressReporter."""

from __future__ import annotations

import logging
import threading

import pytest

from kaltura_archiver.progress import CallCounter, ProgressReporter


def test_counter_counts_per_label_across_threads() -> None:
    counter = CallCounter()

    def work() -> None:
        for _ in range(1000):
            counter.add("media.list")
            counter.add("s3.list_objects_v2")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.as_dict() == {"media.list": 4000, "s3.list_objects_v2": 4000}
    assert counter.total == 8000 and counter.total_with_prefix("s3.") == 4000
    assert counter.summary() == "8000 calls: media.list=4000, s3.list_objects_v2=4000"
    counter.reset()
    assert counter.total == 0 and counter.summary() == "0 calls"


def test_progress_lines_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    counter = CallCounter()
    counter.add("media.list", 3)
    log = logging.getLogger("test.progress")
    reporter = ProgressReporter("health", 1500, 500, counter, log, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="test.progress")
    now[0] = 10.0
    reporter.page_done(500)
    assert "health: page 1/3, 500/1500 entries, 50.0 entries/s, ~20s left" in caplog.text
    now[0] = 20.0
    reporter.page_done(500)
    assert reporter.eta_seconds() == pytest.approx(10.0)
    line = reporter.finish()
    assert line == "health: done, 1000 entries in 2 pages, 20.0s; 3 calls: media.list=3"
    assert line in caplog.text


def test_progress_without_total() -> None:
    now = [0.0]
    reporter = ProgressReporter("list", None, clock=lambda: now[0])
    now[0] = 2.0
    reporter.page_done(100)
    assert reporter.progress_line() == "list: page 1, 100 entries, 50.0 entries/s"
    assert reporter.eta_seconds() is None and reporter.total_pages is None
