"""Persistent emulator state: SQLite tables for entries, flavors, tokens and settings, plus content files."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import secrets
import shutil
import sqlite3
import string
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dev.kaltura_emulator import content

ENTRY_STATUSES = (-2, -1, 0, 1, 2, 3, 4, 5, 6, 7)
READY = 2
NO_CONTENT = 7
PRECONVERT = 1
DELETED = 3

FLAVOR_ERROR, FLAVOR_QUEUED, FLAVOR_READY, FLAVOR_DELETED, FLAVOR_IMPORTING = -1, 0, 2, 3, 7

SOURCE_PARAMS_ID = 0


@dataclass(frozen=True)
class DerivedSpec:
    """A derived flavor produced by conversion: params id, fraction of the source size, frame, ext."""

    params_id: int
    fraction: float
    width: int
    height: int
    bitrate: int
    ext: str


DERIVED: dict[int, tuple[DerivedSpec, ...]] = {
    1: (
        DerivedSpec(487041, 0.06, 640, 360, 900, "mp4"),
        DerivedSpec(487051, 0.12, 854, 480, 1500, "mp4"),
        DerivedSpec(487061, 0.25, 1280, 720, 2500, "mp4"),
    ),
    5: (DerivedSpec(359, 0.5, 0, 0, 128, "mp3"),),
    2: (),
}
SOURCE_EXT = {1: "mp4", 2: "jpg", 5: "mp3"}

FLAVOR_PARAMS_NAMES = {
    0: "Source",
    487041: "Basic/Small - WEB/MBL (H264/600)",
    487051: "Basic/Small - WEB/MBL (H264/900)",
    487061: "SD/Large - WEB/MBL (H264/1500)",
    359: "Audio-only (MP3/128)",
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "clock_offset": 0.0,
    "conversion_seconds": 5.0,
    "ks_expiry": None,
    "rate_limit": None,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    categories_ids TEXT NOT NULL DEFAULT '',
    creator_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_played_at INTEGER,
    plays INTEGER NOT NULL DEFAULT 0,
    views INTEGER NOT NULL DEFAULT 0,
    status INTEGER NOT NULL,
    media_type INTEGER NOT NULL DEFAULT 1,
    duration INTEGER NOT NULL DEFAULT 0,
    conversion_ready_at REAL,
    thumb_version INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_status_created ON entries (status, created_at);
CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at);
CREATE INDEX IF NOT EXISTS entries_played ON entries (last_played_at);
CREATE INDEX IF NOT EXISTS entries_converting ON entries (conversion_ready_at)
    WHERE conversion_ready_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS entry_tags (entry_id TEXT NOT NULL, tag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entry_tags_tag ON entry_tags (tag, entry_id);
CREATE INDEX IF NOT EXISTS entry_tags_entry ON entry_tags (entry_id);
CREATE TABLE IF NOT EXISTS entry_categories (entry_id TEXT NOT NULL, category_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS entry_categories_cat ON entry_categories (category_id, entry_id);
CREATE INDEX IF NOT EXISTS entry_categories_entry ON entry_categories (entry_id);
CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flavors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    entry_id TEXT NOT NULL,
    flavor_params_id INTEGER NOT NULL,
    is_original INTEGER NOT NULL,
    status INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    size_kb INTEGER NOT NULL,
    content_kind TEXT NOT NULL,
    content_ref TEXT NOT NULL,
    file_ext TEXT NOT NULL,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    bitrate INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    sha256 TEXT
);
CREATE INDEX IF NOT EXISTS flavors_entry ON flavors (entry_id, seq);
CREATE TABLE IF NOT EXISTS thumbs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    entry_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS thumbs_entry ON thumbs (entry_id);
CREATE TABLE IF NOT EXISTS upload_tokens (
    id TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    file_name TEXT NOT NULL DEFAULT '',
    file_size INTEGER,
    uploaded_size INTEGER NOT NULL DEFAULT 0,
    auto_finalize INTEGER NOT NULL DEFAULT 0,
    final_seen INTEGER NOT NULL DEFAULT 0,
    user_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
"""

