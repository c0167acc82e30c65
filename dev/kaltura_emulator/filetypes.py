"""The partner file-type restriction on uploads (FEATURE_FILE_TYPE_RESTRICTION_PERMISSION).

alpha/apps/kaltura/lib/myUploadUtils.class.php `isFileTypeRestricted`: a file is restricted when its
content type (libmagic) is not in `[file_type] allowed` of configurations/base.ini
(`checkIfFileIsAllowed`, which also refuses the EICAR test file) or its extension is not in the
`file_extensions_whitelist` of the security map (`checkIfExtensionIsAllowed`; an empty extension passes).
The content type here comes from a small signature sniffer covering the media formats libmagic reports
as allowed types; anything it does not recognise is application/octet-stream, which is not allowed.
"""

from __future__ import annotations

import hashlib
import os

# A subset of configurations/base.ini [file_type] allowed[]: the types the sniffer can report.
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/x-gzip",
        "application/xml",
        "application/json",
        "audio/mp4",
        "audio/mpeg",
        "audio/x-wav",
        "audio/ogg",
        "audio/x-m4a",
        "image/jpeg",
        "image/gif",
        "image/png",
        "image/tiff",
        "image/webp",
        "text/plain",
        "video/3gpp",
        "video/mp2t",
        "video/mp4",
        "video/mpeg",
        "video/quicktime",
        "video/webm",
        "video/x-flv",
        "video/x-ms-asf",
        "video/x-msvideo",
        "video/x-m4v",
        "video/x-matroska",
        "video/ogg",
    }
)

# The emulator's default `file_extensions_whitelist` (the security map entry is deployment
# configuration; this list covers the media a video platform accepts).
DEFAULT_EXTENSION_WHITELIST = (
    "3gp",
    "aac",
    "asf",
    "avi",
    "flac",
    "flv",
    "gif",
    "jpeg",
    "jpg",
    "m2ts",
    "m4a",
    "m4v",
    "mkv",
    "mov",
    "mp3",
    "mp4",
    "mpeg",
    "mpg",
    "mts",
    "ogg",
    "ogv",
    "png",
    "ts",
    "wav",
    "webm",
    "wmv",
)

EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
EICAR_MIN_FILE_SIZE, EICAR_MAX_FILE_SIZE = 68, 128
SNIFF_BYTES = 4096
NO_EXTENSION = "noex"  # kUploadTokenMgr::NO_EXTENSION_IDENTIFIER


def _ftyp_type(head: bytes) -> str:
    """The type of an ISO base media file from its ftyp brand."""
    brand = head[8:12]
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"M4A ", b"M4B "):
        return "audio/x-m4a"
    if brand == b"M4V ":
        return "video/x-m4v"
    if brand.startswith(b"3gp"):
        return "video/3gpp"
    return "video/mp4"


def _riff_type(head: bytes) -> str:
    """The type of a RIFF file from its form type."""
    return {b"AVI ": "video/x-msvideo", b"WAVE": "audio/x-wav", b"WEBP": "image/webp"}.get(
        head[8:12], "application/octet-stream"
    )


_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"FLV\x01", "video/x-flv"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-asf"),
    (0, b"\x00\x00\x01\xba", "video/mpeg"),
    (0, b"\x00\x00\x01\xb3", "video/mpeg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b", "application/x-gzip"),
)


def sniff(head: bytes) -> str:
    """A libmagic-like content type of a file from its first bytes."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _ftyp_type(head)
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _riff_type(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/x-matroska" if b"matroska" in head[:64] else "video/webm"
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return "video/mp2t"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"
    if head.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        return "application/xml"
    if head and _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    """Whether the bytes look like UTF-8 text without control characters other than whitespace."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\n\r\f" for ch in text)


def content_allowed(path: str) -> bool:
    """myUploadUtils::checkIfFileIsAllowed: the sniffed type is allowed and the file is not EICAR."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    kind = sniff(head)
    if kind == "text/plain":
        size = os.path.getsize(path)
        if EICAR_MIN_FILE_SIZE <= size <= EICAR_MAX_FILE_SIZE:
            with open(path, "rb") as handle:
                data = handle.read().strip()
            if hashlib.md5(data, usedforsecurity=False).hexdigest() == EICAR_MD5:
                return False
    return kind in ALLOWED_TYPES


def extension_of(name: str | None) -> str:
    """PHP pathinfo(PATHINFO_EXTENSION), lower-cased: the text after the last dot of the base name."""
    base = os.path.basename(name or "")
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def extension_allowed(ext: str, whitelist: list[str] | None) -> bool:
    """myUploadUtils::checkIfExtensionIsAllowed: no whitelist or an empty extension passes."""
    return not whitelist or ext == "" or ext in {w.lower() for w in whitelist}


def is_restricted(path: str, ext: str, whitelist: list[str] | None) -> bool:
    """myUploadUtils::isFileTypeRestricted for a partner with the restriction permission."""
    return not content_allowed(path) or not extension_allowed(ext, whitelist)
