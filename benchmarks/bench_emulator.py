"""Benchmark: seconds per eSearch page of 500 and per flavorAsset.list of 500 entries on a 100k account.

Run: .venv/bin/python benchmarks/bench_emulator.py [--entries 100000] [--rounds 10]
Target on this machine: under 0.2 s each, measured through the real KalturaClient.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from KalturaClient import KalturaClient, KalturaConfiguration  # noqa: E402
from KalturaClient.Plugins.Core import (  # noqa: E402
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaSessionType,
)
from KalturaClient.Plugins.ElasticSearch import (  # noqa: E402
    KalturaESearchEntryItem,
    KalturaESearchEntryOperator,
    KalturaESearchEntryParams,
    KalturaESearchItemType,
    KalturaESearchOperatorType,
    KalturaESearchRange,
)
from local_servers import start_emulator  # noqa: E402

from dev.kaltura_emulator.control import EmulatorControl  # noqa: E402

PARTNER_ID = 1234
ADMIN_SECRET = "bench-admin-secret"

YEAR = 365 * 86400


def unplayed_search(now: int) -> KalturaESearchEntryParams:
    """The archiver's typical query: not tagged archived_to_s3, unplayed for 3 years."""
    not_tagged = KalturaESearchEntryOperator()
    not_tagged.operator = KalturaESearchOperatorType.NOT_OP
    tag = KalturaESearchEntryItem()
    tag.fieldName = "tags"
    tag.itemType = KalturaESearchItemType.EXACT_MATCH
    tag.searchTerm = "archived_to_s3"
    not_tagged.searchItems = [tag]
    played = KalturaESearchEntryItem()
    played.fieldName = "last_played_at"
    played.itemType = KalturaESearchItemType.RANGE
    played.range = KalturaESearchRange(lessThanOrEqual=now - 3 * YEAR)
    root = KalturaESearchEntryOperator()
    root.operator = KalturaESearchOperatorType.AND_OP
    root.searchItems = [played, not_tagged]
    params = KalturaESearchEntryParams()
    params.searchOperator = root
    return params


def timed(client: KalturaClient, call: Callable[[], object]) -> tuple[float, float]:
    """(round-trip seconds through the client, server executionTime) of one call."""
    started = time.monotonic()
    call()
    return time.monotonic() - started, float(client.executionTime or 0.0)


def report(label: str, samples: list[tuple[float, float]]) -> None:
    """Print median and max of round trip and server time."""
    trips = [trip for trip, _ in samples]
    server = [seconds for _, seconds in samples]
    print(
        f"seconds per {label}: median {statistics.median(trips):.3f} max {max(trips):.3f}"
        f" (server executionTime median {statistics.median(server):.3f})"
    )


def main() -> None:
    """Seed, then time eSearch pages and flavorAsset.list calls."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = start_emulator(data_dir, PARTNER_ID, ADMIN_SECRET)
        try:
            control = EmulatorControl(url)
            started = time.monotonic()
            control.seed(args.entries, seed=1)
            print(f"seeded {args.entries} entries in {time.monotonic() - started:.1f} s")
            client = KalturaClient(KalturaConfiguration(url))
            client.setKs(
                client.session.start(ADMIN_SECRET, "bench", KalturaSessionType.ADMIN, PARTNER_ID, 86400, "")
            )
            params = unplayed_search(int(time.time()))
            search_samples: list[tuple[float, float]] = []
            ids: list[str] = []
            total = 0
            for page in range(1, args.rounds + 1):
                holder: dict[str, object] = {}

                def page_call(page: int = page, holder: dict[str, object] = holder) -> None:
                    holder["r"] = client.elasticSearch.eSearch.searchEntry(
                        params, KalturaFilterPager(500, page)
                    )

                search_samples.append(timed(client, page_call))
                response = holder["r"]
                total = response.totalCount  # type: ignore[attr-defined]
                ids.extend(result.object.id for result in response.objects)  # type: ignore[attr-defined]
            print(f"eSearch: totalCount {total}, {len(ids)} ids over {args.rounds} pages")
            flavor_samples: list[tuple[float, float]] = []
            for start in range(0, len(ids) - 499, 500):
                flt = KalturaFlavorAssetFilter()
                flt.entryIdIn = ",".join(ids[start : start + 500])
                flavor_samples.append(
                    timed(client, partial(client.flavorAsset.list, flt, KalturaFilterPager(500)))
                )
            report("eSearch page of 500", search_samples)
            if flavor_samples:
                report("flavorAsset.list of 500 entries", flavor_samples)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
