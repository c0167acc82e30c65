"""Real DAG runs (`dag.test()`, triggers inline) of every DAG against the emulator and the dev S3 server.

Dry runs must change nothing; live runs move entries through the lifecycle; per-entry tasks are
named by entry id in the metadata DB; bad params are refused before a run exists.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fixtures.dag_stack import DagRunResult, DagStack, dag_run_count, small_entry

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
    digests = {e: control.entry(e)["original_sha256"] for e in old}

    # archive: the default selection (unplayed for 3 years, not archived), dry then live
    dry = run_dry(stack, "kaltura_archive", everyone)
    assert sorted(dry.value("select")) == sorted(old)
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
    # no plays sync: Kaltura's lists see these plays only tomorrow; restore's select reads them live
    dry = run_dry(stack, "kaltura_restore", everyone)
    assert_named_by_entry(dry, "restore", set(played))
    live = stack.run("kaltura_restore", {"dry_run": False})
    assert live.state == "success", live.tasks
    assert_named_by_entry(live, "restore", set(played))
    assert {o["outcome"] for o in live.entry_outcomes("restore").values()} == {"done"}
    restores = {r["key"] for r in stack.s3_server.control.restores() if r["bucket"] == stack.bucket}
    assert restores == set(played)
    for entry_id in played:
        entry = control.entry(entry_id)
        assert REPLACED not in entry["tags"] and ARCHIVED in entry["tags"]
        assert entry["status"] == 2 and entry["original_size"] == sizes[entry_id]
        assert entry["original_sha256"] == digests[entry_id]
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


# -- params ------------------------------------------------------------------------------------


def scheduler_params(dag: Any) -> Any:
    """The DAG's params as the scheduler validates them when a run is created (serialized DAG)."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).params


BAD_PARAMS: list[tuple[str, dict[str, Any], str]] = [
    ("kaltura_archive", {"years": -1}, "years"),
    ("kaltura_archive", {"unplayed_for": -0.5}, "unplayed_for"),
    ("kaltura_archive", {"years": "three"}, "years"),
    ("kaltura_archive", {"dry_run": "no"}, "dry_run"),
    ("kaltura_archive", {"max_entries": 1.5}, "max_entries"),
    ("kaltura_archive", {"plays": "ten"}, "plays"),
    ("kaltura_replace", {"status": [99]}, "status"),
    ("kaltura_replace", {"status": ["DELETED"]}, "status"),
    ("kaltura_replace", {"status": []}, "status"),
    ("kaltura_restore", {"media_type": "movie"}, "media_type"),
    ("kaltura_restore", {"tag": ["x" * 10_240]}, "tag"),
    ("kaltura_repair", {"tag": ["archived_to_s3,flavors_deleted"]}, "tag"),
    ("kaltura_health", {"entry_ids": ["0_abc'; DROP TABLE entries;--"]}, "entry_ids"),
    ("kaltura_health", {"entry_ids": ["0_a*)(uid=*"]}, "entry_ids"),
    ("kaltura_report", {"entry_ids": ["0_abcdefg\\"]}, "entry_ids"),
    ("kaltura_report", {"entry_ids": [f"0_{i:08d}" for i in range(10_001)]}, "entry_ids"),
    ("kaltura_report", {"mode": "pdf"}, "mode"),
    ("kaltura_report", {"people": "yes"}, "people"),
    ("kaltura_report", {"category": 0}, "category"),
    ("kaltura_stats", {"years": -3}, "years"),
    ("kaltura_stats", {"played_window_years": 1000}, "played_window_years"),
]


@pytest.mark.parametrize(("dag_id", "conf", "param"), BAD_PARAMS, ids=lambda v: str(v)[:40])
def test_invalid_params_are_refused_with_the_message(
    dag_objects: dict[str, Any], dag_id: str, conf: dict[str, Any], param: str
) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = scheduler_params(dag_objects[dag_id]).deep_merge(conf)
    with pytest.raises(ParamValidationError, match=f"Invalid input for param {param}:"):
        params.validate()


