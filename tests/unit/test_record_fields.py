"""The fields a list asks Kaltura for (`KALTURA_FIELDS`) are all the fields the records read."""

from __future__ import annotations

from typing import Any

import pytest

from kaltura_archiver.records import EntryRecord, FlavorRecord


class Recorder:
    """A Kaltura object that records every field read from it (each holds the text "1")."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return "1"


@pytest.mark.parametrize("record", [EntryRecord, FlavorRecord])
def test_records_read_only_the_fields_they_ask_for(record: Any) -> None:
    obj = Recorder()
    record.from_kaltura(obj)
    assert obj.read == set(record.KALTURA_FIELDS)
