"""A read replica that lags the primary tables by a set number of seconds (setting `read_lag_seconds`).

Kaltura serves list actions from replicas: KalturaBaseEntryFilter::doGetListResponse sets
`myDbHelper::$use_alternative_con = DB_HELPER_CONN_PROPEL3` (api_v3/lib/types/entry/filters/
KalturaBaseEntryFilter.php), KalturaAssetFilter::doGetListResponse uses DB_HELPER_CONN_PROPEL2
(api_v3/lib/types/conversionProfile/filters/KalturaAssetFilter.php), and Sphinx / Elasticsearch are
fed asynchronously (sphinx_log). A write is therefore visible to get actions at once but to lists only
later.

How: while the lag is on, temporary triggers note every entry whose row, tags, categories or flavors
change; at commit the entry's whole state is snapshotted into `replica_queue` with
visible_at = now + lag; list reads first apply the snapshots that have come due to the `replica_*`
copies, then run their SQL against those copies. With the lag off (the default) nothing of this exists
and lists read the primary tables.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

TABLES = ("entries", "entry_tags", "entry_categories", "flavors")
_NAMES = re.compile(r"\b(entries|entry_tags|entry_categories|flavors)\b")
_INDEXES = """
CREATE INDEX IF NOT EXISTS replica_entries_id ON replica_entries (id);
CREATE INDEX IF NOT EXISTS replica_entries_created ON replica_entries (created_at);
CREATE INDEX IF NOT EXISTS replica_entry_tags_tag ON replica_entry_tags (tag, entry_id);
CREATE INDEX IF NOT EXISTS replica_entry_tags_entry ON replica_entry_tags (entry_id);
CREATE INDEX IF NOT EXISTS replica_entry_categories_cat ON replica_entry_categories (category_id, entry_id);
CREATE INDEX IF NOT EXISTS replica_entry_categories_entry ON replica_entry_categories (entry_id);
CREATE INDEX IF NOT EXISTS replica_flavors_entry ON replica_flavors (entry_id, seq);
CREATE TABLE IF NOT EXISTS replica_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    visible_at REAL NOT NULL,
    entry_id TEXT NOT NULL,
    state TEXT NOT NULL
);
"""
_TRIGGERS = (
    ("entries", "INSERT", "NEW.id"),
    ("entries", "UPDATE", "NEW.id"),
    ("entries", "DELETE", "OLD.id"),
    ("flavors", "INSERT", "NEW.entry_id"),
    ("flavors", "UPDATE", "NEW.entry_id"),
    ("flavors", "DELETE", "OLD.entry_id"),
    ("entry_tags", "INSERT", "NEW.entry_id"),
    ("entry_tags", "DELETE", "OLD.entry_id"),
    ("entry_categories", "INSERT", "NEW.entry_id"),
    ("entry_categories", "DELETE", "OLD.entry_id"),
)


class Replica:
    """The lagging copy of the entry tables; `lag` 0 means lists read the primary tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lag = 0.0

    @property
    def enabled(self) -> bool:
        """Whether lists read the replica."""
        return self.lag > 0

    def configure(self, lag: float) -> None:
        """Turn the lag on (copying the primary if no replica exists yet), change it, or turn it off."""
        lag = max(0.0, float(lag or 0.0))
        exists = self._exists()
        if lag <= 0:
            self._drop_triggers()
            if exists:
                self.conn.execute("BEGIN IMMEDIATE")
                for table in (*TABLES, "queue"):
                    self.conn.execute(f"DROP TABLE IF EXISTS replica_{table}")  # noqa: S608
                self.conn.execute("COMMIT")
            self.lag = 0.0
            return
        if not exists:
            self.conn.execute("BEGIN IMMEDIATE")
            for table in TABLES:
                self.conn.execute(f"CREATE TABLE replica_{table} AS SELECT * FROM {table}")  # noqa: S608
            self.conn.execute("COMMIT")
            self.conn.executescript(_INDEXES)
        self._create_triggers()
        self.lag = lag

    def _exists(self) -> bool:
        """Whether the replica tables exist (they persist across restarts)."""
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replica_entries'"
        ).fetchone()
        return row is not None

    def _create_triggers(self) -> None:
        """Temporary triggers (per connection) that note changed entries in temp.replica_dirty."""
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS replica_dirty (entry_id TEXT PRIMARY KEY)")
        for table, event, key in _TRIGGERS:
            name = f"replica_{table}_{event.lower()}"
            body = f"INSERT OR IGNORE INTO replica_dirty VALUES ({key})"  # noqa: S608
            self.conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {name} AFTER {event} ON main.{table} BEGIN {body}; END"
            )

    def _drop_triggers(self) -> None:
        """Remove the temporary triggers."""
        for table, event, _ in _TRIGGERS:
            self.conn.execute(f"DROP TRIGGER IF EXISTS temp.replica_{table}_{event.lower()}")

    def sql(self, text: str) -> str:
        """A query over the primary tables rewritten to read the replica when the lag is on."""
        return _NAMES.sub(r"replica_\1", text) if self.enabled else text

    def capture(self, conn: sqlite3.Connection, now: float) -> None:
        """Inside a write transaction: queue a snapshot of every entry changed by it."""
        if not self.enabled:
            return
        dirty = [row[0] for row in conn.execute("SELECT entry_id FROM replica_dirty").fetchall()]
        if not dirty:
            return
        conn.execute("DELETE FROM replica_dirty")
        conn.executemany(
            "INSERT INTO replica_queue (visible_at, entry_id, state) VALUES (?, ?, ?)",
            [(now + self.lag, entry_id, json.dumps(_snapshot(conn, entry_id))) for entry_id in dirty],
        )

    def due(self, now: float) -> bool:
        """Whether snapshots are waiting to be applied."""
        if not self.enabled:
            return False
        row = self.conn.execute(
            "SELECT 1 FROM replica_queue WHERE visible_at <= ? LIMIT 1", (now,)
        ).fetchone()
        return row is not None

    def apply_due(self, conn: sqlite3.Connection, now: float) -> None:
        """Inside a write transaction: apply the snapshots that have come due, oldest first."""
        rows = conn.execute(
            "SELECT seq, entry_id, state FROM replica_queue WHERE visible_at <= ? ORDER BY seq", (now,)
        ).fetchall()
        for _, entry_id, state in rows:
            _restore(conn, entry_id, json.loads(state))
        if rows:
            conn.execute("DELETE FROM replica_queue WHERE seq <= ?", (rows[-1][0],))


