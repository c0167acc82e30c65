"""S3 ETag proofs (pure logic): parsing, candidate part sizes, streamed multipart ETags, verdicts.

The multipart ETags expected here are computed independently (hashlib over the whole buffer), and
test_operations_legacy checks the same code against ETags made by boto3 on the dev S3 server.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from kaltura_archiver.s3_etag import (
    BOTO3_PART_BYTES,
    DIFFERENT,
    MIB,
    SAME,
    UNPROVEN,
    EtagHasher,
    candidate_part_sizes,
    etag_not_md5_reason,
    fits,
    parse_etag,
    prove_by_etag,
)


def md5(data: bytes) -> Any:
    """MD5 as S3 uses it for ETags (not for security)."""
    return hashlib.md5(data, usedforsecurity=False)


def multipart_etag(data: bytes, part_size: int) -> str:
    """The ETag S3 computes for `data` uploaded in parts of `part_size` (reference implementation)."""
    parts = [md5(data[i : i + part_size]).digest() for i in range(0, len(data), part_size)]
    return f'"{md5(b"".join(parts)).hexdigest()}-{len(parts)}"'


def feed(data: bytes, part_sizes: tuple[int, ...], chunk: int = 100_003) -> EtagHasher:
    hasher = EtagHasher(part_sizes)
    for start in range(0, len(data), chunk):
        hasher.update(data[start : start + chunk])
    return hasher


DATA = bytes((i * 7919 + i // 4096) % 251 for i in range(17 * MIB + 12345))


def test_parse_etag_forms() -> None:
    assert parse_etag('"9e107d9d372bb6826bd81d3542a419d6"') is not None
    single = parse_etag('"9E107D9D372BB6826BD81D3542A419D6"')
    assert single is not None and single.parts is None and not single.multipart
    multi = parse_etag('"e01e616d19c8816a8463a0e5646425a8-2"')
    assert multi is not None and multi.parts == 2 and multi.md5_hex == "e01e616d19c8816a8463a0e5646425a8"
    for bad in (None, "", '"abc"', '"e01e616d19c8816a8463a0e5646425a8-0"', "W/x", '"' + "z" * 32 + '"'):
        assert parse_etag(bad) is None, bad


def test_encryption_that_makes_the_etag_not_an_md5() -> None:
    assert "SSE-KMS" in etag_not_md5_reason("aws:kms", None)
    assert "SSE-KMS" in etag_not_md5_reason("aws:kms:dsse", None)
    assert "SSE-C" in etag_not_md5_reason(None, "AES256")
    assert etag_not_md5_reason("AES256", None) == ""
    assert etag_not_md5_reason(None, None) == ""


def test_candidates_lead_with_boto3_and_fit_the_part_count() -> None:
    size = 20 * MIB
    assert candidate_part_sizes(size, 3)[0] == BOTO3_PART_BYTES
    for parts in (2, 3, 4):
        found = candidate_part_sizes(size, parts)
        assert found, parts
        assert all(fits(size, parts, p) for p in found)
    assert candidate_part_sizes(size, 1) == (size,)
    assert candidate_part_sizes(size, 7) == (), "parts under 5 MiB are impossible"
    odd = 7 * MIB + 3
    assert odd in candidate_part_sizes(5 * odd, 5, extra=(odd,))


@pytest.mark.parametrize("part_size", [BOTO3_PART_BYTES, 5 * MIB, 6 * MIB + 17])
def test_streamed_multipart_etag_equals_the_reference(part_size: int) -> None:
    hasher = feed(DATA, (part_size, BOTO3_PART_BYTES))
    assert hasher.multipart_etag(part_size) == multipart_etag(DATA, part_size).strip('"')
    assert hasher.md5_hex == md5(DATA).hexdigest()
    assert hasher.sha256_hex == hashlib.sha256(DATA).hexdigest()
    assert hasher.size == len(DATA)


def test_single_part_proof() -> None:
    etag = f'"{md5(DATA).hexdigest()}"'
    same = prove_by_etag(feed(DATA, ()), len(DATA), etag, "", None)
    assert same.verdict == SAME and same.rule == "md5-etag"
    corrupt = DATA[:-1] + b"\xff"
    different = prove_by_etag(feed(corrupt, ()), len(DATA), etag, "", None)
    assert different.verdict == DIFFERENT and "MD5" in different.detail


def test_truncated_copy_is_different_by_its_byte_count() -> None:
    etag = f'"{md5(DATA[:-4096]).hexdigest()}"'
    proof = prove_by_etag(feed(DATA, ()), len(DATA) - 4096, etag, "", None)
    assert proof.verdict == DIFFERENT and "bytes" in proof.detail


def test_multipart_proof_with_a_guessed_and_an_exact_part_size() -> None:
    etag = multipart_etag(DATA, BOTO3_PART_BYTES)
    parts = 3
    guessed = prove_by_etag(feed(DATA, candidate_part_sizes(len(DATA), parts)), len(DATA), etag, "", None)
    assert guessed.verdict == SAME and guessed.part_size == BOTO3_PART_BYTES and guessed.parts == parts
    corrupt = bytearray(DATA)
    corrupt[9 * MIB] ^= 1
    wrong = feed(bytes(corrupt), candidate_part_sizes(len(DATA), parts))
    assert prove_by_etag(wrong, len(DATA), etag, "", None).verdict == UNPROVEN, "a guess proves nothing"
    exact = feed(bytes(corrupt), (BOTO3_PART_BYTES,))
    assert prove_by_etag(exact, len(DATA), etag, "", BOTO3_PART_BYTES).verdict == DIFFERENT


def test_an_etag_that_is_not_an_md5_proves_nothing() -> None:
    etag = f'"{md5(DATA).hexdigest()}"'
    proof = prove_by_etag(feed(DATA, ()), len(DATA), etag, etag_not_md5_reason("aws:kms", None), None)
    assert proof.verdict == UNPROVEN and "SSE-KMS" in proof.detail
    assert prove_by_etag(feed(DATA, ()), len(DATA), '"opaque"', "", None).verdict == UNPROVEN
