"""Thumbnail assets from an uploaded image, and the entry's default thumbnail.

* `thumbAsset.addFromImage` (api_v3/services/ThumbAssetService.php `addFromImageAction`): the entry
  must exist; under the partner's file-type restriction the image's extension must be one of
  `image_file_ext` (configurations/base.ini) and its content must pass
  myUploadUtils::isFileTypeRestricted, else FILE_CONTENT_NOT_SECURE. The asset is READY with the
  image's width, height and byte size (getimagesize, kFileBase::fileSize). It becomes the default
  only when the entry has no content and this is its only thumbnail - never for a READY video, so a
  caller that wants it shown calls setAsDefault.
* `thumbAsset.setAsDefault` (same service, kBusinessConvertDL::setAsDefaultThumbAsset,
  entry::setCreateThumb, assetPeer::removeThumbAssetDeafultTags): the asset gets the tag
  `default_thumb` (thumbParams::TAG_DEFAULT_THUMB), every other thumbnail of the entry loses it, the
  entry's thumbnail becomes a link to the asset's file (a new thumbnail version) and the entry stops
  capturing thumbnails on its own.
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tempfile
from typing import TYPE_CHECKING, Any

from dev.kaltura_emulator import filetypes, store
from dev.kaltura_emulator.errors import KalturaAPIError
from dev.kaltura_emulator.wire import Params

if TYPE_CHECKING:
    from dev.kaltura_emulator.api import Api, CallContext

DEFAULT_THUMB_TAG = "default_thumb"
IMAGE_FILE_EXT = ("jpg", "jpeg", "bmp", "png", "gif", "tif", "tiff")
THUMB_READY = 2
THUMB_DELETED = 3


def image_size(data: bytes) -> tuple[int, int]:
    """PHP getimagesize's width and height (0, 0 when the data is not an image)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except UnidentifiedImageError:
        return 0, 0


class Thumbs:
    """The thumbAsset actions that work from images and defaults."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.db = api.db

    def add_from_image(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """thumbAsset.addFromImage (see the module docstring)."""
        entry_id = p.get_str("entryId", required=True) or ""
        upload = ctx.files.get("fileData")
        if upload is None:
            raise KalturaAPIError("MISSING_MANDATORY_PARAMETER", "fileData")
        data = upload.read()
        name = ctx.file_names.get("fileData") or ""
        ext = filetypes.extension_of(name)
        with self.db.tx() as conn:
            entry = self.api._entry_row(entry_id)
            if self.db.settings.get("file_type_restriction") and (
                ext not in IMAGE_FILE_EXT or self._restricted(data, ext)
            ):
                raise KalturaAPIError("FILE_CONTENT_NOT_SECURE")
            width, height = image_size(data)
            thumb_id = store.random_id()
            conn.execute(
                "INSERT INTO thumbs (id, entry_id, status, width, height, size_bytes, created_at, tags,"
                " file_ext, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                (
                    thumb_id,
                    entry_id,
                    THUMB_READY,
                    width,
                    height,
                    len(data),
                    int(self.db.now()),
                    ext,
                    hashlib.sha256(data).hexdigest(),
                ),
            )
            count = conn.execute(
                "SELECT COUNT(*) FROM thumbs WHERE entry_id = ? AND status != ?", (entry_id, THUMB_DELETED)
            ).fetchone()[0]
            if entry["status"] == store.NO_CONTENT and count == 1:
                self._set_default(conn, thumb_id, entry_id)
            return self.api._thumb_object(self._row(conn, thumb_id))

    def set_as_default(self, ctx: CallContext, p: Params) -> None:
        """thumbAsset.setAsDefault (see the module docstring); the action returns nothing."""
        thumb_id = p.get_str("thumbAssetId", required=True) or ""
        with self.db.tx() as conn:
            row = self._row(conn, thumb_id)
            self.api._entry_row(row["entry_id"])
            self._set_default(conn, thumb_id, row["entry_id"])

    def _row(self, conn: sqlite3.Connection, thumb_id: str) -> sqlite3.Row:
        row = conn.execute(
            "SELECT * FROM thumbs WHERE id = ? AND status != ?", (thumb_id, THUMB_DELETED)
        ).fetchone()
        if row is None:
            raise KalturaAPIError("THUMB_ASSET_ID_NOT_FOUND", thumb_id)
        return row

    def _set_default(self, conn: sqlite3.Connection, thumb_id: str, entry_id: str) -> None:
        conn.execute(
            "UPDATE thumbs SET tags = ? WHERE entry_id = ? AND id != ? AND tags = ?",
            ("", entry_id, thumb_id, DEFAULT_THUMB_TAG),
        )
        conn.execute("UPDATE thumbs SET tags = ? WHERE id = ?", (DEFAULT_THUMB_TAG, thumb_id))
        conn.execute(
            "UPDATE entries SET thumb_version = thumb_version + 1, default_thumb_id = ? WHERE id = ?",
            (thumb_id, entry_id),
        )

    def _restricted(self, data: bytes, ext: str) -> bool:
        with tempfile.NamedTemporaryFile(suffix=f".{ext}", delete=False) as handle:
            handle.write(data)
        try:
            return filetypes.is_restricted(
                handle.name, ext, self.db.settings.get("file_extensions_whitelist")
            )
        finally:
            os.unlink(handle.name)
