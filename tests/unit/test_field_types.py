"""The business field types clean each raw value to one canonical text (the same in
params, states, events and exports), and refuse hostile values with a clear message."""

from __future__ import annotations

import datetime as dt
import decimal
import math

import pytest

from webapp.audit import URL, Choice, Date, DateTime, Decimal, Integer
from webapp.audit.canonical import dumps, loads
from webapp.audit.params import Invalid


def refused(param, value) -> str:
    with pytest.raises(Invalid) as error:
        param.clean(value)
    return str(error.value)


PRICE = Decimal(precision=8, scale=2)


@pytest.mark.parametrize("raw, clean", [
    ("12.5", "12.50"), ("12.50", "12.50"), ("12.500", "12.50"), (" 7 ", "7.00"), (7, "7.00"),
    ("-0", "0.00"), ("-0.00", "0.00"), ("+3.1", "3.10"), (".5", "0.50"), ("999999.99", "999999.99"),
    (decimal.Decimal("1.1"), "1.10"), ("-999999.99", "-999999.99"),
])
def test_decimal_keeps_one_exact_text_at_its_scale(raw, clean):
    assert PRICE.clean(raw) == clean
    assert loads(dumps({"p": PRICE.clean(raw)})) == {"p": clean}  # a string in JSON, exact


def test_a_decimal_of_many_digits_stays_exact():
    wide = Decimal(precision=30, scale=10)
    assert wide.clean("12345678901234567890.0123456789") == "12345678901234567890.0123456789"
    assert Decimal(scale=0).clean("12") == "12"


@pytest.mark.parametrize("bad, message", [
    ("12.345", "must have at most 2 decimal places"),
    ("0.001", "must have at most 2 decimal places"),
    ("1000000", "must have at most 6 digits before the point"),
    ("NaN", "must be a number such as 12.50"), ("nan", "must be a number"),
    ("Infinity", "must be a number"), ("-inf", "must be a number"), ("sNaN", "must be a number"),
    ("1e3", "must be a number"), ("1,5", "must be a number"), ("", "must be a number"),
    ("١٢", "must be a number"), ("0x10", "must be a number"), ("9" * 200, "must be a number"),
    (1.5, "never a floating-point number"), (math.nan, "never a floating-point number"),
    (math.inf, "never a floating-point number"), (True, "never a floating-point number"),
    (decimal.Decimal("NaN"), "must be a number"), (decimal.Decimal("Infinity"), "must be a number"),
    (None, "must be a number"), ([1], "must be a number"),
])
def test_decimal_refuses_hostile_values(bad, message):
    assert message in refused(PRICE, bad)


def test_decimal_keeps_to_its_bounds():
    stock = Decimal(precision=10, scale=3, min_value="0", max_value="500")
    assert stock.clean("0") == "0.000" and stock.clean("500") == "500.000"
    assert refused(stock, "-0.001") == "must be at least 0"
    assert refused(stock, "500.001") == "must be at most 500"


@pytest.mark.parametrize("raw, clean", [
    ("2026-12-07", "2026-12-07"), (" 1000-01-01 ", "1000-01-01"), ("9999-12-31", "9999-12-31"),
    ("2024-02-29", "2024-02-29"), (dt.date(2026, 1, 2), "2026-01-02"),
])
def test_date_is_an_iso_day(raw, clean):
    assert Date().clean(raw) == clean


@pytest.mark.parametrize("bad, message", [
    ("2026-02-30", "2026-02-30 is not a day of the calendar"),
    ("2025-02-29", "is not a day of the calendar"),
    ("0999-12-31", "must be between 1000-01-01 and 9999-12-31"),
    ("0000-01-01", "is not a day of the calendar"),
    ("10000-01-01", "must be a date written YYYY-MM-DD"),
    ("-2026-01-01", "must be a date written"), ("07/12/2026", "must be a date written"),
    ("2026-12-07T10:00", "must be a date written"), ("", "must be a date written"),
    (20261207, "must be a date written"), (dt.datetime(2026, 1, 1), "must be a date written"),
])
def test_date_refuses_days_out_of_the_calendar_or_range(bad, message):
    assert message in refused(Date(), bad)


