"""The dashboard page as HTML: styled, self-contained (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

from kaltura_archiver.costs import Prices
from kaltura_archiver.dashboard import Dashboard, bytes_of, monthly_savings_history
from kaltura_archiver.svg_charts import bar_chart, byte_unit, human_bytes, line_chart

PRICES_VARIABLE = "kaltura_archiver_prices"
CSS = """
body{font-family:system-ui,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 10px}
.muted{color:#59636e;font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:14px}
.card .value{font-size:1.5em;font-weight:600;margin-top:4px}
.card.good .value{color:#1a7f37}.card.bad .value{color:#cf222e}
table{border-collapse:collapse;background:#fff;border:1px solid #d1d9e0;border-radius:8px;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid #eaeef2;text-align:left;font-size:.92em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
.chart{background:#fff;border:1px solid #d1d9e0;border-radius:8px;width:100%;max-width:640px;height:auto}
.chart text{font-size:11px;fill:#59636e}.chart .grid{stroke:#eaeef2}.chart .unit{font-weight:600}
.problem{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:8px 12px;margin:8px 0}
.ok{background:#dafbe1;border:1px solid #4ac26b;border-radius:8px;padding:8px 12px;margin:8px 0}
form textarea{width:100%;min-height:70px;font-family:monospace}
button{background:#1f6feb;color:#fff;border:0;border-radius:6px;padding:8px 14px;cursor:pointer}
"""


@dataclass(frozen=True)
class RequestRow:
    """One restore request as the page lists it."""

    when: str
    who: str
    entries: str
    run: str
    state: str
    progress: str


@dataclass(frozen=True)
class RequestNotice:
    """The answer to a restore request just made: what was accepted and what was refused, and why."""

    accepted: Sequence[str]
    refused: Sequence[tuple[str, str]]
    run: str = ""
    error: str = ""


def money(value: float, currency: str) -> str:
    """An amount: cents from 1 up, four significant digits below (a small archive saves fractions)."""
    places = 2 if abs(value) >= 1 or value == 0 else max(2, 3 - math.floor(math.log10(abs(value))))
    number = f"{value:,.{places}f}"
    return f"{number} {html.escape(currency)}"


def _card(title: str, value: str, note: str = "", kind: str = "") -> str:
    return (
        f'<div class="card {kind}"><div class="muted">{html.escape(title)}</div>'
        f'<div class="value">{value}</div><div class="muted">{html.escape(note)}</div></div>'
    )


def _money_cards(board: Dashboard) -> str:
    if board.money is None:
        return '<p class="muted">No money figures until the stats have a day.</p>'
    m, cur = board.money, board.prices.currency
    archive_price = board.prices.archive_gb_month(board.storage_class)
    return (
        '<div class="cards">'
        + "".join(
            [
                _card(
                    "Saved per month",
                    money(m.saved_month, cur),
                    "Kaltura storage freed minus the archive's S3 storage",
                    "good" if m.saved_month >= 0 else "bad",
                ),
                _card(
                    "Kaltura storage freed",
                    money(m.kaltura_freed_month, cur) + " / month",
                    f"at {board.prices.kaltura_gb_month:g} {cur} per GB-month",
                ),
                _card(
                    "Archive storage in S3",
                    money(m.archive_month, cur) + " / month",
                    f"{board.storage_class} at {archive_price:g} {cur} per GB-month",
                ),
                _card(
                    "Could still save",
                    money(m.could_save_month, cur) + " / month",
                    f"{board.archivable_entries:,} archivable entries, {human_bytes(board.archivable_bytes)}",
                ),
                _card(
                    "Restoring one video",
                    money(m.restore_one, cur),
                    f"average archive, {board.restore_tier} tier retrieval",
                ),
            ]
        )
        + "</div>"
    )


def _states(board: Dashboard) -> str:
    if not board.states:
        return '<p class="muted">No figures until the stats have a day.</p>'
    rows = "".join(
        f"<tr><td>{html.escape(s.state)}</td><td class='n'>{s.entries:,}</td>"
        f"<td class='n'>{'—' if s.bytes is None else human_bytes(s.bytes)}</td>"
        f"<td class='muted'>{html.escape(s.meaning)}</td></tr>"
        for s in board.states
    )
    table = (
        "<table><tr><th>State</th><th class='n'>Entries</th><th class='n'>Size</th><th>Meaning</th></tr>"
        f"{rows}</table>"
    )
    sized = [s for s in board.states if s.bytes is not None]
    charts = [
        bar_chart("Entries per state", [s.state for s in board.states], [s.entries for s in board.states], "")
    ]
    if sized:
        unit, size = byte_unit([s.bytes or 0.0 for s in sized])
        charts.append(
            bar_chart(
                "Size per state", [s.state for s in sized], [(s.bytes or 0) / size for s in sized], unit
            )
        )
    return table + f'<div class="charts">{"".join(charts)}</div>'


def _history(board: Dashboard) -> str:
    if len(board.history) < 1:
        return '<p class="muted">No history yet: run (or backfill) the kaltura_stats DAG.</p>'
    days = [str(r.get("as_of", "")) for r in board.history]

    def column(name: str) -> list[float]:
        return [float(r.get(name) or 0) for r in board.history]

    entries = {
        "archived": column("archived_entries"),
        "placeholders": column("replaced_entries"),
        "archivable": column("archivable_entries"),
    }
    sizes = {
        "archive in S3": [bytes_of(r, "archived") for r in board.history],
        "left Kaltura": [bytes_of(r, "placeholder") for r in board.history],
        "archivable": [bytes_of(r, "archivable") for r in board.history],
    }
    unit, size = byte_unit([v for values in sizes.values() for v in values])
    scaled = {k: [v / size for v in values] for k, values in sizes.items()}
    money_days, money = monthly_savings_history(board)
    charts = [
        line_chart("Entries over time", days, entries, "entries"),
        line_chart("Size over time", days, scaled, unit),
        line_chart(
            "Saved per month over time", money_days, {"saved per month": money}, board.prices.currency
        ),
    ]
    return f'<div class="charts">{"".join(charts)}</div>'


def _weeks(board: Dashboard) -> str:
    if not board.weeks:
        return '<p class="muted">No live archive or restore run has finished yet.</p>'
    rows = "".join(
        f"<tr><td>{html.escape(w.week)}</td><td class='n'>{w.archived:,}</td>"
        f"<td class='n'>{w.restored:,}</td></tr>"
        for w in board.weeks
    )
    chart = line_chart(
        "Archived and restored per week",
        [w.week for w in board.weeks],
        {"archived": [w.archived for w in board.weeks], "restored": [w.restored for w in board.weeks]},
        "entries",
    )
    head = "<tr><th>Week of</th><th class='n'>Archived</th><th class='n'>Restored</th></tr>"
    table = f"<table>{head}{rows}</table>"
    return f'{table}<div class="charts">{chart}</div>'


def _prices(board: Dashboard) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(f.name)}</td>"
        f"<td class='n'>{html.escape(str(getattr(board.prices, f.name)))}</td></tr>"
        for f in fields(Prices)
    )
    return (
        f"<p class='muted'>Storage class {html.escape(board.storage_class)}, restore tier "
        f"{html.escape(board.restore_tier)}. Prices per GB-month (storage), per GB and per 1,000 requests "
        f"(retrieval); change them with the JSON variable <code>{PRICES_VARIABLE}</code>.</p>"
        f"<table><tr><th>Price</th><th class='n'>Value</th></tr>{rows}</table>"
    )


def _requests(rows: Sequence[RequestRow], notice: RequestNotice | None, can_request: bool) -> str:
    parts = []
    if notice is not None:
        if notice.error:
            parts.append(f'<div class="problem">{html.escape(notice.error)}</div>')
        if notice.accepted:
            ids = ", ".join(notice.accepted)
            parts.append(
                f'<div class="ok">Restore requested for {html.escape(ids)} ({html.escape(notice.run)})</div>'
            )
        for entry_id, reason in notice.refused:
            parts.append(f'<div class="problem">Refused {html.escape(entry_id)}: {html.escape(reason)}</div>')
    if can_request:
        parts.append(
            '<form method="post" action="restore-requests"><label for="entry_ids">Entry ids (one per line '
            'or separated by commas), replaced by the placeholder:</label><textarea id="entry_ids" '
            'name="entry_ids"></textarea><p><button type="submit">Request restore</button></p></form>'
        )
    else:
        parts.append('<p class="muted">Your role may not trigger kaltura_restore runs.</p>')
    if rows:
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(v)}</td>" for v in (r.when, r.who, r.entries, r.run, r.state, r.progress)
            )
            + "</tr>"
            for r in rows
        )
        parts.append(
            "<table><tr><th>Requested</th><th>By</th><th>Entries</th><th>Run</th><th>State</th><th>Progress</th>"
            f"</tr>{body}</table>"
        )
    return "".join(parts)


def render(
    board: Dashboard,
    requests: Sequence[RequestRow] = (),
    notice: RequestNotice | None = None,
    can_request: bool = False,
    user: str = "",
) -> str:
    """The whole page."""
    problems = "".join(f'<div class="problem">{html.escape(p)}</div>' for p in board.problems)
    as_of = f"figures as of {html.escape(board.as_of)}" if board.as_of else "no stats yet"
    health = f"; health from {html.escape(board.health_report)}" if board.health_report else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Kaltura archive</title>"
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>Kaltura archive</h1><div class='muted'>{as_of}{health} · signed in as {html.escape(user)} · "
        "<a href='stats.csv'>stats table (CSV)</a> · <a href='stats.png'>stats chart (PNG)</a></div>"
        f"{problems}<h2>Money</h2>{_money_cards(board)}<h2>Entries and size per state</h2>{_states(board)}"
        f"<h2>History</h2>{_history(board)}<h2>Per week</h2>{_weeks(board)}"
        f"<h2>Restore requests</h2>{_requests(requests, notice, can_request)}"
        f"<h2>Prices used</h2>{_prices(board)}</main></body></html>"
    )
