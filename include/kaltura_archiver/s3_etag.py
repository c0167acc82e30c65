"""S3 ETags as proof of content equality, for archives written by the old tool (which have no manifest).

S3 documents two ETag forms (docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, "ETag"):

* an object uploaded by one PUT (or a copy) with no encryption or SSE-S3: the hex MD5 of its bytes;
* an object uploaded in parts: ``hex(MD5(MD5(part 1) || ... || MD5(part N)))-N``, so reproducing it
  needs the part size the uploader used (all parts equal but the last);
* an object encrypted with SSE-KMS (or DSSE-KMS) or SSE-C: an ETag that is not an MD5 of the content.

The old tool uploaded with boto3 (s3transfer: `multipart_threshold` and `multipart_chunksize` both
8 MiB by default, the AWS CLI's defaults too), so its archives under 8 MiB are single-part and bigger
ones have 8 MiB parts. Other part sizes are tried when the part count rules 8 MiB out: common tool
defaults and sizes derived from object size / N. ``HEAD ?partNumber=1`` gives the exact first part
size when S3 answers it, which makes a mismatch final instead of "no proof".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024
MIN_PART_BYTES = 5 * MIB
"""S3's smallest part (all but the last)."""
BOTO3_PART_BYTES = 8 * MIB
"""boto3 / s3transfer / AWS CLI default `multipart_chunksize` (and `multipart_threshold`)."""
COMMON_PART_SIZES = (BOTO3_PART_BYTES, 5 * MIB, 16 * MIB, 15 * MIB, 10 * MIB, 64 * MIB, 100 * MIB)
"""boto3 first, then other tools' defaults (s3cmd 15 MiB, rclone 5 MiB, ...) and round sizes."""
MAX_CANDIDATES = 6
NON_MD5_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})
"""Server-side encryption values whose objects have an ETag that is not an MD5 of the content."""
_ETAG = re.compile(r"^([0-9a-f]{32})(?:-([1-9][0-9]{0,4}))?$")

SAME = "same"
DIFFERENT = "different"
UNPROVEN = "unproven"


@dataclass(frozen=True)
class ParsedEtag:
    """An MD5-based ETag: the hex digest and, for a multipart object, its part count."""

    md5_hex: str
    parts: int | None

    @property
    def multipart(self) -> bool:
        """True for the ``md5-of-md5s-N`` form."""
        return self.parts is not None


def parse_etag(etag: str | None) -> ParsedEtag | None:
    """The ETag's MD5 form, or None when it has neither documented MD5 shape."""
    if not etag:
        return None
    found = _ETAG.match(etag.strip().strip('"').lower())
    if found is None:
        return None
    return ParsedEtag(found.group(1), int(found.group(2)) if found.group(2) else None)


def etag_not_md5_reason(server_side_encryption: str | None, customer_algorithm: str | None) -> str:
    """Why an object's ETag cannot be an MD5 of its content (SSE-KMS, SSE-C); '' when it can be."""
    if customer_algorithm:
        return f"the object is encrypted with a customer key (SSE-C {customer_algorithm})"
    if server_side_encryption and server_side_encryption.lower() in NON_MD5_ENCRYPTION:
        return f"the object is encrypted with {server_side_encryption} (SSE-KMS)"
    return ""


