"""Restore-request messages: parsing, rejections that never block the rest, merging, screening."""

from __future__ import annotations

import json

from kaltura_archiver.restore_requests import (
    MALFORMED,
    NO_ARCHIVE,
    NOT_REPLACED,
    UNKNOWN,
    EntryFacts,
    QueueMessage,
    RestoreRequest,
    merge,
    messages_from_events,
    parse_message,
    parse_messages,
    screen,
)


def _msg(body: object, mid: str = "m1") -> QueueMessage:
    return QueueMessage(mid, json.dumps(body) if not isinstance(body, str | bytes) else body)


def test_a_message_names_entries_with_urgency_and_requester() -> None:
    body = {"entry_ids": ["0_abcd1234", "1_zzzz9999"], "urgency": "urgent", "requested_by": "ann@x.edu"}
    requests, rejected = parse_message(_msg(body))
    assert rejected == []
    assert [r.entry_id for r in requests] == ["0_abcd1234", "1_zzzz9999"]
    assert {r.urgency for r in requests} == {"urgent"} and requests[0].requested_by == "ann@x.edu"
    assert requests[0].message_id == "m1"


def test_one_entry_id_and_default_urgency() -> None:
    requests, rejected = parse_message(_msg({"entry_id": "0_abcd1234"}))
    assert rejected == [] and requests == [RestoreRequest("0_abcd1234", "normal", message_id="m1")]


def test_a_malformed_id_is_dropped_alone() -> None:
    requests, rejected = parse_message(_msg({"entry_ids": ["0_abcd1234", "DROP TABLE", 7]}))
    assert [r.entry_id for r in requests] == ["0_abcd1234"]
    assert [r.kind for r in rejected] == [MALFORMED, MALFORMED]
    assert "not a Kaltura entry id" in rejected[0].reason


def test_bad_messages_are_rejected_whole_with_a_reason() -> None:
    cases = {
        "not json": "not JSON",
        "[1, 2]": "JSON object",
        json.dumps({"entry_ids": []}): "non-empty list",
        json.dumps({"entry_ids": ["0_abcd1234"], "urgency": "now!"}): "urgency",
        json.dumps({"entryIds": ["0_abcd1234"]}): "unknown field",
        json.dumps({"entry_ids": ["0_abcd1234"], "entry_id": "0_abcd1234"}): "not both",
        json.dumps({"entry_ids": ["0_abcd1234"], "requested_by": 5}): "requested_by",
        json.dumps({"entry_ids": ["0_abcd1234"] * 501}): "at most 500",
        b"\xff\xfe": "",
    }
    for body, expected in cases.items():
        requests, rejected = parse_message(QueueMessage("m", body))
        assert requests == [], body
        assert len(rejected) == 1 and rejected[0].kind == MALFORMED, body
        assert expected in rejected[0].reason, (body, rejected[0].reason)


def test_an_sns_notification_is_unwrapped() -> None:
    inner = json.dumps({"entry_ids": ["0_abcd1234"], "urgency": "low"})
    requests, _ = parse_message(_msg({"Type": "Notification", "Message": inner}))
    assert [(r.entry_id, r.urgency) for r in requests] == [("0_abcd1234", "low")]


def test_messages_come_from_the_sqs_trigger_payload_of_asset_events() -> None:
    events = [
        {
            "from_trigger": True,
            "payload": {
                "status": "success",
                "message_batch": [
                    {"MessageId": "a", "Body": json.dumps({"entry_id": "0_abcd1234"})},
                    {"MessageId": "b", "Body": "garbage"},
                ],
            },
        },
        {"entry_ids": ["0_zzzz9999"]},
    ]
    messages = messages_from_events(events)
    assert [m.message_id for m in messages] == ["a", "b", "event-1"]
    requests, rejected = parse_messages(messages)
    assert [r.entry_id for r in requests] == ["0_abcd1234", "0_zzzz9999"]
    assert [(r.kind, r.message_id) for r in rejected] == [(MALFORMED, "b")]


def test_requests_for_one_entry_merge_to_the_most_urgent() -> None:
    merged = merge(
        [
            RestoreRequest("0_abcd1234", "low", "a@x"),
            RestoreRequest("0_abcd1234", "urgent", "b@x"),
            RestoreRequest("0_abcd1234", "normal", "a@x"),
        ]
    )
    assert merged == [RestoreRequest("0_abcd1234", "urgent", "a@x, b@x")]


def test_screen_drops_unknown_not_replaced_and_unarchived_entries() -> None:
    requests = [RestoreRequest(e) for e in ("0_aaaaaaaa", "0_bbbbbbbb", "0_cccccccc", "0_dddddddd")]
    facts = {
        "0_aaaaaaaa": EntryFacts(True, ("flavors_deleted", "archived_to_s3"), 100, "GLACIER"),
        "0_bbbbbbbb": EntryFacts(True, ("archived_to_s3",), 100, "GLACIER"),
        "0_cccccccc": EntryFacts(False),
        "0_dddddddd": EntryFacts(True, ("flavors_deleted",), None),
    }
    kept, rejected = screen(requests, facts, "flavors_deleted")
    assert [r.entry_id for r in kept] == ["0_aaaaaaaa"]
    assert [(r.entry_id, r.kind) for r in rejected] == [
        ("0_bbbbbbbb", NOT_REPLACED),
        ("0_cccccccc", UNKNOWN),
        ("0_dddddddd", NO_ARCHIVE),
    ]
