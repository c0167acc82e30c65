"""The safety scenario: lifecycle under faults, crashes at every step, bad input, secrets; then the checker.

Run as its own process (its stdout and stderr, i.e. every task log of the in-process DAG runs, go
to ``WORKDIR/scenario.log``, which the secrets scan reads afterwards):

    python -m dev.safety.scenario --profile test --workdir /tmp/safety [--json result.json]

1. The local stack (Kaltura emulator, S3 with its fault layer and a Glacier delay, slapd) and a
   fresh Airflow home; a seeded account (entries in every status and media type, small originals)
   whose every original is recorded by the independent checker.
2. Lifecycle with faults at ~10% of calls (emulator: ACTION_BLOCKED, internal errors, dropped and
   truncated downloads, latency, short-lived KSs, slow conversion; S3: 500, 503, dropped requests
   and responses): health, archive, replace, plays, restore, repair, health, report (with LDAP),
   stats, each by real DAG runs (`dag.test()`), action DAGs re-run until stable; then faults off
   and every action DAG once more.
3. Crashes: for archive, replace and restore in turn, the entry's task runs in a child process
   killed before each of its steps and after the last; the DAG is re-run on those entries; then
   the repair DAG runs on every crashed entry.
4. Bad input on every DAG (refused, nothing written), and replace/repair with a missing placeholder.
5. The checker (deep: S3 bytes hashed, restored originals compared byte for byte), then the secrets
   scan of the log, the Airflow home's logs, the metadata DB (XCom included) and the reports.
A summary table is printed to the original stdout; `--json` writes the full result (no secrets).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

YEAR = 365 * 86400
DAY = 86400
CRASH_OPERATIONS = ("archive", "replace", "restore")
PHASES = ("lifecycle", *(f"crash-{operation}" for operation in CRASH_OPERATIONS), "bad-input")
PREPARATION = {"archive": (), "replace": ("archive",), "restore": ("archive", "replace")}


@dataclass(frozen=True)
class Profile:
    """Sizes of one scenario run."""

    entries: int
    old_fraction: float
    max_original_bytes: int
    fault_rate: float = 0.10
    play_fraction: float = 0.5
    rounds: int = 4
    crash_original_bytes: int = 150_000
    glacier_seconds: float = 1.0
    slow_conversion_seconds: float = 2.0
    crash_conversion_seconds: float = 0.2
    full_bad_input: bool = False


PROFILES = {
    "test": Profile(entries=120, old_fraction=0.06, max_original_bytes=120_000, rounds=3),
    "bench": Profile(
        entries=400,
        old_fraction=0.25,
        max_original_bytes=600_000,
        rounds=5,
        glacier_seconds=2.0,
        slow_conversion_seconds=3.0,
        crash_original_bytes=2_000_000,
        full_bad_input=True,
    ),
}


@dataclass
class ScenarioResult:
    """Everything the summary table and the tests need (never a secret value)."""

    profile: str
    entries_checked: int = 0
    entries_lost: int = 0
    entries_inconsistent: int = 0
    problems: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    byte_compared: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    crashes: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    dag_runs: int = 0
    bad_input: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, str]] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)
    ks_issued: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def crashes_injected(self) -> int:
        """Child processes killed, over all operations."""
        return sum(int(c.get("killed", 0)) for c in self.crashes.values())

    @property
    def bad_input_refused(self) -> int:
        """Bad triggers refused with a message and no write."""
        return sum(1 for b in self.bad_input if b["ok"])


def say(message: str) -> None:
    """One line of the scenario's own log."""
    print(f"SAFETY {message}", flush=True)


