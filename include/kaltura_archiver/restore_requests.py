"""Restore requests: queue messages that name entries to restore, parsed and checked before any work.

A message body is a JSON object (UTF-8, at most SQS's 256 KiB):

    {"entry_ids": ["0_abcd1234", ...], "urgency": "urgent" | "normal" | "low",
     "requested_by": "who asked (an e-mail, a ticket)", "reason": "free text", "source": "help-desk"}

`entry_id` (one id) may stand for `entry_ids`; `urgency` defaults to "normal"; the other fields are
optional. A message delivered through SNS without raw delivery (`{"Type": "Notification",
"Message": "<the JSON above>"}`) is unwrapped. Everything a sender can get wrong is reported and
dropped without stopping the rest: a message that is not such an object is rejected whole, a
malformed id is rejected alone, and `screen` drops ids Kaltura does not know or that hold no
placeholder to restore. Several requests for one entry become one, with the most urgent urgency.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kaltura_archiver.filters import ENTRY_ID_RE
from kaltura_archiver.restore_tiers import NORMAL, URGENCIES

MAX_BODY_BYTES = 256 * 1024
MAX_IDS_PER_MESSAGE = 500
MAX_TEXT = 200
FIELDS = frozenset({"entry_ids", "entry_id", "urgency", "requested_by", "reason", "source"})

MALFORMED = "malformed"
UNKNOWN = "unknown"
NOT_REPLACED = "not_replaced"
NO_ARCHIVE = "no_archive"


@dataclass(frozen=True)
class RestoreRequest:
    """One entry someone asked to restore."""

    entry_id: str
    urgency: str = NORMAL
    requested_by: str = ""
    reason: str = ""
    source: str = ""
    message_id: str = ""

    def as_dict(self) -> dict[str, str]:
        """Plain data (for an XCom or a log line)."""
        return asdict(self)


@dataclass(frozen=True)
class Rejection:
    """A message or an id that was dropped, and why (`kind`: malformed, unknown, not_replaced, no_archive)."""

    kind: str
    reason: str
    message_id: str = ""
    entry_id: str = ""

    def as_dict(self) -> dict[str, str]:
        """Plain data (for an XCom or a log line)."""
        return asdict(self)


@dataclass(frozen=True)
class QueueMessage:
    """A message as received: its id (SQS MessageId, or a made-up one) and its body."""

    message_id: str
    body: Any


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
    return value.strip()


def _decode(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        if len(body) > MAX_BODY_BYTES:
            raise ValueError(f"the body is over {MAX_BODY_BYTES} bytes")
        body = body.decode("utf-8")
    if isinstance(body, str):
        if len(body.encode()) > MAX_BODY_BYTES:
            raise ValueError(f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the body is not JSON ({exc.msg} at character {exc.pos})") from None
    if isinstance(body, dict) and body.get("Type") == "Notification" and isinstance(body.get("Message"), str):
        return _decode(body["Message"])
    if not isinstance(body, dict):
        raise ValueError(f"the body must be a JSON object, got {type(body).__name__}")
    return body


def parse_message(message: QueueMessage) -> tuple[list[RestoreRequest], list[Rejection]]:
    """The requests one message makes, and what was dropped from it (see the module docstring)."""
    mid = message.message_id

    def whole(reason: str) -> tuple[list[RestoreRequest], list[Rejection]]:
        return [], [Rejection(MALFORMED, f"message rejected: {reason}", mid)]

    try:
        data = _decode(message.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return whole(str(exc))
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        return whole(
            f"unknown field(s) {', '.join(map(_short, unknown))}; allowed: {', '.join(sorted(FIELDS))}"
        )
    if "entry_ids" in data and "entry_id" in data:
        return whole("give entry_ids or entry_id, not both")
    raw_ids = data.get("entry_ids", data.get("entry_id"))
    if isinstance(raw_ids, str):
        raw_ids = [raw_ids]
    if not isinstance(raw_ids, list) or not raw_ids:
        return whole("entry_ids must be a non-empty list of Kaltura entry ids")
    if len(raw_ids) > MAX_IDS_PER_MESSAGE:
        return whole(f"{len(raw_ids)} entry ids; at most {MAX_IDS_PER_MESSAGE} per message")
    urgency = data.get("urgency") or NORMAL
    if urgency not in URGENCIES:
        return whole(f"urgency {_short(urgency)} is not one of {', '.join(URGENCIES)}")
    try:
        requested_by, reason, source = (_text(data, n) for n in ("requested_by", "reason", "source"))
    except ValueError as exc:
        return whole(str(exc))
    requests: list[RestoreRequest] = []
    rejected: list[Rejection] = []
    for raw in raw_ids:
        entry_id = raw.strip() if isinstance(raw, str) else ""
        if not ENTRY_ID_RE.match(entry_id):
            rejected.append(
                Rejection(
                    MALFORMED,
                    f"{_short(raw)} is not a Kaltura entry id (a digit, '_' and 8 characters a-z0-9)",
                    mid,
                    _short(raw),
                )
            )
            continue
        requests.append(RestoreRequest(entry_id, urgency, requested_by, reason, source, mid))
    return requests, rejected


def messages_from_events(events: Iterable[Mapping[str, Any]]) -> list[QueueMessage]:
    """The queue messages carried by asset events' `extra` (an asset watcher's trigger payload).

    The Amazon provider's SQS trigger fires ``{"status": "success", "message_batch": [message, ...]}``
    and Airflow stores it as ``extra["payload"]``; each message has ``MessageId`` and ``Body``.
    An event without such a batch (e.g. one posted by hand through the REST API) is read as one
    message: its ``payload`` if present, else the whole `extra`.
    """
    messages: list[QueueMessage] = []
    for number, extra in enumerate(events):
        payload = extra.get("payload") if isinstance(extra, Mapping) else None
        batch = payload.get("message_batch") if isinstance(payload, Mapping) else None
        if isinstance(batch, list):
            for index, item in enumerate(batch):
                if isinstance(item, Mapping):
                    mid = str(item.get("MessageId") or f"event-{number}-{index}")
                    messages.append(QueueMessage(mid, item.get("Body")))
                else:
                    messages.append(QueueMessage(f"event-{number}-{index}", item))
            continue
        body = (
            payload if payload is not None else {k: v for k, v in dict(extra).items() if k != "from_trigger"}
        )
        messages.append(QueueMessage(f"event-{number}", body))
    return messages


def parse_messages(messages: Iterable[QueueMessage]) -> tuple[list[RestoreRequest], list[Rejection]]:
    """Every request of every message, merged per entry, and every rejection."""
    requests: list[RestoreRequest] = []
    rejected: list[Rejection] = []
    for message in messages:
        got, dropped = parse_message(message)
        requests.extend(got)
        rejected.extend(dropped)
    return merge(requests), rejected


def merge(requests: Iterable[RestoreRequest]) -> list[RestoreRequest]:
    """One request per entry (first-seen order): the most urgent urgency, every requester named once."""
    merged: dict[str, RestoreRequest] = {}
    for request in requests:
        seen = merged.get(request.entry_id)
        if seen is None:
            merged[request.entry_id] = request
            continue
        urgency = min(seen.urgency, request.urgency, key=URGENCIES.index)
        names = [*seen.requested_by.split(", "), request.requested_by]
        who = ", ".join(dict.fromkeys(w for w in names if w))
        merged[request.entry_id] = RestoreRequest(
            seen.entry_id,
            urgency,
            who[:MAX_TEXT],
            seen.reason or request.reason,
            seen.source,
            seen.message_id,
        )
    return list(merged.values())


@dataclass(frozen=True)
class EntryFacts:
    """What `screen` needs to know of one requested entry (None fields: not known)."""

    exists: bool
    tags: tuple[str, ...] = ()
    archive_size_bytes: int | None = None
    storage_class: str | None = None


def screen(
    requests: Sequence[RestoreRequest], facts: Mapping[str, EntryFacts], replaced_tag: str
) -> tuple[list[RestoreRequest], list[Rejection]]:
    """Keep requests for entries that hold the placeholder (tagged `replaced_tag`) and have an S3 archive."""
    kept: list[RestoreRequest] = []
    rejected: list[Rejection] = []
    for request in requests:
        fact = facts.get(request.entry_id)
        mid, eid = request.message_id, request.entry_id
        if fact is None or not fact.exists:
            rejected.append(Rejection(UNKNOWN, f"{eid}: no such entry in Kaltura", mid, eid))
        elif replaced_tag not in fact.tags:
            rejected.append(
                Rejection(
                    NOT_REPLACED,
                    f"{eid}: not tagged {replaced_tag}, so it holds its real video: nothing to restore",
                    mid,
                    eid,
                )
            )
        elif fact.archive_size_bytes is None:
            rejected.append(
                Rejection(NO_ARCHIVE, f"{eid}: tagged {replaced_tag} but no S3 archive", mid, eid)
            )
        else:
            kept.append(request)
    return kept, rejected


@dataclass(frozen=True)
class PlannedRestore:
    """An accepted request and the Glacier tier its entry gets (`restore_tiers.choose_tier`)."""

    request: RestoreRequest
    tier: str
    size_bytes: int
    storage_class: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for an XCom or a log line)."""
        return {**self.request.as_dict(), "tier": self.tier, "size_bytes": self.size_bytes}


