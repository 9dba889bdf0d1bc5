"""Money as integers of minor units, shown as decimal strings.

Amounts travel as decimal strings ("12.50"), never JSON numbers (a float cannot hold
12.10 exactly), and are stored as an integer count of the currency's minor units
(1250): exact on every backend, where SQLite has no decimal type at all. The number of
decimals is the currency's, from ISO 4217: "1200" yen, "12.50" dollars, "1.250" dinars.
"""

from __future__ import annotations

import re
from decimal import Decimal

# ISO 4217 List One: active codes with their minor-unit exponents, as amended up to
# 2025 (XCG replaced ANG; SLE, VED, ZWG are in; HRK, SLL, ZWL, CUC are out). Codes
# without minor units (precious metals, XDR, XSU, XUA, the bond units, XTS, XXX) are
# left out: they cannot price an item.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
    "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2,
    "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2,
    "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0,
    "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0,
    "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2,
    "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2,
    "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
    "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2,
    "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2,
    "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2,
    "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2,
    "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2,
    "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2,
    "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2,
    "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2,
    "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2,
    "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2,
    "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2, "VED": 2,
    "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0,
    "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip

# The largest amount accepted anywhere, in major units: far above any real price, far
# below what a BIGINT of minor units holds (CLF's 4 decimals included).
MAX_MAJOR_UNITS = 1_000_000_000

# ASCII: \d alone would also take other scripts' digits, which Decimal accepts too.
_AMOUNT = re.compile(r"^\d+(\.\d+)?$", re.ASCII)
# Longer strings are refused before Decimal parses them (and before they reach logs).
_MAX_AMOUNT_LENGTH = 32


class MoneyError(ValueError):
    """An amount or a currency that cannot be money. ``code`` is a stable error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def minor_units(currency: str) -> int:
    """The currency's number of decimals; ``currency`` must already be upper-case."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(
            "currency_unknown", f"'{currency}' is not an active ISO 4217 currency code"
        ) from None


def check_amount_format(amount: str) -> str:
    """A non-negative decimal string ("12.50"); the currency is checked by ``to_minor``."""
    if len(amount) > _MAX_AMOUNT_LENGTH or not _AMOUNT.fullmatch(amount):
        raise MoneyError("money_format", 'must be a non-negative decimal string such as "12.50"')
    return amount


def to_minor(amount: str, currency: str) -> int:
    """``"12.50"``, ``"USD"`` -> 1250, refusing extra decimals and amounts over the bound."""
    exponent = minor_units(currency)
    check_amount_format(amount)
    _, _, fraction = amount.partition(".")
    if len(fraction) > exponent:
        raise MoneyError(
            "money_precision",
            f"{currency} allows {_places(exponent)}",
        )
    value = Decimal(amount)
    if value > MAX_MAJOR_UNITS:
        raise MoneyError("money_too_large", f"must be at most {MAX_MAJOR_UNITS}")
    return int(value.scaleb(exponent))


def _places(exponent: int) -> str:
    if exponent == 0:
        return "no decimal places"
    return f"at most {exponent} decimal place{'' if exponent == 1 else 's'}"


def from_minor(minor: int, currency: str) -> Decimal:
    """1250, ``"USD"`` -> ``Decimal("12.50")``, with exactly the currency's decimals."""
    return Decimal(minor).scaleb(-minor_units(currency))


def format_minor(minor: int, currency: str) -> str:
    """1250, ``"USD"`` -> ``"12.50"``; 1200, ``"JPY"`` -> ``"1200"``.

    Integer arithmetic, the same string as ``f"{from_minor(...):f}"``: every price of
    every listed item goes through here, and the Decimal round trip was most of it."""
    exponent = minor_units(currency)
    if exponent == 0:
        return str(minor)
    whole, fraction = divmod(abs(minor), 10**exponent)
    return f"{'-' if minor < 0 else ''}{whole}.{fraction:0{exponent}d}"