def safety_account(profile: Profile, seed: int, now: float) -> list[dict[str, Any]]:
    """A realistic account (every status, media type, tag near-misses) with small originals.

    Only `old_fraction` of the entries keep their old creation dates; the rest are moved into the
    last 2.5 years, so the archive and replace DAGs act on a bounded share of the account.
    """
    from dev.kaltura_emulator.seed import generate_account

    rng = random.Random(seed)
    entries = generate_account(profile.entries, seed, now)
    for entry in entries:
        entry["original_size"] = rng.randint(8_000, profile.max_original_bytes)
        if rng.random() >= profile.old_fraction:
            entry["created_at"] = int(now - rng.randint(DAY, int(2.5 * YEAR)))
            if entry["last_played_at"] is not None:
                span = now - entry["created_at"]
                entry["last_played_at"] = int(entry["created_at"] + span * rng.random())
    return entries


class Scenario:
    """The running scenario: stack, runner, checker baseline and the result being filled."""

    def __init__(self, profile_name: str, workdir: Path, log_path: Path, seed: int = 1) -> None:
        self.profile_name = profile_name
        self.profile = PROFILES[profile_name]
        self.workdir = workdir
        self.log_path = log_path
        self.seed = seed
        self.result = ScenarioResult(profile_name)
        self.stack: Any = None
        self.runner: Any = None
        self.baseline: dict[str, Any] = {}
        self.issued_ks: list[str] = []
        self.crash_ids: list[str] = []
        self._created = 0

    # -- set-up --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the stack, export its connections and variables, load the DAGs."""
        from dev.safety.dagrun import DagRunner
        from dev.safety.secrets import record_issued_ks
        from dev.stack import LocalStack, write_placeholder_video

        # the account's originals (8 KB up) straddle the packaged placeholder's 57 KB, and KB-only
        # legacy sizes within tolerance of it would read as placeholders: use the 256 KiB stand-in
        stand_in = write_placeholder_video(self.workdir / "stack" / "placeholder.mp4")
        self.stack = LocalStack(
            root=self.workdir / "stack",
            glacier_restore_seconds=self.profile.glacier_seconds,
            placeholder_video=str(stand_in),
        ).start()
        self.issued_ks = record_issued_ks(self.stack.kaltura.app)
        env = self.stack.airflow_env(Path(os.environ["AIRFLOW_HOME"]))
        os.environ.update({k: v for k, v in env.items() if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))})
        self.runner = DagRunner(poll_seconds=0.3)

    def stop(self) -> None:
        """Stop the servers."""
        if self.stack is not None:
            self.stack.stop()

    @property
    def kaltura(self) -> Any:
        return self.stack.kaltura_control

    @property
    def s3(self) -> Any:
        return self.stack.s3_control

    def seed_account(self) -> list[str]:
        """Create the account and record every original."""
        from dev.safety.checker import record_baseline

        ids = self.kaltura.create_entries(safety_account(self.profile, self.seed, time.time()))
        self.baseline.update(record_baseline(self.kaltura, ids))
        say(f"seeded {len(ids)} entries")
        return list(ids)

    def new_entries(self, count: int) -> list[str]:
        """Fresh old, never played, READY video entries (recorded in the baseline)."""
        from dev.safety.checker import record_baseline

        now = time.time()
        items = []
        for _ in range(count):
            self._created += 1
            items.append(
                {
                    "id": f"0_cr{self._created:06d}",
                    "name": f"crash subject {self._created}",
                    "created_at": int(now - 6 * YEAR),
                    "original_size": self.profile.crash_original_bytes + self._created,
                    "creator_id": "crashtest@princeton.edu",
                }
            )
        ids = list(self.kaltura.create_entries(items))
        self.baseline.update(record_baseline(self.kaltura, ids))
        self.crash_ids.extend(ids)
        return ids

    # -- DAG runs ------------------------------------------------------------------------------------

    def run(self, dag_id: str, conf: dict[str, Any]) -> Any:
        """One DAG run, logged."""
        result = self.runner.run(dag_id, conf)
        self.result.runs.append(result.line())
        self.result.dag_runs += 1
        say(result.line())
        return result

    def until_stable(self, dag_id: str, conf: dict[str, Any], rounds: int | None = None) -> Any:
        """Re-run an action DAG until it succeeds, or a round makes no progress, or rounds run out."""
        previous: set[str] | None = None
        result = None
        for _ in range(rounds or self.profile.rounds):
            result = self.run(dag_id, conf)
            if result.state == "success":
                break
            failed = result.failed_entries()
            progressed = any(o.get("outcome") == "done" for o in result.outcomes)
            if not progressed and failed == previous:
                break
            previous = failed
        return result

    def timed(self, phase: str, body: Callable[[], object]) -> None:
        """Run one phase and note its wall time."""
        started = time.monotonic()
        say(f"phase {phase}")
        body()
        self.result.phase_seconds[phase] = round(time.monotonic() - started, 1)

    # -- phases --------------------------------------------------------------------------------------

    def lifecycle(self) -> None:
        """Archive, replace, plays, restore, repair, health and reports under faults, then without."""
        from dev.safety.faults import FaultPlan

        live = {"dry_run": False}
        plan = FaultPlan(
            self.kaltura,
            self.s3,
            self.stack_bucket,
            rate=self.profile.fault_rate,
            seed=self.seed,
            conversion_seconds=self.profile.slow_conversion_seconds,
        )
        last: dict[str, Any] = {}
        actions = (
            ("kaltura_archive", {**live, "years": 3}),
            ("kaltura_replace", {**live, "years": 3}),
            ("kaltura_restore", {**live, "years": 1}),
            ("kaltura_repair", live),
        )
        with plan:
            for dag_id, conf in actions:
                if dag_id == "kaltura_restore":
                    self.play_placeholders()
                last[dag_id] = self.until_stable(dag_id, conf)
            self.run("kaltura_health", {})
            self.run("kaltura_report", {"people": True})
            self.run("kaltura_stats", {})
        self.result.faults = plan.injected()
        for dag_id, conf in actions:
            if last[dag_id] is None or last[dag_id].state != "success":
                self.until_stable(dag_id, conf, rounds=2)
        self.run("kaltura_health", {})

    @property
    def stack_bucket(self) -> str:
        from dev.stack import BUCKET

        return BUCKET

    def play_placeholders(self) -> None:
        """Play a share of the replaced entries (the restore DAG brings those back)."""
        rng = random.Random(self.seed)
        replaced = [
            entry_id
            for entry_id in self.baseline
            if "flavors_deleted" in self.kaltura.entry(entry_id, sha256=False)["tags"]
        ]
        played = [e for e in replaced if rng.random() < self.profile.play_fraction]
        for entry_id in played:
            self.kaltura.play(entry_id)
        # no plays sync: Kaltura's lists see these plays only tomorrow; restore's select reads them live
        say(f"played {len(played)} of {len(replaced)} placeholders")

    def crashes(self, operations: tuple[str, ...] = CRASH_OPERATIONS) -> None:
        """Kill the task of an entry at every step of each operation in turn; re-run the DAG; repair."""
        from dev.safety.crash import run_children, run_in_child

        self.kaltura.set_conversion_seconds(self.profile.crash_conversion_seconds)
        for operation in operations:
            reference_id = self.prepared(operation, 1)[0]
            reference = run_in_child(operation, reference_id)
            steps = reference.steps
            finished = (reference.outcome or {}).get("outcome") or reference.error
            say(f"{operation}: reference run {finished}: {steps}")
            ids = self.prepared(operation, len(steps) + 1)
            children = run_children([(operation, e, k, k % 2 == 0) for k, e in enumerate(ids)])
            for k, child in enumerate(children):
                where = f"before step {k} ({steps[k]})" if k < len(steps) else "after the last step"
                say(f"{operation} {child.entry_id}: killed={child.killed} {where}; exit {child.exit_code}")
            rerun = self.until_stable(f"kaltura_{operation}", {"dry_run": False, "entry_ids": ids}, rounds=3)
            killed = sum(1 for child in children if child.killed)
            self.result.crashes[operation] = {
                "steps": steps,
                "reference_outcome": finished,
                "killed": killed,
                "not_killed": len(children) - killed,
                "rerun": rerun.outcome_counts() if rerun else {},
            }
        self.until_stable("kaltura_repair", {"dry_run": False}, rounds=2)

    def prepared(self, operation: str, count: int) -> list[str]:
        """`count` fresh entries brought into the state `operation` works on (tasks in child processes)."""
        from dev.safety.crash import run_children

        ids = self.new_entries(count)
        for step in PREPARATION[operation]:
            for child in run_children([(step, entry_id, None, True) for entry_id in ids]):
                if not child.outcome or child.outcome.get("outcome") not in ("done", "done_before"):
                    say(f"preparing {child.entry_id}: {step} ended {child.outcome or child.error}")
        if operation == "restore":
            for entry_id in ids:
                self.kaltura.play(entry_id)
        return ids

    def bad_input(self) -> None:
        """Every DAG with every applicable bad param, and a missing placeholder video."""
        from dev.safety.bad_input import bad_input_suite, missing_placeholder

        name = "AIRFLOW_VAR_KALTURA_ARCHIVER_PLACEHOLDER_VIDEO"
        saved = os.environ[name]

        def set_placeholder(path: str) -> None:
            os.environ[name] = path

        def restore_placeholder() -> None:
            os.environ[name] = saved

        self.kaltura.set_conversion_seconds(self.profile.crash_conversion_seconds)
        archived = self.prepared("replace", 2)
        results = bad_input_suite(
            self.runner, self.kaltura, self.s3, self.log_text, full=self.profile.full_bad_input
        )
        results += missing_placeholder(
            self.runner, archived, self.kaltura, self.s3, self.log_text, set_placeholder, restore_placeholder
        )
        for item in results:
            self.result.bad_input.append({**asdict(item), "message": item.message[:300], "ok": item.ok})
            self.result.dag_runs += 1
            if not item.ok:
                say(f"BAD INPUT NOT REFUSED: {item.dag_id} {item.case}: {item.message[:200]}")

    def log_text(self) -> str:
        """The scenario's log so far (task logs included)."""
        sys.stdout.flush()
        sys.stderr.flush()
        return self.log_path.read_text(errors="replace")

    def check(self) -> None:
        """The independent checker over every entry, deep."""
        import boto3

        from dev.safety.checker import SafetyChecker
        from dev.stack import AWS_KEY_ID, AWS_SECRET, BUCKET

        placeholder = Path(self.stack.placeholder_video)
        client = boto3.client(
            "s3",
            endpoint_url=self.stack.s3.endpoint_url,
            aws_access_key_id=AWS_KEY_ID,
            aws_secret_access_key=AWS_SECRET,
            region_name="us-east-1",
        )
        checker = SafetyChecker(
            self.kaltura,
            client,
            BUCKET,
            placeholder_sha256=hashlib.sha256(placeholder.read_bytes()).hexdigest(),
            deep=True,
            restore=self.s3.complete_restores,
        )
        report = checker.check(self.baseline)
        self.result.entries_checked = report.checked
        self.result.entries_lost = len(report.lost)
        self.result.entries_inconsistent = len(report.inconsistent)
        self.result.states = report.states()
        self.result.byte_compared = sum(1 for v in report.verdicts if v.byte_compared)
        self.result.problems = report.describe(limit=50).splitlines()
        for line in self.result.problems:
            say(f"CHECK {line}")

    def scan(self) -> None:
        """Search logs, the Airflow home, the metadata DB and the reports for any secret."""
        from dev.safety.dagrun import metadata_db_path
        from dev.safety.secrets import SecretScanner
        from dev.stack import ADMIN_SECRET, AWS_KEY_ID, AWS_SECRET, PARTNER_ID

        secrets = {
            "Kaltura admin secret": ADMIN_SECRET,
            "AWS access key id": AWS_KEY_ID,
            "AWS secret access key": AWS_SECRET,
            "LDAP password": self.stack.slapd.bind_password if self.stack.slapd else "",
        }
        self.result.ks_issued = len(self.issued_ks)
        sys.stdout.flush()
        sys.stderr.flush()
        scanner = SecretScanner(secrets, self.issued_ks, PARTNER_ID)
        scanner.scan_file(self.log_path, "task and scenario log")
        home = Path(os.environ["AIRFLOW_HOME"])
        scanner.scan_tree(home / "logs", "Airflow log file")
        db = metadata_db_path()
        if db is not None:
            scanner.scan_sqlite(db)
        scanner.scan_tree(self.workdir / "stack" / "reports", "report")
        self.result.secrets = [asdict(f) for f in scanner.findings]
        self.result.scanned = dict(scanner.scanned)


