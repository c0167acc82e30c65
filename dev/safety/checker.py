"""The independent checker: did any video get lost? Reads only the emulator's control API and S3.

It deliberately uses none of the project's own code (no `kaltura_archiver` import): the emulator's
control API gives every entry's tags, flavors and the sha256 of its current original; boto3 reads
the S3 object, its manifest (``manifests/<id>.json``, fields ``sha256``, ``size_bytes``,
``verified_at``) and, in deep mode, the object's bytes (a Glacier object is restored first through
the ``restore`` callback, e.g. ``S3DevControl.complete_restores``).

Before a scenario, `record_baseline` notes every entry's original (sha256, size, status). After it,
`SafetyChecker.check` asserts per entry:

* the video is not lost: a READY original whose sha256 equals the baseline, or a verified S3 copy
  (object present, manifest verified, manifest sha256 and object size equal the baseline; deep mode
  also hashes the object's bytes);
* tags agree with S3: ``archived_to_s3`` iff an S3 object; ``flavors_deleted`` implies
  ``archived_to_s3`` and a placeholder (not the real video) as the original;
* an archived, not replaced entry holds its real video: original sha256 equals the baseline, and in
  deep mode its bytes, streamed from the emulator, equal the S3 object's bytes one for one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

import requests
from botocore.exceptions import ClientError

from dev.kaltura_emulator.control import EmulatorControl

FLAVOR_READY = 2
ENTRY_READY = 2
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Original:
    """An entry's original flavor as recorded before a scenario (sha256 None: no original at all)."""

    entry_id: str
    sha256: str | None
    size_bytes: int | None
    ready: bool
    tags: tuple[str, ...] = ()


@dataclass
class Verdict:
    """The checker's finding for one entry: `lost` is the one that must never happen."""

    entry_id: str
    state: str
    lost: bool = False
    problems: list[str] = field(default_factory=list)
    byte_compared: bool = False

    @property
    def ok(self) -> bool:
        """No loss and no inconsistency."""
        return not self.lost and not self.problems


@dataclass
class CheckReport:
    """Verdicts for every checked entry."""

    verdicts: list[Verdict]

    @property
    def checked(self) -> int:
        """How many entries were checked."""
        return len(self.verdicts)

    @property
    def lost(self) -> list[Verdict]:
        """Entries whose video is gone from Kaltura and S3."""
        return [v for v in self.verdicts if v.lost]

    @property
    def inconsistent(self) -> list[Verdict]:
        """Entries not lost but with tags, S3 or content out of line."""
        return [v for v in self.verdicts if not v.lost and v.problems]

    def states(self) -> dict[str, int]:
        """Entries per observed state."""
        counts: dict[str, int] = {}
        for verdict in self.verdicts:
            counts[verdict.state] = counts.get(verdict.state, 0) + 1
        return dict(sorted(counts.items()))

    def describe(self, limit: int = 20) -> str:
        """Lost and inconsistent entries, one line each (at most `limit`)."""
        bad = [v for v in self.verdicts if not v.ok][:limit]
        return "\n".join(
            f"{v.entry_id} [{v.state}]{' LOST' if v.lost else ''}: {'; '.join(v.problems)}" for v in bad
        )


def record_baseline(control: EmulatorControl, entry_ids: Iterable[str]) -> dict[str, Original]:
    """Every entry's original before a scenario, read from the emulator's control API."""
    baseline: dict[str, Original] = {}
    for entry_id in entry_ids:
        state = control.entry(entry_id)
        original = _original_flavor(state)
        baseline[entry_id] = Original(
            entry_id=entry_id,
            sha256=state.get("original_sha256") if original else None,
            size_bytes=original["size_bytes"] if original else None,
            ready=bool(original and original["status"] == FLAVOR_READY),
            tags=tuple(state.get("tags") or ()),
        )
    return baseline