def test_date_keeps_to_its_declared_range():
    ship = Date(earliest="2020-01-01", latest="2030-12-31")
    assert refused(ship, "2019-12-31") == "must be between 2020-01-01 and 2030-12-31"


@pytest.mark.parametrize("raw, clean", [
    ("2026-12-07T10:30", "2026-12-07T10:30:00Z"),
    ("2026-12-07T10:30:15Z", "2026-12-07T10:30:15Z"),
    ("2026-12-07 10:30:15+02:00", "2026-12-07T08:30:15Z"),
    ("2026-12-07T00:30:00-05:00", "2026-12-07T05:30:00Z"),
    (dt.datetime(2026, 12, 7, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
     "2026-12-07T10:30:00Z"),
])
def test_datetime_is_stored_in_utc_to_the_second(raw, clean):
    assert DateTime().clean(raw) == clean


@pytest.mark.parametrize("bad, message", [
    ("2026-12-07T25:00", "is not a moment of the calendar"),
    ("2026-13-07T10:00", "is not a day of the calendar"),
    ("2026-12-07T10:00:00.5Z", "must be a date and time written"),
    ("0999-12-31T23:59:59Z", "must be between 1000-01-01 and 9999-12-31"),
    ("9999-12-31T23:30:00-01:00", "must be between"),  # past the last day in UTC
    ("2026-12-07", "must be a date and time written"), ("now", "must be a date and time"),
    ("2026-12-07T10:00+25:00", "is not a moment of the calendar"), (1733567400, "must be a date"),
    (dt.datetime(2026, 1, 1, 0, 0, 0, 5), "must be to the second"),
])
def test_datetime_refuses_moments_out_of_the_calendar(bad, message):
    assert message in refused(DateTime(), bad)


@pytest.mark.parametrize("raw, clean", [
    ("https://example.com/", "https://example.com/"),
    ("HTTP://Example.com/a?b=c#d", "http://Example.com/a?b=c#d"),
    ("https://shop.example.com:8443/p/1", "https://shop.example.com:8443/p/1"),
])
def test_url_takes_web_addresses(raw, clean):
    assert URL().clean(raw) == clean


@pytest.mark.parametrize("bad, message", [
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("JaVaScRiPt:alert(document.cookie)", "must start with http://"),
    (" javascript:alert(1)", "must start with http://"),
    ("java\tscript:alert(1)", "must not contain control characters"),
    ("data:text/html,<script>alert(1)</script>", "must start with http://"),
    ("vbscript:msgbox", "must start with http://"), ("file:///etc/passwd", "must start with"),
    ("//evil.example/", "must start with http://"), ("http:\\\\evil.example", "backslashes"),
    ("https://", "must name a host"), ("https://user:pw@bank.example/", "user name or password"),
    ("https://exa mple.com", "spaces"), ("https://example.com:99999/", "not a valid web address"),
    ("https://exa\u202emple.com", "invisible or text-direction"),
    ("https://" + "a" * 2000, "at most"),
])
def test_url_refuses_anything_but_http_links(bad, message):
    assert message in refused(URL(), bad)


def test_choice_labels_are_distinct_from_stored_values():
    movement = Choice(choices=(("in", "Received"), ("out", "Shipped")))
    assert movement.choices == ("in", "out") and movement.clean("in") == "in"
    assert movement.display("out") == "Shipped"
    assert refused(movement, "Received") == "must be one of: in, out"
    as_dict = Choice(choices={"in": "Received", "out": "Shipped"})
    assert as_dict.labels == movement.labels


def test_integer_bounds_may_take_64_bits():
    big = Integer(min_value=0, max_value=2**62)
    assert big.clean(str(2**62)) == 2**62
    assert refused(big, 2**62 + 1) == f"must be between 0 and {2**62}"
    assert refused(Integer(min_value=1, max_value=5), "6") == "must be between 1 and 5"
    assert "BIGINT" in str(big.column_type()).upper()
