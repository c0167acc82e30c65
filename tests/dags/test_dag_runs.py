"""Real DAG runs (`dag.test()`, triggers inline) of every DAG against the emulator and the dev S3 server.

Dry runs must change nothing; live runs move entries through the lifecycle; per-entry tasks are
named by entry id in the metadata DB; bad params are refused before a run exists.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.fixtures.dag_stack import DagRunResult, DagStack, small_entry

pytest_plugins = ["tests.fixtures.dag_stack"]

pytestmark = pytest.mark.timeout(300)

ARCHIVED, REPLACED = "archived_to_s3", "flavors_deleted"
KALTURA_WRITES = {
    "media.update",
    "media.addContent",
    "media.updateThumbnail",
    "baseEntry.update",
    "flavorAsset.delete",
    "uploadToken.add",
    "uploadToken.upload",
    "uploadToken.delete",
    "thumbAsset.generate",
    "thumbAsset.setAsDefault",
}
S3_WRITES = (
    "Put",
    "Post",
    "Delete",
    "Copy",
    "Restore",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
)


def kaltura_writes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Kaltura actions that change something, called between two `calls()` readings."""
    return {
        k: after[k] - before.get(k, 0) for k in after if k in KALTURA_WRITES and after[k] > before.get(k, 0)
    }


def s3_writes(counts: dict[str, int]) -> dict[str, int]:
    """S3 operations that change something, from the dev server's counters."""
    return {k: v for k, v in counts.items() if v and any(w in k for w in S3_WRITES)}


def assert_named_by_entry(result: DagRunResult, operation: str, expected_ids: set[str]) -> None:
    """One mapped task per expected entry, each shown (rendered_map_index) under its entry id."""
    rows = result.mapped(f"{operation}_entry")
    assert {r.rendered_map_index for r in rows} == expected_ids
    assert len(rows) == len(expected_ids)
    assert all(r.state == "success" for r in rows), rows
    assert set(result.entry_outcomes(operation)) == expected_ids


def run_dry(stack: DagStack, dag_id: str, ids: list[str], conf: dict[str, Any] | None = None) -> DagRunResult:
    """A dry run that must leave entries, bucket and every write counter untouched."""
    before, calls = stack.snapshot(ids), stack.emulator.control.calls()
    stack.s3_server.control.reset_counts()
    result = stack.run(dag_id, {"dry_run": True, **(conf or {})})
    assert result.state == "success", result.tasks
    assert stack.snapshot(ids) == before
    assert kaltura_writes(calls, stack.emulator.control.calls()) == {}
    assert s3_writes(stack.s3_server.control.counts()) == {}
    return result


def test_lifecycle_archive_replace_restore_health_dry_and_live(dag_stack: DagStack) -> None:
    stack, control, now = dag_stack, dag_stack.emulator.control, time.time()
    old = control.create_entries(
        [small_entry(now, 5, None, size=30_000 + 7_000 * i) for i in range(4)]
        + [small_entry(now, 6, 4.5, size=90_000)]
    )
    recent = control.create_entries([small_entry(now, 1, 0.2), small_entry(now, 2.5, None)])
    exempt = control.create_entries([small_entry(now, 7, None, tags=["archive_exempt"])])
    everyone = old + recent + exempt
    sizes = {e: stack.entry(e)["original_size"] for e in old}

    # archive: the default selection (unplayed for 3 years, not archived), dry then live
    dry = run_dry(stack, "kaltura_archive", everyone)
    assert dry.value("select") == old or set(dry.value("select")) == set(old)
    assert_named_by_entry(dry, "archive", set(old))
    assert {o["outcome"] for o in dry.entry_outcomes("archive").values()} == {"done"}
    assert dry.value("summarize")["dry_run"] is True

    live = stack.run("kaltura_archive", {"dry_run": False})
    assert live.state == "success", live.tasks
    assert_named_by_entry(live, "archive", set(old))
    assert live.value("summarize")["counts"]["done"] == len(old)
    keys = stack.keys()
    for entry_id in old:
        assert keys[entry_id] == sizes[entry_id]
        assert ARCHIVED in stack.entry(entry_id)["tags"]
    for entry_id in recent + exempt:
        assert entry_id not in keys
        assert ARCHIVED not in stack.entry(entry_id)["tags"]

    # replace: archived entries unplayed for 3 years get the placeholder
    dry = run_dry(stack, "kaltura_replace", everyone)
    assert_named_by_entry(dry, "replace", set(old))
    live = stack.run("kaltura_replace", {"dry_run": False})
    assert live.state == "success", live.tasks
    assert_named_by_entry(live, "replace", set(old))
    placeholder_size = stack.placeholder.stat().st_size
    for entry_id in old:
        entry = stack.entry(entry_id)
        assert {ARCHIVED, REPLACED} <= set(entry["tags"])
        assert entry["status"] == 2 and entry["original_size"] == placeholder_size
        assert stack.keys()[entry_id] == sizes[entry_id]

    # restore: two placeholders are played again; the Glacier copy comes back after a delay
    stack.s3_server.control.set_config(glacier_restore_seconds=1)
    played = old[:2]
    for entry_id in played:
        control.play(entry_id)
    dry = run_dry(stack, "kaltura_restore", everyone)
    assert_named_by_entry(dry, "restore", set(played))
    live = stack.run("kaltura_restore", {"dry_run": False})
    assert live.state == "success", live.tasks
    assert_named_by_entry(live, "restore", set(played))
    assert {o["outcome"] for o in live.entry_outcomes("restore").values()} == {"done"}
    for entry_id in played:
        entry = stack.entry(entry_id)
        assert REPLACED not in entry["tags"] and ARCHIVED in entry["tags"]
        assert entry["status"] == 2 and entry["original_size"] == sizes[entry_id]
    for entry_id in old[2:]:
        assert REPLACED in stack.entry(entry_id)["tags"]

    # health: every entry is healthy (archived, placeholder, initial or exempt)
    health = stack.run("kaltura_health")
    assert health.state == "success", health.tasks
    report = health.value("health_report")
    assert report["entries"] == len(everyone)
    assert report["verdicts"].get("unhealthy", 0) == 0
    lines = (stack.reports / report["report"].split(str(stack.reports) + "/", 1)[1]).read_text().splitlines()
    assert len(lines) == len(everyone) + 1