def gather_facts(api: Any, store: Any, entry_ids: Sequence[str]) -> dict[str, EntryFacts]:
    """What Kaltura (media.get, 50 ids a call) and S3 (listings) say of the requested entries."""
    ids = list(dict.fromkeys(entry_ids))
    entries = api.get_entries(ids) if ids else {}
    archives = store.inventory(ids) if ids else {}
    facts: dict[str, EntryFacts] = {}
    for entry_id in ids:
        entry = entries.get(entry_id)
        archive = archives.get(entry_id)
        facts[entry_id] = EntryFacts(
            exists=entry is not None,
            tags=tuple(entry.tags) if entry is not None else (),
            archive_size_bytes=archive.size_bytes if archive is not None else None,
            storage_class=archive.storage_class if archive is not None else None,
        )
    return facts


def plan_restores(
    requests: Sequence[RestoreRequest], facts: Mapping[str, EntryFacts], replaced_tag: str, policy: Any
) -> tuple[list[PlannedRestore], list[Rejection]]:
    """Screen the requests and give each kept one its tier from its archive's size and class."""
    from kaltura_archiver.restore_tiers import choose_tier

    kept, rejected = screen(requests, facts, replaced_tag)
    planned = []
    for request in kept:
        fact = facts[request.entry_id]
        size, storage_class = fact.archive_size_bytes or 0, fact.storage_class or "GLACIER"
        tier = choose_tier(size, storage_class, request.urgency, policy)
        planned.append(PlannedRestore(request, tier, size, storage_class))
    return planned, rejected
