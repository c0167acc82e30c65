"""The independent checker finds lost videos, tag/S3 disagreements and wrong bytes (it can fail)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
import requests
from KalturaClient.Plugins.Core import KalturaMediaEntry

from dev.safety.checker import SafetyChecker, record_baseline
from tests.fixtures.emulator import RunningEmulator, make_client

ARCHIVED, REPLACED = "archived_to_s3", "flavors_deleted"


class Account:
    """Entries on the emulator and their S3 copies, built by hand (no project code)."""

    def __init__(self, emulator: RunningEmulator, s3: Any, bucket: str) -> None:
        self.emulator = emulator
        self.s3 = s3
        self.bucket = bucket
        self.client = make_client(emulator)
        self.count = 0

    def entry(self, size: int = 70_000) -> str:
        self.count += 1
        entry_id = f"0_chk{self.count:05d}"
        item = {"id": entry_id, "created_at": int(time.time()) - 5 * 365 * 86400, "original_size": size}
        self.emulator.control.create_entries([item])
        return entry_id

    def original_bytes(self, entry_id: str) -> bytes:
        state = self.emulator.control.entry(entry_id)
        url = (
            f"{self.emulator.url}/p/0/sp/0/playManifest/entryId/{entry_id}"
            f"/flavorId/{state['original_flavor_id']}/format/url/protocol/http/a.mp4"
        )
        return requests.get(url, timeout=30).content

    def archive(
        self, entry_id: str, body: bytes | None = None, manifest: dict[str, Any] | None = None
    ) -> None:
        """Upload a copy and its verified manifest, then tag the entry."""
        real = self.original_bytes(entry_id)
        self.s3.put_object(Bucket=self.bucket, Key=entry_id, Body=real if body is None else body)
        record = {"sha256": hashlib.sha256(real).hexdigest(), "size_bytes": len(real), "verified_at": "now"}
        record.update(manifest or {})
        self.s3.put_object(Bucket=self.bucket, Key=f"manifests/{entry_id}.json", Body=json.dumps(record))
        self.tag(entry_id, ARCHIVED)

    def tag(self, entry_id: str, *tags: str) -> None:
        current = self.emulator.control.entry(entry_id, sha256=False)["tags"]
        update = KalturaMediaEntry()
        update.tags = ",".join([*current, *tags])
        self.client.media.update(entry_id, update)

    def delete_flavors(self, entry_id: str) -> None:
        for flavor in self.emulator.control.entry(entry_id, sha256=False)["flavors"]:
            if flavor["status"] == 2:
                self.client.flavorAsset.delete(flavor["id"])


@pytest.fixture
def account(emulator: RunningEmulator, s3_bucket: tuple[Any, str]) -> Account:
    client, bucket = s3_bucket
    return Account(emulator, client, bucket)


def _checker(account: Account, deep: bool = True) -> SafetyChecker:
    return SafetyChecker(account.emulator.control, account.s3, account.bucket, deep=deep)


def test_untouched_and_correctly_archived_entries_pass(account: Account) -> None:
    untouched, archived = account.entry(), account.entry()
    baseline = record_baseline(account.emulator.control, [untouched, archived])
    account.archive(archived)
    report = _checker(account).check(baseline)
    assert report.checked == 2
    assert not report.lost and not report.inconsistent, report.describe()
    assert report.states() == {"archived": 1, "initial": 1}
    assert [v.byte_compared for v in report.verdicts] == [False, True]


def test_flavors_deleted_without_an_s3_copy_is_a_lost_video(account: Account) -> None:
    entry_id = account.entry()
    baseline = record_baseline(account.emulator.control, [entry_id])
    account.delete_flavors(entry_id)
    report = _checker(account).check(baseline)
    assert [v.entry_id for v in report.lost] == [entry_id]
    assert "video lost" in report.describe()


def test_flavors_deleted_with_a_verified_copy_is_not_lost_but_flagged(account: Account) -> None:
    entry_id = account.entry()
    baseline = record_baseline(account.emulator.control, [entry_id])
    account.archive(entry_id)
    account.delete_flavors(entry_id)
    report = _checker(account).check(baseline)
    assert not report.lost
    assert "the real video is no longer READY" in report.describe()


@pytest.mark.parametrize(
    ("body", "manifest", "deep", "why"),
    [
        (None, {"sha256": "0" * 64}, False, "manifest sha256"),
        (None, {"verified_at": None}, False, "manifest not verified"),
        (b"x" * 10, None, False, "object has 10 bytes"),
        ("same-size-garbage", None, True, "object bytes hash to"),
    ],
)
def test_a_bad_copy_does_not_count_as_a_backup(
    account: Account, body: Any, manifest: dict[str, Any] | None, deep: bool, why: str
) -> None:
    entry_id = account.entry()
    baseline = record_baseline(account.emulator.control, [entry_id])
    if body == "same-size-garbage":
        body = bytes(len(account.original_bytes(entry_id)))
    account.archive(entry_id, body=body, manifest=manifest)
    account.delete_flavors(entry_id)
    report = _checker(account, deep=deep).check(baseline)
    assert [v.entry_id for v in report.lost] == [entry_id]
    assert why in report.describe()


def test_tags_must_agree_with_s3(account: Account) -> None:
    tagged_only, replaced_only = account.entry(), account.entry()
    baseline = record_baseline(account.emulator.control, [tagged_only, replaced_only])
    account.tag(tagged_only, ARCHIVED)
    account.tag(replaced_only, REPLACED)
    report = _checker(account).check(baseline)
    assert not report.lost
    text = report.describe()
    assert f"tag {ARCHIVED}=True but S3 object present=False" in text
    assert f"tagged {REPLACED} without {ARCHIVED}" in text
    assert f"tagged {REPLACED} but the original is still the real video" in text


def test_archived_entry_whose_bytes_differ_from_s3_is_flagged(account: Account) -> None:
    entry_id = account.entry()
    baseline = record_baseline(account.emulator.control, [entry_id])
    real = account.original_bytes(entry_id)
    account.archive(entry_id, body=real[:-1] + bytes([real[-1] ^ 1]))
    report = _checker(account, deep=True).check(baseline)
    assert not report.lost
    assert "bytes differ" in report.describe()
