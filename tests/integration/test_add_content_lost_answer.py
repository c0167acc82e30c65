"""media.addContent is not idempotent: when its answer is lost, the token is re-read instead of a blind
repeat (which Kaltura would refuse with ENTRY_ALREADY_WITH_CONTENT).

Kaltura closes the token it attaches: api_v3/lib/types/resource/KalturaUploadedFileTokenResource.php
calls kUploadTokenMgr::closeUploadTokenById.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kaltura_archiver.operations.kaltura_content import add_content, delete_flavor, upload_chunks
from tests.integration.operations_harness import build_harness, emulator_api, video_bytes

NO_CONTENT = 7


def test_a_lost_add_content_answer_is_not_repeated_blindly(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.make("initial")
    for flavor in h.state(entry_id)["flavors"]:
        if flavor["status"] == 2:
            delete_flavor(h.api, flavor["id"])
    assert h.state(entry_id)["status"] == NO_CONTENT
    new = video_bytes(90_000, seed=3)
    token = upload_chunks(h.api, [new], "v2.mp4", 64 * 1024, len(new))

    # the server attaches the content, but its answer comes after the client gave up waiting
    emulator.control.add_fault(service="media", action="addContent", latency_ms=2500, max_fires=1)
    before = emulator.control.calls().get("media.addContent", 0)
    add_content(emulator_api(emulator, request_timeout=1), entry_id, token.token_id)

    assert emulator.control.calls().get("media.addContent", 0) - before == 1
    state = h.state(entry_id)
    assert state["status"] != NO_CONTENT
    emulator.control.clear_faults()
