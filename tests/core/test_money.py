"""Money: decimal strings in and out, integers of minor units in between."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderly.core.money import (
    MAX_MAJOR_UNITS,
    MINOR_UNITS,
    MoneyError,
    format_minor,
    from_minor,
    minor_units,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("JOD", 3),
     ("OMR", 3), ("TND", 3), ("IQD", 3), ("LYD", 3), ("CLF", 4), ("UYW", 4)],
)  # fmt: skip
def test_currencies_have_their_iso_4217_minor_units(currency: str, exponent: int) -> None:
    assert minor_units(currency) == exponent


def test_the_table_holds_only_three_letter_upper_case_codes() -> None:
    assert all(len(code) == 3 and code.isupper() and code.isalpha() for code in MINOR_UNITS)
    assert set(MINOR_UNITS.values()) == {0, 2, 3, 4}


@pytest.mark.parametrize("code", ["usd", "XXX", "XAU", "HRK", "ABC", ""])
def test_unknown_lower_case_and_unpriceable_codes_are_refused(code: str) -> None:
    with pytest.raises(MoneyError) as info:
        minor_units(code)
    assert info.value.code == "currency_unknown"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12", "USD", 1200),
        ("0", "USD", 0),
        ("1200", "JPY", 1200),
        ("1.234", "KWD", 1234),
        ("0.0001", "CLF", 1),
        ("007.10", "EUR", 710),
        (str(MAX_MAJOR_UNITS), "CLF", MAX_MAJOR_UNITS * 10_000),
    ],
)
def test_decimal_strings_become_exact_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("10.5", "JPY", "money_precision"),
        ("1.0", "JPY", "money_precision"),
        ("1.234", "USD", "money_precision"),
        ("1.23456", "CLF", "money_precision"),
        ("1000000000.01", "USD", "money_too_large"),
        ("99999999999", "USD", "money_too_large"),
        ("-1", "USD", "money_format"),
        ("+1", "USD", "money_format"),
        ("1.", "USD", "money_format"),
        (".5", "USD", "money_format"),
        ("1e2", "USD", "money_format"),
        ("Infinity", "USD", "money_format"),
        (" 1", "USD", "money_format"),
        ("1\n", "USD", "money_format"),
        ("\u0661\u0662", "USD", "money_format"),  # Arabic-Indic digits
        ("1" * 40, "USD", "money_format"),
        ("1", "usd", "currency_unknown"),
    ],
)
def test_bad_amounts_are_refused_with_a_code(amount: str, currency: str, code: str) -> None:
    with pytest.raises(MoneyError) as info:
        to_minor(amount, currency)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [(1250, "USD", "12.50"), (0, "USD", "0.00"), (5, "USD", "0.05"), (1200, "JPY", "1200"),
     (1500, "KWD", "1.500"), (1, "CLF", "0.0001"), (100_000_000_000, "USD", "1000000000.00")],
)  # fmt: skip
def test_minor_units_are_shown_with_exactly_the_currencys_decimals(
    minor: int, currency: str, shown: str
) -> None:
    assert format_minor(minor, currency) == shown
    assert to_minor(shown, currency) == minor


def test_from_minor_is_an_exact_decimal() -> None:
    assert from_minor(1999, "USD") == Decimal("19.99")
    assert from_minor(1999, "USD").as_tuple().exponent == -2


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "CLF"])
def test_formatting_agrees_with_the_exact_decimal(currency: str) -> None:
    amounts = [*range(-1001, 1002), 10**13, 10**13 + 7, -(10**13) - 7]
    for minor in amounts:
        assert format_minor(minor, currency) == f"{from_minor(minor, currency):f}", minor
