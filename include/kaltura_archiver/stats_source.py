"""`StatsSource` backed by Kaltura (a `Selector`) and the S3 archive bucket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kaltura_archiver.filters import ENTRY_ID_RE, EntryFilter, as_utc
from kaltura_archiver.selection import FLAVORS_ORIGINAL, Selector


class SelectorStatsSource:
    """Exact counts from the selector, original sizes from bulk flavor reads, archive totals from S3."""

    def __init__(
        self,
        selector: Selector,
        s3_client: Any,
        bucket: str,
        count_call: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.selector = selector
        self.s3_client = s3_client
        self.bucket = bucket
        self.count_call = count_call

    def count(self, entry_filter: EntryFilter, reference: datetime) -> int:
        return self.selector.count(entry_filter, reference)

    def original_bytes(self, entry_filter: EntryFilter, reference: datetime) -> int:
        total = 0
        pages = self.selector.iter_views(
            entry_filter, reference, flavors=FLAVORS_ORIGINAL, bounded=False, operation="stats sizes"
        )
        for page in pages:
            total += sum(view.original.approx_bytes for view in page if view.original is not None)
        return total

    def archive_totals(self, as_of: datetime) -> tuple[int, int]:
        """Number and bytes of archive objects (keys that are entry ids) that existed at `as_of`."""
        limit = as_utc(as_of)
        objects = size = 0
        for page in self.s3_client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            self.count_call("ListObjectsV2")
            for item in page.get("Contents", []):
                if ENTRY_ID_RE.match(item["Key"]) and as_utc(item["LastModified"]) <= limit:
                    objects += 1
                    size += int(item["Size"])
        return objects, size