def merge(results: list[ScenarioResult]) -> ScenarioResult:
    """One result from scenario processes that ran different phases side by side."""
    merged = ScenarioResult("+".join(sorted({r.profile for r in results})))
    for result in results:
        merged.entries_checked += result.entries_checked
        merged.entries_lost += result.entries_lost
        merged.entries_inconsistent += result.entries_inconsistent
        merged.problems += result.problems
        merged.byte_compared += result.byte_compared
        merged.crashes.update(result.crashes)
        merged.runs += result.runs
        merged.dag_runs += result.dag_runs
        merged.bad_input += result.bad_input
        merged.secrets += result.secrets
        merged.ks_issued += result.ks_issued
        for target, source in ((merged.faults, result.faults), (merged.states, result.states)):
            for key, value in source.items():
                target[key] = target.get(key, 0) + value
        for key, value in result.scanned.items():
            merged.scanned[key] = merged.scanned.get(key, 0) + value
        for key, seconds in result.phase_seconds.items():
            merged.phase_seconds[key] = max(merged.phase_seconds.get(key, 0.0), seconds)
    return merged


def result_from_json(data: dict[str, Any]) -> ScenarioResult:
    """A ScenarioResult read back from `--json` output."""
    fields = set(ScenarioResult.__dataclass_fields__)
    return ScenarioResult(**{k: v for k, v in data.items() if k in fields})


