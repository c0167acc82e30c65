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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dev.kaltura_emulator import content, rules
from dev.kaltura_emulator.filetypes import DEFAULT_EXTENSION_WHITELIST
from dev.kaltura_emulator.replica import Replica

# alpha/lib/enums/entryStatus.php; plugin values are strings (dynamic enums): plugins/virus_scan/lib/
# VirusScanEntryStatus.php gives "virusScan.Infected" and "virusScan.ScanFailure" through
# api_v3/lib/types/enums/KalturaEntryStatus.php. The status column keeps INTEGER affinity, which stores
# core values as integers and plugin values as text, so old data dirs need no conversion.
ERROR_IMPORTING, ERROR_CONVERTING, IMPORT, PRECONVERT, READY, DELETED, PENDING = -2, -1, 0, 1, 2, 3, 4
MODERATE, BLOCKED, NO_CONTENT = 5, 6, 7
VIRUS_INFECTED, VIRUS_SCAN_FAILURE = "virusScan.Infected", "virusScan.ScanFailure"
ENTRY_STATUSES: tuple[int | str, ...] = (-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, VIRUS_INFECTED, VIRUS_SCAN_FAILURE)

# alpha/lib/model/asset.php (FLAVOR_ASSET_STATUS_*)
FLAVOR_ERROR, FLAVOR_QUEUED, FLAVOR_CONVERTING, FLAVOR_READY, FLAVOR_DELETED = -1, 0, 1, 2, 3
FLAVOR_NOT_APPLICABLE, FLAVOR_TEMP, FLAVOR_WAIT_FOR_CONVERT, FLAVOR_IMPORTING, FLAVOR_VALIDATING = (
    4,
    5,
    6,
    7,
    8,
)
FLAVOR_STATUSES = (-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
# Flavors whose file exists (a thumbnail can be captured from them).
FLAVOR_WITH_FILE = (FLAVOR_QUEUED, FLAVOR_CONVERTING, FLAVOR_READY, FLAVOR_VALIDATING)

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

# Partner-configurable behaviour defaults to the stricter choice; latency models default to off.
DEFAULT_SETTINGS: dict[str, Any] = {
    "clock_offset": 0.0,
    "conversion_seconds": 5.0,
    "conversion_profile": "default",
    "ks_expiry": None,
    "rate_limit": None,
    "relative_time": True,
    "file_type_restriction": True,
    "file_extensions_whitelist": list(DEFAULT_EXTENSION_WHITELIST),
    "final_chunk_seconds": 0.0,
    "read_lag_seconds": 0.0,
}
SETTING_KEYS = frozenset(DEFAULT_SETTINGS)
CONVERSION_PROFILES = ("default", "none")


def check_setting(key: str, value: Any) -> Any:
    """A setting value in its stored form; ValueError when it does not fit the setting."""
    if key in ("clock_offset",):
        return float(value)
    if key in ("conversion_seconds", "final_chunk_seconds", "read_lag_seconds"):
        number = float(value)
        if number < 0:
            raise ValueError(f"{key} must be >= 0")
        return number
    if key in ("relative_time", "file_type_restriction"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    if key == "conversion_profile":
        if value not in CONVERSION_PROFILES:
            raise ValueError(f"conversion_profile must be one of {CONVERSION_PROFILES}")
        return value
    if key == "file_extensions_whitelist":
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError("file_extensions_whitelist must be a list of extensions or null")
        return None if value is None else [v.lower().lstrip(".") for v in value]
    if key == "ks_expiry":
        return None if value is None else int(value)
    if key == "rate_limit":
        if value is not None and not isinstance(value, dict):
            raise ValueError("rate_limit must be an object or null")
        return value
    raise ValueError(f"unknown setting {key}")


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
    default_thumb_id TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    moderation_status INTEGER NOT NULL DEFAULT 6,
    display_in_search INTEGER NOT NULL DEFAULT 1,
    synced_plays INTEGER NOT NULL DEFAULT 0,
    synced_views INTEGER NOT NULL DEFAULT 0,
    synced_last_played_at INTEGER
);
CREATE INDEX IF NOT EXISTS entries_list
    ON entries (status, created_at, synced_last_played_at, display_in_search, moderation_status);
CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at);
CREATE INDEX IF NOT EXISTS entries_synced_played ON entries (synced_last_played_at);
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
    sha256 TEXT,
    bytes_recorded INTEGER NOT NULL DEFAULT 1
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
    created_at INTEGER NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    file_ext TEXT NOT NULL DEFAULT 'jpg',
    sha256 TEXT NOT NULL DEFAULT ''
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
    updated_at INTEGER NOT NULL,
    file_ext TEXT,
    object_id TEXT
);
CREATE TABLE IF NOT EXISTS conversion_outcomes (
    entry_id TEXT NOT NULL, flavor_params_id INTEGER NOT NULL, status INTEGER NOT NULL,
    PRIMARY KEY (entry_id, flavor_params_id)
);
"""

# Indexes of the first schema that entries_list replaces (lists filter on these columns in the index,
# so deep pages skip rows without reading them).
OLD_INDEXES = ("entries_status_created", "entries_played")
# Columns added after the first schema: (table, column, definition). Opening an older data dir adds
# them; the synced plays start equal to the live ones (as after a sync).
MIGRATIONS = (
    ("entries", "moderation_status", "INTEGER NOT NULL DEFAULT 6"),
    ("entries", "display_in_search", "INTEGER NOT NULL DEFAULT 1"),
    ("entries", "synced_plays", "INTEGER NOT NULL DEFAULT 0"),
    ("entries", "synced_views", "INTEGER NOT NULL DEFAULT 0"),
    ("entries", "synced_last_played_at", "INTEGER"),
    ("flavors", "bytes_recorded", "INTEGER NOT NULL DEFAULT 1"),
    ("upload_tokens", "file_ext", "TEXT"),
    ("upload_tokens", "object_id", "TEXT"),
    ("entries", "default_thumb_id", "TEXT"),
    ("thumbs", "tags", "TEXT NOT NULL DEFAULT ''"),
    ("thumbs", "file_ext", "TEXT NOT NULL DEFAULT 'jpg'"),
    ("thumbs", "sha256", "TEXT NOT NULL DEFAULT ''"),
)

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


def entry_status(value: Any) -> int | str:
    """An entry status as stored: an int for core values, the API string for plugin values."""
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else text


ENTRY_INSERT = (
    "INSERT INTO entries (id, name, description, tags, categories_ids, creator_id, user_id, created_at,"
    " updated_at, last_played_at, plays, views, status, media_type, duration, moderation_status,"
    " display_in_search, synced_plays, synced_views, synced_last_played_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FLAVOR_INSERT = (
    "INSERT INTO flavors (id, entry_id, flavor_params_id, is_original, status, size_bytes, size_kb,"
    " content_kind, content_ref, file_ext, width, height, bitrate, created_at, updated_at, bytes_recorded)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
    bytes_recorded: bool = True,
) -> tuple[Any, ...]:
    """The FLAVOR_INSERT parameters of one flavor (kind "gen"/"mp4": bytes from the generator keyed by ref).

    bytes_recorded False: a flavor written before sizeInBytes existed (rules.SIZE_IN_BYTES_SINCE).
    """
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
        int(bytes_recorded),
    )


def derived_rows(
    entry_id: str,
    media_type: int,
    source_size: int,
    now: int,
    generation: int,
    statuses: dict[int, int] | None = None,
    default_status: int = FLAVOR_READY,
    bytes_recorded: bool = True,
) -> list[tuple[Any, ...]]:
    """FLAVOR_INSERT parameters of the derived flavors made from a source of source_size bytes.

    statuses: per flavor params id, the outcome of its conversion (READY, ERROR or NOT_APPLICABLE; only
    READY and DELETED flavors have content).
    """
    rows = []
    for spec in DERIVED.get(media_type, ()):
        flavor_id = derived_id(entry_id, spec.params_id, generation)
        status = (statuses or {}).get(spec.params_id, default_status)
        has_file = status in (FLAVOR_READY, FLAVOR_DELETED)
        rows.append(
            flavor_row(
                flavor_id=flavor_id,
                entry_id=entry_id,
                params_id=spec.params_id,
                is_original=False,
                status=status,
                size_bytes=max(1, int(source_size * spec.fraction)) if has_file else 0,
                kind="mp4",
                ref=flavor_id,
                ext=spec.ext,
                now=now,
                width=spec.width,
                height=spec.height,
                bitrate=spec.bitrate,
                bytes_recorded=bytes_recorded,
            )
        )
    return rows


def converted_entry_status(derived: list[int]) -> int:
    """The entry status after conversion: ERROR_CONVERTING when every derived flavor failed or was not
    applicable and at least one failed (kBusinessPostConvertDL::handleConvertFailed fails the root job
    once no sibling is left that is not ERROR / NOT_APPLICABLE / DELETED), else READY."""
    if (
        derived
        and FLAVOR_ERROR in derived
        and all(s in (FLAVOR_ERROR, FLAVOR_NOT_APPLICABLE) for s in derived)
    ):
        return ERROR_CONVERTING
    return READY


def int_keys(mapping: dict[Any, Any] | None) -> dict[int, int]:
    """A {flavor params id: status} mapping from JSON (keys arrive as strings)."""
    return {int(key): int(value) for key, value in (mapping or {}).items()}


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
        status = entry_status(item.get("status", READY))
        media_type = int(item.get("media_type", 1))
        tags = rules.normalise_tags(item.get("tags"))
        categories = [int(c) for c in item.get("categories") or []]
        last_played = item.get("last_played_at")
        last_played = None if last_played is None else int(last_played)
        plays = int(item.get("plays") or 0)
        views = int(item.get("views") or plays)
        self.entries.append(
            (
                entry_id,
                str(item.get("name") or entry_id),
                str(item.get("description") or ""),
                rules.tags_text(tags),
                ",".join(str(c) for c in categories),
                str(item.get("creator_id") or ""),
                str(item.get("user_id") or item.get("creator_id") or ""),
                created,
                int(item.get("updated_at") or created),
                last_played,
                plays,
                views,
                status,
                media_type,
                int(item.get("duration") or 0),
                int(item.get("moderation_status", rules.MODERATION_AUTO_APPROVED)),
                int(item.get("display_in_search", rules.DISPLAY_PARTNER_ONLY)),
                plays,
                views,
                last_played,
            )
        )
        self.tags.extend((entry_id, tag) for tag in tags)
        self.categories.extend((entry_id, cat) for cat in categories)
        names = item.get("category_names") or {}
        for cat in categories:
            self.names.setdefault(cat, str(names.get(str(cat)) or names.get(cat) or f"category_{cat}"))
        if item.get("flavors", True):
            legacy = item.get("legacy_size")
            if legacy is None:
                legacy = created < rules.SIZE_IN_BYTES_SINCE
            self._flavors(
                entry_id,
                status,
                media_type,
                int(item.get("original_size") or 0),
                created,
                int_keys(item.get("derived_statuses")),
                not legacy,
            )

    def _flavors(
        self,
        entry_id: str,
        status: int | str,
        media_type: int,
        size: int,
        created: int,
        derived_statuses: dict[int, int],
        bytes_recorded: bool,
    ) -> None:
        """Flavors consistent with a seeded entry's status; the source's bytes come from the generator."""
        if status == NO_CONTENT:
            return
        size = size or 10 * 1024 * 1024
        source_status = {
            READY: FLAVOR_READY,
            ERROR_CONVERTING: FLAVOR_READY,
            ERROR_IMPORTING: FLAVOR_ERROR,
            IMPORT: FLAVOR_IMPORTING,
            DELETED: FLAVOR_DELETED,
            VIRUS_INFECTED: FLAVOR_READY,
            VIRUS_SCAN_FAILURE: FLAVOR_READY,
        }.get(status, FLAVOR_QUEUED)
        self.flavors.append(
            flavor_row(
                flavor_id=derived_id(entry_id, SOURCE_PARAMS_ID, 0),
                entry_id=entry_id,
                params_id=SOURCE_PARAMS_ID,
                is_original=True,
                status=source_status,
                size_bytes=size,
                kind="mp4",
                ref=entry_id,
                ext=SOURCE_EXT.get(media_type, "mp4"),
                now=created,
                bytes_recorded=bytes_recorded,
            )
        )
        derived_by_status: dict[int | str, int] = {
            READY: FLAVOR_READY,
            ERROR_CONVERTING: FLAVOR_ERROR,
            DELETED: FLAVOR_DELETED,
        }
        derived_status = derived_by_status.get(status)
        if derived_status is not None:
            self.flavors.extend(
                derived_rows(
                    entry_id,
                    media_type,
                    size,
                    created,
                    1,
                    derived_statuses,
                    derived_status,
                    bytes_recorded,
                )
            )


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
        self._migrate()
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
        self.replica = Replica(self.conn)
        self.replica.configure(float(self.settings.get("read_lag_seconds") or 0.0))
        if "plays_synced_at" not in self.settings:
            self.set_setting("plays_synced_at", self.now())

    def _migrate(self) -> None:
        """Add the columns of MIGRATIONS to tables of an older data dir (a new one gets them from SCHEMA)."""
        added: set[tuple[str, str]] = set()
        for table, column, definition in MIGRATIONS:
            columns = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            if columns and column not in columns:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                added.add((table, column))
        if ("entries", "synced_plays") in added:
            self.conn.execute(
                "UPDATE entries SET synced_plays = plays, synced_views = views,"
                " synced_last_played_at = last_played_at"
            )
        for index in OLD_INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {index}")

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
        """A write transaction under the store lock (changed entries are queued for the read replica)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.replica.capture(self.conn, self.now())
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
        if key == "read_lag_seconds":
            with self.lock:
                self.replica.configure(float(value or 0.0))
                self.data_version += 1

    def reset(self, defaults: dict[str, Any]) -> None:
        """Forget every entry, flavor, token and setting (back to `defaults`)."""
        with self.lock:
            self.replica.configure(0.0)
            with self.tx() as conn:
                for table in ENTRY_TABLES:
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608
                conn.execute("DELETE FROM upload_tokens")
                conn.execute("DELETE FROM settings")
                self.settings = {**DEFAULT_SETTINGS, **defaults}
            self.set_setting("plays_synced_at", self.now())
            self.replica.configure(float(self.settings.get("read_lag_seconds") or 0.0))
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

    def list_sql(self, sql: str) -> str:
        """A list query, caught up with and rewritten for the read replica when the lag is on."""
        if self.replica.due(self.now()):
            with self.tx() as conn:
                self.replica.apply_due(conn, self.now())
        return self.replica.sql(sql)

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
        """Replace an entry's tags (already normalised); returns the stored tags string."""
        text = rules.tags_text(tags)
        conn.execute("UPDATE entries SET tags = ? WHERE id = ?", (text, entry_id))
        conn.execute("DELETE FROM entry_tags WHERE entry_id = ?", (entry_id,))
        conn.executemany(
            "INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?)", [(entry_id, t) for t in tags]
        )
        self.tags_version += 1
        return text

    def insert_flavor(self, conn: sqlite3.Connection, **fields: Any) -> None:
        """Insert one flavor row (fields as for `flavor_row`)."""
        conn.execute(FLAVOR_INSERT, flavor_row(**fields))

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
        """Apply the clock: finish due conversions; run the daily plays sync after a UTC midnight."""
        now = self.now()
        if rules.utc_day(now) > rules.utc_day(float(self.settings.get("plays_synced_at") or now)):
            self.sync_plays()
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

    def sync_plays(self) -> int:
        """The daily analytics sync (alpha/scripts/kava/kava_plays_views_sync.sh and
        updateEntryPlaysViews.php): copy live plays, views and lastPlayedAt to the copies lists and
        eSearch read. Returns the number of entries whose synced values changed."""
        with self.tx() as conn:
            changed = conn.execute(
                "UPDATE entries SET synced_plays = plays, synced_views = views,"
                " synced_last_played_at = last_played_at WHERE synced_plays != plays"
                " OR synced_views != views OR synced_last_played_at IS NOT last_played_at"
            ).rowcount
        self.set_setting("plays_synced_at", self.now())
        return int(changed)

    def _finish_conversion(self, conn: sqlite3.Connection, entry_id: str, media_type: int, now: int) -> None:
        """Mark one entry converted: source READY, derived flavors with their outcomes, entry status."""
        source = conn.execute(
            "SELECT id, size_bytes FROM flavors WHERE entry_id = ? AND is_original = 1 AND status != ?"
            " ORDER BY seq DESC LIMIT 1",
            (entry_id, FLAVOR_DELETED),
        ).fetchone()
        status: int = NO_CONTENT
        if source is not None:
            conn.execute(
                "UPDATE flavors SET status = ?, updated_at = ? WHERE id = ?",
                (FLAVOR_READY, now, source["id"]),
            )
            outcomes = {
                row[0]: row[1]
                for row in conn.execute(
                    "SELECT flavor_params_id, status FROM conversion_outcomes WHERE entry_id = ?", (entry_id,)
                )
            }
            conn.execute("DELETE FROM conversion_outcomes WHERE entry_id = ?", (entry_id,))
            generation = conn.execute(
                "SELECT COUNT(*) FROM flavors WHERE entry_id = ?", (entry_id,)
            ).fetchone()[0]
            rows = derived_rows(entry_id, media_type, source["size_bytes"], now, generation, outcomes)
            conn.executemany(FLAVOR_INSERT, rows)
            status = converted_entry_status([row[4] for row in rows])
        conn.execute(
            "UPDATE entries SET status = ?, conversion_ready_at = NULL, updated_at = ? WHERE id = ?",
            (status, now, entry_id),
        )

    def start_conversion(self, conn: sqlite3.Connection, entry_id: str, now: float) -> None:
        """A source flavor arrived (kFlowManager::objectAdded -> kJobsManager::addConvertProfileJob): the
        entry goes PRECONVERT until the conversion time passes; with conversion profile "none"
        (CONVERSION_PROFILE_NONE) it goes PENDING and nothing is converted."""
        if self.settings.get("conversion_profile") == "none":
            conn.execute(
                "UPDATE entries SET status = ?, conversion_ready_at = NULL, updated_at = ?,"
                " version = version + 1 WHERE id = ?",
                (PENDING, int(now), entry_id),
            )
            return
        ready_at = now + float(self.settings.get("conversion_seconds") or 0.0)
        conn.execute(
            "UPDATE entries SET status = CASE WHEN status = ? THEN status ELSE ? END,"
            " conversion_ready_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            (READY, PRECONVERT, ready_at, int(now), entry_id),
        )

    def set_conversion_outcome(self, entry_id: str, statuses: dict[Any, Any]) -> bool:
        """The outcome of the entry's next conversion per derived flavor params id (-1 ERROR,
        4 NOT_APPLICABLE, 2 READY); False when the entry is unknown."""
        outcome = int_keys(statuses)
        with self.tx() as conn:
            if conn.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
                return False
            conn.execute("DELETE FROM conversion_outcomes WHERE entry_id = ?", (entry_id,))
            conn.executemany(
                "INSERT INTO conversion_outcomes (entry_id, flavor_params_id, status) VALUES (?, ?, ?)",
                [(entry_id, params_id, status) for params_id, status in outcome.items()],
            )
        return True

    def set_entry_fields(self, entry_id: str, fields: dict[str, Any]) -> bool:
        """Set an entry's status ("virusScan.Infected" too), moderation_status or display_in_search as
        the server's own flows would (virus scan, moderation, recycle bin); False when unknown."""
        columns: dict[str, Callable[[Any], int | str]] = {
            "status": entry_status,
            "moderation_status": int,
            "display_in_search": int,
        }
        unknown = set(fields) - set(columns)
        if unknown:
            raise KeyError(f"unknown entry fields {sorted(unknown)}")
        with self.tx() as conn:
            if conn.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
                return False
            for name, value in fields.items():
                conn.execute(
                    f"UPDATE entries SET {name} = ? WHERE id = ?",  # noqa: S608
                    (columns[name](value), entry_id),
                )
        return True

    def flavor_sha256(self, flavor: sqlite3.Row) -> str:
        """The sha256 of a flavor's bytes, computed once and cached in the database."""
        if flavor["sha256"]:
            return str(flavor["sha256"])
        if flavor["content_kind"] == "file":
            digest = content.sha256_file(os.path.join(self.content_dir, flavor["content_ref"]))
        else:
            digest = content.sha256_of(flavor["content_ref"], flavor["size_bytes"], flavor["content_kind"])
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
            default_thumb = self.conn.execute(
                "SELECT id, sha256, size_bytes FROM thumbs WHERE id = ?", (row["default_thumb_id"],)
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
                "size_in_bytes_reported": bool(flavor["bytes_recorded"]),
                "file_ext": flavor["file_ext"],
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
            "tags": rules.normalise_tags(row["tags"]),
            "categories": [int(c) for c in row["categories_ids"].split(",") if c],
            "creator_id": row["creator_id"],
            "user_id": row["user_id"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "last_played_at": row["last_played_at"],
            "plays": row["plays"],
            "views": row["views"],
            "synced_last_played_at": row["synced_last_played_at"],
            "synced_plays": row["synced_plays"],
            "status": row["status"],
            "moderation_status": row["moderation_status"],
            "display_in_search": row["display_in_search"],
            "media_type": row["media_type"],
            "thumb_version": row["thumb_version"],
            "thumbnails": thumbs[0],
            "default_thumbnail": dict(default_thumb) if default_thumb is not None else None,
            "converting": row["conversion_ready_at"] is not None,
            "flavors": flavor_list,
            "original_flavor_id": original_item["id"] if original_item else None,
            "original_size": original_item["size_bytes"] if original_item else None,
            "original_sha256": original_item["sha256"] if original_item else None,
        }

    def play(self, entry_id: str) -> bool:
        """Record a play now in the live values only (plays + 1, lastPlayedAt); False when unknown.

        Lists and eSearch see it after the next sync (`sync_plays`, or the clock passing a UTC midnight).
        """
        now = int(self.now())
        with self.tx() as conn:
            cursor = conn.execute(
                "UPDATE entries SET plays = plays + 1, views = views + 1, last_played_at = ? WHERE id = ?",
                (now, entry_id),
            )
            return cursor.rowcount > 0


ENTRY_TABLES = (
    "entries",
    "entry_tags",
    "entry_categories",
    "categories",
    "flavors",
    "thumbs",
    "conversion_outcomes",
)
