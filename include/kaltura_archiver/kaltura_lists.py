"""List pages read lean: the items of a Kaltura list response as plain objects of their fields' text.

KalturaClient turns every ``<item>`` of a list response into a typed object through its object
factory, field by field; in a health audit of 100,000 entries that is most of the client's CPU. A
page here is the same request (`KalturaClient.queueServiceActionCall` and `doQueue`, so the same
session, error handling - an API error raises `KalturaException` - and `CompleteResponseClient`'s
refusal of a cut-short body), whose items are read straight from the XML: each `ListedItem` has an
attribute per field, holding the text Kaltura sent (an empty field is ``""``; a field Kaltura left
out is absent, where KalturaClient leaves ``NotImplemented``). `EntryRecord.from_kaltura` and
`FlavorRecord.from_kaltura` read both alike. Only flat items are read this way (entries, flavor
assets): a field that holds an object or a list keeps its element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from KalturaClient import KalturaClient
from KalturaClient.Base import KalturaParams

from kaltura_archiver.kaltura_rules import include_fields


class ListedItem(SimpleNamespace):
    """One item of a list page: its fields as attributes (text as Kaltura sent it)."""


@dataclass(frozen=True)
class ListPage:
    """A list response: its items and Kaltura's count of all matches (as KalturaClient's responses)."""

    objects: list[ListedItem]
    totalCount: int  # noqa: N815 - KalturaClient's name, so callers read both alike


def _item(node: Any) -> ListedItem:
    fields: dict[str, Any] = {}
    for child in node:
        fields[child.tag] = child if len(child) else (child.text or "")
    return ListedItem(**fields)


def decode_list(result: Any) -> ListPage:
    """A list response's ``<result>`` element as a `ListPage`."""
    objects = result.find("objects")
    total = result.find("totalCount")
    items = [_item(node) for node in objects] if objects is not None else []
    try:
        count = int(total.text) if total is not None and total.text else len(items)
    except ValueError:
        count = len(items)
    return ListPage(objects=items, totalCount=count)


def list_call(
    service: str,
    action: str,
    response_type: str,
    fields: tuple[str, ...] = (),
    **params: Any,
) -> Callable[[KalturaClient], ListPage]:
    """A `KalturaApi.call` function running ``service.action`` with these object params (filter, pager),
    queued as KalturaClient's own service method queues it; given `fields`, Kaltura sends each item
    with those fields only (`kaltura_rules.include_fields`)."""

    def run(client: KalturaClient) -> ListPage:
        kparams = KalturaParams()
        for name, value in params.items():
            kparams.addObjectIfDefined(name, value)
        if fields:
            kparams.addObjectIfDefined("responseProfile", include_fields(fields))
        client.queueServiceActionCall(service, action, response_type, kparams)
        return decode_list(client.doQueue())

    return run
