"""uploadToken service and the upload side of media.addContent.

Follows api_v3/services/UploadTokenService.php and alpha/apps/kaltura/lib/kUploadTokenMgr.php:

* A chunk's bytes must arrive as a multipart file part with a file name; a part without one is a plain
  form field to PHP, and KalturaRequestDeserializer::validateFile answers UPLOAD_ERROR.
* The token's file extension is fixed by the first upload: the uploaded part's name, or the token's
  fileName when that has none (or is ".tmp"), or "noex" (kUploadTokenMgr::handleMoveFile, getUploadPath);
  media.addContent gives the new source flavor that extension (KalturaEntryService::attachFile).
* resume with resumeAt >= 0 writes the chunk at that offset when it extends the file, else parks it
  until the gap is filled. A final chunk with resumeAt > 0 must leave the file exactly
  resumeAt + chunk size long (UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE otherwise); the server spends
  `final_chunk_seconds` concatenating before it answers, and finishes even if the client gave up.
* fileSize is only checked with autoFinalize (UPLOAD_TOKEN_MISSING_FILE_SIZE on add without it).
* On the final chunk, with the partner file-type restriction on, a restricted file deletes the token
  (kFlowHelper::handleUploadFailed) and the call fails with UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD.
* uploadToken.list (UploadTokenService::listAction, KalturaUploadTokenBaseFilter, UploadTokenPeer): the
  filters idEqual, idIn, userIdEqual, statusEqual, statusIn, fileNameEqual, fileSizeEqual; DELETED
  tokens never show; a user (non-admin) KS sees only its own tokens; fileNameEqual without a status
  filter means statusIn PENDING,PARTIAL,FULL, and with statusEqual PARTIAL only tokens updated within
  the maximum resume time; orderBy +createdAt / -createdAt (anything else is ignored; equal keys in no
  fixed order); without orderBy the primary key's order (the random id, not creation order); the
  usual pager with totalCount before paging.
* fileName is kept to 256 characters (upload_token.file_name varchar(256) under sql_mode '':
  deployment/base/sql/01.kaltura_ce_tables.sql), so a longer name never matches fileNameEqual.
* media.addContent with a token that is not FULL is accepted (KalturaUploadedFileTokenResource::toObject
  marks the resource not ready): the entry goes IMPORT with an IMPORTING source flavor attached to the
  token, and the upload's final chunk brings the content in (kFlowHelper::handleUploadFinished).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from typing import IO, TYPE_CHECKING, Any

from dev.kaltura_emulator import filetypes, search, store
from dev.kaltura_emulator.errors import KalturaAPIError
from dev.kaltura_emulator.store import Store
from dev.kaltura_emulator.wire import Params

if TYPE_CHECKING:
    from dev.kaltura_emulator.api import CallContext

UPLOAD_PENDING, UPLOAD_PARTIAL, UPLOAD_FULL, UPLOAD_CLOSED, UPLOAD_TIMED_OUT, UPLOAD_DELETED = (
    0,
    1,
    2,
    3,
    4,
    5,
)
MAX_RESUME_TIME = 604_800  # UploadTokenService::DEFAULT_UPLOAD_TOKEN_MAX_RESUME_TIME
FILE_NAME_MAX = 256  # upload_token.file_name varchar(256), deployment/base/sql/01.kaltura_ce_tables.sql
SESSION_ADMIN = 2
_ORDER_COLUMNS = {"createdAt": "created_at"}
WAIT_STEP = 0.2


class Uploads:
    """uploadToken.add / get / list / delete / upload and attaching tokens to entries."""

    def __init__(self, db: Store, partner_id: int) -> None:
        self.db = db
        self.partner_id = partner_id

    def token_row(self, token_id: str | None) -> sqlite3.Row:
        """An upload token row or UPLOAD_TOKEN_NOT_FOUND (UploadTokenPeer hides DELETED tokens)."""
        row = self.db.conn.execute(
            "SELECT * FROM upload_tokens WHERE id = ? AND status != ?", (token_id or "", UPLOAD_DELETED)
        ).fetchone()
        if row is None:
            raise KalturaAPIError("UPLOAD_TOKEN_NOT_FOUND")
        return row

    def path(self, token_id: str) -> str:
        """The file holding a token's uploaded bytes."""
        return os.path.join(self.db.uploads_dir, token_id)

    def token_object(self, row: sqlite3.Row, ctx: CallContext) -> dict[str, Any]:
        """A KalturaUploadToken."""
        return {
            "objectType": "KalturaUploadToken",
            "id": row["id"],
            "partnerId": self.partner_id,
            "userId": row["user_id"],
            "status": row["status"],
            "fileName": row["file_name"],
            "fileSize": row["file_size"],
            "uploadedFileSize": row["uploaded_size"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
            "uploadUrl": ctx.base_url,
            "autoFinalize": row["auto_finalize"],
            "attachedObjectType": "flavorAsset" if row["object_id"] else None,
            "attachedObjectId": row["object_id"],
        }

    def add(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """uploadToken.add: a PENDING token (autoFinalize needs fileSize)."""
        token = p.obj("uploadToken") or Params({})
        token_id = store.random_id(length=32)
        now = int(self.db.now())
        size = token.get_float("fileSize")
        auto = token.get_int("autoFinalize") == 1
        if auto and size is None:
            raise KalturaAPIError("UPLOAD_TOKEN_MISSING_FILE_SIZE")
        with self.db.tx() as conn:
            conn.execute(
                "INSERT INTO upload_tokens (id, status, file_name, file_size, auto_finalize, user_id,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token_id,
                    UPLOAD_PENDING,
                    (token.get_str("fileName") or "")[:FILE_NAME_MAX],
                    None if size is None else int(size),
                    int(auto),
                    ctx.session.user_id if ctx.session else "",
                    now,
                    now,
                ),
            )
            return self.token_object(self.token_row(token_id), ctx)

    def get(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """uploadToken.get."""
        with self.db.lock:
            return self.token_object(self.token_row(p.get_str("uploadTokenId", required=True)), ctx)

    def list_tokens(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """uploadToken.list with a KalturaUploadTokenFilter and a pager (see the module docstring)."""
        flt = p.obj("filter") or Params({})
        conditions: list[str] = ["status != ?"]
        args: list[Any] = [UPLOAD_DELETED]
        if ctx.session is None or ctx.session.session_type != SESSION_ADMIN:
            conditions.append("user_id = ?")
            args.append(ctx.session.user_id if ctx.session else "")
        for key, column in (
            ("idEqual", "id"),
            ("userIdEqual", "user_id"),
            ("statusEqual", "status"),
            ("fileNameEqual", "file_name"),
            ("fileSizeEqual", "file_size"),
        ):
            value = flt.get_str(key)
            if value:
                conditions.append(f"{column} = ?")
                args.append(_filter_value(column, value))
        statuses = flt.get_str("statusIn")
        by_name = flt.get_str("fileNameEqual")
        if by_name and not flt.get_str("statusEqual") and not statuses:
            statuses = f"{UPLOAD_PENDING},{UPLOAD_PARTIAL},{UPLOAD_FULL}"
        for column, text in (("id", flt.get_str("idIn")), ("status", statuses)):
            values = search.in_values(text)
            if values:
                conditions.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(_filter_value(column, v) for v in values)
        if by_name and flt.get_str("statusEqual") == str(UPLOAD_PARTIAL):
            conditions.append("updated_at >= ?")
            args.append(int(self.db.now()) - MAX_RESUME_TIME)
        size, index = search.pager_values(p.obj("pager"))
        where = " AND ".join(conditions)
        with self.db.lock:
            total = self.db.count("upload_tokens", where, args)
            rows = self.db.conn.execute(
                f"SELECT * FROM upload_tokens WHERE {where} ORDER BY {_token_order(flt.get_str('orderBy'))}"  # noqa: S608
                " LIMIT ? OFFSET ?",
                [*args, size, (index - 1) * size],
            ).fetchall()
            objects = [self.token_object(row, ctx) for row in rows]
        return {"objectType": "KalturaUploadTokenListResponse", "objects": objects, "totalCount": total}

    def delete(self, ctx: CallContext, p: Params) -> None:
        """uploadToken.delete."""
        with self.db.tx() as conn:
            row = self.token_row(p.get_str("uploadTokenId", required=True))
            conn.execute("UPDATE upload_tokens SET status = ? WHERE id = ?", (UPLOAD_DELETED, row["id"]))
        self._remove_files(row["id"])

    def _remove_files(self, token_id: str) -> None:
        """Delete a token's file and parked chunks."""
        for name in os.listdir(self.db.uploads_dir):
            if name == token_id or name.startswith(f"{token_id}.chunk."):
                os.remove(os.path.join(self.db.uploads_dir, name))

    def _writable(self, token_id: str) -> sqlite3.Row:
        """UploadTokenService::validateForUpload: the token exists, is PENDING or PARTIAL, and a
        PARTIAL token was touched within the maximum resume time."""
        row = self.token_row(token_id)
        if row["status"] == UPLOAD_PARTIAL and row["updated_at"] < self.db.now() - MAX_RESUME_TIME:
            raise KalturaAPIError("UPLOAD_PASSED_MAX_RESUME_TIME_ALLOWED", MAX_RESUME_TIME)
        if row["status"] not in (UPLOAD_PENDING, UPLOAD_PARTIAL):
            raise KalturaAPIError("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD")
        return row

    def upload(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """uploadToken.upload with resume / resumeAt / finalChunk (see the module docstring)."""
        data = ctx.files.get("fileData")
        if data is None:
            raise KalturaAPIError("MISSING_MANDATORY_PARAMETER", "fileData")
        part_name = ctx.file_names.get("fileData")
        if not part_name:
            raise KalturaAPIError("UPLOAD_ERROR")
        token_id = p.get_str("uploadTokenId", required=True) or ""
        resume = p.get_bool("resume")
        final = p.get_bool("finalChunk", True)
        resume_at = int(p.get_float("resumeAt", -1.0) or 0)
        expected: int | None = None
        with self.db.tx() as conn:
            row = self._writable(token_id)
            token_name = row["file_name"] or part_name
            if not row["file_name"]:
                conn.execute(
                    "UPDATE upload_tokens SET file_name = ? WHERE id = ?",
                    (part_name[:FILE_NAME_MAX], token_id),
                )
            size = _stream_size(data)
            if size == 0 and not final and resume_at > 0:
                return self.token_object(self.token_row(token_id), ctx)
            path = self.path(token_id)
            if resume:
                if not os.path.exists(path):
                    raise KalturaAPIError("UPLOAD_TOKEN_CANNOT_RESUME")
                if final and resume_at > 0:
                    expected = resume_at + size
                _write_chunk(path, data, resume_at)
            else:
                with open(path, "wb") as handle:
                    _copy(data, handle)
                _merge_pending(path)
                ext = _upload_extension(part_name, token_name)
                conn.execute("UPDATE upload_tokens SET file_ext = ? WHERE id = ?", (ext, token_id))
            current = os.path.getsize(path)
            if row["auto_finalize"] and row["file_size"] is not None and current >= row["file_size"]:
                final = True
                expected = row["file_size"] if resume and resume_at > 0 else expected
            if not final:
                self._set_state(conn, token_id, UPLOAD_PARTIAL, current)
                return self.token_object(self.token_row(token_id), ctx)
        if resume and resume_at > 0:
            time.sleep(float(self.db.settings.get("final_chunk_seconds") or 0.0))
        return self._finish(ctx, token_id, expected)

    def _finish(self, ctx: CallContext, token_id: str, expected: int | None) -> dict[str, Any]:
        """The final chunk's closure (kUploadTokenMgr::uploadedLockImpl): FULL, or a size or type error."""
        error: KalturaAPIError | None = None
        with self.db.tx() as conn:
            row = self._writable(token_id)
            path = self.path(token_id)
            _merge_pending(path)
            size = os.path.getsize(path)
            if expected is not None and size != expected:
                raise KalturaAPIError("UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE")
            if size and self.restricted(path, token_extension(row)):
                self._upload_failed(conn, row)
                error = KalturaAPIError("UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD")
            else:
                self._set_state(conn, token_id, UPLOAD_FULL, size, final_seen=True)
                if row["object_id"]:
                    self._upload_finished(conn, self.token_row(token_id))
                result = self.token_object(self.token_row(token_id), ctx)
        if error is not None:
            self._remove_files(token_id)
            raise error
        return result

    def restricted(self, path: str, ext: str) -> bool:
        """myUploadUtils::isFileTypeRestricted under the emulator's partner settings."""
        if not self.db.settings.get("file_type_restriction"):
            return False
        return filetypes.is_restricted(path, ext, self.db.settings.get("file_extensions_whitelist"))

    def _set_state(
        self, conn: sqlite3.Connection, token_id: str, status: int, size: int, final_seen: bool = False
    ) -> None:
        """Record a token's status and uploaded size."""
        conn.execute(
            "UPDATE upload_tokens SET status = ?, uploaded_size = ?, final_seen = ?, updated_at = ?"
            " WHERE id = ?",
            (status, size, int(final_seen), int(self.db.now()), token_id),
        )

    def _upload_failed(self, conn: sqlite3.Connection, row: sqlite3.Row) -> None:
        """kFlowHelper::handleUploadFailed: the token is DELETED; an attached IMPORTING flavor becomes
        ERROR (the entry stays as it is: a source flavor's ready behavior is NO_IMPACT by default)."""
        conn.execute("UPDATE upload_tokens SET status = ? WHERE id = ?", (UPLOAD_DELETED, row["id"]))
        if row["object_id"]:
            conn.execute(
                "UPDATE flavors SET status = ? WHERE id = ? AND status = ?",
                (store.FLAVOR_ERROR, row["object_id"], store.FLAVOR_IMPORTING),
            )

    def _upload_finished(self, conn: sqlite3.Connection, token: sqlite3.Row) -> None:
        """kFlowHelper::handleUploadFinished for a token attached to a source flavor: the flavor gets the
        file and its extension, goes QUEUED, conversion starts, the token is CLOSED."""
        flavor = conn.execute("SELECT * FROM flavors WHERE id = ?", (token["object_id"],)).fetchone()
        if flavor is None:
            return
        now = self.db.now()
        os.replace(self.path(token["id"]), os.path.join(self.db.content_dir, flavor["id"]))
        size = int(token["uploaded_size"])
        conn.execute(
            "UPDATE flavors SET status = ?, size_bytes = ?, size_kb = ?, content_kind = 'file',"
            " content_ref = ?, file_ext = ?, updated_at = ?, version = version + 1 WHERE id = ?",
            (
                store.FLAVOR_QUEUED if flavor["status"] == store.FLAVOR_IMPORTING else flavor["status"],
                size,
                store.reported_kb(flavor["id"], size),
                flavor["id"],
                token_extension(token),
                int(now),
                flavor["id"],
            ),
        )
        if flavor["status"] == store.FLAVOR_IMPORTING:
            self.db.start_conversion(conn, flavor["entry_id"], now)
        conn.execute("UPDATE upload_tokens SET status = ? WHERE id = ?", (UPLOAD_CLOSED, token["id"]))

    def attach(self, conn: sqlite3.Connection, entry: sqlite3.Row, token: sqlite3.Row) -> None:
        """media.addContent with an uploaded-file token resource on a NO_CONTENT entry."""
        now = self.db.now()
        flavor_id = store.random_id()
        if token["status"] != UPLOAD_FULL:
            self.db.insert_flavor(
                conn,
                flavor_id=flavor_id,
                entry_id=entry["id"],
                params_id=store.SOURCE_PARAMS_ID,
                is_original=True,
                status=store.FLAVOR_IMPORTING,
                size_bytes=0,
                kind="file",
                ref=flavor_id,
                ext="",
                now=int(now),
            )
            conn.execute(
                "UPDATE entries SET status = ?, updated_at = ? WHERE id = ?",
                (store.IMPORT, int(now), entry["id"]),
            )
            conn.execute("UPDATE upload_tokens SET object_id = ? WHERE id = ?", (flavor_id, token["id"]))
            return
        path = self.path(token["id"])
        if not os.path.exists(path):
            raise KalturaAPIError("UPLOADED_FILE_NOT_FOUND_BY_TOKEN")
        ext = token_extension(token)
        if self.restricted(path, ext):
            raise KalturaAPIError("FILE_CONTENT_NOT_SECURE")
        os.replace(path, os.path.join(self.db.content_dir, flavor_id))
        self.db.insert_flavor(
            conn,
            flavor_id=flavor_id,
            entry_id=entry["id"],
            params_id=store.SOURCE_PARAMS_ID,
            is_original=True,
            status=store.FLAVOR_QUEUED,
            size_bytes=token["uploaded_size"],
            kind="file",
            ref=flavor_id,
            ext=ext,
            now=int(now),
        )
        self.db.start_conversion(conn, entry["id"], now)
        conn.execute(
            "UPDATE upload_tokens SET status = ?, updated_at = ? WHERE id = ?",
            (UPLOAD_CLOSED, int(now), token["id"]),
        )


def token_extension(token: sqlite3.Row) -> str:
    """The extension of a token's upload file (tokens of older data dirs: from their fileName)."""
    return str(token["file_ext"] or filetypes.extension_of(token["file_name"]) or filetypes.NO_EXTENSION)


def _filter_value(column: str, value: str) -> Any:
    """A filter value as the column stores it (statuses and sizes are numbers)."""
    if column == "status":
        return search.status_value(value)
    if column == "file_size":
        try:
            return int(float(value))
        except ValueError:
            return value
    return value


def _token_order(order_by: str | None) -> str:
    """ORDER BY for an uploadToken.list orderBy: only createdAt sorts (UploadTokenFilter
    allowed_order_fields), ties in no fixed order; without it the primary key's order (the random id)."""
    parts = []
    for item in search.split_csv(order_by):
        column = _ORDER_COLUMNS.get(item.lstrip("+-"))
        if column:
            parts.append(f"{column} {'DESC' if item.startswith('-') else 'ASC'}")
    if not parts:
        return "id"
    prime = 2_147_483_647
    return ", ".join(
        [*parts, f"((rowid * {random.randrange(1, prime)} + {random.randrange(prime)}) % {prime})"]
    )


def _upload_extension(part_name: str, token_name: str) -> str:
    """kUploadTokenMgr::handleMoveFile: the part's extension; when it has none or is "tmp", the token
    fileName's (which defaults to the part's name); "noex" when still empty (getUploadPath)."""
    ext = filetypes.extension_of(part_name)
    if ext in ("", "tmp"):
        ext = filetypes.extension_of(token_name)
    return ext or filetypes.NO_EXTENSION


def _stream_size(data: IO[bytes]) -> int:
    """Bytes in an uploaded part (its position is restored)."""
    position = data.tell()
    data.seek(0, os.SEEK_END)
    size = data.tell()
    data.seek(position)
    return size


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    """Copy a stream in 1 MiB pieces."""
    while piece := source.read(1024 * 1024):
        target.write(piece)


def _write_chunk(path: str, data: IO[bytes], resume_at: int) -> None:
    """Write a resumed chunk at resume_at (-1: append); a chunk past the end waits as a parked file."""
    current = os.path.getsize(path)
    position = current if resume_at < 0 else resume_at
    if position > current:
        with open(f"{path}.chunk.{position}", "wb") as handle:
            _copy(data, handle)
        return
    with open(path, "r+b") as handle:
        handle.seek(position)
        _copy(data, handle)
    _merge_pending(path)


def _merge_pending(path: str) -> None:
    """Append parked chunks that have become contiguous with the file."""
    directory, name = os.path.split(path)
    while True:
        size = os.path.getsize(path)
        chunks = {
            int(other.rsplit(".", 1)[1]): other
            for other in os.listdir(directory)
            if other.startswith(f"{name}.chunk.")
        }
        ready = [offset for offset in chunks if offset <= size]
        if not ready:
            return
        offset = min(ready)
        chunk_path = os.path.join(directory, chunks[offset])
        with open(path, "r+b") as handle, open(chunk_path, "rb") as chunk:
            handle.seek(offset)
            _copy(chunk, handle)
        os.remove(chunk_path)
