"""`make demo`: the whole lifecycle on the local stack through real DAG runs, then a plain summary.

Starts the Kaltura emulator (seeded with a realistic account of a few hundred entries), S3 with a
Glacier restore delay, and slapd; runs archive → replace → (plays of some placeholders) → restore
(waiting on Glacier) → health → stats → report → verify live with `airflow dags test`; then starts a
deployment whose triggerer watches the restore-request queue (SQS in the same moto server) and sends
it one request (`dev.event_restore`); prints what happened. Each DAG's full log is kept in
.stack/demo/logs/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dev.event_restore import demo_event_restore
from dev.local_airflow import PROJECT_ROOT
from dev.stack import BUCKET, LocalStack, demo_account

DEMO_ROOT = PROJECT_ROOT / ".stack" / "demo"
ENTRIES = 300
SEED = 7
PLAYED_PLACEHOLDERS = 8
REQUESTED_PLACEHOLDERS = 3
STATS_HISTORY_WEEKS = (4, 3, 2, 1)


@dataclass
class DagResult:
    dag_id: str
    conf: dict[str, Any]
    ok: bool
    seconds: float
    log: Path


def run_dag(
    env: dict[str, str], dag_id: str, conf: dict[str, Any], logs: Path, logical_date: str | None = None
) -> DagResult:
    """One real DAG run with `airflow dags test`; its output goes to logs/<dag_id>.log."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    log = logs / f"{dag_id}.log"
    started = time.monotonic()
    with log.open("a") as out:
        out.write(f"\n=== airflow dags test {dag_id} -c {json.dumps(conf)}\n")
        out.flush()
        code = subprocess.run(
            [
                airflow,
                "dags",
                "test",
                dag_id,
                *([logical_date] if logical_date else []),
                "-c",
                json.dumps(conf),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    result = DagResult(dag_id, conf, code == 0, time.monotonic() - started, log)
    verdict = "ok" if result.ok else "FAILED"
    print(f"  {dag_id:<16} {verdict:<6} {result.seconds:6.1f}s  {json.dumps(conf)}", flush=True)
    return result


def entry_states(stack: LocalStack, ids: list[str]) -> tuple[Counter[str], dict[str, dict[str, Any]]]:
    """Count entries per lifecycle state, read straight from the emulator and S3."""
    control, s3 = stack.kaltura_control, stack.s3_client()
    archived = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    }
    states: Counter[str] = Counter()
    details = {}
    for entry_id in ids:
        entry = control.entry(entry_id, sha256=False)
        tags = (
            {t.strip() for t in (entry.get("tags") or "").split(",")}
            if isinstance(entry.get("tags"), str)
            else set(entry.get("tags") or [])
        )
        in_s3 = entry_id in archived
        if "flavors_deleted" in tags and in_s3:
            state = "placeholder"
        elif "archived_to_s3" in tags and in_s3:
            state = "archived"
        elif not in_s3 and not tags & {"archived_to_s3", "flavors_deleted"}:
            state = "initial"
        else:
            state = "inconsistent"
        states[state] += 1
        details[entry_id] = entry
    return states, details


def add_directory_people(stack: LocalStack, creators: list[str]) -> int:
    """Directory entries for most owners: enabled, leaving, disabled; every fourth owner has left."""
    from dev.ldap.slapd_server import DirectoryUser

    states = ("authentication=enabled", "authentication=goingaway", "authentication=disabled")
    units = ("Computer Science", "Music", "History", "Library")
    users = []
    for n, creator in enumerate(creators):
        if n % 4 == 3:
            continue
        uid = creator.split("@")[0]
        flags = (states[n % 4],)
        users.append(
            DirectoryUser(
                uid, uid.title(), uid.title(), None if n % 5 == 0 else uid.title(), (units[n % 4],), flags
            )
        )
    if stack.slapd is not None:
        stack.slapd.add_users(users)
    return len(users)


def archive_bytes(stack: LocalStack) -> tuple[int, int]:
    s3 = stack.s3_client()
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            if not obj["Key"].startswith("manifests/"):
                count += 1
                size += obj["Size"]
    return count, size


def main() -> int:
    shutil.rmtree(DEMO_ROOT, ignore_errors=True)
    logs = DEMO_ROOT / "logs"
    logs.mkdir(parents=True)
    print("Starting the local stack (Kaltura emulator, S3 with a 5 s Glacier delay, slapd) ...", flush=True)
    stack = LocalStack(root=DEMO_ROOT, glacier_restore_seconds=5.0, conversion_seconds=1.0).start()
    results: list[DagResult] = []
    try:
        account = demo_account(ENTRIES, SEED, time.time())
        ids = stack.kaltura_control.create_entries(account)
        people = add_directory_people(stack, sorted({str(e["creator_id"]) for e in account}))
        print(f"Seeded a Kaltura account of {len(ids)} entries (ten years of uploads, many never played)")
        print(f"and a directory of {people} of their {len({e['creator_id'] for e in account})} owners.")
        env = stack.airflow_env(DEMO_ROOT / "airflow_home")
        airflow = str(Path(sys.executable).with_name("airflow"))
        subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, check=True)
        before, _ = entry_states(stack, ids)
        live = {"dry_run": False, "max_entries": -1}
        print("Running the DAGs (real runs with `airflow dags test`):", flush=True)
        results.append(run_dag(env, "kaltura_report", {"mode": "count"}, logs))
        results.append(run_dag(env, "kaltura_archive", {**live, "years": 3}, logs))
        results.append(run_dag(env, "kaltura_replace", {**live, "years": 3}, logs))
        after_replace, details = entry_states(stack, ids)
        placeholders = [i for i in ids if "flavors_deleted" in str(details[i].get("tags"))]
        played = placeholders[:PLAYED_PLACEHOLDERS]
        for entry_id in played:
            stack.kaltura_control.play(entry_id)
        # no plays sync: Kaltura's lists see these plays only tomorrow; restore reads them live
        print(f"  (someone played {len(played)} placeholder videos)")
        results.append(run_dag(env, "kaltura_restore", {**live, "years": 1}, logs))
        results.append(run_dag(env, "kaltura_health", {"tag": ["archived_to_s3"]}, logs))
        env["AIRFLOW_VAR_KALTURA_ARCHIVER_VERIFY_SAMPLE_ENTRIES"] = "5"
        results.append(run_dag(env, "kaltura_verify", {}, logs))
        # Stats history for the dashboard's charts: the account as of past weeks (before this demo's
        # archive runs), then the run dated the coming midnight, which covers today's work.
        for weeks_ago in STATS_HISTORY_WEEKS:
            day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - weeks_ago * 7 * 86400))
            results.append(run_dag(env, "kaltura_stats", {}, logs, logical_date=day))
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        results.append(run_dag(env, "kaltura_stats", {}, logs, logical_date=tomorrow))
        results.append(run_dag(env, "kaltura_report", {"mode": "video", "people": True}, logs))
        asked = [i for i in placeholders if i not in played][:REQUESTED_PLACEHOLDERS]
        print(f"  (a help desk asks for {len(asked)} placeholders on the restore-request queue; starting a")
        print("   deployment whose triggerer watches it: PostgreSQL, Redis, scheduler, Celery workers ...)")
        requests = demo_event_restore(stack, DEMO_ROOT / "events", asked)
        final, details = entry_states(stack, ids)
        objects, size = archive_bytes(stack)
        restored = [i for i in played if "flavors_deleted" not in str(details[i].get("tags"))]
    finally:
        stack.stop()
    print()
    print("What happened")
    print(f"  entries per state at the start : {dict(sorted(before.items()))}")
    print(f"  after archive and replace      : {dict(sorted(after_replace.items()))}")
    print(f"  at the end                     : {dict(sorted(final.items()))}")
    print(f"  archived to S3                 : {objects} originals, {size / 1e6:.1f} MB")
    print(f"  placeholders now               : {final.get('placeholder', 0)}")
    print(f"  restored after being played    : {len(restored)} of {len(played)} (waited for Glacier)")
    print(
        f"  restored on request            : {len(requests['restored'])} of {len(asked)}; the run started"
        f" {requests['message_to_run_s']} s and the Glacier restore was requested"
        f" {requests['message_to_restore_request_s']} s after the message"
    )
    verify = next(r for r in results if r.dag_id == "kaltura_verify")
    proof = "every sampled archive proved good" if verify.ok else f"MISMATCH, see {verify.log}"
    print(f"  archive verification           : {proof} ({DEMO_ROOT / 'reports' / 'verification'})")
    health = next(r for r in results if r.dag_id == "kaltura_health")
    verdict = "all healthy" if health.ok else f"UNHEALTHY entries, see {health.log}"
    print(f"  health of archived entries     : {verdict}")
    print(f"  reports and stats              : {DEMO_ROOT / 'reports'}")
    failed = [r for r in results if not r.ok]
    print(f"  DAG runs                       : {len(results) - len(failed)} of {len(results)} succeeded")
    for r in failed:
        print(f"    FAILED {r.dag_id}: see {r.log}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