def test_good_params_are_accepted(dag_objects: dict[str, Any]) -> None:
    conf = {
        "dry_run": False,
        "years": 2.5,
        "unplayed_for": 4,
        "status": [2, 7],
        "tag": ["lecture", "!archived_to_s3"],
        "entry_ids": [f"0_{i:08d}" for i in range(10_000)],
        "max_entries": -1,
        "media_type": "audio",
    }
    assert scheduler_params(dag_objects["kaltura_archive"]).deep_merge(conf).validate()["unplayed_for"] == 4
    for dag in dag_objects.values():
        scheduler_params(dag).validate()


def test_a_bad_trigger_creates_no_run(dag_stack: DagStack) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    cases: list[tuple[str, dict[str, Any], str]] = [
        ("kaltura_archive", {"years": -1, "dry_run": False}, "-1 is less than the minimum of 0"),
        ("kaltura_replace", {"status": [99], "dry_run": False}, "99 is not one of"),
        ("kaltura_restore", {"entry_ids": ["0_a*)(uid=*"], "dry_run": False}, "does not match"),
    ]
    for dag_id, conf, message in cases:
        runs = dag_run_count(dag_id)
        with pytest.raises(ParamValidationError, match=message):
            dag_stack.run(dag_id, conf)
        assert dag_run_count(dag_id) == runs
    assert dag_stack.emulator.control.calls() == {}
    assert dag_stack.keys() == {}


# -- no-op over 10,000 archived entries ---------------------------------------------------------


def test_noop_run_over_10000_archived_entries_maps_no_task(dag_stack: DagStack) -> None:
    now = time.time()
    entries = [
        small_entry(now, 4 + (i % 300) / 100, None, size=1_000 + i % 977, tags=[ARCHIVED])
        for i in range(10_000)
    ]
    ids = dag_stack.emulator.control.create_entries(entries)
    objects = [
        {"key": entry_id, "size": item["original_size"], "storage_class": "GLACIER"}
        for entry_id, item in zip(ids, entries, strict=True)
    ]
    dag_stack.s3_server.control.seed(dag_stack.bucket, objects)
    calls = dag_stack.emulator.control.calls()
    dag_stack.s3_server.control.reset_counts()

    # the user's filter matches all 10,000; every one was archived before, so no task is mapped
    for conf in ({"unplayed_for": 3, "max_entries": -1}, {}):
        result = dag_stack.run("kaltura_archive", {"dry_run": False, **conf})
        assert result.state == "success", result.tasks
        assert result.value("select") == []
        assert result.mapped("archive_entry") == []
        assert result.value("summarize")["total"] == 0
        if conf:
            plan = result.xcom("select", "plan")
            assert plan["left_alone"] == {"done before": 10_000}, plan
            assert plan["states"] == {"archived": 10_000} and plan["remaining"] == 0
    assert kaltura_writes(calls, dag_stack.emulator.control.calls()) == {}
    assert s3_writes(dag_stack.s3_server.control.counts()) == {}
    assert len(dag_stack.keys()) == 10_000


# -- stats backfill ----------------------------------------------------------------------------


