"""Replace shows the placeholder's image as the entry's thumbnail, once, however often it runs; restore
captures a thumbnail from the real video again.

Real parts: the operations against the Kaltura emulator (thumbAsset.addFromImage / setAsDefault as in
api_v3/services/ThumbAssetService.php) and the dev S3 server; the packaged placeholder image.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from kaltura_archiver.config import DEFAULT_PLACEHOLDER_THUMBNAIL
from kaltura_archiver.operations import Outcome, replace_entry, restore_entry
from kaltura_archiver.operations.kaltura_content import set_thumbnail_image
from tests.integration.operations_harness import build_harness, emulator_api

IMAGE = Path(DEFAULT_PLACEHOLDER_THUMBNAIL)
IMAGE_SHA = hashlib.sha256(IMAGE.read_bytes()).hexdigest()


def _image_thumbs(h: Any, entry_id: str) -> list[Any]:
    thumbs = h.api.call("thumbAsset.getByEntryId", lambda c: c.thumbAsset.getByEntryId(entry_id))
    return [t for t in thumbs if t.sizeInBytes == IMAGE.stat().st_size]


def test_replace_sets_the_placeholder_image_as_thumbnail_once(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.make("placeholder")
    state = h.state(entry_id)
    assert state["default_thumbnail"]["sha256"] == IMAGE_SHA
    assert len(_image_thumbs(h, entry_id)) == 1
    again = replace_entry(h.ctx(), entry_id, after_wait=True)
    assert again.outcome is Outcome.DONE, again
    assert len(_image_thumbs(h, entry_id)) == 1
    assert h.state(entry_id)["default_thumbnail"]["sha256"] == IMAGE_SHA


def test_an_image_added_before_a_crash_is_reused(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    """A crash between addFromImage and setAsDefault: the re-run finds the image and makes it the default."""
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.create()
    with IMAGE.open("rb") as image:
        h.api.call("thumbAsset.addFromImage", lambda c: c.thumbAsset.addFromImage(entry_id, image))
    assert h.state(entry_id)["default_thumbnail"] is None
    assert set_thumbnail_image(h.api, entry_id, str(IMAGE), IMAGE.stat().st_size) is True
    assert set_thumbnail_image(h.api, entry_id, str(IMAGE), IMAGE.stat().st_size) is False
    assert len(_image_thumbs(h, entry_id)) == 1
    assert h.state(entry_id)["default_thumbnail"]["sha256"] == IMAGE_SHA


def test_a_lost_add_from_image_answer_adds_one_image(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    """addFromImage is not idempotent: an answer lost after the server added the image is not repeated."""
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.create()
    impatient = emulator_api(emulator, request_timeout=1)
    emulator.control.add_fault(service="thumbAsset", action="addFromImage", latency_ms=2500, max_fires=1)
    try:
        assert set_thumbnail_image(impatient, entry_id, str(IMAGE), IMAGE.stat().st_size) is True
        assert [f["fired"] for f in emulator.control.faults()] == [1]
    finally:
        emulator.control.clear_faults()
    assert emulator.control.calls().get("thumbasset.addFromImage", 0) == 1
    assert len(_image_thumbs(h, entry_id)) == 1
    assert h.state(entry_id)["default_thumbnail"]["sha256"] == IMAGE_SHA


def test_restore_captures_a_thumbnail_from_the_real_video(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.make("placeholder")
    version = h.state(entry_id)["thumb_version"]
    restored = restore_entry(h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored
    state = h.state(entry_id)
    assert state["default_thumbnail"] is None and state["thumb_version"] > version
    assert "flavors_deleted" not in state["tags"]