def summary_table(result: ScenarioResult) -> str:
    """The table printed at the end of every scenario run."""
    rows: list[tuple[str, str]] = [("faults injected, by kind", "")]
    rows += [(f"  {kind}", str(count)) for kind, count in result.faults.items()]
    rows.append(("  total", str(sum(result.faults.values()))))
    crash = ", ".join(f"{op} {c['killed']}/{len(c['steps']) + 1}" for op, c in result.crashes.items())
    rows.append(("crashes injected (killed/points)", f"{result.crashes_injected} ({crash})"))
    rows.append(("DAG runs", str(result.dag_runs)))
    rows.append(("bad inputs refused", f"{result.bad_input_refused}/{len(result.bad_input)}"))
    rows.append(("entries checked", str(result.entries_checked)))
    rows.append(("  by state", ", ".join(f"{k} {v}" for k, v in result.states.items())))
    rows.append(("  compared byte for byte with S3", str(result.byte_compared)))
    rows.append(("entries lost (must be 0)", str(result.entries_lost)))
    rows.append(("entries inconsistent", str(result.entries_inconsistent)))
    rows.append(("KS issued", str(result.ks_issued)))
    rows.append(("secrets found (must be 0)", str(len(result.secrets))))
    rows.append(("wall time per phase (s)", ", ".join(f"{k} {v}" for k, v in result.phase_seconds.items())))
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"== safety summary (profile {result.profile}) =="]
    lines += [f"{label:<{width}}{value}" for label, value in rows]
    return "\n".join(lines)


