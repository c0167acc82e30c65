"""uploadToken.add is not idempotent: when its answer is lost, the archiver looks its token up
(`uploadToken.list` by the attempt's unique fileName, status PENDING) instead of adding a second one.

The emulator's fault layer delays the answer past the client's timeout after the server has created
the token (dev/kaltura_emulator/server.py sleeps after the action ran). Tokens are counted in the
emulator's own database, not through the code under test.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from kaltura_archiver.operations import replace_entry
from kaltura_archiver.operations.kaltura_content import add_upload_token
from kaltura_archiver.operations.outcome import Outcome
from kaltura_archiver.operations.restore import restore_entry
from tests.integration.operations_harness import Harness, build_harness, emulator_api

CLOSED = 3


def _tokens(emulator: Any) -> list[tuple[str, str, int]]:
    """(id, file_name, status) of every upload token the emulator holds, read from its database."""
    with sqlite3.connect(Path(emulator.data_dir) / "emulator.sqlite3") as conn:
        return [tuple(row) for row in conn.execute("SELECT id, file_name, status FROM upload_tokens")]


def _lose_next_add_answer(h: Harness) -> dict[str, int]:
    """Make the next uploadToken.add answer arrive after the client gave up; the calls so far."""
    h.emulator.control.add_fault(service="uploadToken", action="add", latency_ms=2500, max_fires=1)
    return dict(h.emulator.control.calls())


def _delta(h: Harness, before: dict[str, int], key: str) -> int:
    """How many `key` calls the emulator saw since `before`."""
    return int(h.emulator.control.calls().get(key, 0) - before.get(key, 0))


def test_a_lost_add_answer_reuses_the_token_the_server_made(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    h = build_harness(emulator, s3_bucket, tmp_path)
    api = emulator_api(emulator, request_timeout=1)
    before = _lose_next_add_answer(h)
    token_id = add_upload_token(api, "0_lost-1a2b.mp4", 1000)
    assert _delta(h, before, "uploadtoken.add") == 1, "not added a second time"
    assert _delta(h, before, "uploadtoken.list") == 1
    assert _tokens(emulator) == [(token_id, "0_lost-1a2b.mp4", 0)]

    before = dict(emulator.control.calls())
    emulator.control.add_fault(service="uploadToken", action="add", code="SERVICE_UNAVAILABLE", max_fires=1)
    other = add_upload_token(api, "0_other-3c4d.mp4", 1000)
    assert other != token_id and _delta(h, before, "uploadtoken.list") == 0, "an error answer is no lost one"
    emulator.control.clear_faults()


def test_replace_and_restore_with_a_lost_add_answer_make_one_token_each(
    emulator: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    h = build_harness(emulator, s3_bucket, tmp_path)
    entry_id = h.make("archived")
    h.api = emulator_api(emulator, request_timeout=1)
    assert _tokens(emulator) == []

    before = _lose_next_add_answer(h)
    replaced = replace_entry(h.ctx(), entry_id)
    assert replaced.outcome is Outcome.DONE, replaced.reason
    assert _delta(h, before, "uploadtoken.add") == 1 and _delta(h, before, "uploadtoken.list") >= 1
    [(_, name, status)] = _tokens(emulator)
    assert status == CLOSED and name.startswith("placeholder-") and name.endswith(".mp4")
    placeholder_sha = hashlib.sha256(Path(h.settings.placeholder_video).read_bytes()).hexdigest()
    assert h.original_sha(entry_id) == placeholder_sha
    assert h.settings.replaced_tag in h.tags(entry_id)

    before = _lose_next_add_answer(h)
    restored = restore_entry(h.ctx(), entry_id)
    assert restored.outcome is Outcome.DONE, restored.reason
    assert _delta(h, before, "uploadtoken.add") == 1 and _delta(h, before, "uploadtoken.list") >= 1
    mine = [(name, status) for _, name, status in _tokens(emulator) if name.startswith(f"{entry_id}-")]
    assert len(mine) == 1 and mine[0][1] == CLOSED and len(_tokens(emulator)) == 2
    assert h.original_sha(entry_id) == h.real_sha[entry_id]
    assert h.settings.replaced_tag not in h.tags(entry_id)
    assert not h.lost_video(entry_id)
    emulator.control.clear_faults()
