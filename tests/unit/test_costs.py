"""The cost model: prices from the setting (validated), monthly savings and a restore's cost."""

from __future__ import annotations

import pytest

from kaltura_archiver.costs import GB, PriceError, Prices, savings


def test_defaults_are_the_published_glacier_prices() -> None:
    prices = Prices.from_setting(None)
    assert prices.glacier_gb_month == 0.0036 and prices.deep_archive_gb_month == 0.00099
    assert prices.retrieval("GLACIER", "Bulk") == (0.0, 0.0)
    assert prices.retrieval("GLACIER", "Expedited") == (0.03, 10.0)
    assert prices.retrieval("DEEP_ARCHIVE", "Bulk") == (0.0025, 0.025)
    assert prices.retrieval("DEEP_ARCHIVE", "Expedited") == prices.retrieval("DEEP_ARCHIVE", "Standard")


def test_setting_overrides_some_prices() -> None:
    prices = Prices.from_setting('{"kaltura_gb_month": 0.5, "currency": "EUR"}')
    assert prices.kaltura_gb_month == 0.5 and prices.currency == "EUR"
    assert prices.glacier_gb_month == Prices().glacier_gb_month


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1]", "JSON object"),
        ("{", "JSON object"),
        ('{"kaltura_gb": 1}', "unknown price 'kaltura_gb'"),
        ('{"kaltura_gb_month": -1}', "must be a number >= 0"),
        ('{"kaltura_gb_month": "cheap"}', "must be a number >= 0"),
        ('{"kaltura_gb_month": true}', "must be a number >= 0"),
        ('{"currency": ""}', "currency"),
    ],
)
def test_bad_setting_is_refused_with_the_field(raw: str, message: str) -> None:
    with pytest.raises(PriceError, match=message):
        Prices.from_setting(raw)


def test_savings_per_month() -> None:
    prices = Prices(kaltura_gb_month=0.1, glacier_gb_month=0.004)
    result = savings(
        prices,
        placeholder_bytes=800 * GB,
        archive_bytes=1000 * GB,
        archivable_bytes=500 * GB,
        archive_objects=100,
        storage_class="GLACIER",
        restore_tier="Standard",
    )
    assert result.kaltura_freed_month == pytest.approx(80.0)
    assert result.archive_month == pytest.approx(4.0)
    assert result.saved_month == pytest.approx(76.0)
    assert result.could_save_month == pytest.approx(500 * 0.096)
    assert result.restore_one == pytest.approx(10 * 0.01 + 0.05 / 1000)


def test_unknown_tier_is_refused() -> None:
    with pytest.raises(PriceError, match="unknown restore tier"):
        Prices().retrieval("GLACIER", "Fast")