def test_stats_backfill_of_three_days_gives_three_different_rows(dag_stack: DagStack) -> None:
    import pandas as pd

    day = 24 * 3600
    ends = [datetime(2025, 6, d, tzinfo=UTC) for d in (2, 3, 4)]
    e1, e2, e3 = (end.timestamp() for end in ends)
    created = [e1 - 40 * day, e1 - 2 * day, e1 - 3600, e1 + 6 * 3600, e2 - 3600, e2 + 3600]
    played = [e1 - 2 * 3600, None, None, None, e2 + 3 * 3600, None]
    entries = []
    for created_at, played_at in zip(created, played, strict=True):
        item = small_entry(created_at, 0, None)
        item["last_played_at"] = None if played_at is None else int(played_at)
        item["plays"] = 0 if played_at is None else 2
        entries.append(item)
    entries[0]["tags"] = [ARCHIVED]
    dag_stack.emulator.control.create_entries(entries)

    rows = []
    for end in ends:
        dag_stack.s3_server.control.reset_counts()
        result = dag_stack.run("kaltura_stats", logical_date=end)
        assert result.state == "success", result.tasks
        rows.append(result.value("stats")["row"])
        # sizes come from Kaltura; S3 is listed once (one page here) for the archive totals, not per entry
        calls = dag_stack.s3_server.control.counts()
        assert calls.get("ListObjectsV2") == 1 and "HeadObject" not in calls, calls

    def expected(end: float) -> dict[str, Any]:
        alive = [c <= end for c in created]
        return {
            "total_entries": sum(alive),
            "created_1y_entries": sum(alive),
            "archived_entries": 1,
            "played_1y_entries": sum(1 for p in played if p is not None and p <= end),
        }

    assert [r["as_of"] for r in rows] == ["2025-06-02", "2025-06-03", "2025-06-04"]
    for row, end_epoch in zip(rows, (e1, e2, e3), strict=True):
        assert {k: row[k] for k in expected(end_epoch)} == expected(end_epoch)
    assert [r["total_entries"] for r in rows] == [3, 5, 6]
    assert [r["played_1y_entries"] for r in rows] == [1, 1, 2]

    table = pd.read_csv(dag_stack.reports / "stats" / "kaltura_stats.csv")
    assert list(table["as_of"]) == ["2025-06-02", "2025-06-03", "2025-06-04"]
    assert list(table["total_entries"]) == [3, 5, 6]
    assert (dag_stack.reports / "stats" / "kaltura_stats.png").stat().st_size > 1000


# -- repair and a failing health run -------------------------------------------------------------


def test_health_names_a_broken_entry_and_repair_fixes_it(
    dag_stack: DagStack, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fixtures.emulator import make_client

    stack, now = dag_stack, time.time()
    ids = stack.emulator.control.create_entries(
        [small_entry(now, 5, None, size=50_000 + 999 * i) for i in range(3)]
    )
    sizes = {e: stack.entry(e)["original_size"] for e in ids}
    archived = stack.run("kaltura_archive", {"dry_run": False, "entry_ids": ids})
    assert archived.state == "success", archived.tasks
    broken = ids[1]
    make_client(stack.emulator).flavorAsset.delete(stack.entry(broken)["original_flavor_id"])
    assert stack.entry(broken)["original_flavor_id"] is None

    capsys.readouterr()
    health = stack.run("kaltura_health")
    assert health.state == "failed"
    assert health.task("health_report").state == "failed"
    assert f"1 of 3 entries are unhealthy: {broken}" in capsys.readouterr().out
    (report,) = (stack.reports / "health").glob("*.tsv")
    rows = [line.split("\t") for line in report.read_text().splitlines()[1:]]
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert [r[0] for r in rows if "unhealthy" in r] == [broken]

    stack.s3_server.control.set_config(glacier_restore_seconds=1)
    dry = run_dry(stack, "kaltura_repair", ids)
    assert_named_by_entry(dry, "repair", {broken})
    live = stack.run("kaltura_repair", {"dry_run": False})
    assert live.state == "success", live.tasks
    assert_named_by_entry(live, "repair", {broken})
    assert live.entry_outcomes("repair")[broken]["outcome"] == "done"
    repaired = stack.entry(broken)
    assert repaired["status"] == 2 and repaired["original_size"] == sizes[broken]
    assert ARCHIVED in repaired["tags"]
    assert stack.run("kaltura_health").state == "success"


# -- list and count reports ----------------------------------------------------------------------


def test_report_dag_lists_flavors_counts_and_adds_people(dag_stack: DagStack, ldap_airflow_conn: str) -> None:
    stack, now = dag_stack, time.time()
    creators = ["alice@princeton.edu", "carol@princeton.edu", "nobody@princeton.edu", "dave"]
    entries = [small_entry(now, 1 + i, None) for i in range(4)]
    for item, creator in zip(entries, creators, strict=True):
        item["creator_id"] = creator
    ids = stack.emulator.control.create_entries(entries)
    flavors = sum(len(stack.entry(e)["flavors"]) for e in ids)

    count = stack.run("kaltura_report", {"mode": "count", "created_before": 2.5})
    assert count.state == "success", count.tasks
    assert count.value("entry_report")["count"] == 2

    listed = stack.run("kaltura_report", {"mode": "flavor"})
    assert listed.state == "success", listed.tasks
    assert listed.value("entry_report")["rows"] == flavors

    people = stack.run("kaltura_report", {"mode": "video", "people": True})
    assert people.state == "success", people.tasks
    (path,) = (stack.reports / "entries").glob("kaltura_video_*.tsv")
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    rows = {
        r["entry_id"]: r for r in (dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:])
    }
    assert set(rows) == set(ids)
    owners = {rows[e]["creator_id"]: (rows[e]["owner_status"], rows[e]["owner_name"]) for e in ids}
    assert owners == {
        "alice@princeton.edu": ("active", "Alice A. Anders"),
        "carol@princeton.edu": ("inactive", "Carol Chen"),
        "nobody@princeton.edu": ("inactive", ""),
        "dave": ("active", "Dave Dunn"),
    }
    assert all(rows[e]["status"] == "READY" for e in ids)


