"""Secret leak scan: the Kaltura secret, every KS, AWS keys and the LDAP password, searched for in logs,
XCom (the whole metadata DB) and reports.

KSs are known two ways: `record_issued_ks` wraps the emulator's session.start so every KS it hands
out is remembered, and `find_ks_tokens` recognises any version-1 KS of the partner by its shape
(base64 of ``<sha1 hex>|<partner>;<partner>;...``), including ones never recorded.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{60,}={0,2}")
_KS_INFO = re.compile(r"^[0-9a-f]{40}\|(\d+);(\d+);")
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """A secret found somewhere: which kind (never the value) and where."""

    kind: str
    where: str


def record_issued_ks(app: Any) -> list[str]:
    """Make the emulator app remember every KS session.start returns; returns the (live) list."""
    issued: list[str] = []
    key = ("session", "start")
    original = app.api.handlers[key]

    def recording(ctx: Any, params: Any) -> Any:
        ks = original(ctx, params)
        issued.append(str(ks))
        return ks

    app.api.handlers[key] = recording
    return issued


def find_ks_tokens(text: str, partner_id: int) -> list[str]:
    """Every version-1 KS of `partner_id` in `text` (recognised by decoding, not by a list)."""
    found = []
    for match in _BASE64_TOKEN.finditer(text):
        token = match.group(0)
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=False).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        info = _KS_INFO.match(decoded)
        if info and int(info.group(1)) == partner_id:
            found.append(token)
    return found


class SecretScanner:
    """Searches texts, files, trees and SQLite databases for known secret values and KS shapes."""

    def __init__(
        self, secrets: Mapping[str, str], issued_ks: Iterable[str] = (), partner_id: int = 0
    ) -> None:
        self.secrets = {kind: value for kind, value in secrets.items() if value and len(value) >= 6}
        self.issued_ks = issued_ks
        self.partner_id = partner_id
        self.findings: list[Finding] = []
        self.scanned: dict[str, int] = {}

    def _needles(self) -> list[tuple[str, str]]:
        needles = list(self.secrets.items())
        needles.extend(("Kaltura KS (issued)", ks) for ks in dict.fromkeys(self.issued_ks) if ks)
        return needles

    def scan_text(self, text: str, where: str) -> list[Finding]:
        """Findings in one text (also counted in `findings`)."""
        found = [Finding(kind, where) for kind, value in self._needles() if value in text]
        known_ks = any(f.kind.startswith("Kaltura KS") for f in found)
        if self.partner_id and not known_ks and find_ks_tokens(text, self.partner_id):
            found.append(Finding("Kaltura KS (by shape)", where))
        self.findings.extend(found)
        return found

    def scan_file(self, path: Path, label: str = "file") -> list[Finding]:
        """Findings in a text file (read as UTF-8 with replacement)."""
        data = path.read_bytes()[:MAX_FILE_BYTES]
        self.scanned[label] = self.scanned.get(label, 0) + 1
        return self.scan_text(data.decode("utf-8", errors="replace"), f"{label} {path}")

    def scan_tree(self, root: Path, label: str) -> list[Finding]:
        """Findings in every file under `root` (nothing when it does not exist)."""
        found: list[Finding] = []
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                found.extend(self.scan_file(path, label))
        elif root.is_file():
            found.extend(self.scan_file(root, label))
        return found

    def scan_sqlite(self, db_path: Path, label: str = "metadata DB") -> list[Finding]:
        """Findings in every text or blob cell of every table (XCom, rendered fields, dag_run conf...)."""
        found: list[Finding] = []
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 (names from sqlite_master)
                self.scanned[f"{label} rows"] = self.scanned.get(f"{label} rows", 0) + len(rows)
                cells = [_cell_text(cell) for row in rows for cell in row]
                found.extend(self.scan_text("\n".join(c for c in cells if c), f"{label} table {table}"))
        finally:
            connection.close()
        return found


def _cell_text(cell: Any) -> str:
    if isinstance(cell, bytes):
        return cell.decode("utf-8", errors="replace")
    if isinstance(cell, str):
        return cell
    return ""
