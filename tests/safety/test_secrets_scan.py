"""The secrets scan finds planted secrets and KSs (recorded or recognised by shape), and nothing else."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from dev.kaltura_emulator.api import make_ks
from dev.safety.secrets import SecretScanner, find_ks_tokens, record_issued_ks
from tests.fixtures.emulator import RunningEmulator, make_client

PARTNER = 1234
SECRETS = {"Kaltura admin secret": "admin-secret-0123456789", "LDAP password": "ldap-pass-987"}


def _ks(partner: int = PARTNER) -> str:
    return make_ks("admin-secret-0123456789", partner, "archiver", 2, 2_000_000_000, "disableentitlement")


def test_ks_is_recognised_by_its_shape_only_for_the_partner() -> None:
    ks = _ks()
    text = f'error INVALID_KS: Invalid KS "{ks}", Error "-5,EXPIRED" sha {hashlib.sha256(b"x").hexdigest()}'
    assert find_ks_tokens(text, PARTNER) == [ks]
    assert find_ks_tokens(text, 999) == []
    assert find_ks_tokens("sha256 " + hashlib.sha256(b"y").hexdigest() * 3, PARTNER) == []


def test_scanner_finds_secrets_in_text_files_trees_and_sqlite(tmp_path: Path) -> None:
    ks = _ks()
    logs = tmp_path / "logs" / "dag_id=x"
    logs.mkdir(parents=True)
    (logs / "clean.log").write_text("EXEC 0_abc archive: add tag archived_to_s3\n")
    (logs / "leaky.log").write_text(f"connecting with ldap-pass-987 and ks={ks}\n")
    db = tmp_path / "airflow.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE xcom (key TEXT, value BLOB)")
        connection.execute(
            "INSERT INTO xcom VALUES ('return_value', ?)", (b'{"reason": "admin-secret-0123456789"}',)
        )
        connection.execute("INSERT INTO xcom VALUES ('return_value', '{\"outcome\": \"done\"}')")
    scanner = SecretScanner(SECRETS, issued_ks=[], partner_id=PARTNER)
    found = scanner.scan_tree(tmp_path / "logs", "log") + scanner.scan_sqlite(db)
    kinds = sorted(
        (f.kind, Path(f.where.split(" ", 1)[1]).name if f.kind != "Kaltura admin secret" else "")
        for f in found
    )
    assert kinds == [
        ("Kaltura KS (by shape)", "leaky.log"),
        ("Kaltura admin secret", ""),
        ("LDAP password", "leaky.log"),
    ]
    assert all("xcom" in f.where for f in found if f.kind == "Kaltura admin secret")
    assert scanner.scanned == {"log": 2, "metadata DB rows": 2}


def test_recorded_ks_is_found_even_when_cut_short(tmp_path: Path) -> None:
    ks = _ks()
    scanner = SecretScanner({}, issued_ks=[ks], partner_id=PARTNER)
    assert [f.kind for f in scanner.scan_text(f"x {ks} y", "t")] == ["Kaltura KS (issued)"]
    assert scanner.scan_text("nothing here", "t") == []


def test_every_ks_the_emulator_issues_is_recorded(kaltura_emulator: RunningEmulator) -> None:
    issued = record_issued_ks(kaltura_emulator.server.app)
    client = make_client(kaltura_emulator)
    assert issued and issued[-1] == client.getKs()
    assert find_ks_tokens(issued[-1], kaltura_emulator.partner_id) == [issued[-1]]