def test_a_failed_entry_fails_the_run_and_is_named(
    dag_stack: DagStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, now = dag_stack, time.time()
    good = small_entry(now, 5, None)
    hollow = {**small_entry(now, 5, None), "flavors": False}
    good_id, hollow_id = stack.emulator.control.create_entries([good, hollow])

    capsys.readouterr()
    result = stack.run("kaltura_archive", {"dry_run": False, "entry_ids": [good_id, hollow_id]})
    assert result.state == "failed"
    assert result.task("summarize").state == "failed"
    # the failed entry's task is red under its entry id; the other one still ran
    states = {r.rendered_map_index: r.state for r in result.mapped("archive_entry")}
    assert states == {good_id: "success", hollow_id: "failed"}
    outcomes = result.entry_outcomes("archive")
    assert outcomes[good_id]["outcome"] == "done"
    assert outcomes[hollow_id]["outcome"] == "failed"
    assert f"1 of 2 entries failed: {hollow_id}" in capsys.readouterr().out
    assert set(stack.keys()) == {good_id, f"manifests/{good_id}.json"}
    assert ARCHIVED in stack.entry(good_id)["tags"] and ARCHIVED not in stack.entry(hollow_id)["tags"]


def test_archive_takes_ready_entries_unless_the_trigger_names_other_statuses(dag_stack: DagStack) -> None:
    """A failed conversion archived and then replaced would become a healthy-looking placeholder:
    by default only READY entries are archived; a trigger that names ERROR_CONVERTING gets them."""
    stack, now = dag_stack, time.time()
    ready_id, failed_id = stack.emulator.control.create_entries(
        [small_entry(now, 5, None), {**small_entry(now, 5, None), "status": -1}]
    )
    default = stack.run("kaltura_archive", {"dry_run": False, "unplayed_for": 4, "max_entries": -1})
    assert default.state == "success", default.tasks
    assert default.value("select") == [ready_id]
    named = stack.run(
        "kaltura_archive", {"dry_run": False, "unplayed_for": 4, "max_entries": -1, "status": [2, -1]}
    )
    assert named.state == "success", named.tasks
    assert named.value("select") == [failed_id]
    assert named.entry_outcomes("archive")[failed_id]["outcome"] == "done"
    assert set(stack.keys()) >= {ready_id, failed_id}