def part_count(size: int, part_size: int) -> int:
    """How many parts `size` bytes make with parts of `part_size` (at least one)."""
    return max(1, -(-size // part_size))


def fits(size: int, parts: int, part_size: int) -> bool:
    """True when an upload of `size` bytes in parts of `part_size` has exactly `parts` parts."""
    if part_size <= 0:
        return False
    if parts > 1 and part_size < MIN_PART_BYTES:
        return False
    return part_count(size, part_size) == parts


def candidate_part_sizes(size: int, parts: int, extra: Iterable[int] = ()) -> tuple[int, ...]:
    """Part sizes that give `parts` parts for `size` bytes, most likely first (boto3's 8 MiB leads).

    Candidates: `extra` (e.g. this tool's own part size), the common tool defaults, and sizes derived
    from size / parts (exact, rounded up to a MiB, to a MB). At most MAX_CANDIDATES are returned.
    """
    if parts == 1:
        return (max(size, 1),)
    even = -(-size // parts)
    derived = (even, -(-even // MIB) * MIB, -(-even // 1_000_000) * 1_000_000)
    out: list[int] = []
    for value in (*COMMON_PART_SIZES, *extra, *derived):
        if value not in out and fits(size, parts, value):
            out.append(value)
    return tuple(out[:MAX_CANDIDATES])


class EtagHasher:
    """One pass over a byte stream: size, sha256, MD5 and the multipart ETag for every candidate part size."""

    def __init__(self, part_sizes: Iterable[int] = ()) -> None:
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._parts: dict[int, _PartDigests] = {p: _PartDigests(p) for p in dict.fromkeys(part_sizes)}

    def update(self, chunk: bytes) -> None:
        """Feed the next chunk."""
        self.size += len(chunk)
        self._sha256.update(chunk)
        self._md5.update(chunk)
        for digests in self._parts.values():
            digests.update(chunk)

    @property
    def sha256_hex(self) -> str:
        """sha256 of everything fed."""
        return self._sha256.hexdigest()

    @property
    def md5_hex(self) -> str:
        """MD5 of everything fed (the ETag of a single-part upload)."""
        return self._md5.hexdigest()

    @property
    def part_sizes(self) -> tuple[int, ...]:
        """The candidate part sizes this hasher computes multipart ETags for."""
        return tuple(self._parts)

    def multipart_etag(self, part_size: int) -> str:
        """The ETag S3 gives an upload of these bytes in parts of `part_size` (a candidate given before)."""
        return self._parts[part_size].etag()

    def matches(self, etag: ParsedEtag) -> int | None:
        """The part size reproducing `etag` (the byte count for a single-part one), or None."""
        if not etag.multipart:
            return self.size if self.md5_hex == etag.md5_hex else None
        wanted = f"{etag.md5_hex}-{etag.parts}"
        for part_size in self._parts:
            if fits(self.size, etag.parts or 1, part_size) and self.multipart_etag(part_size) == wanted:
                return part_size
        return None


class _PartDigests:
    """MD5s of consecutive parts of one size."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.digests: list[bytes] = []
        self.current: Any = hashlib.md5(usedforsecurity=False)
        self.filled = 0

    def update(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while len(view):
            take = min(self.part_size - self.filled, len(view))
            self.current.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.part_size:
                self.digests.append(self.current.digest())
                self.current = hashlib.md5(usedforsecurity=False)
                self.filled = 0

    def etag(self) -> str:
        digests = self.digests + ([self.current.digest()] if self.filled or not self.digests else [])
        combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
        return f"{combined}-{len(digests)}"


@dataclass(frozen=True)
class EtagProof:
    """Result of comparing streamed bytes with an object's ETag: SAME, DIFFERENT or UNPROVEN, and why."""

    verdict: str
    detail: str
    part_size: int | None = None
    parts: int | None = None

    @property
    def rule(self) -> str:
        """``md5-etag`` for a single-part object, ``multipart-etag`` otherwise."""
        return "md5-etag" if self.parts is None else "multipart-etag"


def prove_by_etag(
    hasher: EtagHasher, object_size: int, etag: str | None, not_md5_reason: str, exact_part_size: int | None
) -> EtagProof:
    """Compare what `hasher` saw with an S3 object of `object_size` bytes and ETag `etag`.

    A different byte count or MD5 is final (DIFFERENT); so is a multipart ETag that the exact part
    size (from ``HEAD ?partNumber=1``) does not reproduce. An ETag that is not an MD5, or a multipart
    ETag that no candidate part size reproduces, proves nothing (UNPROVEN).
    """
    if hasher.size != object_size:
        return EtagProof(DIFFERENT, f"the original has {hasher.size} bytes, the S3 object {object_size}")
    parsed = parse_etag(etag)
    if not_md5_reason:
        return EtagProof(UNPROVEN, f"the S3 ETag is not an MD5 of the content: {not_md5_reason}")
    if parsed is None:
        return EtagProof(UNPROVEN, f"the S3 ETag {etag!r} is not an MD5-based ETag")
    if not parsed.multipart:
        if hasher.md5_hex == parsed.md5_hex:
            return EtagProof(SAME, f"MD5 {parsed.md5_hex} of the original equals the S3 ETag")
        return EtagProof(
            DIFFERENT, f"MD5 {hasher.md5_hex} of the original differs from the S3 ETag {parsed.md5_hex}"
        )
    part_size = hasher.matches(parsed)
    if part_size is not None:
        return EtagProof(
            SAME,
            f"the original in parts of {part_size} bytes gives the S3 ETag {parsed.md5_hex}-{parsed.parts}",
            part_size,
            parsed.parts,
        )
    tried = ", ".join(str(p) for p in hasher.part_sizes if fits(object_size, parsed.parts or 1, p)) or "none"
    if exact_part_size is not None and fits(object_size, parsed.parts or 1, exact_part_size):
        return EtagProof(
            DIFFERENT,
            f"the original in parts of {exact_part_size} bytes (S3's own part size) does not give the S3"
            f" ETag {parsed.md5_hex}-{parsed.parts}",
            exact_part_size,
            parsed.parts,
        )
    return EtagProof(
        UNPROVEN,
        f"no part size reproduces the multipart S3 ETag {parsed.md5_hex}-{parsed.parts} (tried {tried})",
        None,
        parsed.parts,
    )
