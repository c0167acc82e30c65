"""Deterministic content generator: the bytes of a virtual file of any size, keyed by a string.

Two kinds: "gen" (the first version: pseudo-random blocks, kept for data dirs seeded with it) and
"mp4" (the same blocks, but the file starts with an ISO media `ftyp` box, so the upload file-type
check sniffs it as video/mp4 when an archived copy is uploaded back).
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterator
from functools import lru_cache

BLOCK = 64 * 1024
FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42"
KINDS = ("gen", "mp4")


@lru_cache(maxsize=256)
def _block(key: str) -> bytes:
    """The 64 KiB pseudo-random block of a key."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return random.Random(seed).randbytes(BLOCK)


def _chunk(key: str, index: int, kind: str = "gen") -> bytes:
    """Block number `index` of the key's content: the key's block stamped with the index."""
    block = _block(key)
    if index == 0 and kind == "mp4":
        return FTYP + block[len(FTYP) :]
    return struct.pack(">Q", index) + block[8:]


def iter_bytes(
    key: str, size: int, start: int = 0, end: int | None = None, kind: str = "gen"
) -> Iterator[bytes]:
    """Yield the bytes [start, end) of the virtual file (key, size) in pieces of at most 64 KiB."""
    stop = size if end is None else min(end, size)
    pos = start
    while pos < stop:
        index, offset = divmod(pos, BLOCK)
        piece = _chunk(key, index, kind)[offset : min(BLOCK, offset + stop - pos)]
        yield piece
        pos += len(piece)


def read_bytes(key: str, size: int, start: int = 0, end: int | None = None, kind: str = "gen") -> bytes:
    """Return the bytes [start, end) of the virtual file (key, size)."""
    return b"".join(iter_bytes(key, size, start, end, kind))


def sha256_of(key: str, size: int, kind: str = "gen") -> str:
    """Hex sha256 of the whole virtual file (key, size)."""
    digest = hashlib.sha256()
    full, rest = divmod(size, BLOCK)
    block = _block(key)
    tail = block[8:]
    for index in range(full):
        if index == 0 and kind == "mp4":
            digest.update(_chunk(key, 0, kind))
            continue
        digest.update(struct.pack(">Q", index))
        digest.update(tail)
    if rest:
        digest.update(_chunk(key, full, kind)[:rest])
    return digest.hexdigest()


def sha256_file(path: str) -> str:
    """Hex sha256 of a file on disk."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