PARALLEL_GROUPS = ("lifecycle", "crash-archive,crash-replace", "crash-restore", "bad-input")


class ScenarioFailed(RuntimeError):
    """A scenario process ended without a result."""


def run_parallel(
    profile: str, root: Path, groups: tuple[str, ...] = PARALLEL_GROUPS, timeout: float = 900.0, seed: int = 1
) -> ScenarioResult:
    """One scenario process per group of phases, side by side (own stack, own Airflow home); merged."""
    repo = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    )
    template = migrated_template(root)
    running = []
    for group in groups:
        workdir = root / group.replace(",", "+")
        command = [sys.executable, "-m", "dev.safety.scenario", "--profile", profile, "--seed", str(seed)]
        command += ["--workdir", str(workdir), "--json", f"{workdir}.json", "--phases", group]
        command += ["--template-db", str(template)]
        running.append(
            (group, workdir, subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.DEVNULL))
        )
    deadline = time.monotonic() + timeout
    results = []
    for group, workdir, process in running:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output = Path(f"{workdir}.json")
        if not output.exists():
            log = (workdir / "scenario.log").read_text(errors="replace")[-4000:]
            raise ScenarioFailed(
                f"scenario phases {group} ended with {process.returncode} and no result:\n{log}"
            )
        results.append(result_from_json(json.loads(output.read_text())))
    return merge(results)


