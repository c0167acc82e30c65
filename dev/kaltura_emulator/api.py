"""Kaltura API v3 service actions implemented over the emulator store."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from dev.kaltura_emulator import rules, search, store
from dev.kaltura_emulator.errors import KalturaAPIError
from dev.kaltura_emulator.store import Store
from dev.kaltura_emulator.thumbs import Thumbs
from dev.kaltura_emulator.uploads import Uploads
from dev.kaltura_emulator.wire import Params

THUMB_READY = 2
SESSION_ADMIN = 2


@dataclass
class Session:
    """A decoded KS."""

    partner_id: int
    user_id: str
    session_type: int
    expiry: int
    privileges: str


@dataclass
class CallContext:
    """What a service action sees besides its parameters."""

    base_url: str
    session: Session | None = None
    files: dict[str, IO[bytes]] = field(default_factory=dict)
    file_names: dict[str, str | None] = field(default_factory=dict)


Handler = Callable[[CallContext, Params], Any]


def _sign(secret: str, info: str) -> str:
    """The KS v1 signature: hex sha1 of secret + info."""
    return hashlib.sha1(secret.encode() + info.encode(), usedforsecurity=False).hexdigest()


def make_ks(
    secret: str, partner_id: int, user_id: str, session_type: int, expiry: int, privileges: str
) -> str:
    """A version-1 KS signed with the partner secret (the format of KalturaClient.generateSession)."""
    nonce = random.randint(0, 0x10000)
    info = f"{partner_id};{partner_id};{expiry};{session_type};{nonce};{user_id};{privileges}"
    signature = _sign(secret, info)
    return base64.b64encode(f"{signature}|{info}".encode()).decode()


class Api:
    """Dispatches service/action calls; one instance serves the emulator's single partner."""

    def __init__(self, db: Store, partner_id: int, admin_secret: str, user_secret: str) -> None:
        self.db = db
        self.partner_id = partner_id
        self.admin_secret = admin_secret
        self.user_secret = user_secret
        self.search = search.SearchBuilder(db.distinct_tags)
        self.uploads = Uploads(db, partner_id)
        self.thumbs = Thumbs(self)
        self.handlers: dict[tuple[str, str], Handler] = {
            ("session", "start"): self.session_start,
            ("session", "end"): lambda ctx, p: None,
            ("media", "get"): self.media_get,
            ("media", "list"): self.media_list,
            ("media", "update"): self.media_update,
            ("media", "addcontent"): self.media_add_content,
            ("media", "updatethumbnail"): self.media_update_thumbnail,
            ("baseentry", "get"): self.media_get,
            ("baseentry", "list"): lambda ctx, p: {
                **self.media_list(ctx, p),
                "objectType": "KalturaBaseEntryListResponse",
            },
            ("elasticsearch_esearch", "searchentry"): self.esearch_entry,
            ("flavorasset", "list"): self.flavor_list,
            ("flavorasset", "get"): self.flavor_get,
            ("flavorasset", "getbyentryid"): self.flavor_get_by_entry,
            ("flavorasset", "getflavorassetswithparams"): self.flavor_with_params,
            ("flavorasset", "delete"): self.flavor_delete,
            ("flavorasset", "geturl"): self.flavor_url,
            ("flavorasset", "getdownloadurl"): self.flavor_url,
            ("uploadtoken", "add"): self.uploads.add,
            ("uploadtoken", "get"): self.uploads.get,
            ("uploadtoken", "list"): self.uploads.list_tokens,
            ("uploadtoken", "delete"): self.uploads.delete,
            ("uploadtoken", "upload"): self.uploads.upload,
            ("thumbasset", "generate"): self.thumb_generate,
            ("thumbasset", "getbyentryid"): self.thumb_by_entry,
            ("thumbasset", "addfromimage"): self.thumbs.add_from_image,
            ("thumbasset", "setasdefault"): self.thumbs.set_as_default,
        }
        self.services = {service for service, _ in self.handlers}

    def call(self, service: str, action: str, params: Params, ctx: CallContext) -> Any:
        """Run one action: check the service and the KS, then dispatch."""
        key = (service.lower(), action.lower())
        if key[0] not in self.services:
            raise KalturaAPIError("SERVICE_DOES_NOT_EXISTS", service)
        handler = self.handlers.get(key)
        if handler is None:
            raise KalturaAPIError("ACTION_DOES_NOT_EXISTS", action, service)
        if key != ("session", "start"):
            ctx.session = self.check_ks(params.get_str("ks") or "", f"{service}->{action}")
        self.db.settle()
        return handler(ctx, params)

    def check_ks(self, ks: str, service_action: str) -> Session:
        """Decode and validate a KS (SERVICE_FORBIDDEN without one, INVALID_KS when bad or expired)."""
        if not ks:
            raise KalturaAPIError("SERVICE_FORBIDDEN", service_action)
        try:
            decoded = base64.b64decode(ks.encode(), validate=False).decode()
            signature, info = decoded.split("|", 1)
            fields = info.split(";", 6)
            partner_id, expiry, session_type, user_id = (
                int(fields[0]),
                int(fields[2]),
                int(fields[3]),
                fields[5],
            )
            privileges = fields[6] if len(fields) > 6 else ""
        except (ValueError, IndexError, UnicodeDecodeError, binascii.Error) as exc:
            raise KalturaAPIError("INVALID_KS", ks, -1, "INVALID_STR") from exc
        if partner_id != self.partner_id:
            raise KalturaAPIError("INVALID_KS", ks, -2, "INVALID_PARTNER")
        expected = {_sign(secret, info) for secret in (self.admin_secret, self.user_secret)}
        if signature not in expected:
            raise KalturaAPIError("INVALID_KS", ks, -1, "INVALID_STR")
        if expiry < self.db.now():
            raise KalturaAPIError("INVALID_KS", ks, -5, "EXPIRED")
        return Session(partner_id, user_id, session_type, expiry, privileges)

    def session_start(self, ctx: CallContext, p: Params) -> str:
        """session.start: a KS for the partner when the secret matches."""
        partner_id = p.get_int("partnerId")
        secret = p.get_str("secret") or ""
        session_type = p.get_int("type", 0) or 0
        valid = {self.admin_secret} if session_type == 2 else {self.admin_secret, self.user_secret}
        if partner_id != self.partner_id or secret not in valid:
            raise KalturaAPIError("START_SESSION_ERROR", partner_id if partner_id is not None else "")
        expiry = p.get_int("expiry", 86400) or 86400
        override = self.db.settings.get("ks_expiry")
        if override is not None:
            expiry = int(override)
        signing = self.admin_secret if session_type == 2 else self.user_secret
        return make_ks(
            signing,
            self.partner_id,
            p.get_str("userId") or "",
            session_type,
            int(self.db.now()) + expiry,
            p.get_str("privileges") or "",
        )

    def _entry_row(self, entry_id: str | None) -> sqlite3.Row:
        """The entry row, or ENTRY_ID_NOT_FOUND (deleted entries are not found)."""
        row = self.db.conn.execute(
            "SELECT * FROM entries WHERE id = ? AND status != ?", (entry_id or "", store.DELETED)
        ).fetchone()
        if row is None:
            raise KalturaAPIError("ENTRY_ID_NOT_FOUND", entry_id or "")
        return row

    def entry_object(self, row: sqlite3.Row, ctx: CallContext, synced: bool = False) -> dict[str, Any]:
        """A KalturaMediaEntry as the client reads it.

        synced: list and search results show plays, views and lastPlayedAt as of the last daily sync;
        media.get shows the live values (entry::getPlays reads the plays/views cache).
        """
        prefix_played = "synced_" if synced else ""
        names = self.db.category_names()
        ids = [int(c) for c in row["categories_ids"].split(",") if c]
        prefix = f"{ctx.base_url}/p/{self.partner_id}/sp/{self.partner_id}00"
        return {
            "objectType": "KalturaMediaEntry",
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "partnerId": self.partner_id,
            "userId": row["user_id"],
            "creatorId": row["creator_id"],
            "tags": row["tags"],
            "categories": ",".join(names.get(c, f"category_{c}") for c in ids),
            "categoriesIds": row["categories_ids"],
            "status": row["status"],
            "moderationStatus": row["moderation_status"],
            "displayInSearch": row["display_in_search"],
            "type": 1,
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
            "downloadUrl": f"{prefix}/playManifest/entryId/{row['id']}/format/download/protocol/http",
            "version": row["version"],
            "thumbnailUrl": f"{prefix}/thumbnail/entry_id/{row['id']}/version/{row['thumb_version']}",
            "plays": row[f"{prefix_played}plays"],
            "views": row[f"{prefix_played}views"],
            "lastPlayedAt": row[f"{prefix_played}last_played_at"],
            "width": 1280 if row["media_type"] == 1 else 0,
            "height": 720 if row["media_type"] == 1 else 0,
            "duration": row["duration"],
            "msDuration": row["duration"] * 1000,
            "mediaType": row["media_type"],
            "dataUrl": f"{prefix}/playManifest/entryId/{row['id']}/format/url/protocol/http",
        }

    def media_get(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """media.get."""
        with self.db.lock:
            return self.entry_object(self._entry_row(p.get_str("entryId", required=True)), ctx)

    def media_list(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """media.list with KalturaMediaEntryFilter; offsets at or past 10,000 are refused like sphinx does."""
        where, args, order = self.search.media_filter(
            p.obj("filter"), self.reference_time(ctx), bool(self.db.settings.get("relative_time", True))
        )
        size, index = search.pager_values(p.obj("pager"))
        offset = (index - 1) * size
        if size and offset >= search.MAX_MATCHES:
            raise KalturaAPIError("QUERY_EXCEEDED_MAX_MATCHES_ALLOWED")
        limit = min(size, search.MAX_MATCHES - offset)
        return self._entry_page(ctx, where, args, order, limit, offset, "KalturaMediaListResponse")

    def reference_time(self, ctx: CallContext) -> float:
        """kTime::getTime: the KS `reftime` privilege, else the emulator clock."""
        reference = rules.reference_time(ctx.session.privileges) if ctx.session else None
        return float(reference) if reference is not None else self.db.now()

    def _entry_page(
        self, ctx: CallContext, where: str, args: list[Any], order: str, limit: int, offset: int, kind: str
    ) -> dict[str, Any]:
        """A list response of entries matching a WHERE clause (from the read replica when it lags)."""
        with self.db.lock:
            table = self.db.list_sql("entries e")
            where = self.db.list_sql(where)
            total = self.db.count(table, where, args)
            rows = self.db.conn.execute(
                f"SELECT e.* FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                [*args, limit, offset],
            ).fetchall()
            objects = [self.entry_object(row, ctx, synced=True) for row in rows]
        if kind == "KalturaESearchEntryResponse":
            results = [
                {"objectType": "KalturaESearchEntryResult", "object": obj, "highlight": [], "itemsData": []}
                for obj in objects
            ]
            return {"objectType": kind, "objects": results, "totalCount": total}
        return {"objectType": kind, "objects": objects, "totalCount": total}

    def esearch_entry(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """elasticsearch_esearch.searchEntry (plugins/search/providers/elastic_search/lib/model/search/
        kEntrySearch.php): objectStatuses empty means READY; RECYCLED and SYSTEM entries are hidden
        unless objectId names the entry (handleDisplayInSearch); moderation is not filtered."""
        params = p.obj("searchParams")
        if params is None:
            raise KalturaAPIError("MISSING_MANDATORY_PARAMETER", "searchParams")
        operator = params.obj("searchOperator")
        if operator is None:
            raise KalturaAPIError("EMPTY SEARCH OPERATOR IS NOT ALLOWED")
        size, index = search.pager_values(p.obj("pager"))
        if p.obj("pager") is not None and size * index > search.MAX_MATCHES:
            raise KalturaAPIError("CRITERIA EXCEEDED MAX MATCHES ALLOWED")
        where, args = self.search.esearch(operator)
        statuses: list[Any] = [
            search.status_value(s) for s in search.split_csv(params.get_str("objectStatuses"))
        ]
        statuses = statuses or [store.READY]
        status_sql = f"e.status IN ({','.join('?' * len(statuses))})"
        conditions, all_args = [status_sql, f"({where})"], [*statuses, *args]
        object_id = params.get_str("objectId")
        if object_id:
            conditions.append("e.id = ?")
            all_args.append(object_id)
        else:
            hidden = ",".join(str(v) for v in rules.HIDDEN_DISPLAY)
            conditions.append(f"e.display_in_search NOT IN ({hidden})")
        order = search.esearch_order(params.obj("orderBy"))
        return self._entry_page(
            ctx,
            " AND ".join(conditions),
            all_args,
            order,
            size,
            (index - 1) * size,
            "KalturaESearchEntryResponse",
        )

    def media_update(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """media.update: tags, name and description.

        Tags are stored as ktagword::tagsListFromParagraph leaves them (rules.normalise_tags); "" clears
        them, while a null value changes nothing (entry::setTags returns early on null).
        """
        entry_id = p.get_str("entryId", required=True)
        update = p.obj("mediaEntry", required=True)
        assert update is not None
        now = int(self.db.now())
        with self.db.tx() as conn:
            self._entry_row(entry_id)
            tags = update.get_str("tags")
            if tags is not None:
                self.db.set_tags(conn, entry_id or "", rules.normalise_tags(tags))
            for key, column in (("name", "name"), ("description", "description")):
                if update.has(key):
                    sql = f"UPDATE entries SET {column} = ? WHERE id = ?"  # noqa: S608
                    conn.execute(sql, (update.get_str(key), entry_id))
            conn.execute("UPDATE entries SET updated_at = ? WHERE id = ?", (now, entry_id))
            return self.entry_object(self._entry_row(entry_id), ctx)

    def media_add_content(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """media.addContent (api_v3/services/MediaService.php addContentAction): NO_CONTENT entries only;
        a FULL token's file becomes the QUEUED source and the entry converts (PRECONVERT, then READY); a
        token not FULL yet leaves the entry IMPORT until its upload ends (see uploads.py)."""
        entry_id = p.get_str("entryId", required=True) or ""
        resource = p.obj("resource", required=True)
        assert resource is not None
        with self.db.tx() as conn:
            row = self._entry_row(entry_id)
            if row["status"] != store.NO_CONTENT:
                raise KalturaAPIError("ENTRY_ALREADY_WITH_CONTENT")
            if resource.object_type() != "KalturaUploadedFileTokenResource":
                raise KalturaAPIError("RESOURCE_TYPE_NOT_SUPPORTED", resource.object_type())
            if not resource.get_str("token"):
                raise KalturaAPIError(
                    "PROPERTY_VALIDATION_CANNOT_BE_NULL", "KalturaUploadedFileTokenResource::token"
                )
            self.uploads.attach(conn, row, self.uploads.token_row(resource.get_str("token")))
            return self.entry_object(self._entry_row(entry_id), ctx)

    def media_update_thumbnail(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """media.updateThumbnail (KalturaEntryService::updateThumbnailForEntryFromSourceEntry and
        myEntryUtils::createThumbnailFromEntry).

        A non-admin KS must own the entry (PERMISSION_DENIED_TO_UPDATE_ENTRY). Video: the frame comes from
        the flavor of flavorParamsId if READY, else the source, else the highest-bitrate flavor; none, or
        one without a file, makes the capture fail (INTERNAL_SERVERL_ERROR). An offset past the end is
        retried at 0 (myFileConverter::autoCaptureFrame). Images copy their data; audio entries fail.
        The entry's status is not checked.
        """
        entry_id = p.get_str("entryId", required=True)
        offset = p.get_int("timeOffset", required=True)
        params_id = p.get_int("flavorParamsId")
        with self.db.tx() as conn:
            row = self._entry_row(entry_id)
            session = ctx.session
            owner = session.user_id.lower() if session is not None else ""
            not_admin = session is not None and session.session_type != SESSION_ADMIN
            if not_admin and row["user_id"].lower() != owner:
                raise KalturaAPIError("PERMISSION_DENIED_TO_UPDATE_ENTRY")
            if row["media_type"] == 1 and offset != -1:
                self._capture_source(conn, row["id"], params_id)
            elif row["media_type"] not in (1, 2):
                raise KalturaAPIError("INTERNAL_SERVERL_ERROR")
            self._insert_thumb(conn, entry_id or "")
            conn.execute(
                "UPDATE entries SET thumb_version = thumb_version + 1, default_thumb_id = NULL WHERE id = ?",
                (entry_id,),
            )
            return self.entry_object(self._entry_row(entry_id), ctx)

    def _capture_source(self, conn: sqlite3.Connection, entry_id: str, params_id: int | None) -> None:
        """The flavor a thumbnail is captured from must exist and have its file."""
        live = f"entry_id = ? AND status != {store.FLAVOR_DELETED}"
        flavor = None
        if params_id is not None:
            flavor = conn.execute(
                f"SELECT * FROM flavors WHERE {live} AND flavor_params_id = ? AND status = ?"  # noqa: S608
                " ORDER BY seq DESC LIMIT 1",
                (entry_id, params_id, store.FLAVOR_READY),
            ).fetchone()
        if flavor is None:
            flavor = conn.execute(
                f"SELECT * FROM flavors WHERE {live} AND is_original = 1 ORDER BY seq DESC LIMIT 1",  # noqa: S608
                (entry_id,),
            ).fetchone()
        if flavor is None:
            flavor = conn.execute(
                f"SELECT * FROM flavors WHERE {live} ORDER BY bitrate DESC, seq DESC LIMIT 1",  # noqa: S608
                (entry_id,),
            ).fetchone()
        if flavor is None or flavor["status"] not in store.FLAVOR_WITH_FILE or not flavor["size_bytes"]:
            raise KalturaAPIError("INTERNAL_SERVERL_ERROR")

    def _insert_thumb(self, conn: sqlite3.Connection, entry_id: str) -> dict[str, Any]:
        """Insert a READY thumbnail asset for an entry."""
        thumb_id = store.random_id()
        now = int(self.db.now())
        conn.execute(
            "INSERT INTO thumbs (id, entry_id, status, width, height, size_bytes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (thumb_id, entry_id, THUMB_READY, 1280, 720, 48213, now),
        )
        return self._thumb_object(conn.execute("SELECT * FROM thumbs WHERE id = ?", (thumb_id,)).fetchone())

    def _thumb_object(self, row: sqlite3.Row) -> dict[str, Any]:
        """A KalturaThumbAsset."""
        return {
            "objectType": "KalturaThumbAsset",
            "id": row["id"],
            "entryId": row["entry_id"],
            "partnerId": self.partner_id,
            "version": 1,
            "size": max(1, row["size_bytes"] // 1024),
            "sizeInBytes": row["size_bytes"],
            "fileExt": row["file_ext"],
            "tags": row["tags"],
            "createdAt": row["created_at"],
            "updatedAt": row["created_at"],
            "thumbParamsId": 0,
            "width": row["width"],
            "height": row["height"],
            "status": row["status"],
        }

    def _thumb_source_check(self, row: sqlite3.Row) -> None:
        """Thumbnail generation needs a video entry in ERROR_CONVERTING/PRECONVERT/READY with a source."""
        if row["media_type"] != 1:
            raise KalturaAPIError("ENTRY_MEDIA_TYPE_NOT_SUPPORTED", row["media_type"])
        if row["status"] not in (store.ERROR_CONVERTING, store.PRECONVERT, store.READY):
            raise KalturaAPIError("INVALID_ENTRY_STATUS")
        source = self.db.conn.execute(
            "SELECT id FROM flavors WHERE entry_id = ? AND is_original = 1 AND status IN (?, ?)",
            (row["id"], store.FLAVOR_READY, store.FLAVOR_QUEUED),
        ).fetchone()
        if source is None:
            raise KalturaAPIError("THUMB_ASSET_IS_NOT_READY")

    def thumb_generate(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """thumbAsset.generate."""
        entry_id = p.get_str("entryId", required=True)
        with self.db.tx() as conn:
            self._thumb_source_check(self._entry_row(entry_id))
            thumb = self._insert_thumb(conn, entry_id or "")
            conn.execute("UPDATE entries SET thumb_version = thumb_version + 1 WHERE id = ?", (entry_id,))
            return thumb

    def thumb_by_entry(self, ctx: CallContext, p: Params) -> list[dict[str, Any]]:
        """thumbAsset.getByEntryId."""
        entry_id = p.get_str("entryId", required=True)
        with self.db.lock:
            self._entry_row(entry_id)
            rows = self.db.conn.execute("SELECT * FROM thumbs WHERE entry_id = ? ORDER BY seq", (entry_id,))
            return [self._thumb_object(row) for row in rows.fetchall()]

    def flavor_object(self, row: sqlite3.Row) -> dict[str, Any]:
        """A KalturaFlavorAsset: size in KB as Kaltura reports it (inexact) plus exact sizeInBytes, which is
        0 for flavors written before it existed (asset::getSizeInBytes, rules.SIZE_IN_BYTES_SINCE)."""
        original = bool(row["is_original"])
        return {
            "objectType": "KalturaFlavorAsset",
            "id": row["id"],
            "entryId": row["entry_id"],
            "partnerId": self.partner_id,
            "version": row["version"],
            "size": row["size_kb"],
            "tags": "source" if original else "mobile,web,mbr,iphone",
            "fileExt": row["file_ext"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
            "deletedAt": row["deleted_at"],
            "description": "",
            "sizeInBytes": row["size_bytes"] if row["bytes_recorded"] else 0,
            "flavorParamsId": row["flavor_params_id"],
            "width": row["width"],
            "height": row["height"],
            "bitrate": row["bitrate"],
            "frameRate": 25.0 if row["file_ext"] == "mp4" else 0.0,
            "isOriginal": original,
            "isWeb": not original,
            "containerFormat": "isom" if row["file_ext"] == "mp4" else row["file_ext"],
            "videoCodecId": "avc1" if row["file_ext"] == "mp4" else "",
            "status": row["status"],
            "language": "Undefined",
            "isDefault": False,
        }

    def _flavor_row(self, flavor_id: str | None) -> sqlite3.Row:
        """A non-deleted flavor row or FLAVOR_ASSET_ID_NOT_FOUND."""
        row = self.db.conn.execute(
            "SELECT * FROM flavors WHERE id = ? AND status != ?", (flavor_id or "", store.FLAVOR_DELETED)
        ).fetchone()
        if row is None:
            raise KalturaAPIError("FLAVOR_ASSET_ID_NOT_FOUND", flavor_id or "")
        return row

    def flavor_list(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """flavorAsset.list (api_v3/types/conversionProfile/filters/KalturaAssetFilter.php).

        entryIdEqual or entryIdIn is required (validateEntryIdsFiltered); entryIdIn keeps its first 500
        ids and only entries that exist and are not deleted
        (entryPeer::filterEntriesByPartnerOrKalturaNetwork); DELETED flavors are hidden unless a status
        filter asks for them. Reads come from the read replica when it lags.
        """
        flt = p.obj("filter") or Params({})
        entry_ids = self._filtered_entry_ids(flt)
        if not entry_ids:
            return {"objectType": "KalturaFlavorAssetListResponse", "objects": [], "totalCount": 0}
        conditions = [f"entry_id IN ({','.join('?' * len(entry_ids))})"]
        args: list[Any] = list(entry_ids)
        for key, column in (
            ("idEqual", "id"),
            ("statusEqual", "status"),
            ("flavorParamsIdEqual", "flavor_params_id"),
        ):
            value = flt.get_str(key)
            if value is not None and value != "":
                conditions.append(f"{column} = ?")
                args.append(search.status_value(value))
        for key, column, negate in (
            ("idIn", "id", False),
            ("statusIn", "status", False),
            ("statusNotIn", "status", True),
            ("flavorParamsIdIn", "flavor_params_id", False),
        ):
            values = search.in_values(flt.get_str(key))
            if values is not None:
                marks = ",".join("?" * len(values)) or "NULL"
                conditions.append(f"{column} {'NOT IN' if negate else 'IN'} ({marks})")
                args.extend(search.status_value(v) for v in values)
        if not any(flt.has(k) for k in ("statusEqual", "statusIn")):
            conditions.append(f"status != {store.FLAVOR_DELETED}")
        size, index = search.pager_values(p.obj("pager"))
        with self.db.lock:
            table = self.db.list_sql("flavors")
            where = " AND ".join(conditions)
            total = self.db.count(table, where, args)
            rows = self.db.conn.execute(
                f"SELECT * FROM {table} WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",  # noqa: S608
                [*args, size, (index - 1) * size],
            ).fetchall()
        return {
            "objectType": "KalturaFlavorAssetListResponse",
            "objects": [self.flavor_object(row) for row in rows],
            "totalCount": total,
        }

    def _filtered_entry_ids(self, flt: Params) -> list[str]:
        """KalturaAssetFilter::validateEntryIdsFiltered and retrieveEntryIdsFiltered, then
        entryPeer::filterEntriesByPartnerOrKalturaNetwork (first 500, existing entries only)."""
        equal = flt.get_str("entryIdEqual")
        given = flt.get_str("entryIdIn")
        if not equal and not given:
            name = "KalturaFlavorAssetFilter"
            raise KalturaAPIError(
                "PROPERTY_VALIDATION_CANNOT_BE_NULL", f"{name}::entryIdEqual/{name}::entryIdIn"
            )
        ids = [equal] if equal else list(dict.fromkeys((given or "").split(",")))[: rules.SQL_MAX_IN_VALUES]
        with self.db.lock:
            table = self.db.list_sql("entries")
            rows = self.db.conn.execute(
                f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(ids))}) AND status != ?",  # noqa: S608
                [*ids, store.DELETED],
            ).fetchall()
        found = {row[0] for row in rows}
        return [entry_id for entry_id in ids if entry_id in found]

    def flavor_get(self, ctx: CallContext, p: Params) -> dict[str, Any]:
        """flavorAsset.get."""
        with self.db.lock:
            return self.flavor_object(self._flavor_row(p.get_str("id", required=True)))

    def flavor_get_by_entry(self, ctx: CallContext, p: Params) -> list[dict[str, Any]]:
        """flavorAsset.getByEntryId."""
        entry_id = p.get_str("entryId", required=True)
        with self.db.lock:
            self._entry_row(entry_id)
            rows = self.db.conn.execute(
                "SELECT * FROM flavors WHERE entry_id = ? AND status != ? ORDER BY seq",
                (entry_id, store.FLAVOR_DELETED),
            ).fetchall()
            return [self.flavor_object(row) for row in rows]

    def flavor_with_params(self, ctx: CallContext, p: Params) -> list[dict[str, Any]]:
        """flavorAsset.getFlavorAssetsWithParams: every live flavor with its flavor params."""
        entry_id = p.get_str("entryId", required=True)
        result = []
        for flavor in self.flavor_get_by_entry(ctx, p):
            params_id = flavor["flavorParamsId"]
            params = {
                "objectType": "KalturaFlavorParams",
                "id": params_id,
                "partnerId": 0,
                "name": store.FLAVOR_PARAMS_NAMES.get(params_id, f"flavor {params_id}"),
                "systemName": "",
                "tags": flavor["tags"],
                "isSystemDefault": 1,
                "width": flavor["width"],
                "height": flavor["height"],
                "videoBitrate": flavor["bitrate"],
                "format": flavor["fileExt"],
            }
            result.append(
                {
                    "objectType": "KalturaFlavorAssetWithParams",
                    "flavorAsset": flavor,
                    "flavorParams": params,
                    "entryId": entry_id,
                }
            )
        return result

    def flavor_delete(self, ctx: CallContext, p: Params) -> None:
        """flavorAsset.delete: DELETED; an entry left with no READY flavor becomes NO_CONTENT."""
        flavor_id = p.get_str("id", required=True)
        now = int(self.db.now())
        with self.db.tx() as conn:
            row = self._flavor_row(flavor_id)
            conn.execute(
                "UPDATE flavors SET status = ?, deleted_at = ?, updated_at = ? WHERE id = ?",
                (store.FLAVOR_DELETED, now, now, flavor_id),
            )
            left = conn.execute(
                "SELECT COUNT(*) FROM flavors WHERE entry_id = ? AND status = ?",
                (row["entry_id"], store.FLAVOR_READY),
            ).fetchone()[0]
            if not left:
                conn.execute(
                    "UPDATE entries SET status = ?, conversion_ready_at = NULL, updated_at = ? WHERE id = ?"
                    " AND status != ?",
                    (store.NO_CONTENT, now, row["entry_id"], store.DELETED),
                )

    def flavor_url(self, ctx: CallContext, p: Params) -> str:
        """flavorAsset.getUrl / getDownloadUrl: a URL on the emulator serving the flavor's exact bytes."""
        with self.db.lock:
            row = self._flavor_row(p.get_str("id", required=True))
        if row["status"] != store.FLAVOR_READY:
            raise KalturaAPIError("FLAVOR_ASSET_IS_NOT_READY")
        return download_url(ctx.base_url, self.partner_id, row["entry_id"], row["id"], row["file_ext"])


def download_url(base_url: str, partner_id: int, entry_id: str, flavor_id: str, ext: str) -> str:
    """The emulator URL serving a flavor's bytes."""
    return (
        f"{base_url}/p/{partner_id}/sp/{partner_id}00/playManifest/entryId/{entry_id}"
        f"/flavorId/{flavor_id}/format/url/protocol/http/a.{ext}"
    )
