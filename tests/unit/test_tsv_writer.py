"""TsvWriter writes what pandas' to_csv wrote before it: same bytes, so reports and their readers agree."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from kaltura_archiver.listing import TsvWriter, read_tsv

COLUMNS = ("entry_id", "plays", "archived_to_s3", "s3-size (KB)", "explanation", "hidden")
# rows as the report functions make them: every numeric column present (an absent one made pandas
# write a whole page's numbers as floats), text columns may be left out
PAGES: list[list[dict[str, Any]]] = [
    [
        {"entry_id": "0_a", "plays": 3, "archived_to_s3": True, "s3-size (KB)": 12, "explanation": "ok"},
        {"entry_id": "0_b", "plays": 0, "archived_to_s3": False, "s3-size (KB)": "", "hidden": "rejected"},
    ],
    [
        {
            "entry_id": "0_c",
            "plays": 1,
            "archived_to_s3": False,
            "s3-size (KB)": 7,
            "explanation": 'say "hi"',
        },
        {
            "entry_id": "0_d",
            "plays": 2,
            "archived_to_s3": True,
            "s3-size (KB)": "",
            "explanation": "tab\there, new\nline",
            "hidden": "",
        },
    ],
]


def pandas_tsv(path: Path) -> str:
    """The report as the pandas writer made it: a DataFrame per page, appended."""
    for index, page in enumerate(PAGES):
        frame = pd.DataFrame(page, columns=list(COLUMNS))
        frame.to_csv(path, sep="\t", index=False, header=index == 0, mode="w" if index == 0 else "a")
    return path.read_text()


def test_same_bytes_as_pandas_to_a_path_and_a_stream(tmp_path: Path) -> None:
    expected = pandas_tsv(tmp_path / "pandas.tsv")
    writer = TsvWriter(tmp_path / "ours.tsv", COLUMNS)
    stream = io.StringIO()
    to_stream = TsvWriter(stream, COLUMNS)
    for page in PAGES:
        assert writer.write(page) == len(page)
        to_stream.write(page)
    writer.finish()
    assert (tmp_path / "ours.tsv").read_text() == expected
    assert stream.getvalue() == expected
    assert writer.rows == 4
    parsed = read_tsv(expected)
    assert list(parsed["explanation"]) == ["ok", "", 'say "hi"', "tab\there, new\nline"]


def test_an_empty_report_has_its_header(tmp_path: Path) -> None:
    writer = TsvWriter(tmp_path / "empty.tsv", COLUMNS)
    writer.finish()
    pd.DataFrame([], columns=list(COLUMNS)).to_csv(tmp_path / "pandas.tsv", sep="\t", index=False)
    assert (tmp_path / "empty.tsv").read_text() == (tmp_path / "pandas.tsv").read_text()
