"""The trigger form's params: titled, sectioned, optional where they may be empty, refused (not clamped)
when out of range, and pick lists whose text codes (what Airflow's form sends) are accepted."""

from __future__ import annotations

import pytest
from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError

from kaltura_archiver.airflow.params import action_params, report_params
from kaltura_archiver.filters import EntryFilter
from kaltura_archiver.kaltura_rules import ENTRY_STATUS_NAMES

OPTIONAL = (
    "created_before",
    "created_within",
    "unplayed_for",
    "played_within",
    "plays",
    "category",
    "tag",
    "entry_ids",
)


def _params() -> dict[str, Param]:
    return action_params(3, "archive entries unplayed N years ago", status=[2])


def test_every_field_has_a_title_and_the_filter_fields_a_section() -> None:
    params = _params()
    for name, param in params.items():
        assert param.schema.get("title"), name
        assert param.description, name
    sections = {name: p.schema.get("section") for name, p in params.items()}
    assert sections["dry_run"] is None and sections["years"] is None
    assert {sections[n] for n in EntryFilter.param_schemas()} == {
        "Age and plays",
        "Which entries",
        "Batch size and paging",
    }


@pytest.mark.parametrize("name", OPTIONAL)
def test_optional_fields_accept_null(name: str) -> None:
    param = _params()[name]
    assert "null" in param.schema["type"]
    assert param.resolve(None) is None


@pytest.mark.parametrize(
    ("name", "value"), [("years", -2), ("created_before", -1), ("max_entries", -5), ("page_size", 501)]
)
def test_out_of_range_is_refused_not_clamped_by_the_form(name: str, value: float) -> None:
    param = _params()[name]
    assert "minimum" not in param.schema and "maximum" not in param.schema, "the form would clamp it"
    with pytest.raises(ParamValidationError, match=f"{value} is (less|greater) than the (minimum|maximum)"):
        param.resolve(value)


def test_status_is_a_pick_list_of_readable_names() -> None:
    status = _params()["status"]
    assert status.schema["examples"] == [str(code) for code in ENTRY_STATUS_NAMES]
    shown = status.schema["values_display"]
    assert shown["2"] == "Ready (2)" and shown["-1"] == "Error converting (-1)"
    assert shown["virusScan.Infected"] == "Virus scan: infected"
    picked = status.resolve(["2", "-1", "virusScan.Infected"])
    assert EntryFilter.from_params({"status": picked}).status == (2, -1, "virusScan.Infected")
    assert status.resolve([2]) == [2]
    with pytest.raises(ParamValidationError):
        status.resolve(["9"])


def test_media_type_and_report_fields_are_readable() -> None:
    params = report_params()
    assert params["media_type"].schema["values_display"]["video"] == "Video"
    assert params["max_entries"].value == -1