def _redirect_output(log_path: Path) -> int:
    """Send fds 1 and 2 to the log; returns a duplicate of the original stdout."""
    saved = os.dup(1)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return saved


def _migrate(home: Path, template: Path | None = None) -> None:
    """Point Airflow at `home` and give it a migrated metadata DB (a copy of `template` when given)."""
    from dev.local_airflow import airflow_environment

    os.environ.update(airflow_environment(home))
    if template is not None and template.exists():
        shutil.copyfile(template, home / "airflow.db")
        return
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=dict(os.environ))


def migrated_template(root: Path) -> Path:
    """Migrate one metadata DB under `root` for scenario processes to copy (saves a migration each)."""
    from dev.local_airflow import airflow_environment

    home = root / "template_airflow_home"
    env = dict(os.environ, **airflow_environment(home))
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=env, capture_output=True)
    return home / "airflow.db"


def run_scenario(profile: str, workdir: Path, phases: tuple[str, ...], seed: int = 1) -> ScenarioResult:
    """Everything above, in this process (fds 1/2 already pointing at workdir/scenario.log)."""
    scenario = Scenario(profile, workdir, workdir / "scenario.log", seed)
    started = time.monotonic()
    try:
        scenario.timed("start", scenario.start)
        scenario.timed("seed", scenario.seed_account)
        if "lifecycle" in phases:
            scenario.timed("lifecycle", scenario.lifecycle)
        crash = tuple(op for op in CRASH_OPERATIONS if f"crash-{op}" in phases or "crash" in phases)
        if crash:
            scenario.timed("crash", lambda: scenario.crashes(crash))
        if "bad-input" in phases:
            scenario.timed("bad-input", scenario.bad_input)
        scenario.timed("check", scenario.check)
        scenario.timed("scan", scenario.scan)
    finally:
        scenario.stop()
    scenario.result.phase_seconds["total"] = round(time.monotonic() - started, 1)
    return scenario.result


def main(argv: list[str] | None = None) -> int:
    """Command line: run the scenario; print the table; exit 1 if a video was lost or a secret found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="test")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--template-db", type=Path, default=None, help="a migrated metadata DB to copy")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    saved = _redirect_output(workdir / "scenario.log")
    _migrate(workdir / "airflow_home", args.template_db)
    result = run_scenario(args.profile, workdir, tuple(args.phases.split(",")), args.seed)
    data = {**asdict(result), "crashes_injected": result.crashes_injected}
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=1))
    table = summary_table(result)
    say(table)
    os.write(saved, (table + "\n").encode())
    return 0 if result.entries_lost == 0 and not result.secrets else 1


if __name__ == "__main__":
    sys.exit(main())