def _original_flavor(state: dict[str, Any]) -> dict[str, Any] | None:
    flavors = {f["id"]: f for f in state.get("flavors") or []}
    return flavors.get(state.get("original_flavor_id") or "")


@dataclass(frozen=True)
class S3Copy:
    """What S3 holds for one entry."""

    size_bytes: int
    storage_class: str
    manifest: dict[str, Any] | None


class SafetyChecker:
    """Checks entries against their baseline; see the module docstring for the rules."""

    def __init__(
        self,
        control: EmulatorControl,
        s3_client: Any,
        bucket: str,
        *,
        archived_tag: str = "archived_to_s3",
        replaced_tag: str = "flavors_deleted",
        manifest_prefix: str = "manifests/",
        placeholder_sha256: str | None = None,
        deep: bool = False,
        restore: Callable[[], object] | None = None,
    ) -> None:
        self.control = control
        self.s3 = s3_client
        self.bucket = bucket
        self.archived_tag = archived_tag
        self.replaced_tag = replaced_tag
        self.manifest_prefix = manifest_prefix
        self.placeholder_sha256 = placeholder_sha256
        self.deep = deep
        self.restore = restore
        self.http = requests.Session()

    def check(self, baseline: dict[str, Original]) -> CheckReport:
        """A verdict for every entry of the baseline."""
        if self.deep:
            self._restore_archives(baseline)
        return CheckReport([self.check_entry(original) for original in baseline.values()])

    def check_entry(self, before: Original) -> Verdict:
        """The verdict for one entry."""
        state = self.control.entry(before.entry_id)
        tags = set(state.get("tags") or ())
        archived, replaced = self.archived_tag in tags, self.replaced_tag in tags
        original = _original_flavor(state)
        ready = bool(original and original["status"] == FLAVOR_READY)
        current = state.get("original_sha256") if original else None
        copy = self._s3_copy(before.entry_id)
        label = "placeholder" if replaced else "archived" if archived else "initial"
        verdict = Verdict(before.entry_id, label if before.sha256 else "no-video")
        if before.sha256 is None:
            if copy is not None or archived or replaced:
                verdict.problems.append("an entry without an original was archived or tagged")
            return verdict
        real_in_kaltura = current == before.sha256 and (ready or not before.ready)
        copy_problem = self._copy_problem(before, copy)
        verdict.lost = not real_in_kaltura and copy_problem is not None
        if verdict.lost:
            verdict.problems.append(
                f"video lost: Kaltura original {_short(current)} ({'READY' if ready else 'not READY'}), "
                f"S3: {copy_problem}"
            )
        if archived != (copy is not None):
            verdict.problems.append(
                f"tag {self.archived_tag}={archived} but S3 object present={copy is not None}"
            )
        if archived and copy_problem is not None:
            verdict.problems.append(
                f"tagged {self.archived_tag} but the S3 copy is not usable: {copy_problem}"
            )
        if replaced and not archived:
            verdict.problems.append(f"tagged {self.replaced_tag} without {self.archived_tag}")
        if replaced:
            self._check_placeholder(verdict, ready, current, before)
        elif before.ready and not ready:
            verdict.problems.append("the real video is no longer READY in Kaltura")
        elif current != before.sha256:
            verdict.problems.append(
                f"original {_short(current)} is not the real video {_short(before.sha256)}"
            )
        if self.deep and archived and not replaced and ready and copy is not None and original is not None:
            verdict.byte_compared = True
            if not self._same_bytes(before.entry_id, original["id"]):
                verdict.problems.append("the original's bytes differ from the S3 copy's bytes")
        return verdict

    def _check_placeholder(
        self, verdict: Verdict, ready: bool, current: str | None, before: Original
    ) -> None:
        if not ready:
            verdict.problems.append(f"tagged {self.replaced_tag} but no READY original")
        elif current == before.sha256:
            verdict.problems.append(f"tagged {self.replaced_tag} but the original is still the real video")
        elif self.placeholder_sha256 and current != self.placeholder_sha256:
            verdict.problems.append(
                f"tagged {self.replaced_tag} but the original {_short(current)} is not the placeholder"
            )

    def _copy_problem(self, before: Original, copy: S3Copy | None) -> str | None:
        """None when S3 holds a verified copy of the baseline original, else why not."""
        if copy is None:
            return "no object"
        if copy.size_bytes != before.size_bytes:
            return f"object has {copy.size_bytes} bytes, the original had {before.size_bytes}"
        if copy.manifest is None:
            return "no manifest"
        if copy.manifest.get("sha256") != before.sha256:
            return (
                f"manifest sha256 {_short(copy.manifest.get('sha256'))} != original {_short(before.sha256)}"
            )
        if int(copy.manifest.get("size_bytes") or -1) != before.size_bytes:
            return "manifest size differs from the original"
        if not copy.manifest.get("verified_at"):
            return "manifest not verified"
        if self.deep:
            digest = self._s3_sha256(before.entry_id)
            if digest != before.sha256:
                return f"object bytes hash to {_short(digest)}, not {_short(before.sha256)}"
        return None

    def _s3_copy(self, entry_id: str) -> S3Copy | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=entry_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        manifest: dict[str, Any] | None
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=f"{self.manifest_prefix}{entry_id}.json")[
                "Body"
            ]
            manifest = json.loads(body.read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            manifest = None
        return S3Copy(int(head["ContentLength"]), str(head.get("StorageClass") or "STANDARD"), manifest)

    def _restore_archives(self, baseline: dict[str, Original]) -> None:
        """Request a restore of every Glacier object of the baseline, then let the callback finish them."""
        requested = False
        for entry_id in baseline:
            try:
                head = self.s3.head_object(Bucket=self.bucket, Key=entry_id)
            except ClientError:
                continue
            if head.get("StorageClass") in ARCHIVE_CLASSES and not head.get("Restore"):
                try:
                    self.s3.restore_object(
                        Bucket=self.bucket,
                        Key=entry_id,
                        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}},
                    )
                    requested = True
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "RestoreAlreadyInProgress":
                        raise
            elif head.get("StorageClass") in ARCHIVE_CLASSES:
                requested = True
        if requested and self.restore is not None:
            self.restore()

    def _s3_chunks(self, entry_id: str) -> Iterator[bytes]:
        body = self.s3.get_object(Bucket=self.bucket, Key=entry_id)["Body"]
        yield from iter(lambda: body.read(CHUNK), b"")

    def _s3_sha256(self, entry_id: str) -> str | None:
        digest = hashlib.sha256()
        try:
            for chunk in self._s3_chunks(entry_id):
                digest.update(chunk)
        except ClientError as exc:
            return f"unreadable ({exc.response.get('Error', {}).get('Code')})"
        return digest.hexdigest()

    def _kaltura_chunks(self, entry_id: str, flavor_id: str) -> Iterator[bytes]:
        url = (
            f"{self.control.base_url}/p/0/sp/0/playManifest/entryId/{entry_id}"
            f"/flavorId/{flavor_id}/format/url/protocol/http/a.mp4"
        )
        with self.http.get(url, stream=True, timeout=60) as response:
            response.raise_for_status()
            yield from response.iter_content(CHUNK)

    def _same_bytes(self, entry_id: str, flavor_id: str) -> bool:
        """Stream the Kaltura original and the S3 object side by side and compare every byte."""
        left, right = _rechunk(self._kaltura_chunks(entry_id, flavor_id)), _rechunk(self._s3_chunks(entry_id))
        return all(a == b for a, b in zip_longest(left, right))


def _rechunk(chunks: Iterable[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """The same bytes in pieces of exactly `size` (the last one shorter)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def _short(digest: str | None) -> str:
    return "none" if not digest else digest[:12]