def _rows(conn: sqlite3.Connection, sql: str, entry_id: str) -> list[dict[str, Any]]:
    """Rows of a query as dicts."""
    cursor = conn.execute(sql, (entry_id,))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _snapshot(conn: sqlite3.Connection, entry_id: str) -> dict[str, Any]:
    """An entry's row, tags, categories and flavors as they are now."""
    return {
        "entries": _rows(conn, "SELECT * FROM entries WHERE id = ?", entry_id),
        "entry_tags": _rows(conn, "SELECT * FROM entry_tags WHERE entry_id = ?", entry_id),
        "entry_categories": _rows(conn, "SELECT * FROM entry_categories WHERE entry_id = ?", entry_id),
        "flavors": _rows(conn, "SELECT * FROM flavors WHERE entry_id = ?", entry_id),
    }


def _restore(conn: sqlite3.Connection, entry_id: str, state: dict[str, list[dict[str, Any]]]) -> None:
    """Replace an entry's rows in the replica by a snapshot."""
    for table in TABLES:
        key = "id" if table == "entries" else "entry_id"
        conn.execute(f"DELETE FROM replica_{table} WHERE {key} = ?", (entry_id,))  # noqa: S608
        for row in state.get(table, []):
            names = ", ".join(row)
            marks = ", ".join("?" * len(row))
            conn.execute(
                f"INSERT INTO replica_{table} ({names}) VALUES ({marks})",  # noqa: S608
                list(row.values()),
            )
