"""Proof of safety: no video lost, no secret leaked, under faults, crashes and bad input.

* `checker`   - the independent checker (emulator control API + boto3 only, no project code).
* `secrets`   - KS recording / recognition and the scan of logs, metadata DB (XCom) and reports.
* `faults`    - the fault plan (~10% of Kaltura and S3 calls) and its counts by kind.
* `crash`     - runs an entry's task in a forked child and kills it before a chosen step.
* `dagrun`    - real DAG runs in process (`dag.test()`), outcomes read from the metadata DB.
* `bad_input` - invalid params on every DAG, a missing placeholder video.
* `scenario`  - the whole scenario as a process (`python -m dev.safety.scenario --help`) and
  `run_parallel`, used by tests/safety/test_scenario.py (profile test) and
  benchmarks/bench_safety.py (profile bench); both print the summary table.
"""
