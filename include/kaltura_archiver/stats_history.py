"""The stats table (one row per day, CSV) and its chart (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def upsert_row(table: Path, row: dict[str, Any]) -> pd.DataFrame:
    """Add `row` to the CSV table, replacing any earlier row of the same day; rows stay sorted by day."""
    new = pd.DataFrame([row])
    if table.exists() and table.stat().st_size > 0:
        old = pd.read_csv(table, dtype={"as_of": str})
        old = old[old["as_of"] != row["as_of"]]
        frame = pd.concat([old, new], ignore_index=True)
    else:
        frame = new
    frame = frame.sort_values("as_of").reset_index(drop=True)
    table.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(table, index=False)
    return frame


def draw_chart(frame: pd.DataFrame, png: Path) -> Path:
    """Entries and TB archived / replaced / archivable / restorable over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = pd.to_datetime(frame["as_of"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for column, label in (
        ("archived_entries", "archived"),
        ("replaced_entries", "placeholders"),
        ("archivable_entries", "archivable"),
        ("restorable_entries", "restorable"),
    ):
        if column in frame:
            top.plot(days, frame[column], marker="o", label=label)
    top.set_ylabel("entries")
    if top.lines:
        top.legend(loc="upper left")
    top.set_title("Kaltura archive over time")
    for column, label in (("archived_tb", "archived (S3)"), ("archivable_tb", "archivable")):
        if column in frame:
            bottom.plot(days, frame[column], marker="o", label=label)
    bottom.set_ylabel("TB")
    if bottom.lines:
        bottom.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png