_ID_CHARS = string.ascii_lowercase + string.digits


def random_id(prefix: str = "0_", length: int = 8) -> str:
    """A Kaltura-looking object id such as 0_a1b2c3d4."""
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def derived_id(*parts: object) -> str:
    """A deterministic Kaltura-looking id derived from parts."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=5).digest()
    return "0_" + base64.b32encode(digest).decode().lower()


def reported_kb(flavor_id: str, size_bytes: int) -> int:
    """Flavor size in KB as Kaltura reports it: ceil(bytes/1024) skewed by a fixed -1%..+1% per flavor."""
    skew = ((zlib.crc32(flavor_id.encode()) & 0xFFFF) / 0xFFFF - 0.5) * 0.02
    return max(0, math.ceil(size_bytes / 1024 * (1 + skew)))


def split_tags(tags: str | Sequence[str] | None) -> list[str]:
    """Tags as a clean list (comma separated input, trimmed, case-insensitively de-duplicated)."""
    if tags is None:
        return []
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    seen: set[str] = set()
    result = []
    for item in items:
        tag = str(item).strip()
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            result.append(tag)
    return result


ENTRY_INSERT = (
    "INSERT INTO entries (id, name, description, tags, categories_ids, creator_id, user_id, created_at,"
    " updated_at, last_played_at, plays, views, status, media_type, duration)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FLAVOR_INSERT = (
    "INSERT INTO flavors (id, entry_id, flavor_params_id, is_original, status, size_bytes, size_kb,"
    " content_kind, content_ref, file_ext, width, height, bitrate, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def flavor_row(
    *,
    flavor_id: str,
    entry_id: str,
    params_id: int,
    is_original: bool,
    status: int,
    size_bytes: int,
    kind: str,
    ref: str,
    ext: str,
    now: int,
    width: int = 0,
    height: int = 0,
    bitrate: int = 0,
) -> tuple[Any, ...]:
    """The FLAVOR_INSERT parameters of one flavor (kind "gen": bytes from the generator keyed by ref)."""
    return (
        flavor_id,
        entry_id,
        params_id,
        int(is_original),
        status,
        size_bytes,
        reported_kb(flavor_id, size_bytes),
        kind,
        ref,
        ext,
        width,
        height,
        bitrate,
        now,
        now,
    )


def derived_rows(
    entry_id: str, media_type: int, source_size: int, status: int, now: int, generation: int
) -> list[tuple[Any, ...]]:
    """FLAVOR_INSERT parameters of the derived flavors made from a source of source_size bytes."""
    rows = []
    for spec in DERIVED.get(media_type, ()):
        flavor_id = derived_id(entry_id, spec.params_id, generation)
        rows.append(
            flavor_row(
                flavor_id=flavor_id,
                entry_id=entry_id,
                params_id=spec.params_id,
                is_original=False,
                status=status,
                size_bytes=max(1, int(source_size * spec.fraction)),
                kind="gen",
                ref=flavor_id,
                ext=spec.ext,
                now=now,
                width=spec.width,
                height=spec.height,
                bitrate=spec.bitrate,
            )
        )
    return rows


class _EntryBatch:
    """Rows for a bulk insert of control-API entry specs."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []
        self.tags: list[tuple[str, str]] = []
        self.categories: list[tuple[str, int]] = []
        self.names: dict[int, str] = {}
        self.flavors: list[tuple[Any, ...]] = []

    def add(self, item: dict[str, Any], now: int) -> None:
        """Add one entry spec with its tags, categories and status-consistent flavors."""
        entry_id = str(item.get("id") or random_id())
        created = int(item.get("created_at") or now)
        status = int(item.get("status", READY))
        media_type = int(item.get("media_type", 1))
        tags = split_tags(item.get("tags"))
        categories = [int(c) for c in item.get("categories") or []]
        last_played = item.get("last_played_at")
        self.entries.append(
            (
                entry_id,
                str(item.get("name") or entry_id),
                str(item.get("description") or ""),
                ", ".join(tags),
                ",".join(str(c) for c in categories),
                str(item.get("creator_id") or ""),
                str(item.get("user_id") or item.get("creator_id") or ""),
                created,
                int(item.get("updated_at") or created),
                None if last_played is None else int(last_played),
                int(item.get("plays") or 0),
                int(item.get("views") or item.get("plays") or 0),
                status,
                media_type,
                int(item.get("duration") or 0),
            )
        )
        self.tags.extend((entry_id, tag.lower()) for tag in tags)
        self.categories.extend((entry_id, cat) for cat in categories)
        names = item.get("category_names") or {}
        for cat in categories:
            self.names.setdefault(cat, str(names.get(str(cat)) or names.get(cat) or f"category_{cat}"))
        if item.get("flavors", True):
            self._flavors(entry_id, status, media_type, int(item.get("original_size") or 0), created)

    def _flavors(self, entry_id: str, status: int, media_type: int, size: int, created: int) -> None:
        """Flavors consistent with a seeded entry's status; the source's bytes come from the generator."""
        if status == NO_CONTENT:
            return
        size = size or 10 * 1024 * 1024
        source_status = {
            READY: FLAVOR_READY,
            -1: FLAVOR_READY,
            -2: FLAVOR_ERROR,
            0: FLAVOR_IMPORTING,
            DELETED: FLAVOR_DELETED,
        }.get(status, FLAVOR_QUEUED)
        self.flavors.append(
            flavor_row(
                flavor_id=derived_id(entry_id, SOURCE_PARAMS_ID, 0),
                entry_id=entry_id,
                params_id=SOURCE_PARAMS_ID,
                is_original=True,
                status=source_status,
                size_bytes=size,
                kind="gen",
                ref=entry_id,
                ext=SOURCE_EXT.get(media_type, "mp4"),
                now=created,
            )
        )
        derived_status = {READY: FLAVOR_READY, -1: FLAVOR_ERROR, DELETED: FLAVOR_DELETED}.get(status)
        if derived_status is not None:
            self.flavors.extend(derived_rows(entry_id, media_type, size, derived_status, created, 1))


class Store:
    """The emulator's state, guarded by one lock; all mutations go through `tx()`."""

    def __init__(self, data_dir: str, defaults: dict[str, Any] | None = None) -> None:
        self.data_dir = data_dir
        os.makedirs(self.content_dir, exist_ok=True)
        os.makedirs(self.uploads_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            os.path.join(data_dir, "emulator.sqlite3"), check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA cache_size=-262144")
        self.conn.execute("PRAGMA mmap_size=1073741824")
        self.conn.executescript(SCHEMA)
        self.conn.execute("ANALYZE")
        self.settings: dict[str, Any] = {**DEFAULT_SETTINGS, **(defaults or {})}
        for row in self.conn.execute("SELECT key, value FROM settings"):
            self.settings[row["key"]] = json.loads(row["value"])
        self.tags_version = 0
        self.data_version = 0
        self._counts: dict[tuple[Any, ...], int] = {}
        self._tag_cache: tuple[int, list[str]] | None = None
        self._category_names: dict[int, str] | None = None

    @property
    def content_dir(self) -> str:
        """Directory of uploaded flavor content files."""
        return os.path.join(self.data_dir, "content")

    @property
    def uploads_dir(self) -> str:
        """Directory of in-progress upload token files."""
        return os.path.join(self.data_dir, "uploads")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the store lock."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            self.data_version += 1

    def now(self) -> float:
        """The emulator clock: wall time plus the configured offset."""
        return time.time() + float(self.settings.get("clock_offset") or 0.0)

    def set_setting(self, key: str, value: Any) -> None:
        """Persist one setting."""
        with self.tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value))
            )
            self.settings[key] = value

    def reset(self, defaults: dict[str, Any]) -> None:
        """Forget every entry, flavor, token and setting (back to `defaults`)."""
        with self.tx() as conn:
            for table in ("entries", "entry_tags", "entry_categories", "categories", "flavors", "thumbs"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608
            conn.execute("DELETE FROM upload_tokens")
            conn.execute("DELETE FROM settings")
            self.settings = {**DEFAULT_SETTINGS, **defaults}
        self.tags_version += 1
        self._category_names = None
        for directory in (self.content_dir, self.uploads_dir):
            shutil.rmtree(directory, ignore_errors=True)
            os.makedirs(directory, exist_ok=True)

    def count(self, table: str, where: str, args: Sequence[Any]) -> int:
        """COUNT(*) of a query, cached until the next write (paging re-asks the same count)."""
        with self.lock:
            key = (self.data_version, table, where, *args)
            if key not in self._counts:
                if len(self._counts) > 256:
                    self._counts.clear()
                sql = f"SELECT COUNT(*) FROM {table} WHERE {where}"  # noqa: S608
                self._counts[key] = int(self.conn.execute(sql, list(args)).fetchone()[0])
            return self._counts[key]

    def distinct_tags(self) -> list[str]:
        """Every distinct (lower-cased) tag in use, cached until tags change."""
        with self.lock:
            if self._tag_cache is None or self._tag_cache[0] != self.tags_version:
                rows = self.conn.execute("SELECT DISTINCT tag FROM entry_tags").fetchall()
                self._tag_cache = (self.tags_version, [row[0] for row in rows])
            return self._tag_cache[1]

    def category_names(self) -> dict[int, str]:
        """Category id to name."""
        with self.lock:
            if self._category_names is None:
                rows = self.conn.execute("SELECT id, name FROM categories").fetchall()
                self._category_names = {row[0]: row[1] for row in rows}
            return self._category_names

    def set_tags(self, conn: sqlite3.Connection, entry_id: str, tags: list[str]) -> str:
        """Replace an entry's tags; returns the stored tags string."""
        text = ", ".join(tags)
        conn.execute("UPDATE entries SET tags = ? WHERE id = ?", (text, entry_id))
        conn.execute("DELETE FROM entry_tags WHERE entry_id = ?", (entry_id,))
        conn.executemany(
            "INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?)", [(entry_id, t.lower()) for t in tags]
        )
        self.tags_version += 1
        return text

    def insert_flavor(self, conn: sqlite3.Connection, **fields: Any) -> None:
        """Insert one flavor row (fields as for `flavor_row`)."""
        conn.execute(FLAVOR_INSERT, flavor_row(**fields))

    def insert_derived(
        self,
        conn: sqlite3.Connection,
        entry_id: str,
        media_type: int,
        source_size: int,
        status: int,
        now: int,
    ) -> None:
        """Insert the derived flavors conversion produces for a source of `source_size` bytes."""
        generation = conn.execute("SELECT COUNT(*) FROM flavors WHERE entry_id = ?", (entry_id,)).fetchone()[
            0
        ]
        conn.executemany(
            FLAVOR_INSERT, derived_rows(entry_id, media_type, source_size, status, now, generation)
        )

    def create_entries(self, items: Sequence[dict[str, Any]]) -> list[str]:
        """Bulk-insert entries with their flavors (see EmulatorControl.create_entries for the fields)."""
        now = int(self.now())
        batch = _EntryBatch()
        for item in items:
            batch.add(item, now)
        with self.tx() as conn:
            conn.executemany(ENTRY_INSERT, batch.entries)
            conn.executemany("INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?)", batch.tags)
            conn.executemany(
                "INSERT INTO entry_categories (entry_id, category_id) VALUES (?, ?)", batch.categories
            )
            conn.executemany("INSERT OR IGNORE INTO categories (id, name) VALUES (?, ?)", batch.names.items())
            conn.executemany(FLAVOR_INSERT, batch.flavors)
        self.tags_version += 1
        self._category_names = None
        if len(items) >= 500:
            with self.lock:
                self.conn.execute("ANALYZE")
        return [row[0] for row in batch.entries]

    def settle(self) -> None:
        """Finish every conversion whose time has come (entry READY, source READY, new derived flavors)."""
        now = self.now()
        with self.lock:
            due = self.conn.execute(
                "SELECT id, media_type FROM entries WHERE conversion_ready_at IS NOT NULL"
                " AND conversion_ready_at <= ?",
                (now,),
            ).fetchall()
            if not due:
                return
            with self.tx() as conn:
                for row in due:
                    self._finish_conversion(conn, row["id"], row["media_type"], int(now))

    def _finish_conversion(self, conn: sqlite3.Connection, entry_id: str, media_type: int, now: int) -> None:
        """Mark one entry converted."""
        source = conn.execute(
            "SELECT id, size_bytes FROM flavors WHERE entry_id = ? AND is_original = 1 AND status != ?"
            " ORDER BY seq DESC LIMIT 1",
            (entry_id, FLAVOR_DELETED),
        ).fetchone()
        if source is not None:
            conn.execute(
                "UPDATE flavors SET status = ?, updated_at = ? WHERE id = ?",
                (FLAVOR_READY, now, source["id"]),
            )
            self.insert_derived(conn, entry_id, media_type, source["size_bytes"], FLAVOR_READY, now)
        conn.execute(
            "UPDATE entries SET status = ?, conversion_ready_at = NULL, updated_at = ? WHERE id = ?",
            (READY if source is not None else NO_CONTENT, now, entry_id),
        )

    def flavor_sha256(self, flavor: sqlite3.Row) -> str:
        """The sha256 of a flavor's bytes, computed once and cached in the database."""
        if flavor["sha256"]:
            return str(flavor["sha256"])
        if flavor["content_kind"] == "file":
            digest = content.sha256_file(os.path.join(self.content_dir, flavor["content_ref"]))
        else:
            digest = content.sha256_of(flavor["content_ref"], flavor["size_bytes"])
        with self.tx() as conn:
            conn.execute("UPDATE flavors SET sha256 = ? WHERE id = ?", (digest, flavor["id"]))
        return digest

    def entry_state(self, entry_id: str, with_sha256: bool = True) -> dict[str, Any] | None:
        """Full state of an entry for the control API, or None when unknown."""
        self.settle()
        with self.lock:
            row = self.conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                return None
            flavors = self.conn.execute(
                "SELECT * FROM flavors WHERE entry_id = ? ORDER BY seq", (entry_id,)
            ).fetchall()
            thumbs = self.conn.execute(
                "SELECT COUNT(*) FROM thumbs WHERE entry_id = ?", (entry_id,)
            ).fetchone()
        original = next(
            (f for f in reversed(flavors) if f["is_original"] and f["status"] != FLAVOR_DELETED), None
        )
        flavor_list = []
        for flavor in flavors:
            item = {
                "id": flavor["id"],
                "is_original": bool(flavor["is_original"]),
                "status": flavor["status"],
                "flavor_params_id": flavor["flavor_params_id"],
                "size_bytes": flavor["size_bytes"],
                "size_kb": flavor["size_kb"],
                "content": flavor["content_kind"],
                "sha256": flavor["sha256"],
            }
            if with_sha256 and original is not None and flavor["id"] == original["id"]:
                item["sha256"] = self.flavor_sha256(flavor)
            flavor_list.append(item)
        original_item = next(
            (f for f in flavor_list if original is not None and f["id"] == original["id"]), None
        )
        return {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "tags": split_tags(row["tags"]),
            "categories": [int(c) for c in row["categories_ids"].split(",") if c],
            "creator_id": row["creator_id"],
            "user_id": row["user_id"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "last_played_at": row["last_played_at"],
            "plays": row["plays"],
            "views": row["views"],
            "status": row["status"],
            "media_type": row["media_type"],
            "thumb_version": row["thumb_version"],
            "thumbnails": thumbs[0],
            "converting": row["conversion_ready_at"] is not None,
            "flavors": flavor_list,
            "original_flavor_id": original_item["id"] if original_item else None,
            "original_size": original_item["size_bytes"] if original_item else None,
            "original_sha256": original_item["sha256"] if original_item else None,
        }

    def play(self, entry_id: str) -> bool:
        """Record a play of an entry now; False when the entry is unknown."""
        now = int(self.now())
        with self.tx() as conn:
            cursor = conn.execute(
                "UPDATE entries SET plays = plays + 1, views = views + 1, last_played_at = ? WHERE id = ?",
                (now, entry_id),
            )
            return cursor.rowcount > 0
